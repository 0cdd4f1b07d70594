// Package alerts turns screen state transitions into alerts: debounced so a
// flapping screen stays quiet, grouped so a district-wide outage is one
// message, stored for GET /api/v1/alerts, and delivered to every registered
// webhook as a signed JSON POST, retried with exponential backoff.
//
// Nothing here runs on the heartbeat path: Observe only appends to a queue
// under a mutex, and a single goroutine (Run) does the debouncing, the
// store writes and starts the deliveries.
package alerts

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/server/internal/store"
)

// Defaults for Options fields left zero.
const (
	DefaultDebounce    = 30 * time.Second
	DefaultGroupWindow = 10 * time.Second
	DefaultGroupMin    = 5
	// DefaultResumeWindow bounds which alerts a restarted engine resumes
	// delivering: news older than a day is no longer worth a page, and the
	// bound keeps the start-up scan small.
	DefaultResumeWindow = 24 * time.Hour
)

// Options configure an Engine.
type Options struct {
	Store  *store.Store
	Now    func() time.Time
	Logger *slog.Logger

	// Debounce is how long a state must hold before it alerts.
	Debounce time.Duration
	// GroupWindow and GroupMin: GroupMin or more alerts maturing within
	// GroupWindow of the first go out as one grouped alert. GroupMin 1
	// disables grouping.
	GroupWindow time.Duration
	GroupMin    int
	// Tick is how often pending transitions are checked; default a quarter
	// of the smaller of Debounce and GroupWindow, between 10 ms and 1 s.
	Tick time.Duration

	Retry  Retry
	Client *http.Client // default: DefaultTimeout, no redirects
	// ResumeWindow: on Run, deliveries still pending on alerts younger than
	// this are resumed (default DefaultResumeWindow).
	ResumeWindow time.Duration

	Registerer prometheus.Registerer // kiosk_alerts_total, kiosk_webhook_deliveries_total
}

type metrics struct {
	alerts     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
}

// Engine is the alert pipeline. Start it with Run.
type Engine struct {
	opts    Options
	metrics metrics
	sem     chan struct{} // bounds concurrent webhook POSTs

	mu     sync.Mutex
	queue  []store.Transition
	events []store.Alert // one-off events from Announce
	wake   chan struct{}

	deliveries sync.WaitGroup
}

// New builds an Engine.
func New(opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.GroupWindow <= 0 {
		opts.GroupWindow = DefaultGroupWindow
	}
	if opts.GroupMin <= 0 {
		opts.GroupMin = DefaultGroupMin
	}
	if opts.Tick <= 0 {
		opts.Tick = min(opts.Debounce, opts.GroupWindow) / 4
		opts.Tick = max(10*time.Millisecond, min(opts.Tick, time.Second))
	}
	if opts.ResumeWindow <= 0 {
		opts.ResumeWindow = DefaultResumeWindow
	}
	opts.Retry = opts.Retry.withDefaults()
	if opts.Client == nil {
		opts.Client = newClient(DefaultTimeout)
	}
	e := &Engine{
		opts: opts,
		sem:  make(chan struct{}, maxConcurrentPosts),
		wake: make(chan struct{}, 1),
		metrics: metrics{
			alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "kiosk_alerts_total", Help: "Health alerts raised, by kind.",
			}, []string{"kind"}),
			deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "kiosk_webhook_deliveries_total",
				Help: "Webhook delivery attempts by result: delivered, retry (failed, will retry), failed (gave up).",
			}, []string{"result"}),
		},
	}
	// Pre-create the series so dashboards see zeros rather than nothing.
	for _, k := range Kinds {
		e.metrics.alerts.WithLabelValues(k)
	}
	for _, r := range []string{"delivered", "retry", "failed"} {
		e.metrics.deliveries.WithLabelValues(r)
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(e.metrics.alerts, e.metrics.deliveries)
	}
	return e
}

// Observe queues a state transition. It never blocks and never drops: the
// queue is bounded by how often screens can change state, which the
// registry already limits to real changes.
func (e *Engine) Observe(tr store.Transition) {
	e.mu.Lock()
	e.queue = append(e.queue, tr)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run resumes the deliveries a previous run left pending, then processes
// transitions until ctx ends, then waits for in-flight deliveries to stop
// (they stop at once: they watch ctx too).
func (e *Engine) Run(ctx context.Context) {
	e.resume(ctx)
	d := newDebouncer(e.opts.Debounce, e.opts.GroupWindow, e.opts.GroupMin)
	t := time.NewTicker(e.opts.Tick)
	defer t.Stop()
	defer e.deliveries.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
			e.drain(d)
			e.raiseEvents(ctx)
		case <-t.C:
			e.drain(d)
			for _, a := range d.tick(e.opts.Now()) {
				e.raise(ctx, a)
			}
		}
	}
}

