// Package publish turns the store's content into one manifest per screen and
// tells the hub which screens have a new version. Screens targeted by the
// same schedules in the same time zone share one computed manifest, and
// only screens whose version changed are notified.
package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// Debounce bounds: a burst of edits is coalesced while changes keep coming
// less than Quiet apart, but never delayed by more than MaxDelay after the
// first, so an edit reaches players well within the 2 s the screens promise.
const (
	DefaultQuiet    = 50 * time.Millisecond
	DefaultMaxDelay = 200 * time.Millisecond
	// DefaultRefresh recomputes even without edits: a safety net behind the
	// wake-up at the next known change (see NextChange), e.g. for a clock
	// that jumped.
	DefaultRefresh = time.Minute
)

// minWake is the shortest wait before a scheduled republish. The wall clock
// (Now) and the timer's monotonic clock may disagree by a little; when Now
// still reads just before the deadline after the timer fired, this floor
// turns what would be a busy loop into a few quick retries.
const minWake = 10 * time.Millisecond

// Snapshotter is the part of the store publishing reads.
type Snapshotter interface {
	Snapshot() (store.Snapshot, error)
}

// Options configure a Publisher.
type Options struct {
	Store Snapshotter
	// Push is told the new version and the screens that now have it; the
	// server wires it to the hub. Nil disables pushing.
	Push       func(version string, screenIDs []string)
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Quiet      time.Duration
	MaxDelay   time.Duration
	Refresh    time.Duration
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
	// next is the earliest instant after the last publish at which a
	// manifest will change by itself (zero: none known).
	next time.Time

	// pubMu serialises recomputation so versions move forward in order.
	pubMu sync.Mutex

	duration prometheus.Histogram
	distinct prometheus.Gauge
	changed  prometheus.Counter
}

// New returns a Publisher; call Publish once to compute the initial
// manifests, then Run to follow changes.
func New(opts Options) *Publisher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Quiet <= 0 {
		opts.Quiet = DefaultQuiet
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	p := &Publisher{
		opts:     opts,
		trigger:  make(chan struct{}, 1),
		rearm:    make(chan struct{}, 1),
		byScreen: map[string]*Published{},
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kiosk_publish_duration_seconds", Help: "Time to recompute every screen's manifest.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		distinct: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiosk_publish_manifests", Help: "Distinct manifests currently published.",
		}),
		changed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_publish_screen_changes_total", Help: "Screens whose manifest version changed.",
		}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(p.duration, p.distinct, p.changed)
	}
	return p
}

// Trigger asks for a recompute soon. It never blocks.
func (p *Publisher) Trigger() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Run recomputes after triggers (debounced), at the next instant a manifest
// changes by itself (an urgent notice expires, a schedule ends: NextChange),
// and every Refresh, until ctx ends. Waking at the change rather than at the
// next Refresh keeps published versions, and the manifests the API serves,
// in step with what screens show within milliseconds instead of up to a
// minute.
func (p *Publisher) Run(ctx context.Context) {
	refresh := time.NewTicker(p.opts.Refresh)
	defer refresh.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	p.arm(wake)
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.rearm:
			p.arm(wake)
			continue
		case <-wake.C:
		case <-refresh.C:
		case <-p.trigger:
			p.settle(ctx)
		}
		if err := p.Publish(); err != nil {
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

// settle waits until triggers stop arriving for Quiet, or MaxDelay passed.
func (p *Publisher) settle(ctx context.Context) {
	deadline := time.NewTimer(p.opts.MaxDelay)
	defer deadline.Stop()
	quiet := time.NewTimer(p.opts.Quiet)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-quiet.C:
			return
		case <-p.trigger:
			quiet.Reset(p.opts.Quiet)
		}
	}
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

