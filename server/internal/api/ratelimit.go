package api

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Throttle defaults. Device tokens carry 256 random bits, so the auth
// throttle is not what keeps them safe; it keeps a guessing client from
// costing the server work and log lines, and it is what slows down
// guessing an operator-chosen admin token.
const (
	// DefaultAuthFailures failed token checks from one client within
	// DefaultAuthWindow start a cool-down of DefaultAuthCooldown.
	DefaultAuthFailures = 10
	DefaultAuthWindow   = time.Minute
	DefaultAuthCooldown = time.Minute
	// DefaultRateLimitKeys bounds each throttle's table (clients or
	// screens). At about 100 bytes an entry that is a megabyte per table.
	DefaultRateLimitKeys = 10_000
)

// Per-screen upload limits. A player uploads plays every ten seconds and
// screenshots only when asked, so these only bite a broken or hostile
// client holding a valid token.
var (
	DefaultPlaysRate      = Rate{Every: 200 * time.Millisecond, Burst: 20} // 5/s
	DefaultScreenshotRate = Rate{Every: 10 * time.Second, Burst: 3}
)

// Rate is a token bucket: one token every Every, at most Burst saved up.
type Rate struct {
	Every time.Duration
	Burst int
}

// RateLimits tunes the API's throttles; zero fields take the defaults.
type RateLimits struct {
	AuthFailures int
	AuthWindow   time.Duration
	AuthCooldown time.Duration
	Plays        Rate
	Screenshots  Rate
	MaxKeys      int
	// Now is the throttles' clock, time.Now by default. It is separate
	// from Options.Now on purpose: that clock is the schedule's notion of
	// "now", which tests freeze and which need not advance like real time.
	Now func() time.Time
}

func (rl RateLimits) withDefaults() RateLimits {
	setDefault(&rl.AuthFailures, DefaultAuthFailures)
	setDefault(&rl.AuthWindow, DefaultAuthWindow)
	setDefault(&rl.AuthCooldown, DefaultAuthCooldown)
	setDefault(&rl.Plays.Every, DefaultPlaysRate.Every)
	setDefault(&rl.Plays.Burst, DefaultPlaysRate.Burst)
	setDefault(&rl.Screenshots.Every, DefaultScreenshotRate.Every)
	setDefault(&rl.Screenshots.Burst, DefaultScreenshotRate.Burst)
	setDefault(&rl.MaxKeys, DefaultRateLimitKeys)
	if rl.Now == nil {
		rl.Now = time.Now
	}
	return rl
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// limits are the handler's throttles.
type limits struct {
	adminAuth   *authThrottle // keyed by client network
	deviceAuth  *authThrottle // keyed by client network
	plays       *tokenBuckets // keyed by screen id
	screenshots *tokenBuckets // keyed by screen id
	refused     *prometheus.CounterVec
}

func newLimits(rl RateLimits, reg prometheus.Registerer) *limits {
	rl = rl.withDefaults()
	l := &limits{
		adminAuth:   newAuthThrottle(rl.AuthFailures, rl.AuthWindow, rl.AuthCooldown, rl.MaxKeys, rl.Now),
		deviceAuth:  newAuthThrottle(rl.AuthFailures, rl.AuthWindow, rl.AuthCooldown, rl.MaxKeys, rl.Now),
		plays:       newTokenBuckets(rl.Plays, rl.MaxKeys, rl.Now),
		screenshots: newTokenBuckets(rl.Screenshots, rl.MaxKeys, rl.Now),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_http_throttled_total",
			Help: "Requests answered 429 by a throttle: auth_admin, auth_device (failed token checks), plays, screenshot (per-screen upload limits).",
		}, []string{"limit"}),
	}
	reg.MustRegister(l.refused)
	return l
}

