package syncer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/playlists"
)

// DefaultPlayUploadInterval is how often recorded plays are uploaded while
// all is well. Reports are read hours or days later; ten seconds keeps a
// screen's backlog small without a request per play.
const DefaultPlayUploadInterval = 10 * time.Second

const (
	pathPlays = "/api/v1/device/plays"
	// playUploadTimeout bounds one batch upload, answer included.
	playUploadTimeout = 30 * time.Second
	// reconnectWatch is how often the upload loop looks whether the
	// websocket came back, to flush the outage's backlog soon after.
	reconnectWatch = time.Second
	// maxPlayDuration mirrors the server's limit: a longer "play" is a
	// clock glitch, and the server would refuse the whole batch for it.
	maxPlayDuration = 24 * time.Hour
	// maxRetryAfter caps the wait a server's Retry-After may impose: the
	// plays are safe in the cache, but a garbled header must not stop
	// uploads for days.
	maxRetryAfter = 10 * time.Minute
)

// errPlaysRefused means the server refused a batch as malformed (400, 413,
// 422). Sending it again cannot succeed, so it is dropped. Any other
// failure keeps the batch for a later try.
var errPlaysRefused = errors.New("server refused the play batch")

// retryLaterError is a server's "not now" (429 or 503): the batch is kept
// and sent again, no sooner than the wait the server asked for.
type retryLaterError struct {
	wait time.Duration // from Retry-After; 0 if the server named none
	err  error
}

func (e *retryLaterError) Error() string { return e.err.Error() }
func (e *retryLaterError) Unwrap() error { return e.err }

// retryAfter reads a Retry-After header, delay-seconds or HTTP-date
// (RFC 9110 §10.2.3); absent, unreadable or past means 0.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// playState is the upload loop's shared state.
type playState struct {
	sig      chan struct{} // FlushPlaysSoon pokes the loop
	uploaded atomic.Int64  // plays the server acknowledged, this process
	refused  atomic.Int64  // plays dropped because the server refused their batch
}

// playAnswer is the server's answer to an upload.
type playAnswer struct {
	BatchID   string `json:"batch_id"`
	Accepted  int    `json:"accepted"`
	Duplicate bool   `json:"duplicate"`
}

// FlushPlaysSoon asks the upload loop to upload now rather than at its
// next interval.
func (c *Client) FlushPlaysSoon() { signal(c.plays.sig) }

// PlaysUploaded counts plays the server acknowledged since the start.
func (c *Client) PlaysUploaded() int64 { return c.plays.uploaded.Load() }

// playLoop uploads the play log until ctx ends: at start (a previous run
// may have left plays behind), every PlayUploadInterval, soon after the
// websocket reconnects, and with jittered backoff while uploads fail. It
// uploads whenever the HTTP endpoint answers, with or without websocket.
func (c *Client) playLoop(ctx context.Context) {
	interval := c.cfg.PlayUploadInterval
	next := time.Now()
	var notBefore time.Time // a server's Retry-After; nothing hurries past it
	attempt := 0
	wasOnline := false
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.plays.sig:
			next = later(time.Now(), notBefore)
		case <-timer.C:
		}
		online := c.Online()
		if online && !wasOnline {
			// Back from an outage: the server wants the backlog, and
			// the backoff of failed uploads is no reason to wait.
			next, attempt = later(time.Now(), notBefore), 0
		}
		wasOnline = online

		if wait := time.Until(next); wait > 0 {
			timer.Reset(min(wait, reconnectWatch))
			continue
		}
		err := c.FlushPlays(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			attempt = 0
			next = time.Now().Add(interval)
		default:
			delay := backoff(c.cfg.BackoffMin, max(c.cfg.BackoffMax, interval), attempt, randFloat)
			var rl *retryLaterError
			if errors.As(err, &rl) {
				// Backoff's jitter still spreads the fleet; the server's
				// wait is only a floor.
				delay = max(delay, rl.wait)
				notBefore = time.Now().Add(rl.wait)
			}
			attempt++
			next = time.Now().Add(delay)
			level := c.log.Warn
			if attempt > 1 && attempt%10 != 1 {
				level = c.log.Debug // a long outage repeats itself
			}
			level("uploading plays failed; they stay in the cache", "error", err,
				"pending", c.cfg.Cache.PlayStats().Pending, "retry_in", delay.Round(time.Millisecond))
		}
		timer.Reset(min(time.Until(next), reconnectWatch))
	}
}

