// Package publish turns the store's content into one manifest per screen and
// tells the hub which screens have a new version. Screens targeted by the
// same schedules in the same time zone share one computed manifest, and
// only screens whose version changed are notified.
//
// The publisher follows the store's change notices (store.Change): a change
// to screens recomputes those screens only, a change to groups the screens
// under them, and a change to content (items, playlists, schedules, urgent
// notices, safe modes, assets) every distinct manifest once. A notice starts
// a recompute at once; notices that arrive while one runs are gathered into
// exactly one recompute after it, so a burst of writes costs two recomputes,
// not one per write, and a lone write waits for nothing.
package publish

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// DefaultRefresh recomputes every manifest even without edits: a safety net
// behind the change notices and the wake-up at the next known change (see
// NextChange), e.g. for a clock that jumped.
const DefaultRefresh = time.Minute

// minWake is the shortest wait before a scheduled republish. The wall clock
// (Now) and the timer's monotonic clock may disagree by a little; when Now
// still reads just before the deadline after the timer fired, this floor
// turns what would be a busy loop into a few quick retries.
const minWake = 10 * time.Millisecond

// Source is the part of the store publishing reads. A Source that also has
// Subscribe(func(store.Change)) (the store does) is followed: each change
// it announces is recomputed without anyone calling Trigger.
type Source interface {
	// Snapshot is everything at once, for a full recompute.
	Snapshot() (store.Snapshot, error)
	// Catalog is the content alone, for a recompute after it changed.
	Catalog() (playlists.Catalog, error)
	// GetScreen and GetGroup read one screen or group after a change to
	// it; a store.NotFoundError means it was deleted.
	GetScreen(id string) (store.Screen, error)
	GetGroup(id string) (playlists.Group, error)
}

// subscriber is a Source that announces its changes.
type subscriber interface {
	Subscribe(fn func(store.Change))
}

// Options configure a Publisher.
type Options struct {
	Store Source
	// Push is told the new version and the screens that now have it; the
	// server wires it to the hub. Nil disables pushing.
	Push       func(version string, screenIDs []string)
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Refresh is how often every manifest is recomputed without any
	// change (0: DefaultRefresh).
	Refresh time.Duration
}

// Published is one computed manifest and its canonical encoding, shared by
// every screen it was computed for. Treat it as read-only.
type Published struct {
	Manifest playlists.Manifest
	JSON     []byte
}

// Publisher holds the current manifest of every screen.
type Publisher struct {
	opts    Options
	trigger chan struct{}
	// rearm tells Run that a publish found a different next change, so
	// its wake-up timer is reset even when the publish ran elsewhere
	// (Publish, Ensure).
	rearm chan struct{}

	mu       sync.RWMutex
	byScreen map[string]*Published
	// next is the earliest instant after the last full recompute at which
	// a manifest will change by itself (zero: none known).
	next time.Time

	// pendMu guards pend, what changed since a recompute last took it.
	pendMu sync.Mutex
	pend   pending

	// pubMu serialises recomputation so versions move forward in order;
	// it guards fleet.
	pubMu sync.Mutex
	fleet fleet
	// onStart and onDone, when set (tests), run at the start and end of
	// every recompute, under pubMu.
	onStart func()
	onDone  func(r recompute)

	duration *prometheus.HistogramVec
	distinct prometheus.Gauge
	changed  prometheus.Counter
	built    prometheus.Counter
}

// New returns a Publisher following opts.Store's changes; call Publish
// once to compute the initial manifests, then Run to follow changes.
func New(opts Options) *Publisher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	p := &Publisher{
		opts:     opts,
		trigger:  make(chan struct{}, 1),
		rearm:    make(chan struct{}, 1),
		byScreen: map[string]*Published{},
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kiosk_publish_duration_seconds", Help: "Time to recompute manifests after a change (scope: full or partial).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}, []string{"scope"}),
		distinct: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiosk_publish_manifests", Help: "Distinct manifests currently published.",
		}),
		changed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_publish_screen_changes_total", Help: "Screens whose manifest version changed.",
		}),
		built: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_publish_manifests_built_total", Help: "Manifests built and encoded (not reused from a screen sharing them).",
		}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(p.duration, p.distinct, p.changed, p.built)
	}
	if s, ok := opts.Store.(subscriber); ok {
		s.Subscribe(p.notify)
	}
	return p
}

// pending is what changed and has not been recomputed yet.
type pending struct {
	all     bool // unknown change: recompute everything
	catalog bool
	screens map[string]struct{}
	groups  map[string]struct{}
}

func (p pending) empty() bool {
	return !p.all && !p.catalog && len(p.screens) == 0 && len(p.groups) == 0
}

// Trigger asks for a full recompute now, for a change the store did not
// announce. It never blocks.
func (p *Publisher) Trigger() {
	p.pendMu.Lock()
	p.pend.all = true
	p.pendMu.Unlock()
	p.poke()
}

