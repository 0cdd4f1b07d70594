package player

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/player/internal/devtools"
	"kiosk/playlists"
)

// ErrRestartRequested is returned by Run after the server sent a "restart"
// command and the player stopped cleanly. cmd/kiosk-player exits with a
// distinct status (3) for it, and the supervisor (systemd Restart=always)
// starts the player again.
var ErrRestartRequested = errors.New("player: restart requested by the server")

// Command limits.
const (
	// maxIdentify bounds a technician's identify duration argument.
	maxIdentify = 10 * time.Minute
	// refetchTimeout bounds how long resync and clear-cache wait for the
	// media to be fetched again before answering; the fetch goes on after.
	refetchTimeout = 2 * time.Minute
	// screenshotTimeout bounds capture plus upload.
	screenshotTimeout = 60 * time.Second
	// screenshotQuality is the JPEG quality: legible text, a few hundred KB.
	screenshotQuality = 70
	// restartGrace is how long a restart waits for its result to reach the
	// server; offline, the remembered result answers the redelivery.
	restartGrace = 10 * time.Second
)

// errNoDevTools is the answer to a screenshot command on a player started
// without -devtools.
var errNoDevTools = errors.New("screenshot needs -devtools (Chromium started with --remote-debugging-port)")

// commandTarget is what commands act on; *display.Server and
// *syncer.Client in Run, fakes in tests.
type commandTarget interface {
	Reload()
	Identify(d time.Duration) time.Time
	PageAlive() bool
}

type refetcher interface {
	Refetch(ctx context.Context) error
}

// executor runs remote commands, each at most once: every outcome is
// remembered in the cache before it is reported, and a command id seen
// again (the server redelivers what it has no answer for) gets the
// remembered result without running again, even across restarts.
type executor struct {
	executorDeps

	mu      sync.Mutex
	running map[string]chan struct{} // closed when that command has finished

	restartID atomic.Pointer[string] // restart command executed by this process
	restartMu sync.Once
	requested atomic.Bool // a restart was carried out: Run returns ErrRestartRequested
}

// executorDeps is what an executor acts on and with.
type executorDeps struct {
	cache    *cache.Cache
	display  commandTarget
	sync     refetcher
	devtools *devtools.Client // nil without -devtools
	pages    []string         // the kiosk page's URL prefixes, for DevTools
	upload   func(ctx context.Context, mime string, img []byte) error
	now      func() time.Time // server-corrected clock
	log      *slog.Logger
	restart  func() // ends Run with ErrRestartRequested
}

// newDevTools returns the DevTools client for -devtools, nil when unset.
func newDevTools(endpoint string) (*devtools.Client, error) {
	if strings.TrimSpace(endpoint) == "" {
		return nil, nil
	}
	return devtools.New(endpoint)
}

func newExecutor(d executorDeps) *executor {
	return &executor{executorDeps: d, running: map[string]chan struct{}{}}
}

// run is syncer.Config.OnCommand.
func (e *executor) run(ctx context.Context, cmd playlists.Command) playlists.CommandResult {
	if r, ok, err := e.cache.CommandResult(cmd.ID); err != nil {
		e.log.Warn("reading remembered commands failed", "command", cmd.ID, "error", err)
	} else if ok {
		e.log.Info("command already executed; answering from memory", "command", cmd.ID, "type", cmd.Type)
		return r
	}

	e.mu.Lock()
	if ch, ok := e.running[cmd.ID]; ok {
		// Delivered again while still running (a reconnect): wait for the
		// first run's outcome instead of starting a second.
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return playlists.CommandResult{ID: cmd.ID, Error: "player stopping"}
		}
		r, ok, err := e.cache.CommandResult(cmd.ID)
		if err != nil || !ok {
			return playlists.CommandResult{ID: cmd.ID, Error: "the command ran but its result was not recorded"}
		}
		return r
	}
	done := make(chan struct{})
	e.running[cmd.ID] = done
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.running, cmd.ID)
		e.mu.Unlock()
		close(done)
	}()

	var r playlists.CommandResult
	if cmd.ExpiresAt > 0 && !e.now().Before(time.UnixMilli(cmd.ExpiresAt)) {
		r.Error = fmt.Sprintf("expired at %s before the player could run it", time.UnixMilli(cmd.ExpiresAt).UTC().Format(time.RFC3339))
	} else {
		began := time.Now()
		res, err := e.execute(ctx, cmd)
		r = playlists.CommandResult{OK: err == nil, Result: res}
		if err != nil {
			r.Error = err.Error()
		}
		e.log.Info("command executed", "command", cmd.ID, "type", cmd.Type, "ok", r.OK,
			"result", r.Result, "error", r.Error, "took", time.Since(began).Round(time.Millisecond))
	}
	r.ID = cmd.ID
	if err := e.cache.RememberCommand(r); err != nil {
		// Still answer: the server then records it, and only a
		// redelivery before that could run it again.
		e.log.Error("remembering an executed command failed", "command", cmd.ID, "error", err)
	}
	return r
}

