// Package devices is the server's view of its screens as devices: it maps
// device tokens to screens, implements the hub's Handler (hello, applied,
// heartbeat, disconnect) and keeps each screen's reported status in memory,
// saving it to the store in batches so that 10,000 heartbeats never become
// 10,000 synchronous disk writes.
//
// Each screen has its own lock (screen, below): a hub read pump handling
// one screen's frame never waits for another screen's, and readers (the
// API) hold a screen's lock only to copy its status. Counts by state
// (tally.go) move on state changes, so the fleet summary never walks the
// fleet.
package devices

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/hub"
	"kiosk/server/internal/store"
	"kiosk/server/internal/textclip"
)

// DefaultFlushEvery is how often dirty statuses are saved.
const DefaultFlushEvery = 2 * time.Second

// DefaultLastSeenEvery is Options.LastSeenEvery's default with the
// default FlushEvery.
const DefaultLastSeenEvery = DefaultFlushEvery

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
	// LastSeenEvery: a status whose only change is a later last-seen time
	// (and the fields that change with every heartbeat, see persist.go) is
	// saved once its last-seen moved this far from the saved one. Default
	// FlushEvery, so a crash loses at most about one flush interval of
	// last-seen times; a larger value trades that for fewer writes.
	LastSeenEvery time.Duration
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
	// OnTransition hears every state change, outside the screen's lock,
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

	screens sync.Map // screen id → *screen
	tokens  sync.Map // token hash → screen id

	flushMu sync.Mutex
	saved   atomic.Int64 // status records written, ever (tests, metrics)
	saves   atomic.Int64 // status transactions, ever

	trMu        sync.Mutex
	transitions []store.Transition // not yet saved to the history

	startedAt time.Time
	metrics   *healthMetrics
	tally     tally      // tally.go
	feed      changeFeed // changes.go
}

// screen is one screen's part of the registry. Everything but id and
// changed is under mu; mu is taken before the tally's and the feed's
// locks, never after.
type screen struct {
	id      string
	changed atomic.Uint64 // feed sequence of its last change (changes.go)
	dirty   atomic.Bool   // a persisted field changed since the last save (persist.go)
	unsaved atomic.Bool   // anything changed since the last save

	mu        sync.Mutex
	gone      bool // forgotten: frames still in flight are dropped
	tokenHash string
	group     string // the group it is directly in; "" none
	status    store.ScreenStatus
	online    bool // the hub holds a socket for it
	health    health
	counted   State     // the state it is counted under in the tally
	saved     persisted // persisted fields of the status last saved
}

var _ hub.Handler = (*Registry)(nil)

// New loads tokens, groups and saved statuses from the store.
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
	if opts.LastSeenEvery <= 0 {
		opts.LastSeenEvery = opts.FlushEvery
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
	groups, err := opts.Store.ScreenGroups()
	if err != nil {
		return nil, fmt.Errorf("load screen groups: %w", err)
	}
	status, err := opts.Store.Statuses()
	if err != nil {
		return nil, fmt.Errorf("load screen status: %w", err)
	}
	last, err := opts.Store.LastTransitions()
	if err != nil {
		return nil, fmt.Errorf("load screen history: %w", err)
	}
	r := &Registry{opts: opts, startedAt: opts.Now()}
	for h, id := range tokens {
		s := &screen{id: id, tokenHash: h, group: groups[id], status: status[id]}
		s.saved = persistedOf(s.status)
		if tr, ok := last[id]; ok {
			s.health = health{state: State(tr.To), reasons: tr.Reasons, since: tr.At, resumed: true}
		}
		s.counted = s.health.counted()
		r.tally.add(s.group, s.counted, 1)
		r.screens.Store(id, s)
		r.tokens.Store(h, id)
	}
	r.initMetrics()
	return r, nil
}

// get returns screenID's entry, nil for a screen the registry does not
// know (never created, or forgotten).
func (r *Registry) get(screenID string) *screen {
	v, ok := r.screens.Load(screenID)
	if !ok {
		return nil
	}
	return v.(*screen)
}

