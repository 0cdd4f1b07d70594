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
const DefaultEvalEvery = 5 * time.Second

// pruneEvery is how often history older than the retention is deleted.
const pruneEvery = time.Hour

// Health is a screen's derived state as the API shows it.
type Health struct {
	State   State      `json:"state"`
	Reasons []string   `json:"state_reasons"`
	Since   *time.Time `json:"state_since"` // null: never seen by this server
}

// health is the tracker's per-screen memory.
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

func (r *Registry) initHealth() error {
	r.health = map[string]*health{}
	r.startedAt = r.opts.Now()
	last, err := r.opts.Store.LastTransitions()
	if err != nil {
		return err
	}
	for id, tr := range last {
		if _, ok := r.hashes[id]; !ok {
			continue
		}
		r.health[id] = &health{state: State(tr.To), reasons: tr.Reasons, since: tr.At, resumed: true}
	}
	r.metrics = &healthMetrics{
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_heartbeats_total", Help: "Heartbeats received from players.",
		}),
	}
	if reg := r.opts.Registerer; reg != nil {
		reg.MustRegister(r.metrics.heartbeats, screensCollector{r: r, desc: prometheus.NewDesc(
			"kiosk_screens", "Screens by derived health state.", []string{"state"}, nil)})
	}
	return nil
}

// Health returns screenID's derived state. A screen this server has never
// heard of, or never seen, is offline with a null since.
func (r *Registry) Health(screenID string) Health {
	r.mu.RLock()
	defer r.mu.RUnlock()
	h, ok := r.health[screenID]
	if !ok || h.state == "" {
		return Health{State: StateOffline, Reasons: []string{"never_connected: this screen has not connected yet"}}
	}
	since := h.since
	return Health{State: h.state, Reasons: slices.Clone(h.reasons), Since: &since}
}

// Counts returns how many screens are in each state.
func (r *Registry) Counts() map[State]int {
	out := make(map[State]int, len(States))
	r.mu.RLock()
	defer r.mu.RUnlock()
	for id := range r.hashes {
		if h, ok := r.health[id]; ok && h.state != "" {
			out[h.state]++
		} else {
			out[StateOffline]++
		}
	}
	return out
}

// evaluateLocked re-derives screenID's state at now. published is the
// version published for it, fetched by the caller before taking r.mu (the
// publisher has its own lock). A change is queued for the history and
// returned for the OnTransition hook, which the caller runs after
// unlocking. r.mu must be held for writing.
func (r *Registry) evaluateLocked(screenID, published string, now time.Time) (store.Transition, bool) {
	if _, ok := r.hashes[screenID]; !ok {
		return store.Transition{}, false
	}
	connected := r.online[screenID]
	h := r.health[screenID]
	if !connected && (h == nil || h.state == "") {
		// Never connected: it reads as offline (Health) but has no
		// transition, so provisioning screens ahead of installing them
		// pages nobody.
		return store.Transition{}, false
	}
	if h == nil {
		h = &health{}
		r.health[screenID] = h
	}
	if connected {
		h.resumed = false
	}
	if !connected {
		h.reported = false
		h.mismatchSince = time.Time{}
	} else if Mismatch(r.status[screenID], published) {
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
		Status:        r.status[screenID],
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
	tr := store.Transition{Screen: screenID, From: string(h.state), To: string(state), Reasons: reasons, At: now.UTC()}
	h.state, h.reasons, h.since = state, reasons, now.UTC()
	r.transitions = append(r.transitions, tr)
	return tr, true
}

// notify runs the OnTransition hook outside r.mu.
func (r *Registry) notify(trs ...store.Transition) {
	for _, tr := range trs {
		r.feed.touch(tr.Screen)
		r.opts.Logger.Info("screen state changed", "screen", tr.Screen, "from", tr.From, "to", tr.To, "reasons", tr.Reasons)
		if r.opts.OnTransition != nil {
			r.opts.OnTransition(tr)
		}
	}
}

// EvaluateAll re-derives every screen's state; Run calls it on a ticker.
func (r *Registry) EvaluateAll() {
	r.mu.RLock()
	ids := make([]string, 0, len(r.hashes))
	for id := range r.hashes {
		ids = append(ids, id)
	}
	r.mu.RUnlock()
	published := make([]string, len(ids))
	for i, id := range ids {
		published[i] = r.opts.Published(id)
	}
	now := r.opts.Now()
	var trs []store.Transition
	r.mu.Lock()
	for i, id := range ids {
		if tr, ok := r.evaluateLocked(id, published[i], now); ok {
			trs = append(trs, tr)
		}
	}
	r.mu.Unlock()
	r.notify(trs...)
}

// flushHistory saves queued transitions; on failure they are put back for
// the next flush.
func (r *Registry) flushHistory() error {
	r.mu.Lock()
	trs := r.transitions
	r.transitions = nil
	r.mu.Unlock()
	if err := r.opts.Store.AppendHistory(trs); err != nil {
		r.mu.Lock()
		r.transitions = append(trs, r.transitions...)
		r.mu.Unlock()
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

// setReported records whether the current connection has sent a heartbeat.
// r.mu must be held for writing.
func (r *Registry) setReported(screenID string, v bool) {
	h := r.health[screenID]
	if h == nil {
		h = &health{}
		r.health[screenID] = h
	}
	h.reported = v
}