// Ensure returns screenID's manifest, publishing first if the screen is
// newer than the last publish (a player may connect the instant its screen
// is created). Creating a screen therefore never has to publish
// synchronously, which keeps bulk registration of thousands of screens
// linear.
func (p *Publisher) Ensure(screenID string) (*Published, bool) {
	if m, ok := p.Manifest(screenID); ok {
		return m, true
	}
	p.pubMu.Lock()
	if _, ok := p.Manifest(screenID); !ok {
		if err := p.publishLocked(); err != nil {
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

// Publish recomputes every screen's manifest now and pushes changed
// versions. It is deterministic given the store's content and the clock.
func (p *Publisher) Publish() error {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	return p.publishLocked()
}

func (p *Publisher) publishLocked() error {
	start := time.Now()
	snap, err := p.opts.Store.Snapshot()
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	now := p.opts.Now()
	next, err := Compute(snap, now)
	if err != nil {
		return err
	}
	due := NextChange(snap.Catalog, now)

	p.mu.Lock()
	prev := p.byScreen
	p.byScreen = next
	moved := !due.Equal(p.next)
	p.next = due
	p.mu.Unlock()
	if moved {
		select {
		case p.rearm <- struct{}{}:
		default:
		}
	}

	// Group changed screens by version so each version is pushed once.
	changed := map[string][]string{}
	distinct := map[string]bool{}
	for id, m := range next {
		v := m.Manifest.Version
		distinct[v] = true
		if old, ok := prev[id]; ok && old.Manifest.Version == v {
			continue
		}
		changed[v] = append(changed[v], id)
	}
	p.duration.Observe(time.Since(start).Seconds())
	p.distinct.Set(float64(len(distinct)))
	versions := make([]string, 0, len(changed))
	for v := range changed {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	for _, v := range versions {
		ids := changed[v]
		slices.Sort(ids)
		p.changed.Add(float64(len(ids)))
		p.opts.Logger.Info("manifest published", "version", v, "screens", len(ids))
		if p.opts.Push != nil {
			p.opts.Push(v, ids)
		}
	}
	return nil
}

// NextChange is the earliest instant after now at which a manifest cut from
// c changes with no edit: an urgent notice's ExpiresAt or a schedule's To,
// the two things BuildManifest drops by time. Zero when neither lies ahead.
// It does not check targets: an extra publish that changes nothing pushes
// nothing, and skipping the check keeps this linear in the catalog.
func NextChange(c playlists.Catalog, now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, u := range c.Urgent {
		consider(u.ExpiresAt)
	}
	for _, sc := range c.Schedules {
		if sc.To != nil {
			consider(*sc.To)
		}
	}
	return next
}

// Compute cuts every screen's manifest from snap at now. Screens with the
// same matching schedules and time zone share one manifest, built once.
func Compute(snap store.Snapshot, now time.Time) (map[string]*Published, error) {
	out := make(map[string]*Published, len(snap.Screens))
	shared := map[string]*Published{}
	for _, scr := range snap.Screens {
		sc := Context(scr, snap.Groups)
		var key strings.Builder
		for _, sch := range snap.Catalog.Schedules { // already in id order
			if sch.Target.Matches(sc) {
				key.WriteString(sch.ID)
				key.WriteByte(',')
			}
		}
		for _, u := range snap.Catalog.Urgent {
			if u.Target.Matches(sc) {
				key.WriteString("!" + u.ID + ",")
			}
		}
		for _, m := range snap.Catalog.SafeModes {
			if m.Target.Matches(sc) {
				key.WriteString("~" + m.ID + ",")
			}
		}
		key.WriteString("#" + sc.DefaultPlaylist)
		key.WriteString("@" + sc.Timezone)
		key.WriteString("|" + sc.Layout + "|" + sc.Header)
		k := key.String()
		pub, ok := shared[k]
		if !ok {
			m := playlists.BuildManifest(sc, snap.Catalog, now)
			b, err := json.Marshal(m)
			if err != nil {
				return nil, fmt.Errorf("publish: encode manifest: %w", err)
			}
			pub = &Published{Manifest: m, JSON: b}
			shared[k] = pub
		}
		out[scr.ID] = pub
	}
	return out, nil
}

// Context is what targeting knows about scr: its group and the group's
// ancestors, its tags, its time zone (its own, else the nearest group's in
// the chain, else playlists.DefaultTimezone) and its default playlist (its
// own, else the nearest group's in the chain), its layout (likewise, else
// full screen) and the header text of that layout (its own group's name).
func Context(scr store.Screen, groups map[string]playlists.Group) playlists.ScreenContext {
	sc := playlists.ScreenContext{ID: scr.ID, Tags: scr.Tags, Timezone: scr.Timezone, DefaultPlaylist: scr.DefaultPlaylist}
	var layouts []string
	if g, ok := groups[scr.Group]; ok {
		sc.Header = g.Name
	}
	seen := map[string]bool{}
	for g := scr.Group; g != "" && !seen[g]; {
		seen[g] = true
		sc.Groups = append(sc.Groups, g)
		grp, ok := groups[g]
		if !ok {
			break
		}
		if sc.Timezone == "" {
			sc.Timezone = grp.Timezone
		}
		if sc.DefaultPlaylist == "" {
			sc.DefaultPlaylist = grp.DefaultPlaylist
		}
		layouts = append(layouts, grp.Layout)
		g = grp.Parent
	}
	sc.Layout = playlists.ResolveLayout(scr.Layout, layouts...)
	if sc.Timezone == "" {
		sc.Timezone = playlists.DefaultTimezone
	}
	return sc
}
