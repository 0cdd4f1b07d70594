package devices

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/server/internal/store"
)

// DefaultEvalEvery is how often every screen's state is re-derived even
// without an event: going offline by silence, and going stale, are things
// that happen when nothing arrives.
// It holds one screen's lock at a time and costs a few milliseconds at
// 10,000 screens (BenchmarkEvaluateAll), so the fleet counts follow
// silence within a second.
const DefaultEvalEvery = time.Second

// pruneEvery is how often history older than the retention is deleted.
const pruneEvery = time.Hour

// Health is a screen's derived state as the API shows it.
type Health struct {
	State   State      `json:"state"`
	Reasons []string   `json:"state_reasons"`
	Since   *time.Time `json:"state_since"` // null: never seen by this server
}

// health is a screen's derived state and what deriving it needs to
// remember, under its screen's lock.
type health struct {
	state   State
	reasons []string
	since   time.Time
	// reported: a heartbeat arrived on the current connection.
	reported bool
	// resumed: the state was loaded from the history at startup and the
	// screen has not connected to this process yet.
	resumed bool
	// mismatchSince: when applied ≠ published was first seen while
	// connected; zero when they match or the screen is disconnected.
	mismatchSince time.Time
}

// counted is the state h counts as: a screen never seen is offline.
func (h *health) counted() State {
	if h.state == "" {
		return StateOffline
	}
	return h.state
}

// healthMetrics are the registry's Prometheus metrics.
type healthMetrics struct {
	heartbeats prometheus.Counter
}

// screensCollector reports kiosk_screens{state} at scrape time from the
// registry itself, so the gauge can never drift from what the API shows.
type screensCollector struct {
	r    *Registry
	desc *prometheus.Desc
}

func (c screensCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c screensCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.r.Counts()
	for _, st := range States {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

func (r *Registry) initMetrics() {
	r.metrics = &healthMetrics{
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_heartbeats_total", Help: "Heartbeats received from players.",
		}),
	}
	if reg := r.opts.Registerer; reg != nil {
		reg.MustRegister(r.metrics.heartbeats, screensCollector{r: r, desc: prometheus.NewDesc(
			"kiosk_screens", "Screens by derived health state.", []string{"state"}, nil)},
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "kiosk_status_records_saved_total", Help: "Screen status records written to the store.",
			}, func() float64 { return float64(r.saved.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "kiosk_status_saves_total", Help: "Transactions that saved screen statuses.",
			}, func() float64 { return float64(r.saves.Load()) }))
	}
}

