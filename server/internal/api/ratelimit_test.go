package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// fakeClock is the throttles' injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestTokenBuckets(t *testing.T) {
	clk := newFakeClock()
	b := newTokenBuckets(Rate{Every: 10 * time.Second, Burst: 3}, 100, clk.now)
	take := func(key string, wantOK bool, wantWait time.Duration) {
		t.Helper()
		wait, ok := b.allow(key)
		if ok != wantOK || wait != wantWait {
			t.Fatalf("allow(%q) = (%v, %v), want (%v, %v)", key, wait, ok, wantWait, wantOK)
		}
	}
	for range 3 {
		take("a", true, 0)
	}
	take("a", false, 10*time.Second)
	take("b", true, 0) // buckets are per key
	clk.advance(4 * time.Second)
	take("a", false, 6*time.Second)
	clk.advance(6 * time.Second)
	take("a", true, 0)
	take("a", false, 10*time.Second)

	// A refund gives the token back; a long pause refills to the burst
	// and no further, refunds included.
	b.refund("a")
	take("a", true, 0)
	clk.advance(time.Hour)
	b.refund("a")
	b.refund("a")
	for range 3 {
		take("a", true, 0)
	}
	take("a", false, 10*time.Second)
}

func TestTokenBucketsBurstOne(t *testing.T) {
	clk := newFakeClock()
	b := newTokenBuckets(Rate{Every: time.Second, Burst: 1}, 100, clk.now)
	if _, ok := b.allow("a"); !ok {
		t.Fatal("first request refused, want allowed")
	}
	if wait, ok := b.allow("a"); ok || wait != time.Second {
		t.Fatalf("second request at once: got (%v, %v), want refused for 1s", wait, ok)
	}
	clk.advance(time.Second)
	if _, ok := b.allow("a"); !ok {
		t.Fatal("request a second later refused, want allowed")
	}
}

func TestAuthThrottle(t *testing.T) {
	clk := newFakeClock()
	a := newAuthThrottle(3, time.Minute, 2*time.Minute, 100, clk.now)
	isBlocked := func(key string, want bool, wantWait time.Duration) {
		t.Helper()
		wait, got := a.blocked(key)
		if got != want || wait != wantWait {
			t.Fatalf("blocked(%q) = (%v, %v), want (%v, %v)", key, wait, got, wantWait, want)
		}
	}
	if a.fail("ip") || a.fail("ip") {
		t.Fatal("first two failures started a cool-down, want the third to")
	}
	isBlocked("ip", false, 0)
	if !a.fail("ip") {
		t.Fatal("third failure did not start a cool-down")
	}
	isBlocked("ip", true, 2*time.Minute)
	isBlocked("other", false, 0)
	clk.advance(90 * time.Second)
	isBlocked("ip", true, 30*time.Second)
	clk.advance(30 * time.Second)
	isBlocked("ip", false, 0)

	// After the cool-down the count starts afresh.
	if a.fail("ip") || a.fail("ip") {
		t.Fatal("failures right after a cool-down started another, want a fresh count")
	}
	// Failures spread wider than the window never add up.
	clk.advance(time.Minute)
	if a.fail("ip") || a.fail("ip") {
		t.Fatal("failures in a new window added to the old window's")
	}
	isBlocked("ip", false, 0)
}

func TestBoundedMapStaysBounded(t *testing.T) {
	clk := newFakeClock()
	a := newAuthThrottle(2, time.Minute, time.Minute, 8, clk.now)
	a.fail("attacker")
	a.fail("attacker")
	for i := range 1000 {
		a.fail(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		if n := a.t.len(); n > 8 {
			t.Fatalf("after %d keys the table holds %d entries, want at most 8", i+2, n)
		}
	}
	// Eviction prefers entries that are not cooling down.
	if _, blocked := a.blocked("attacker"); !blocked {
		t.Fatal("a client in its cool-down was evicted while other entries could go")
	}
	// Once everything is idle, the next new key sweeps the table.
	clk.advance(2 * time.Minute)
	a.fail("late")
	if n := a.t.len(); n != 1 {
		t.Fatalf("after the sweep the table holds %d entries, want 1", n)
	}

	b := newTokenBuckets(Rate{Every: time.Second, Burst: 2}, 4, clk.now)
	for i := range 100 {
		b.allow(fmt.Sprint("screen", i))
	}
	if n := b.t.len(); n > 4 {
		t.Fatalf("bucket table holds %d entries, want at most 4", n)
	}
}

func TestClientKey(t *testing.T) {
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	key := func(remote, xff string) string {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = remote
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		return clientKey(e.NewContext(req, httptest.NewRecorder()))
	}
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"ipv4", "192.0.2.7:5000", "", "192.0.2.7"},
		{"forged forwarded-for is ignored", "192.0.2.7:5000", "203.0.113.9", "192.0.2.7"},
		{"ipv4-mapped ipv6", "[::ffff:192.0.2.7]:5000", "", "192.0.2.7"},
		{"ipv6 by /64", "[2001:db8:1:2:aaaa::1]:5000", "", "2001:db8:1:2::/64"},
		{"same /64, other host", "[2001:db8:1:2:bbbb::9]:5000", "", "2001:db8:1:2::/64"},
		{"other /64", "[2001:db8:1:3::1]:5000", "", "2001:db8:1:3::/64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := key(tc.remote, tc.xff); got != tc.want {
				t.Errorf("clientKey(%s) = %q, want %q", tc.remote, got, tc.want)
			}
		})
	}
}

