// Package devices is the server's view of its screens as devices: it maps
// device tokens to screens, implements the hub's Handler (hello, applied,
// heartbeat, disconnect) and keeps each screen's reported status in memory,
// saving it to the store in batches so that 10,000 heartbeats never become
// 10,000 synchronous disk writes.
package devices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/hub"
	"kiosk/server/internal/store"
)

// DefaultFlushEvery is how often dirty statuses are saved.
const DefaultFlushEvery = 2 * time.Second

// maxReported bounds strings a player reports, so a hostile device cannot
// make the server keep (and save) large blobs.
const maxReported = 256

// Options configure a Registry.
type Options struct {
	Store *store.Store
	// Version returns a screen's currently published manifest version.
	Version      func(screenID string) string
	Now          func() time.Time
	Logger       *slog.Logger
	OfflineAfter time.Duration
	FlushEvery   time.Duration
	// Commands, if set, delivers a screen's queued remote commands when it
	// says hello (commands.go).
	Commands *Commands
	// Updates, if set, offers a roll-out's player build when a screen says
	// hello and hears every heartbeat's player version and update report
	// (server/internal/rollouts).
	Updates Updates

	// Health (health.go, state.go). Published returns the version published
	// for a screen without publishing on demand (it runs on every
	// evaluation); nil disables the stale check.
	Published        func(screenID string) string
	Thresholds       Thresholds    // OfflineAfter is filled from the field above
	EvalEvery        time.Duration // re-derive every state this often; default DefaultEvalEvery
	HistoryRetention time.Duration // default store.DefaultHistoryRetention
	// OnTransition hears every state change, outside the registry's lock,
	// on the goroutine of whatever caused it (often a hub read pump): it
	// must not block.
	OnTransition func(store.Transition)
	Registerer   prometheus.Registerer // kiosk_screens, kiosk_heartbeats_total; nil: not registered
}

// Updates is the part of the roll-out manager the registry calls. Both
// calls come from hub read pumps and must be quick.
type Updates interface {
	Deliver(screenID string)
	Report(screenID, playerVersion string, u *playlists.UpdateStatus)
}

// Registry implements hub.Handler and answers status questions.
type Registry struct {
	opts Options

	mu      sync.RWMutex
	tokens  map[string]string // token hash → screen id
	hashes  map[string]string // screen id → token hash
	status  map[string]store.ScreenStatus
	online  map[string]bool
	dirty   map[string]bool
	flushMu sync.Mutex

	// Health tracking (health.go), under mu.
	health      map[string]*health
	transitions []store.Transition // not yet saved to the history
	startedAt   time.Time
	metrics     *healthMetrics

	feed changeFeed // changes.go; its lock is innermost (it never waits for mu)
}

var _ hub.Handler = (*Registry)(nil)

// New loads tokens and saved statuses from the store.
func New(opts Options) (*Registry, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = DefaultFlushEvery
	}
	if opts.Version == nil {
		opts.Version = func(string) string { return "" }
	}
	if opts.Published == nil {
		opts.Published = func(string) string { return "" }
	}
	if opts.EvalEvery <= 0 {
		opts.EvalEvery = DefaultEvalEvery
	}
	if opts.HistoryRetention <= 0 {
		opts.HistoryRetention = store.DefaultHistoryRetention
	}
	opts.Thresholds.OfflineAfter = opts.OfflineAfter
	tokens, err := opts.Store.ScreenTokens()
	if err != nil {
		return nil, fmt.Errorf("load device tokens: %w", err)
	}
	status, err := opts.Store.Statuses()
	if err != nil {
		return nil, fmt.Errorf("load screen status: %w", err)
	}
	r := &Registry{
		opts:   opts,
		tokens: tokens,
		hashes: make(map[string]string, len(tokens)),
		status: status,
		online: map[string]bool{},
		dirty:  map[string]bool{},
	}
	for h, id := range tokens {
		r.hashes[id] = h
	}
	if err := r.initHealth(); err != nil {
		return nil, fmt.Errorf("load screen history: %w", err)
	}
	return r, nil
}