func (e *executor) execute(ctx context.Context, cmd playlists.Command) (string, error) {
	switch cmd.Type {
	case playlists.CmdReload:
		e.display.Reload()
		if !e.display.PageAlive() {
			return "reload sent; no kiosk page has reported recently (is the browser running?)", nil
		}
		return "kiosk page reloading", nil
	case playlists.CmdIdentify:
		d, err := identifyDuration(cmd.Args)
		if err != nil {
			return "", err
		}
		until := e.display.Identify(d)
		return fmt.Sprintf("showing name and id for %s (until %s)", d, until.UTC().Format(time.RFC3339)), nil
	case playlists.CmdResync:
		return e.resync(ctx)
	case playlists.CmdClearCache:
		return e.clearCache(ctx)
	case playlists.CmdRestart:
		id := cmd.ID
		e.restartID.Store(&id)
		// Should the result never be sent (offline), restart anyway.
		time.AfterFunc(restartGrace, e.doRestart)
		return "player restarting", nil
	case playlists.CmdScreenshot:
		return e.screenshot(ctx)
	}
	return "", fmt.Errorf("unknown command type %q", cmd.Type)
}

// resultSent is syncer.Config.OnResultSent: a restart waits until the
// server has its answer.
func (e *executor) resultSent(r playlists.CommandResult) {
	if id := e.restartID.Load(); id != nil && *id == r.ID {
		e.doRestart()
	}
}

func (e *executor) doRestart() {
	e.restartMu.Do(func() {
		e.log.Warn("restarting on the server's request")
		e.requested.Store(true)
		if e.restart != nil {
			e.restart()
		}
	})
}

func identifyDuration(args json.RawMessage) (time.Duration, error) {
	d := 30 * time.Second
	if len(args) == 0 || string(args) == "null" {
		return d, nil
	}
	var a struct {
		DurationS *int `json:"duration_s"`
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return 0, fmt.Errorf("identify args: want {\"duration_s\": n}: %v", err)
	}
	if a.DurationS != nil {
		// Check the number before multiplying: a huge one would overflow
		// time.Duration and could wrap into the allowed range.
		if n := *a.DurationS; n < 1 || n > int(maxIdentify/time.Second) {
			return 0, fmt.Errorf("identify args: duration_s must be between 1 and %d (got %d)", int(maxIdentify/time.Second), n)
		}
		d = time.Duration(*a.DurationS) * time.Second
	}
	return d, nil
}

// resync re-verifies every cached byte, drops what is wrong and fetches
// the current version's media again.
func (e *executor) resync(ctx context.Context) (string, error) {
	v, err := e.cache.Verify()
	if err != nil {
		return "", err
	}
	summary := fmt.Sprintf("verified %d assets (%d bytes): %d bad", v.Checked, v.Bytes, len(v.Bad))
	if len(v.Bad) > 0 {
		e.log.Warn("cache verification found damaged assets; removed them", "bad", v.Bad)
	}
	if err := e.refetch(ctx); err != nil {
		return "", fmt.Errorf("%s, removed; fetching again failed: %w", summary, err)
	}
	if len(v.Bad) > 0 {
		// The page may have turned those items into text; show them whole.
		e.display.Reload()
		return summary + ", removed and fetched again", nil
	}
	return summary + "; manifest re-checked with the server", nil
}

// clearCache drops every cached asset and fetches them again. The applied
// manifest stays, so the screen keeps its schedule; until the media is back
// (seconds on a good link) items show as text.
func (e *executor) clearCache(ctx context.Context) (string, error) {
	res, err := e.cache.DropAssets()
	if err != nil {
		return "", err
	}
	summary := fmt.Sprintf("dropped %d assets (%d bytes)", res.Assets, res.Bytes)
	if err := e.refetch(ctx); err != nil {
		return "", fmt.Errorf("%s; fetching again failed: %w", summary, err)
	}
	e.display.Reload()
	return summary + " and fetched the current version again", nil
}

func (e *executor) refetch(ctx context.Context) error {
	if e.sync == nil {
		return errors.New("no sync client")
	}
	ctx, cancel := context.WithTimeout(ctx, refetchTimeout)
	defer cancel()
	return e.sync.Refetch(ctx)
}

func (e *executor) screenshot(ctx context.Context) (string, error) {
	if e.devtools == nil {
		return "", errNoDevTools
	}
	ctx, cancel := context.WithTimeout(ctx, screenshotTimeout)
	defer cancel()
	img, err := e.devtools.Screenshot(ctx, devtools.FormatJPEG, screenshotQuality, e.pages...)
	if err != nil {
		return "", err
	}
	if err := e.upload(ctx, "image/jpeg", img); err != nil {
		return "", err
	}
	return fmt.Sprintf("uploaded %d bytes", len(img)), nil
}

// pageURLs are the prefixes the browser's tab URL may start with for the
// page served on addr: as bound, and as localhost for a loopback address.
func pageURLs(addr string) []string {
	out := []string{"http://" + addr + "/"}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return out
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		out = append(out, "http://localhost:"+port+"/")
		if host != "127.0.0.1" {
			out = append(out, "http://127.0.0.1:"+port+"/")
		}
	}
	return out
}

// screenshotUploader posts an image to the server's device endpoint.
func screenshotUploader(server, token, version string) func(ctx context.Context, mime string, img []byte) error {
	endpoint := strings.TrimRight(server, "/") + "/api/v1/device/screenshot"
	client := &http.Client{Timeout: screenshotTimeout}
	return func(ctx context.Context, mime string, img []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(img))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", mime)
		req.Header.Set("User-Agent", "kiosk-player/"+version)
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("upload screenshot: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			return nil
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		var e struct {
			Error string `json:"error"`
		}
		reason := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			reason = e.Error
		}
		return fmt.Errorf("upload screenshot: server answered %s: %s", resp.Status, reason)
	}
}
