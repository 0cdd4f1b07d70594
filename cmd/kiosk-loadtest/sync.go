package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// fetchLoop is the screen's only downloader, as in the player: it fetches
// the wanted version, its assets for a share of screens, applies it and
// signals the session to ack; failures retry with the player's backoff.
func (s *screen) fetchLoop(ctx context.Context) {
	cfg := s.r.cfg
	var retry <-chan time.Time
	attempt := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wantSig:
		case <-retry:
		}
		retry = nil
		s.mu.Lock()
		want, applied := s.wanted, s.applied
		if s.pushed != nil && s.pushed.Version == applied {
			s.pushed = nil // a repeat of what already plays
		}
		s.mu.Unlock()
		if want == "" || want == applied {
			attempt = 0
			continue
		}
		dctx, cancel := context.WithCancel(ctx)
		s.mu.Lock()
		if s.wanted != want {
			s.mu.Unlock()
			cancel()
			poke(s.wantSig)
			continue
		}
		s.inflight, s.inflightCancel = want, cancel
		// A pushed manifest is used once; if it fails, the retry fetches
		// over HTTP, as the player does.
		push := s.pushed
		s.pushed = nil
		s.mu.Unlock()

		err := s.update(dctx, want, push)
		cancel()
		s.mu.Lock()
		s.inflight, s.inflightCancel = "", nil
		superseded := s.wanted != want
		s.mu.Unlock()
		switch {
		case err == nil:
			attempt = 0
		case ctx.Err() != nil:
			return
		case superseded:
			// want() signalled; the newer version is next.
		case errors.Is(err, errStale):
			retry = time.After(backoff(cfg.BackoffMin, cfg.BackoffMax, attempt, randFloat))
			attempt++
		default:
			s.r.rec.fail(errorKind("fetch: ", err))
			s.mu.Lock()
			s.fetchFailures++
			s.syncErr = err.Error()
			s.mu.Unlock()
			retry = time.After(backoff(cfg.BackoffMin, cfg.BackoffMax, attempt, randFloat))
			attempt++
		}
	}
}

// update fetches version want (or takes the manifest pushed for it) and,
// for -asset-share of screens, every asset it names, then applies it.
func (s *screen) update(ctx context.Context, want string, push *playlists.ManifestPush) error {
	var f fetched
	var err error
	if push != nil && push.Version == want {
		f, err = s.openPush(push)
	} else {
		f, err = s.fetchManifest(ctx, false)
	}
	if err != nil {
		var ke *kindError
		if errors.As(err, &ke) && (ke.kind == "serial not above applied" || ke.kind == "unsigned" || ke.kind == "signature refused") {
			s.mu.Lock()
			s.rejected = err.Error()
			s.mu.Unlock()
		}
		return err
	}
	if f.info == nil {
		return fmt.Errorf("%w: announced %s, server still has the applied one", errStale, want)
	}
	if f.info.version != want {
		return fmt.Errorf("%w: announced %s, manifest is %s", errStale, want, f.info.version)
	}
	if s.r.cfg.AssetShare > 0 && randFloat() < s.r.cfg.AssetShare {
		for _, a := range f.info.assets {
			if err := s.fetchAsset(ctx, a); err != nil {
				return err
			}
		}
	}
	s.mu.Lock()
	s.applied, s.appliedInfo = want, f.info
	if f.signed {
		s.appliedSerial = f.serial
	}
	s.rejected, s.syncErr, s.fetchFailures = "", "", 0
	s.plays.apply(f.info, time.Now())
	s.mu.Unlock()
	poke(s.appliedSig)
	return nil
}

// maxRunningCommands is the player's bound on commands executing at once.
const maxRunningCommands = 8