// Health returns screenID's derived state. A screen this server has never
// heard of, or never seen, is offline with a null since.
func (r *Registry) Health(screenID string) Health {
	s := r.get(screenID)
	if s == nil {
		return neverSeen()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.health.state == "" {
		return neverSeen()
	}
	since := s.health.since
	return Health{State: s.health.state, Reasons: slices.Clone(s.health.reasons), Since: &since}
}

func neverSeen() Health {
	return Health{State: StateOffline, Reasons: []string{"never_connected: this screen has not connected yet"}}
}

// evaluateLocked re-derives s's state at now. published is the version
// published for it, fetched by the caller before taking s.mu (the
// publisher has its own lock). A change moves the tally, is queued for the
// history and is returned for the OnTransition hook, which the caller runs
// after unlocking. s.mu must be held.
func (r *Registry) evaluateLocked(s *screen, published string, now time.Time) (store.Transition, bool) {
	if s.gone {
		return store.Transition{}, false
	}
	h := &s.health
	connected := s.online
	if !connected && h.state == "" {
		// Never connected: it reads as offline (Health) but has no
		// transition, so provisioning screens ahead of installing them
		// pages nobody.
		return store.Transition{}, false
	}
	if connected {
		h.resumed = false
	}
	if !connected {
		h.reported = false
		h.mismatchSince = time.Time{}
	} else if Mismatch(s.status, published) {
		if h.mismatchSince.IsZero() {
			h.mismatchSince = now
		}
	} else {
		h.mismatchSince = time.Time{}
	}
	// After a server restart every screen is disconnected until its player
	// reconnects. Give them OfflineAfter to do so before calling them
	// offline, so a restart does not write a transition for, and alert
	// about, the whole fleet.
	if !connected && h.resumed && h.state != StateOffline &&
		r.opts.OfflineAfter > 0 && now.Sub(r.startedAt) < r.opts.OfflineAfter {
		return store.Transition{}, false
	}
	state, reasons := Derive(Observation{
		Now:           now,
		Connected:     connected,
		Status:        s.status,
		Published:     published,
		Reported:      h.reported,
		MismatchSince: h.mismatchSince,
	}, r.opts.Thresholds)
	if state == h.state {
		// Same state: refresh the reasons (a disk may fill further) without
		// a transition.
		h.reasons = reasons
		return store.Transition{}, false
	}
	tr := store.Transition{Screen: s.id, From: string(h.state), To: string(state), Reasons: reasons, At: now.UTC()}
	h.state, h.reasons, h.since = state, reasons, now.UTC()
	if c := h.counted(); c != s.counted {
		r.tally.move(s.group, s.counted, s.group, c)
		s.counted = c
	}
	r.trMu.Lock()
	r.transitions = append(r.transitions, tr)
	r.trMu.Unlock()
	return tr, true
}

// notify runs the OnTransition hook outside the screen's lock.
func (r *Registry) notify(trs ...store.Transition) {
	for _, tr := range trs {
		r.opts.Logger.Info("screen state changed", "screen", tr.Screen, "from", tr.From, "to", tr.To, "reasons", tr.Reasons)
		if r.opts.OnTransition != nil {
			r.opts.OnTransition(tr)
		}
	}
}

// EvaluateAll re-derives every screen's state; Run calls it on a ticker.
// It holds one screen's lock at a time, so players' frames and readers
// only ever wait for one screen's evaluation.
func (r *Registry) EvaluateAll() {
	var trs []store.Transition
	r.screens.Range(func(_, v any) bool {
		s := v.(*screen)
		published := r.opts.Published(s.id)
		now := r.opts.Now()
		s.mu.Lock()
		tr, ok := r.evaluateLocked(s, published, now)
		if ok {
			r.feed.touchLocked(s)
		}
		s.mu.Unlock()
		if ok {
			trs = append(trs, tr)
		}
		return true
	})
	if len(trs) > 0 {
		r.feed.wakeWatchers()
	}
	r.notify(trs...)
}

// flushHistory saves queued transitions; on failure they are put back for
// the next flush.
func (r *Registry) flushHistory() error {
	r.trMu.Lock()
	trs := r.transitions
	r.transitions = nil
	r.trMu.Unlock()
	if len(trs) == 0 {
		return nil
	}
	if err := r.opts.Store.AppendHistory(trs); err != nil {
		r.trMu.Lock()
		r.transitions = append(trs, r.transitions...)
		r.trMu.Unlock()
		return err
	}
	return nil
}

// prune deletes history and alerts past the retention.
func (r *Registry) prune() {
	n, err := r.opts.Store.PruneHistory(r.opts.Now().Add(-r.opts.HistoryRetention))
	if err != nil {
		r.opts.Logger.Error("prune history", "error", err)
		return
	}
	if n > 0 {
		r.opts.Logger.Info("pruned history", "records", n, "retention", r.opts.HistoryRetention)
	}
}

// runHealth evaluates on a ticker and prunes hourly until ctx ends.
func (r *Registry) runHealth(ctx context.Context) {
	eval := time.NewTicker(r.opts.EvalEvery)
	defer eval.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	r.prune()
	for {
		select {
		case <-ctx.Done():
			return
		case <-eval.C:
			r.EvaluateAll()
		case <-prune.C:
			r.prune()
		}
	}
}
