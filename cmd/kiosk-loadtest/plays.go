package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kiosk/playlists"
)

const (
	playUploadTimeout = 30 * time.Second
	// maxPendingPlays bounds a screen's play log, like the player cache's
	// bound: the oldest go first when the server stays away.
	maxPendingPlays = 10000
	maxRetryAfter   = 10 * time.Minute
)

// playLog is what the screen's display would have recorded: the rotation
// of the applied manifest, played item after item, each finished item one
// proof-of-play record. Guarded by screen.mu.
type playLog struct {
	info      *manifestInfo
	entries   []playlists.Entry
	pos       int
	itemStart time.Time
	seq       uint64 // last sequence number recorded
	pending   []pendingPlay
	dropped   int64
}

type pendingPlay struct {
	seq  uint64
	play playlists.Play
}

// apply switches the display to a newly applied manifest. A rotation of
// the same items goes on where it was (an edited title does not restart
// the loop); another rotation starts at its first item.
func (l *playLog) apply(info *manifestInfo, now time.Time) {
	l.info = info
	entries := info.rotation(now)
	same := len(entries) == len(l.entries) && len(entries) > 0
	for i := 0; same && i < len(entries); i++ {
		same = entries[i].Item.ID == l.entries[i].Item.ID && entries[i].Playlist == l.entries[i].Playlist
	}
	l.entries = entries
	if !same {
		l.pos = 0
		l.itemStart = now
	}
}

// current is the item on screen and since when.
func (l *playLog) current() (playlists.Entry, time.Time, bool) {
	if len(l.entries) == 0 {
		return playlists.Entry{}, time.Time{}, false
	}
	return l.entries[l.pos%len(l.entries)], l.itemStart, true
}

// advance records every item that finished by now.
func (l *playLog) advance(boot string, now time.Time) int64 {
	var dropped int64
	for len(l.entries) > 0 {
		e := l.entries[l.pos%len(l.entries)]
		d := time.Duration(max(e.Item.DurationS, 1)) * time.Second
		end := l.itemStart.Add(d)
		if end.After(now) {
			break
		}
		l.seq++
		l.pending = append(l.pending, pendingPlay{seq: l.seq, play: playlists.Play{
			ID:         boot + "-" + strconv.FormatUint(l.seq, 10),
			Item:       e.Item.ID,
			Playlist:   e.Playlist,
			Schedule:   e.Schedule,
			Start:      l.itemStart.UnixMilli(),
			DurationMS: d.Milliseconds(),
		}})
		if len(l.pending) > maxPendingPlays {
			l.pending = l.pending[1:]
			dropped++
		}
		l.itemStart = end
		l.pos = (l.pos + 1) % len(l.entries)
		if l.pos == 0 && l.info != nil {
			// A new round: the schedule may have changed what plays.
			l.entries = l.info.rotation(end)
		}
	}
	l.dropped += dropped
	return dropped
}

// retryLaterError is the server's 429 or 503: keep the batch, wait.
type retryLaterError struct{ wait time.Duration }

func (e *retryLaterError) Error() string { return "server asked to retry later" }

var errPlaysRefused = errors.New("server refused the play batch")

// playLoop uploads the play log every -plays-every (at a random phase per
// screen), soon after a reconnect, and with the player's backoff while
// uploads fail; it runs with or without the websocket, as the player's.
func (s *screen) playLoop(ctx context.Context) {
	cfg := s.r.cfg
	interval := cfg.PlaysEvery
	timer := time.NewTimer(jitter(interval))
	defer timer.Stop()
	attempt := 0
	var notBefore time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.playSig:
			if wait := time.Until(notBefore); wait > 0 {
				continue // the timer is set for after the server's wait
			}
			attempt = 0
		}
		if s.r.quiet.Load() {
			timer.Reset(interval)
			continue
		}
		err := s.flushPlays(ctx)
		var next time.Duration
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			attempt, next = 0, interval
		default:
			next = backoff(cfg.BackoffMin, max(cfg.BackoffMax, interval), attempt, randFloat)
			var rl *retryLaterError
			if errors.As(err, &rl) {
				next = max(next, rl.wait)
				notBefore = time.Now().Add(rl.wait)
			}
			attempt++
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// flushPlays uploads every pending play, batch after batch; the batch id
// is the boot id and the sequence range, so a retried batch has the same
// id and the server counts it once.
func (s *screen) flushPlays(ctx context.Context) error {
	rec := s.r.rec
	s.mu.Lock()
	rec.add(cPlaysDropped, s.plays.advance(s.boot, time.Now()))
	s.mu.Unlock()
	for {
		s.mu.Lock()
		n := min(len(s.plays.pending), playlists.MaxPlaysPerBatch)
		batch := playlists.PlayBatch{Plays: make([]playlists.Play, n)}
		var last uint64
		for i, p := range s.plays.pending[:n] {
			batch.Plays[i] = p.play
			last = p.seq
		}
		if n > 0 {
			batch.BatchID = s.boot + "-" + strconv.FormatUint(s.plays.pending[0].seq, 10) + "-" + strconv.FormatUint(last, 10)
		}
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		err := s.postPlays(ctx, batch)
		switch {
		case errors.Is(err, errPlaysRefused):
			rec.fail("plays: refused")
		case err != nil:
			if ctx.Err() == nil {
				var rl *retryLaterError
				if errors.As(err, &rl) {
					rec.fail("plays: retry later (429/503)")
				} else {
					rec.fail(errorKind("plays: ", err))
				}
			}
			return err
		default:
			rec.add(cPlaysPosted, int64(n))
		}
		s.mu.Lock()
		// Drop what was sent; the log may have been trimmed meanwhile.
		i := 0
		for i < len(s.plays.pending) && s.plays.pending[i].seq <= last {
			i++
		}
		s.plays.pending = s.plays.pending[i:]
		more := len(s.plays.pending) > 0
		s.mu.Unlock()
		if !more {
			return nil
		}
	}
}

func (s *screen) postPlays(ctx context.Context, batch playlists.PlayBatch) error {
	body, err := json.Marshal(batch)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, playUploadTimeout)
	defer cancel()
	req, err := s.r.newRequest(ctx, http.MethodPost, pathPlays, s.token, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return &retryLaterError{wait: retryAfter(resp.Header.Get("Retry-After"))}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return errPlaysRefused
	default:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return kinded("HTTP "+strconv.Itoa(resp.StatusCode), "upload plays: server answered %s", resp.Status)
	}
	var ans struct {
		Duplicate bool `json:"duplicate"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans) == nil && ans.Duplicate {
		s.r.rec.count(cPlayDuplicates)
	}
	s.r.rec.count(cPlayBatches)
	return nil
}

// retryAfter reads a Retry-After of delay-seconds or an HTTP date.
func retryAfter(h string) time.Duration {
	h = strings.TrimSpace(h)
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 0), maxRetryAfter)
}