// command runs one remote command off the session goroutine, at most once
// per id (a redelivered id gets the remembered result), as the player's
// executor does.
func (s *screen) command(ctx context.Context, cmd playlists.Command) {
	s.mu.Lock()
	if r, ok := s.executed[cmd.ID]; ok {
		s.pending = append(s.pending, r)
		s.mu.Unlock()
		poke(s.resultSig)
		return
	}
	if s.running >= maxRunningCommands {
		s.pending = append(s.pending, playlists.CommandResult{ID: cmd.ID, Error: fmt.Sprintf("player busy: %d commands already running", maxRunningCommands)})
		s.mu.Unlock()
		poke(s.resultSig)
		return
	}
	s.running++
	s.mu.Unlock()
	go func() {
		r := s.execute(ctx, cmd)
		r.ID = cmd.ID
		s.mu.Lock()
		s.running--
		s.executed[cmd.ID] = r
		s.pending = append(s.pending, r)
		if cmd.Type == playlists.CmdRestart && r.OK {
			s.restarting = cmd.ID
		}
		s.mu.Unlock()
		poke(s.resultSig)
	}()
}

// execute answers as a player without a browser to drive would: the
// screen-side effects are simulated, the network side (refetches) is real.
func (s *screen) execute(ctx context.Context, cmd playlists.Command) playlists.CommandResult {
	if cmd.ExpiresAt > 0 && !time.Now().Before(time.UnixMilli(cmd.ExpiresAt)) {
		return playlists.CommandResult{Error: fmt.Sprintf("expired at %s before the player could run it",
			time.UnixMilli(cmd.ExpiresAt).UTC().Format(time.RFC3339))}
	}
	ok := func(res string) playlists.CommandResult { return playlists.CommandResult{OK: true, Result: res} }
	fail := func(err error) playlists.CommandResult { return playlists.CommandResult{Error: err.Error()} }
	switch cmd.Type {
	case playlists.CmdReload:
		return ok("kiosk page reloading")
	case playlists.CmdIdentify:
		d := 30 * time.Second
		if len(cmd.Args) > 0 && string(cmd.Args) != "null" {
			var a struct {
				DurationS *int `json:"duration_s"`
			}
			if err := json.Unmarshal(cmd.Args, &a); err != nil {
				return fail(fmt.Errorf("identify args: want {\"duration_s\": n}: %v", err))
			}
			if a.DurationS != nil {
				if *a.DurationS < 1 || *a.DurationS > 600 {
					return fail(fmt.Errorf("identify args: duration_s must be between 1 and 600 (got %d)", *a.DurationS))
				}
				d = time.Duration(*a.DurationS) * time.Second
			}
		}
		return ok(fmt.Sprintf("showing name and id for %s (until %s)", d, time.Now().Add(d).UTC().Format(time.RFC3339)))
	case playlists.CmdResync, playlists.CmdClearCache:
		f, err := s.fetchManifest(ctx, true)
		if err != nil {
			return fail(fmt.Errorf("fetching again failed: %w", err))
		}
		if f.info == nil {
			return fail(errors.New("fetching again failed: the server answered 304 to a forced fetch"))
		}
		var bytes int64
		for _, a := range f.info.assets {
			if cmd.Type == playlists.CmdClearCache {
				if err := s.fetchAsset(ctx, a); err != nil {
					return fail(fmt.Errorf("fetching again failed: %w", err))
				}
			}
			bytes += a.Size
		}
		if cmd.Type == playlists.CmdClearCache {
			return ok(fmt.Sprintf("dropped %d assets (%d bytes) and fetched the current version again", len(f.info.assets), bytes))
		}
		return ok(fmt.Sprintf("verified %d assets (%d bytes): 0 bad; manifest re-checked with the server", len(f.info.assets), bytes))
	case playlists.CmdRestart:
		return ok("player restarting")
	case playlists.CmdScreenshot:
		return fail(errors.New("screenshot needs -devtools (Chromium started with --remote-debugging-port)"))
	}
	return fail(fmt.Errorf("unknown command type %q", cmd.Type))
}

// flushResults sends every queued result; unsent ones wait for the next
// connection.
func (s *screen) flushResults(conn *websocket.Conn) error {
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	for i, r := range batch {
		if err := s.write(conn, playlists.MsgCommandResult, r); err != nil {
			s.mu.Lock()
			s.pending = append(batch[i:], s.pending...)
			s.mu.Unlock()
			return err
		}
		s.r.rec.count(cCommandResults)
	}
	return nil
}

// restartDue reports, once, that a restart command's result went out.
func (s *screen) restartDue() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.restarting == "" || len(s.pending) > 0 {
		return false
	}
	s.restarting = ""
	return true
}