// Authenticate maps a device token to its screen.
func (r *Registry) Authenticate(token string) (string, error) {
	if token == "" {
		return "", fmt.Errorf("%w: missing device token", hub.ErrUnauthorized)
	}
	id, ok := r.tokens.Load(store.HashToken(token))
	if !ok {
		return "", fmt.Errorf("%w: unknown or revoked device token", hub.ErrUnauthorized)
	}
	return id.(string), nil
}

// SetToken makes token the only token of screenID (after create or
// rotate). A screen new to the registry is counted, offline, in the group
// the store has it in.
func (r *Registry) SetToken(screenID, token string) {
	h := store.HashToken(token)
	s := r.get(screenID)
	if s == nil {
		group := ""
		scr, err := r.opts.Store.GetScreen(screenID)
		switch {
		case err == nil:
			group = scr.Group
		case !errors.Is(err, store.ErrNotFound):
			r.opts.Logger.Warn("new screen's group unknown; counted without one until it moves", "screen", screenID, "error", err)
		}
		fresh := &screen{id: screenID, group: group, counted: StateOffline}
		v, loaded := r.screens.LoadOrStore(screenID, fresh)
		s = v.(*screen)
		if !loaded {
			r.tally.add(group, StateOffline, 1)
		}
	}
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		return // deleted meanwhile: its token must not authenticate
	}
	// The token map changes under the screen's lock, so a Forget after
	// this sees the new token and removes it.
	if old := s.tokenHash; old != "" && old != h {
		r.tokens.CompareAndDelete(old, screenID)
	}
	s.tokenHash = h
	r.tokens.Store(h, screenID)
	r.feed.touchLocked(s) // a new screen, or one paired again
	s.mu.Unlock()
	r.feed.wakeWatchers()
}

// Place records that screenID is now directly in group ("" none), after
// the store moved it, so the counts per group follow.
func (r *Registry) Place(screenID, group string) {
	s := r.get(screenID)
	if s == nil {
		r.feed.touchOther(screenID)
		return
	}
	s.mu.Lock()
	if !s.gone && s.group != group {
		r.tally.move(s.group, s.counted, group, s.counted)
		s.group = group
	}
	r.feed.touchLocked(s)
	s.mu.Unlock()
	r.feed.wakeWatchers()
}

// Forget drops a deleted screen's token and status.
func (r *Registry) Forget(screenID string) {
	v, ok := r.screens.LoadAndDelete(screenID)
	if !ok {
		r.feed.touchOther(screenID)
		return
	}
	s := v.(*screen)
	s.mu.Lock()
	s.gone = true
	r.tally.add(s.group, s.counted, -1)
	if s.tokenHash != "" {
		r.tokens.CompareAndDelete(s.tokenHash, screenID)
	}
	r.feed.touchGone(s)
	s.mu.Unlock()
	r.feed.wakeWatchers()
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
	r.update(screenID, true, true, func(s *screen) {
		s.health.reported = false // a new session: wait for its first heartbeat
		st := &s.status
		st.LastSeen = now.UTC()
		st.ConnectedAt = now.UTC()
		st.PlayerVersion = clip(h.PlayerVersion)
		if h.AppliedVersion != "" {
			st.AppliedVersion = clip(h.AppliedVersion)
		}
	})
	return playlists.Welcome{
		ScreenID:   screenID,
		ScreenName: scr.Name,
		Version:    r.opts.Version(screenID),
		ServerTime: now.UnixMilli(),
	}, nil
}

// Welcomed delivers what waited for the screen (pending commands, the
// current roll-out's offer) once its welcome is queued, so the player
// reads them after it.
func (r *Registry) Welcomed(screenID string) {
	if r.opts.Commands != nil {
		r.opts.Commands.Deliver(screenID)
	}
	if r.opts.Updates != nil {
		r.opts.Updates.Deliver(screenID)
	}
}