// clientKey names the client a failed token check is charged to: the
// socket address (echo's IPExtractor is ExtractIPDirect, so a forged
// X-Forwarded-For changes nothing). An IPv6 client is charged per /64,
// the smallest block a site is routinely given: per address, one host
// could step through 2^64 of them.
func clientKey(c echo.Context) string {
	ip := net.ParseIP(c.RealIP())
	switch {
	case ip == nil:
		return c.RealIP()
	case ip.To4() != nil:
		return ip.To4().String()
	default:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
}

// throttleDeviceAuth runs before requireDevice and before the websocket
// hub's own check. A valid device token always passes, blocked client or
// not: many screens may share one address behind a NAT, and a neighbour's
// stale token must not take them off the air. A blocked client's other
// tokens get 429 before the admin-token comparison, so the device routes
// are no way around the admin throttle (guard, authn.go) either.
func (h *handler) throttleDeviceAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := bearer(c)
		if token == "" {
			return next(c)
		}
		if id, err := h.devices.Authenticate(token); err == nil {
			c.Set(ctxScreen, id) // requireDevice need not look it up again
			return next(c)
		}
		key := clientKey(c)
		if wait, blocked := h.limits.deviceAuth.blocked(key); blocked {
			return h.tooManyFailures(c, "auth_device", wait)
		}
		if !h.isAdmin(token) {
			// The admin token here is a 403 from requireDevice, no guess.
			h.failedAuth(h.limits.deviceAuth, "device", key)
		}
		return next(c)
	}
}

func (h *handler) failedAuth(t *authThrottle, realm, key string) {
	if t.fail(key) {
		// Once per cool-down, not per request: a flood must not flood the log.
		h.log.Warn("too many failed sign-in attempts; client cooling down",
			"realm", realm, "client", key, "cooldown", t.cooldown)
	}
}

func (h *handler) tooManyFailures(c echo.Context, limit string, wait time.Duration) error {
	h.limits.refused.WithLabelValues(limit).Inc()
	secs := retryAfter(c, wait)
	return errorf(http.StatusTooManyRequests, "too many failed sign-in attempts; retry in %d s", secs)
}

// limitScreen applies a per-screen token bucket; it runs after
// requireDevice, which put the screen id in the context. The bucket
// guards what gets stored, so an upload that is refused or fails gives its
// token back: a player that sent a bad body once is not also penalised.
// The token is taken before the handler runs so that concurrent uploads
// cannot all slip past an almost empty bucket.
func (h *handler) limitScreen(b *tokenBuckets, limit, what string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id, _ := c.Get(ctxScreen).(string)
			if wait, ok := b.allow(id); !ok {
				h.limits.refused.WithLabelValues(limit).Inc()
				secs := retryAfter(c, wait)
				return errorf(http.StatusTooManyRequests, "too many %s from this screen; retry in %d s", what, secs)
			}
			err := next(c)
			status := c.Response().Status
			if err != nil {
				status, _ = classify(err)
			}
			if status >= 400 {
				b.refund(id)
			}
			return err
		}
	}
}

// retryAfter sets the Retry-After header to wait in whole seconds,
// rounded up (a client retrying early only earns another 429), and
// returns them.
func retryAfter(c echo.Context, wait time.Duration) int64 {
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	return secs
}

// authThrottle counts failed token checks per client in a fixed window
// opened by the first failure; the limit-th failure starts a cool-down.
// The cool-down is not extended by further attempts, so Retry-After is
// the truth and a client sharing the address gets back in on time.
type authThrottle struct {
	limit    int
	window   time.Duration
	cooldown time.Duration
	now      func() time.Time

	mu sync.Mutex
	t  boundedMap[authRecord]
}

type authRecord struct {
	start time.Time // the window's first failure; zero: no window open
	count int
	until time.Time // end of the cool-down
}

func newAuthThrottle(limit int, window, cooldown time.Duration, maxKeys int, now func() time.Time) *authThrottle {
	a := &authThrottle{limit: limit, window: window, cooldown: cooldown, now: now}
	a.t = newBoundedMap(maxKeys, window,
		// Idle: indistinguishable from no record at all.
		func(r *authRecord, now time.Time) bool {
			return !now.Before(r.until) && (r.start.IsZero() || now.Sub(r.start) >= window)
		},
		// Worth keeping: a cool-down in force.
		func(r *authRecord, now time.Time) bool { return now.Before(r.until) })
	return a
}

// blocked reports whether key is cooling down, and for how long still.
func (a *authThrottle) blocked(key string) (time.Duration, bool) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.t.get(key)
	if r == nil || !now.Before(r.until) {
		return 0, false
	}
	return r.until.Sub(now), true
}