// throttledEnv is an API whose throttles run on clk.
func throttledEnv(t *testing.T, clk *fakeClock) *env {
	return newEnv(t, func(o *Options) { o.RateLimits.Now = clk.now })
}

// doFrom is env.do from a chosen client address.
func (v *env) doFrom(remote, method, path, token string, body any) *httptest.ResponseRecorder {
	v.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			v.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.RemoteAddr = remote
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec
}

// want429 checks a throttle's answer: status, Retry-After, JSON message.
func want429(t *testing.T, rec *httptest.ResponseRecorder, retryAfter, msg string) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status: got %d (%s), want 429", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After: got %q, want %q", got, retryAfter)
	}
	var e struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error != msg {
		t.Errorf("body: got %s (%v), want {\"error\": %q}", rec.Body, err, msg)
	}
}

const (
	attacker = "198.51.100.7:40000"
	neighbor = "198.51.100.8:40000"
)

func TestAdminAuthThrottle(t *testing.T) {
	clk := newFakeClock()
	v := throttledEnv(t, clk)
	s := v.seed()

	for i := range DefaultAuthFailures {
		if rec := v.doFrom(attacker, "GET", "/api/v1/items", fmt.Sprint("guess-", i), nil); rec.Code != http.StatusUnauthorized {
			t.Fatalf("bad admin token #%d: got %d, want 401", i+1, rec.Code)
		}
	}
	const msg = "too many failed sign-in attempts; retry in 60 s"
	want429(t, v.doFrom(attacker, "GET", "/api/v1/items", "guess-11", nil), "60", msg)
	// The right token from a cooling-down client is no oracle: it waits too.
	want429(t, v.doFrom(attacker, "GET", "/api/v1/items", adminToken, nil), "60", msg)
	// A screen at that address, with its own token, is not affected.
	if rec := v.doFrom(attacker, "GET", "/api/v1/device/manifest", s.tokenA, nil); rec.Code != http.StatusOK {
		t.Fatalf("device token from the throttled address: got %d (%s), want 200", rec.Code, rec.Body)
	}
	// Nor is anyone else.
	if rec := v.doFrom(neighbor, "GET", "/api/v1/items", adminToken, nil); rec.Code != http.StatusOK {
		t.Fatalf("admin token from another address: got %d, want 200", rec.Code)
	}
	// A request without a token guesses nothing: it still gets its 401.
	if rec := v.doFrom(attacker, "GET", "/api/v1/items", "", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("no token from the throttled address: got %d, want 401", rec.Code)
	}

	clk.advance(45 * time.Second)
	want429(t, v.doFrom(attacker, "GET", "/api/v1/items", "guess-12", nil), "15", "too many failed sign-in attempts; retry in 15 s")
	clk.advance(15 * time.Second)
	if rec := v.doFrom(attacker, "GET", "/api/v1/items", adminToken, nil); rec.Code != http.StatusOK {
		t.Fatalf("admin token after the cool-down: got %d, want 200", rec.Code)
	}

	metrics := v.do("GET", "/metrics", "", nil).Body.String()
	if !strings.Contains(metrics, `kiosk_http_throttled_total{limit="auth_admin"} 3`) {
		t.Errorf("metrics lack kiosk_http_throttled_total{limit=\"auth_admin\"} 3:\n%s", metrics)
	}
}

// TestAdminAuthThrottleIgnoresCredentialMixups: a device token on the
// admin API, or an admin token on a device route, is a real credential in
// the wrong place (403), not a guess, and costs nothing.
func TestAdminAuthThrottleIgnoresCredentialMixups(t *testing.T) {
	v := throttledEnv(t, newFakeClock())
	s := v.seed()
	for i := range 3 * DefaultAuthFailures {
		if rec := v.doFrom(attacker, "GET", "/api/v1/items", s.tokenA, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("device token on the admin API #%d: got %d, want 403", i+1, rec.Code)
		}
		if rec := v.doFrom(attacker, "GET", "/api/v1/device/manifest", adminToken, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("admin token on a device route #%d: got %d, want 403", i+1, rec.Code)
		}
	}
}