// Authenticate maps a device token to its screen.
func (r *Registry) Authenticate(token string) (string, error) {
	if token == "" {
		return "", fmt.Errorf("%w: missing device token", hub.ErrUnauthorized)
	}
	h := store.HashToken(token)
	r.mu.RLock()
	id, ok := r.tokens[h]
	r.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("%w: unknown or revoked device token", hub.ErrUnauthorized)
	}
	return id, nil
}

// SetToken makes token the only token of screenID (after create or rotate).
func (r *Registry) SetToken(screenID, token string) {
	h := store.HashToken(token)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.hashes[screenID]; ok {
		delete(r.tokens, old)
	}
	r.tokens[h] = screenID
	r.hashes[screenID] = h
	r.feed.touch(screenID) // a new screen, or one paired again
}

// Forget drops a deleted screen's token and status.
func (r *Registry) Forget(screenID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.hashes[screenID]; ok {
		delete(r.tokens, h)
		delete(r.hashes, screenID)
	}
	delete(r.status, screenID)
	delete(r.online, screenID)
	delete(r.dirty, screenID)
	delete(r.health, screenID)
	r.feed.touch(screenID)
}

// Hello records a connecting player and tells it what to run.
func (r *Registry) Hello(screenID string, h playlists.Hello) (playlists.Welcome, error) {
	scr, err := r.opts.Store.GetScreen(screenID)
	if errors.Is(err, store.ErrNotFound) {
		return playlists.Welcome{}, fmt.Errorf("%w: screen %s was deleted", hub.ErrUnauthorized, screenID)
	}
	if err != nil {
		return playlists.Welcome{}, err
	}
	now := r.opts.Now()
	r.update(screenID, func(st *store.ScreenStatus) {
		r.setReported(screenID, false) // a new session: wait for its first heartbeat
		st.LastSeen = now.UTC()
		st.ConnectedAt = now.UTC()
		st.PlayerVersion = clip(h.PlayerVersion)
		if h.AppliedVersion != "" {
			st.AppliedVersion = clip(h.AppliedVersion)
		}
	}, true)
	if r.opts.Commands != nil {
		// Sent from inside Hello, the hub parks them behind the welcome.
		r.opts.Commands.Deliver(screenID)
	}
	if r.opts.Updates != nil {
		r.opts.Updates.Deliver(screenID)
	}
	return playlists.Welcome{
		ScreenID:   screenID,
		ScreenName: scr.Name,
		Version:    r.opts.Version(screenID),
		ServerTime: now.UnixMilli(),
	}, nil
}

// Applied records the version a player switched to.
func (r *Registry) Applied(screenID string, a playlists.Applied) {
	now := r.opts.Now().UTC()
	r.update(screenID, func(st *store.ScreenStatus) {
		st.LastSeen = now
		st.AppliedVersion = clip(a.Version)
		st.AppliedAt = now
	}, true)
}

// Heartbeat records a player's health report.
func (r *Registry) Heartbeat(screenID string, hb playlists.Heartbeat) {
	now := r.opts.Now().UTC()
	r.metrics.heartbeats.Inc()
	r.update(screenID, func(st *store.ScreenStatus) {
		r.setReported(screenID, true)
		st.LastSeen = now
		st.CurrentItem = clip(hb.CurrentItem)
		st.CurrentSince = hb.CurrentSince
		if hb.AppliedVersion != "" {
			st.AppliedVersion = clip(hb.AppliedVersion)
		}
		if hb.PlayerVersion != "" {
			st.PlayerVersion = clip(hb.PlayerVersion)
		}
		st.UptimeS = hb.UptimeS
		st.CacheBytes = hb.CacheBytes
		st.DiskFreeBytes = hb.DiskFreeBytes
		st.DiskTotalBytes = hb.DiskTotalBytes
		st.ClockOffsetMS = hb.ClockOffsetMS
		st.PageAlive = hb.PageAlive
		st.LastSyncError = clip(hb.LastSyncError)
		st.DownloadFailures = hb.DownloadFailures
		st.ManifestRejected = clip(hb.ManifestRejected)
		// Counts; a negative one is a broken player, not a credit.
		st.PlaysPending = max(hb.PlaysPending, 0)
		st.PlaysDropped = max(hb.PlaysDropped, 0)
	}, true)
	if r.opts.Updates != nil {
		r.opts.Updates.Report(screenID, clip(hb.PlayerVersion), hb.Update)
	}
}