// Applied records the version a player switched to.
func (r *Registry) Applied(screenID string, a playlists.Applied) {
	now := r.opts.Now().UTC()
	v := clip(a.Version)
	r.update(screenID, true, false, func(s *screen) {
		s.status.LastSeen = now
		s.status.AppliedVersion = v
		s.status.AppliedAt = now
	})
}

// Heartbeat records a player's health report.
func (r *Registry) Heartbeat(screenID string, hb playlists.Heartbeat) {
	now := r.opts.Now().UTC()
	r.metrics.heartbeats.Inc()
	// Clipped before taking the screen's lock.
	item, syncErr, rejected := clip(hb.CurrentItem), clip(hb.LastSyncError), clip(hb.ManifestRejected)
	applied, player := clip(hb.AppliedVersion), clip(hb.PlayerVersion)
	r.update(screenID, true, false, func(s *screen) {
		s.health.reported = true
		st := &s.status
		st.LastSeen = now
		st.CurrentItem = item
		st.CurrentSince = hb.CurrentSince
		if applied != "" {
			st.AppliedVersion = applied
		}
		if player != "" {
			st.PlayerVersion = player
		}
		st.UptimeS = hb.UptimeS
		st.CacheBytes = hb.CacheBytes
		st.DiskFreeBytes = hb.DiskFreeBytes
		st.DiskTotalBytes = hb.DiskTotalBytes
		st.ClockOffsetMS = hb.ClockOffsetMS
		st.PageAlive = hb.PageAlive
		st.LastSyncError = syncErr
		st.DownloadFailures = hb.DownloadFailures
		st.ManifestRejected = rejected
		// Counts; a negative one is a broken player, not a credit.
		st.PlaysPending = max(hb.PlaysPending, 0)
		st.PlaysDropped = max(hb.PlaysDropped, 0)
	})
	if r.opts.Updates != nil {
		r.opts.Updates.Report(screenID, player, hb.Update)
	}
}

// Disconnected marks the screen offline; last_seen is kept.
func (r *Registry) Disconnected(screenID string) {
	now := r.opts.Now().UTC()
	r.update(screenID, false, true, func(s *screen) { s.status.LastSeen = now })
}

// update applies f to screenID's entry under its own lock, re-derives its
// state and marks what must be saved. session: a hello or a disconnect,
// saved at the next flush whatever changed, so a session's start and end
// are on disk even when the last-seen time alone would wait.
func (r *Registry) update(screenID string, online, session bool, f func(*screen)) {
	s := r.get(screenID)
	if s == nil {
		return // unknown, or deleted while connected
	}
	// Fetched before taking the lock: the publisher has its own.
	published := r.opts.Published(screenID)
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		return
	}
	f(s)
	s.online = online
	r.markLocked(s, session)
	tr, changed := r.evaluateLocked(s, published, r.opts.Now())
	r.feed.touchLocked(s)
	s.mu.Unlock()
	r.feed.wakeWatchers()
	if changed {
		r.notify(tr)
	}
}

// Status returns what screenID last reported and whether it counts as
// online: connected, and heard from within OfflineAfter.
func (r *Registry) Status(screenID string) (store.ScreenStatus, bool) {
	s := r.get(screenID)
	if s == nil {
		return store.ScreenStatus{}, false
	}
	s.mu.Lock()
	st, on := s.status, s.online
	s.mu.Unlock()
	return st, on && r.fresh(st)
}

// fresh: heard from within OfflineAfter (always, without a limit).
func (r *Registry) fresh(st store.ScreenStatus) bool {
	return r.opts.OfflineAfter <= 0 || r.opts.Now().Sub(st.LastSeen) <= r.opts.OfflineAfter
}

// Online counts screens that are online (as Status says).
func (r *Registry) Online() int {
	n := 0
	r.screens.Range(func(_, v any) bool {
		s := v.(*screen)
		s.mu.Lock()
		on, st := s.online, s.status
		s.mu.Unlock()
		if on && r.fresh(st) {
			n++
		}
		return true
	})
	return n
}

func clip(s string) string { return textclip.Clip(s, maxReported) }