func TestDeviceAuthThrottle(t *testing.T) {
	clk := newFakeClock()
	v := throttledEnv(t, clk)
	s := v.seed()
	const msg = "too many failed sign-in attempts; retry in 60 s"

	// Failures on any device route add up, the websocket's included (the
	// fake hub answers 418 to whatever reaches it).
	for i := range DefaultAuthFailures {
		path := "/api/v1/device/manifest"
		want := http.StatusUnauthorized
		if i%2 == 1 {
			path, want = "/api/v1/device/ws", http.StatusTeapot
		}
		if rec := v.doFrom(attacker, "GET", path, "kdt_stale", nil); rec.Code != want {
			t.Fatalf("bad device token #%d on %s: got %d, want %d", i+1, path, rec.Code, want)
		}
	}
	want429(t, v.doFrom(attacker, "GET", "/api/v1/device/manifest", "kdt_stale", nil), "60", msg)
	want429(t, v.doFrom(attacker, "GET", "/api/v1/device/ws", "kdt_stale", nil), "60", msg)
	// Blocked clients get 429 before the admin-token comparison, so a
	// device route is no side door for guessing the admin token.
	want429(t, v.doFrom(attacker, "GET", "/api/v1/device/manifest", adminToken, nil), "60", msg)

	// Screens behind the same NAT with good tokens keep working.
	if rec := v.doFrom(attacker, "GET", "/api/v1/device/manifest", s.tokenA, nil); rec.Code != http.StatusOK {
		t.Fatalf("good device token from the throttled address: got %d (%s), want 200", rec.Code, rec.Body)
	}
	if rec := v.doFrom(attacker, "POST", "/api/v1/device/plays", s.tokenB, goodBatch("b1", s.item, 1)); rec.Code != http.StatusOK {
		t.Fatalf("plays with a good token from the throttled address: got %d (%s), want 200", rec.Code, rec.Body)
	}
	if rec := v.doFrom(attacker, "GET", "/api/v1/device/ws", s.tokenA, nil); rec.Code != http.StatusTeapot {
		t.Fatalf("websocket with a good token from the throttled address: got %d, want it handed to the hub (418)", rec.Code)
	}
	// A stale screen's failures do not lock the administrator out.
	if rec := v.doFrom(attacker, "GET", "/api/v1/items", adminToken, nil); rec.Code != http.StatusOK {
		t.Fatalf("admin token from an address throttled on device routes: got %d, want 200", rec.Code)
	}

	clk.advance(DefaultAuthCooldown)
	if rec := v.doFrom(attacker, "GET", "/api/v1/device/manifest", "kdt_stale", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("bad token after the cool-down: got %d, want 401 again", rec.Code)
	}
}

func TestPlaysRateLimit(t *testing.T) {
	clk := newFakeClock()
	v := throttledEnv(t, clk)
	s := v.seed()
	const path = "/api/v1/device/plays"
	for i := range DefaultPlaysRate.Burst {
		if rec := v.do("POST", path, s.tokenA, goodBatch(fmt.Sprint("b", i), s.item, 1)); rec.Code != http.StatusOK {
			t.Fatalf("upload #%d: got %d (%s), want 200", i+1, rec.Code, rec.Body)
		}
	}
	want429(t, v.do("POST", path, s.tokenA, goodBatch("flood", s.item, 1)), "1",
		"too many play uploads from this screen; retry in 1 s")
	// The limit is per screen.
	if rec := v.do("POST", path, s.tokenB, goodBatch("b", s.item, 1)); rec.Code != http.StatusOK {
		t.Fatalf("other screen during A's flood: got %d, want 200", rec.Code)
	}
	clk.advance(DefaultPlaysRate.Every)
	if rec := v.do("POST", path, s.tokenA, goodBatch("later", s.item, 1)); rec.Code != http.StatusOK {
		t.Fatalf("upload after a refill: got %d (%s), want 200", rec.Code, rec.Body)
	}
	if rec := v.do("POST", path, s.tokenA, goodBatch("again", s.item, 1)); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("second upload on one refilled token: got %d, want 429", rec.Code)
	}

	// A refused batch gives its token back.
	clk.advance(DefaultPlaysRate.Every)
	for i := range 3 {
		if rec := v.do("POST", path, s.tokenA, `{"batch_id": "x", "plays": "nope"}`); rec.Code != http.StatusBadRequest {
			t.Fatalf("malformed batch #%d: got %d, want 400", i+1, rec.Code)
		}
	}
	if rec := v.do("POST", path, s.tokenA, goodBatch("fixed", s.item, 1)); rec.Code != http.StatusOK {
		t.Fatalf("good batch after refused ones: got %d (%s), want 200", rec.Code, rec.Body)
	}
}

func TestScreenshotRateLimit(t *testing.T) {
	clk := newFakeClock()
	v := throttledEnv(t, clk)
	s := v.seed()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/device/screenshot", bytes.NewReader(img.Bytes()))
		req.Header.Set("Authorization", "Bearer "+s.tokenA)
		req.Header.Set("Content-Type", "image/png")
		rec := httptest.NewRecorder()
		v.e.ServeHTTP(rec, req)
		return rec
	}
	for i := range DefaultScreenshotRate.Burst {
		if rec := post(); rec.Code != http.StatusCreated {
			t.Fatalf("screenshot #%d: got %d (%s), want 201", i+1, rec.Code, rec.Body)
		}
	}
	want429(t, post(), "10", "too many screenshot uploads from this screen; retry in 10 s")
	clk.advance(DefaultScreenshotRate.Every)
	if rec := post(); rec.Code != http.StatusCreated {
		t.Fatalf("screenshot after 10 s: got %d (%s), want 201", rec.Code, rec.Body)
	}
}