// later is the later of two instants.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// FlushPlays uploads every pending play, batch after batch, oldest first,
// and deletes each batch from the cache once the server acknowledged it.
// It stops at the first failure; what is left is uploaded later.
//
// A batch's id is derived from the cache's boot id and the sequence range it
// covers, so a retry after a lost answer carries the same id and the server
// recognises it; should the range differ (more plays were recorded in the
// meantime), the server's per-play dedup still counts each play once.
func (c *Client) FlushPlays(ctx context.Context) error {
	boot, err := c.cfg.Cache.BootID()
	if err != nil {
		return err
	}
	for {
		pending, err := c.cfg.Cache.PendingPlays(playlists.MaxPlaysPerBatch)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		first, last := pending[0].Seq, pending[len(pending)-1].Seq
		batch := playlists.PlayBatch{
			BatchID: boot + "-" + strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(last, 10),
			Plays:   sanitizePlays(pending),
		}
		if len(batch.Plays) > 0 {
			ans, err := c.postPlays(ctx, batch)
			switch {
			case errors.Is(err, errPlaysRefused):
				// Keeping it would block every later play behind it.
				c.plays.refused.Add(int64(len(batch.Plays)))
				c.log.Error("server refused a play batch; dropping it", "batch", batch.BatchID,
					"plays", len(batch.Plays), "error", err)
			case err != nil:
				return err
			default:
				c.plays.uploaded.Add(int64(len(batch.Plays)))
				c.log.Debug("plays uploaded", "batch", batch.BatchID, "plays", len(batch.Plays),
					"accepted", ans.Accepted, "duplicate", ans.Duplicate)
			}
		}
		if err := c.cfg.Cache.AckPlays(last); err != nil {
			return err
		}
		if len(pending) < playlists.MaxPlaysPerBatch {
			return nil
		}
	}
}

// sanitizePlays keeps the plays the server can accept. A play without item
// or start cannot be reported on; an absurd duration is a clock glitch and
// is capped rather than allowed to sink its batch.
func sanitizePlays(pending []cache.PendingPlay) []playlists.Play {
	out := make([]playlists.Play, 0, len(pending))
	for _, pp := range pending {
		p := pp.Play
		if p.ID == "" || p.Item == "" || p.Start <= 0 {
			continue
		}
		p.DurationMS = min(max(p.DurationMS, 0), maxPlayDuration.Milliseconds())
		out = append(out, p)
	}
	return out
}

// postPlays sends one batch and reads the server's answer.
func (c *Client) postPlays(ctx context.Context, batch playlists.PlayBatch) (playAnswer, error) {
	var ans playAnswer
	body, err := json.Marshal(batch)
	if err != nil {
		return ans, fmt.Errorf("encode play batch: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, playUploadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+pathPlays, bytes.NewReader(body))
	if err != nil {
		return ans, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("User-Agent", "kiosk-player/"+c.cfg.PlayerVersion)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return ans, fmt.Errorf("upload plays: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusUnauthorized:
		return ans, ErrUnauthorized
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusServiceUnavailable:
		// Throttled or busy: the batch is fine, the moment is not. Never
		// a refused batch, which would drop the plays.
		wait := retryAfter(resp.Header.Get("Retry-After"), time.Now())
		return ans, &retryLaterError{wait: wait, err: fmt.Errorf("upload plays: %w", statusError(resp))}
	case resp.StatusCode == http.StatusBadRequest, resp.StatusCode == http.StatusRequestEntityTooLarge,
		resp.StatusCode == http.StatusUnprocessableEntity:
		return ans, fmt.Errorf("%w: %w", errPlaysRefused, statusError(resp))
	default:
		return ans, fmt.Errorf("upload plays: %w", statusError(resp))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err != nil {
		// The server answered 200, so it stored the batch; a garbled
		// answer is no reason to send it again.
		c.log.Warn("unreadable answer to a play upload", "batch", batch.BatchID, "error", err)
	}
	return ans, nil
}