// fail records a failed check and reports whether it started a cool-down.
func (a *authThrottle) fail(key string) bool {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.t.getOrAdd(key, now)
	if r.start.IsZero() || now.Sub(r.start) >= a.window {
		r.start, r.count = now, 0
	}
	r.count++
	if r.count < a.limit {
		return false
	}
	// A fresh window once the cool-down is over.
	r.until, r.start, r.count = now.Add(a.cooldown), time.Time{}, 0
	return true
}

// tokenBuckets is a token bucket per key, kept as the GCRA's theoretical
// arrival time: one timestamp per key, no float drift, and a bucket that
// has refilled is exactly a missing entry, so dropping it loses nothing.
type tokenBuckets struct {
	every     time.Duration
	tolerance time.Duration // (burst-1)·every: how far ahead of now tat may run
	now       func() time.Time

	mu sync.Mutex
	t  boundedMap[time.Time]
}

func newTokenBuckets(r Rate, maxKeys int, now func() time.Time) *tokenBuckets {
	b := &tokenBuckets{every: r.Every, tolerance: time.Duration(r.Burst-1) * r.Every, now: now}
	b.t = newBoundedMap(maxKeys, b.tolerance+b.every,
		func(tat *time.Time, now time.Time) bool { return !tat.After(now) },
		func(*time.Time, time.Time) bool { return false })
	return b
}

// allow takes a token for key, or says how long until one is due.
func (b *tokenBuckets) allow(key string) (time.Duration, bool) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	tat := b.t.getOrAdd(key, now)
	if tat.Before(now) {
		*tat = now
	}
	if ahead := tat.Sub(now); ahead > b.tolerance {
		return ahead - b.tolerance, false
	}
	*tat = tat.Add(b.every)
	return 0, true
}

// refund gives back a token allow took. Should the bucket have refilled
// meanwhile, tat falls behind now, which allow treats as full: a refund
// never raises the burst.
func (b *tokenBuckets) refund(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if tat := b.t.get(key); tat != nil {
		*tat = tat.Add(-b.every)
	}
}

// boundedMap is per-key state whose size is capped. Idle entries (equal
// to a fresh one, so dropping them loses nothing) are swept when a new key
// arrives, once per sweepEvery, or once a second while the map is full:
// a flood of new keys costs no full scan per request. A new key that still
// finds the map full evicts a sampled entry, preferring one that is not
// worth keeping (a cool-down in force). Callers lock.
type boundedMap[V any] struct {
	max        int
	sweepEvery time.Duration
	idle       func(*V, time.Time) bool
	keep       func(*V, time.Time) bool
	m          map[string]*V
	lastSweep  time.Time
}

// evictSample is how many entries an eviction looks at; map iteration
// order is random, so these are a random sample.
const evictSample = 8

func newBoundedMap[V any](maxKeys int, sweepEvery time.Duration, idle, keep func(*V, time.Time) bool) boundedMap[V] {
	return boundedMap[V]{
		max: max(maxKeys, 1), sweepEvery: max(sweepEvery, time.Second),
		idle: idle, keep: keep, m: make(map[string]*V),
	}
}

func (b *boundedMap[V]) get(key string) *V { return b.m[key] }

func (b *boundedMap[V]) getOrAdd(key string, now time.Time) *V {
	if v, ok := b.m[key]; ok {
		return v
	}
	since := now.Sub(b.lastSweep)
	if since >= b.sweepEvery || len(b.m) >= b.max && since >= time.Second {
		b.sweep(now)
		b.lastSweep = now
	}
	if len(b.m) >= b.max {
		b.evict(now)
	}
	v := new(V)
	b.m[key] = v
	return v
}

func (b *boundedMap[V]) sweep(now time.Time) {
	for k, v := range b.m {
		if b.idle(v, now) {
			delete(b.m, k)
		}
	}
}

func (b *boundedMap[V]) evict(now time.Time) {
	victim, n := "", 0
	for k, v := range b.m {
		if !b.keep(v, now) {
			victim = k
			break
		}
		if victim == "" {
			victim = k
		}
		if n++; n >= evictSample {
			break
		}
	}
	delete(b.m, victim)
}

func (b *boundedMap[V]) len() int { return len(b.m) }