// Disconnected marks the screen offline; last_seen is kept.
func (r *Registry) Disconnected(screenID string) {
	now := r.opts.Now().UTC()
	r.update(screenID, func(st *store.ScreenStatus) { st.LastSeen = now }, false)
}

func (r *Registry) update(screenID string, f func(*store.ScreenStatus), online bool) {
	// Fetched before taking mu: the publisher has its own lock.
	published := r.opts.Published(screenID)
	r.mu.Lock()
	if _, ok := r.hashes[screenID]; !ok {
		r.mu.Unlock()
		return // deleted while connected
	}
	st := r.status[screenID]
	f(&st)
	r.status[screenID] = st
	r.online[screenID] = online
	r.dirty[screenID] = true
	tr, changed := r.evaluateLocked(screenID, published, r.opts.Now())
	r.mu.Unlock()
	r.feed.touch(screenID)
	if changed {
		r.notify(tr)
	}
}

// Status returns what screenID last reported and whether it counts as
// online: connected, and heard from within OfflineAfter.
func (r *Registry) Status(screenID string) (store.ScreenStatus, bool) {
	r.mu.RLock()
	st := r.status[screenID]
	on := r.online[screenID]
	r.mu.RUnlock()
	if on && r.opts.OfflineAfter > 0 && r.opts.Now().Sub(st.LastSeen) > r.opts.OfflineAfter {
		on = false
	}
	return st, on
}

// Online counts screens that are online.
func (r *Registry) Online() int {
	r.mu.RLock()
	ids := make([]string, 0, len(r.online))
	for id, on := range r.online {
		if on {
			ids = append(ids, id)
		}
	}
	r.mu.RUnlock()
	n := 0
	for _, id := range ids {
		if _, on := r.Status(id); on {
			n++
		}
	}
	return n
}

// Flush saves every status changed since the last flush, in one
// transaction.
func (r *Registry) Flush() error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	batch := make(map[string]store.ScreenStatus, len(r.dirty))
	for id := range r.dirty {
		batch[id] = r.status[id]
	}
	r.dirty = map[string]bool{}
	r.mu.Unlock()
	if err := r.flushHistory(); err != nil {
		r.opts.Logger.Error("save screen history", "error", err)
	}
	if err := r.opts.Store.PutStatuses(batch); err != nil {
		// Put them back so the next flush retries.
		r.mu.Lock()
		for id := range maps.Keys(batch) {
			if _, ok := r.hashes[id]; ok {
				r.dirty[id] = true
			}
		}
		r.mu.Unlock()
		return fmt.Errorf("save screen status: %w", err)
	}
	return nil
}

// Run flushes every FlushEvery, and re-derives health every EvalEvery,
// until ctx ends, then flushes once more.
func (r *Registry) Run(ctx context.Context) {
	healthDone := make(chan struct{})
	go func() { defer close(healthDone); r.runHealth(ctx) }()
	defer func() { <-healthDone }()
	t := time.NewTicker(r.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := r.Flush(); err != nil {
				r.opts.Logger.Error("final status flush", "error", err)
			}
			return
		case <-t.C:
			if err := r.Flush(); err != nil {
				r.opts.Logger.Error("status flush", "error", err)
			}
		}
	}
}

func clip(s string) string {
	if len(s) > maxReported {
		return s[:maxReported]
	}
	return s
}