// Announce raises a one-off event that is no screen's state change, such
// as an urgent notice going out without review: it is listed with the
// alerts and delivered to every webhook, so a second person hears of it.
// It never blocks.
func (e *Engine) Announce(a store.Alert) {
	e.mu.Lock()
	e.events = append(e.events, a)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) raiseEvents(ctx context.Context) {
	e.mu.Lock()
	evs := e.events
	e.events = nil
	e.mu.Unlock()
	for _, a := range evs {
		e.raise(ctx, a)
	}
}

func (e *Engine) drain(d *debouncer) {
	e.mu.Lock()
	q := e.queue
	e.queue = nil
	e.mu.Unlock()
	for _, tr := range q {
		d.observe(tr)
	}
}

// raise names the screens, stores the alert and starts its deliveries.
func (e *Engine) raise(ctx context.Context, a store.Alert) {
	log := e.opts.Logger
	for i := range a.Screens {
		scr, err := e.opts.Store.GetScreen(a.Screens[i].Screen)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				log.Warn("name screen for alert", "screen", a.Screens[i].Screen, "error", err)
			}
			continue
		}
		a.Screens[i].Name, a.Screens[i].Group = scr.Name, scr.Group
	}
	if a.Summary == "" {
		a.Summary = summarize(a)
	}
	hooks, err := e.opts.Store.ListWebhooks()
	if err != nil {
		log.Error("list webhooks", "error", err)
	}
	hooks = wanting(hooks, a)
	for _, h := range hooks {
		a.Deliveries = append(a.Deliveries, store.Delivery{Webhook: h.ID, URL: h.URL, Status: store.DeliveryPending})
	}
	a, err = e.opts.Store.AddAlert(a)
	if err != nil {
		log.Error("store alert", "kind", a.Kind, "summary", a.Summary, "error", err)
		return
	}
	e.metrics.alerts.WithLabelValues(a.Kind).Inc()
	log.Warn("alert", "id", a.ID, "kind", a.Kind, "screens", len(a.Screens), "summary", a.Summary)
	body, err := encodeEvent(a)
	if err != nil {
		log.Error("encode alert", "error", err)
		return
	}
	for _, h := range hooks {
		e.start(ctx, a, body, h, store.Delivery{Webhook: h.ID, URL: h.URL, Status: store.DeliveryPending})
	}
}

// start runs one delivery in the background.
func (e *Engine) start(ctx context.Context, a store.Alert, body []byte, h store.Webhook, d store.Delivery) {
	e.deliveries.Add(1)
	go func() {
		defer e.deliveries.Done()
		e.deliver(ctx, a, body, h, d)
	}()
}

// resume restarts the deliveries that were pending when the server last
// stopped: the queue lives in goroutines, so without this an alert raised
// just before a restart would never reach its receivers. Each delivery
// continues where its record stands (same event id, attempt count, backoff
// until the recorded next try). A delivery whose webhook has since been
// deleted can never complete and is marked failed.
func (e *Engine) resume(ctx context.Context) {
	log := e.opts.Logger
	now := e.opts.Now()
	pending, err := e.opts.Store.PendingAlerts(now.Add(-e.opts.ResumeWindow))
	if err != nil {
		log.Error("load pending webhook deliveries", "error", err)
		return
	}
	if len(pending) == 0 {
		return
	}
	hooks, err := e.opts.Store.ListWebhooks()
	if err != nil {
		log.Error("list webhooks to resume deliveries", "error", err)
		return
	}
	byID := make(map[string]store.Webhook, len(hooks))
	for _, h := range hooks {
		byID[h.ID] = h
	}
	resumed := 0
	for _, a := range pending {
		body, err := encodeEvent(a)
		if err != nil {
			log.Error("encode alert", "alert", a.ID, "error", err)
			continue
		}
		for _, d := range a.Deliveries {
			if d.Status != store.DeliveryPending {
				continue
			}
			h, ok := byID[d.Webhook]
			if !ok {
				d.Status, d.NextTryAt, d.UpdatedAt = store.DeliveryFailed, time.Time{}, now.UTC()
				d.LastError = "webhook was deleted before the alert could be delivered"
				if err := e.opts.Store.SetDelivery(a.Seq, d); err != nil {
					log.Error("record webhook delivery", "alert", a.ID, "webhook", d.Webhook, "error", err)
				}
				continue
			}
			e.start(ctx, a, body, h, d)
			resumed++
		}
	}
	if resumed > 0 {
		log.Info("resumed pending webhook deliveries", "deliveries", resumed, "alerts", len(pending))
	}
}