// notify queues a change the store announced and wakes Run. It runs in the
// goroutine that committed the change and never blocks.
func (p *Publisher) notify(ch store.Change) {
	p.pendMu.Lock()
	pd := &p.pend
	pd.catalog = pd.catalog || ch.Catalog
	for _, id := range ch.Screens {
		if pd.screens == nil {
			pd.screens = map[string]struct{}{}
		}
		pd.screens[id] = struct{}{}
	}
	for _, id := range ch.Groups {
		if pd.groups == nil {
			pd.groups = map[string]struct{}{}
		}
		pd.groups[id] = struct{}{}
	}
	p.pendMu.Unlock()
	p.poke()
}

func (p *Publisher) poke() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// takePending returns what is pending and clears it.
func (p *Publisher) takePending() pending {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	pd := p.pend
	p.pend = pending{}
	return pd
}

// Run recomputes at once after changes (gathering those that arrive during
// a recompute into the next one), at the next instant a manifest changes by
// itself (an urgent notice expires, a schedule ends: NextChange), and every
// Refresh, until ctx ends. Waking at the change rather than at the next
// Refresh keeps published versions, and the manifests the API serves, in
// step with what screens show within milliseconds instead of up to a
// minute.
func (p *Publisher) Run(ctx context.Context) {
	refresh := time.NewTicker(p.opts.Refresh)
	defer refresh.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	p.arm(wake)
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-p.rearm:
			p.arm(wake)
			continue
		case <-wake.C:
			err = p.wake()
		case <-refresh.C:
			err = p.Publish()
		case <-p.trigger:
			p.pubMu.Lock()
			err = p.recomputeLocked(p.takePending())
			p.pubMu.Unlock()
		}
		if err != nil {
			p.opts.Logger.Error("publish manifests", "error", err)
		}
		// Even when the next change is the same instant (a publish just
		// before it, by a clock a little behind), the timer has fired and
		// must be set again.
		p.arm(wake)
	}
}

// arm sets wake to fire at the next known change, or stops it when there is
// none. The delay is measured with Now, the clock manifests are cut with; the
// timer then runs on the monotonic clock (Go 1.23 timers: Reset needs no
// drain).
func (p *Publisher) arm(wake *time.Timer) {
	p.mu.RLock()
	next := p.next
	p.mu.RUnlock()
	if next.IsZero() {
		wake.Stop()
		return
	}
	wake.Reset(max(next.Sub(p.opts.Now()), minWake))
}

// NextChange returns the earliest instant after the last publish at which
// some manifest changes without any edit, or zero when none is known.
func (p *Publisher) NextChange() time.Time {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.next
}

// Manifest returns the current manifest of screenID.
func (p *Publisher) Manifest(screenID string) (*Published, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m, ok := p.byScreen[screenID]
	return m, ok
}

// Version returns the current manifest version of screenID, or "".
func (p *Publisher) Version(screenID string) string {
	if m, ok := p.Manifest(screenID); ok {
		return m.Manifest.Version
	}
	return ""
}

// Ensure returns screenID's manifest, computing it first if the screen is
// newer than the last recompute (a player may connect the instant its
// screen is created). Only that screen is computed, so creating screens
// never has to publish the fleet.
func (p *Publisher) Ensure(screenID string) (*Published, bool) {
	if m, ok := p.Manifest(screenID); ok {
		return m, true
	}
	p.pubMu.Lock()
	if _, ok := p.Manifest(screenID); !ok {
		if err := p.recomputeLocked(pending{screens: map[string]struct{}{screenID: {}}}); err != nil {
			p.opts.Logger.Error("publish for new screen", "screen", screenID, "error", err)
		}
	}
	p.pubMu.Unlock()
	return p.Manifest(screenID)
}

// EnsureVersion is Ensure's version, or "" for an unknown screen.
func (p *Publisher) EnsureVersion(screenID string) string {
	if m, ok := p.Ensure(screenID); ok {
		return m.Manifest.Version
	}
	return ""
}

// wake recomputes at a known change instant (an urgent notice expires, a
// schedule ends): only time-bound content changes then, so, with whatever
// else is pending, the catalog alone is read and recut, not a snapshot of
// every screen. The minute refresh stays a full recompute, the safety net.
func (p *Publisher) wake() error {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	pd := p.takePending()
	pd.catalog = true
	return p.recomputeLocked(pd)
}

// Publish recomputes every screen's manifest now and pushes changed
// versions. It is deterministic given the store's content and the clock.
func (p *Publisher) Publish() error {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	return p.recomputeLocked(pending{all: true})
}

// isNotFound reports whether err is the store's "no such screen/group".
func isNotFound(err error) bool {
	var nf store.NotFoundError
	return errors.As(err, &nf)
}
