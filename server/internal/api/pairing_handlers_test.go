package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/pairing"
	"kiosk/server/internal/signing"
	"kiosk/server/internal/store"
)

// pairClock is the pairing table's and throttles' clock in these tests.
type pairClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *pairClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *pairClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// pairEnv is an API with a signer and a movable pairing clock.
func pairEnv(t *testing.T) (*env, *pairClock, *signing.Signer) {
	t.Helper()
	signer, err := signing.Open(t.TempDir(), &serials{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &pairClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	v := newEnv(t, func(o *Options) {
		o.Signer = signer
		o.Pairing = pairing.Options{Now: clk.now}
	})
	return v, clk, signer
}

// fakeDevice is a player asking to be paired.
type fakeDevice struct {
	v      *env
	clk    *pairClock
	priv   ed25519.PrivateKey
	ticket playlists.PairTicket
}

func newDevice(t *testing.T, v *env, clk *pairClock) *fakeDevice {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDevice{v: v, clk: clk, priv: priv}
	d.ticket = must[playlists.PairTicket](t, v.do("POST", playlists.PathDevicePair, "", playlists.PairStart{PublicKey: playlists.EncodeKey(pub)}), http.StatusCreated)
	if len(d.ticket.Code) != pairing.CodeLen || d.ticket.Poll == "" || d.ticket.PollEveryS <= 0 {
		t.Fatalf("ticket: got %+v, want a code, a poll id and a poll interval", d.ticket)
	}
	return d
}

// poll polls as the device would, signing with key at the given time.
func (d *fakeDevice) pollAs(key ed25519.PrivateKey, at time.Time) *httptest.ResponseRecorder {
	ts := at.Unix()
	return d.v.request("GET", playlists.PathDevicePair+"/"+d.ticket.Poll, nil, func(r *http.Request) {
		r.Header.Set(playlists.HeaderPairTime, strconv.FormatInt(ts, 10))
		r.Header.Set(playlists.HeaderPairSignature, base64.StdEncoding.EncodeToString(ed25519.Sign(key, playlists.PairProofMessage(d.ticket.Poll, ts))))
	})
}

func (d *fakeDevice) poll() *httptest.ResponseRecorder { return d.pollAs(d.priv, d.clk.now()) }

type pairedView struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Group       string              `json:"group"`
	Orientation string              `json:"orientation"`
	Token       string              `json:"token"`
	Repaired    bool                `json:"repaired"`
	Device      *store.PairedDevice `json:"device"`
}

func TestPairNewScreen(t *testing.T) {
	v, clk, signer := pairEnv(t)
	must[map[string]any](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "xinhua", "name": "新华街道"}), http.StatusCreated)
	v.addUser("tech", store.RoleTechnician)
	tech := v.signIn("tech")
	d := newDevice(t, v, clk)

	// Before adoption the code grants nothing.
	if rec := d.poll(); rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), `"pending"`) {
		t.Fatalf("poll before adoption: got %d %s, want 202 pending", rec.Code, rec.Body)
	}

	// Typed the way it shows on the screen: two groups, lower case.
	code := strings.ToLower(pairing.Format(d.ticket.Code))
	got := must[pairedView](t, tech.do("POST", "/api/v1/screens/pair", map[string]any{
		"code": code, "name": "大厅屏", "group": "xinhua", "tags": []string{"lobby"}, "orientation": "portrait", "timezone": "Asia/Shanghai",
	}), http.StatusCreated)
	if got.ID == "" || got.Name != "大厅屏" || got.Group != "xinhua" || got.Orientation != "portrait" {
		t.Errorf("adopted screen: got %+v, want the request's fields", got)
	}
	if got.Token != "" {
		t.Error("the adoption answer carries the device token; only the device may receive it")
	}
	if got.Device == nil || got.Device.KeyID != playlists.KeyID(d.priv.Public().(ed25519.PublicKey)) {
		t.Errorf("screen's paired device: got %+v, want the device's key", got.Device)
	}

	// A poll signed by another key gets nothing and uses nothing up.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if rec := d.pollAs(other, clk.now()); rec.Code != http.StatusUnauthorized {
		t.Errorf("poll with another key: got %d %s, want 401", rec.Code, rec.Body)
	}
	// A stale signed time is refused too.
	if rec := d.pollAs(d.priv, clk.now().Add(-10*time.Minute)); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "pair_time_skew") {
		t.Errorf("poll with a stale time: got %d %s, want 401 pair_time_skew", rec.Code, rec.Body)
	}

	a := must[playlists.PairAdopted](t, d.poll(), http.StatusOK)
	if a.ScreenID != got.ID || a.ScreenName != "大厅屏" || a.Token == "" || a.ServerKey != playlists.EncodeKey(signer.Public()) {
		t.Fatalf("adopted poll: got %+v, want screen %s, a token and the signing key", a, got.ID)
	}
	// Exactly once.
	if rec := d.poll(); rec.Code != http.StatusGone {
		t.Errorf("poll after delivery: got %d %s, want 410", rec.Code, rec.Body)
	}
	// The token is a working device token for that screen.
	if rec := v.do("GET", "/api/v1/device/manifest", a.Token, nil); rec.Code != http.StatusOK {
		t.Errorf("manifest with the paired token: got %d %s, want 200", rec.Code, rec.Body)
	}
	// Single use.
	if rec := tech.do("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "again"}); rec.Code != http.StatusNotFound {
		t.Errorf("adopting a used code: got %d %s, want 404", rec.Code, rec.Body)
	}
	// Audited with the screen and the device key.
	entries, err := v.st.ListAudit(store.AuditFilter{Action: "POST /api/v1/screens/pair"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Target != got.ID || entries[0].Actor != "tech" || !strings.Contains(entries[0].Detail, got.Device.KeyID) {
		t.Errorf("audit: got %+v, want one entry by tech for %s naming the device key", entries, got.ID)
	}
}

func TestPairUnknownAndExpired(t *testing.T) {
	v, clk, _ := pairEnv(t)
	d := newDevice(t, v, clk)
	for _, code := range []string{"ABCDEFGH", "not a code", d.ticket.Code[:7]} {
		rec := v.admin("POST", "/api/v1/screens/pair", map[string]any{"code": code, "name": "x"})
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"pairing_code_unknown"`) {
			t.Errorf("code %q: got %d %s, want 404 pairing_code_unknown", code, rec.Code, rec.Body)
		}
	}
	clk.add(pairing.DefaultTTL)
	rec := v.admin("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "x"})
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"pairing_code_unknown"`) {
		t.Errorf("expired code: got %d %s, want the same 404 as an unknown one", rec.Code, rec.Body)
	}
	if rec := d.poll(); rec.Code != http.StatusGone {
		t.Errorf("poll of an expired request: got %d %s, want 410", rec.Code, rec.Body)
	}
	// Bad input is no guess and says what is wrong.
	if rec := v.admin("POST", "/api/v1/screens/pair", map[string]any{"name": "x"}); rec.Code != http.StatusBadRequest {
		t.Errorf("no code: got %d %s, want 400", rec.Code, rec.Body)
	}
	if rec := v.do("POST", playlists.PathDevicePair, "", map[string]string{"public_key": "AAAA"}); rec.Code != http.StatusBadRequest {
		t.Errorf("start with a bad key: got %d %s, want 400", rec.Code, rec.Body)
	}
	// A failed adoption (no name) leaves the code usable.
	d = newDevice(t, v, clk)
	if rec := v.admin("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "orientation": "sideways"}); rec.Code != http.StatusBadRequest {
		t.Errorf("adoption without a name: got %d %s, want 400", rec.Code, rec.Body)
	}
	must[pairedView](t, v.admin("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "ok"}), http.StatusCreated)
}

func TestPairRoles(t *testing.T) {
	v, clk, _ := pairEnv(t)
	for _, g := range []string{"xinhua", "dongfeng"} {
		must[map[string]any](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": g, "name": g}), http.StatusCreated)
	}
	v.addUser("ed", store.RoleEditor)
	v.addUser("tech-x", store.RoleTechnician, "xinhua")
	ed, techX := v.signIn("ed"), v.signIn("tech-x")
	d := newDevice(t, v, clk)

	if rec := ed.do("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "x"}); rec.Code != http.StatusForbidden {
		t.Errorf("editor pairing: got %d %s, want 403", rec.Code, rec.Body)
	}
	if rec := techX.do("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "x", "group": "dongfeng"}); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "out_of_scope") {
		t.Errorf("scoped technician pairing into another street: got %d %s, want 403 out_of_scope", rec.Code, rec.Body)
	}
	if rec := techX.do("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "x"}); rec.Code != http.StatusForbidden {
		t.Errorf("scoped technician pairing outside every group: got %d %s, want 403", rec.Code, rec.Body)
	}
	// None of that used the code up.
	must[pairedView](t, techX.do("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "x", "group": "xinhua"}), http.StatusCreated)

	// Re-pairing a screen outside their groups: as if it did not exist.
	other := must[pairedView](t, v.admin("POST", "/api/v1/screens", map[string]any{"name": "东风", "group": "dongfeng"}), http.StatusCreated)
	d = newDevice(t, v, clk)
	if rec := techX.do("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "screen": other.ID}); rec.Code != http.StatusNotFound {
		t.Errorf("scoped technician re-pairing another street's screen: got %d %s, want 404", rec.Code, rec.Body)
	}
}

func TestPairGuessingThrottled(t *testing.T) {
	v, clk, _ := pairEnv(t)
	v.addUser("tech", store.RoleTechnician)
	tech := v.signIn("tech")
	d := newDevice(t, v, clk)
	for i := range pairing.DefaultGuessesPerClient {
		if rec := tech.do("POST", "/api/v1/screens/pair", map[string]any{"code": "ZZZZZZZZ", "name": "x"}); rec.Code != http.StatusNotFound {
			t.Fatalf("wrong code %d: got %d %s, want 404", i+1, rec.Code, rec.Body)
		}
	}
	// Now even the right code waits: guessing gains nothing.
	rec := tech.do("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "x"})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != strconv.Itoa(int(pairing.DefaultGuessWindow/time.Second)) {
		t.Fatalf("after %d wrong codes: got %d (Retry-After %q) %s, want 429 for the window", pairing.DefaultGuessesPerClient, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	// Another address is not held back by this one.
	other := v.request("POST", "/api/v1/screens/pair", map[string]any{"code": "ZZZZZZZZ", "name": "x"}, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+adminToken)
		r.RemoteAddr = "192.0.2.9:4000"
	})
	if other.Code != http.StatusNotFound {
		t.Errorf("another address: got %d %s, want 404", other.Code, other.Body)
	}
	// The window ends (and with it the code: the player shows a new one).
	clk.add(pairing.DefaultGuessWindow)
	d = newDevice(t, v, clk)
	must[pairedView](t, tech.do("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "name": "x"}), http.StatusCreated)
}

func TestPairGuessingThrottledGlobally(t *testing.T) {
	clk := &pairClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	v := newEnv(t, func(o *Options) { o.Pairing = pairing.Options{Now: clk.now, GuessesGlobal: 5} })
	guess := func(addr string) *httptest.ResponseRecorder {
		return v.request("POST", "/api/v1/screens/pair", map[string]any{"code": "ZZZZZZZZ", "name": "x"}, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+adminToken)
			r.RemoteAddr = addr + ":4000"
		})
	}
	for i := range 5 {
		if rec := guess("192.0.2." + strconv.Itoa(i+1)); rec.Code != http.StatusNotFound {
			t.Fatalf("guess %d: got %d, want 404", i+1, rec.Code)
		}
	}
	if rec := guess("198.51.100.1"); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("a new address after 5 wrong codes in all: got %d %s, want 429 with Retry-After", rec.Code, rec.Body)
	}
}

func TestRepairKeepsScreen(t *testing.T) {
	v, clk, _ := pairEnv(t)
	s := v.seed()
	// History: plays the old player reported, and a schedule naming the screen.
	must[playsAnswer](t, v.do("POST", "/api/v1/device/plays", s.tokenA, goodBatch("b1", s.item, 3)), http.StatusOK)
	sched := must[idResp](t, v.admin("POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{"screens": []string{s.screenA}}}), 201).ID

	d := newDevice(t, v, clk)
	if rec := v.admin("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "screen": s.screenA, "name": "renamed"}); rec.Code != http.StatusBadRequest {
		t.Errorf("re-pair with a name: got %d %s, want 400 (change the screen with PUT)", rec.Code, rec.Body)
	}
	if rec := v.admin("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "screen": "scr_nope"}); rec.Code != http.StatusNotFound {
		t.Errorf("re-pair an unknown screen: got %d %s, want 404", rec.Code, rec.Body)
	}
	got := must[pairedView](t, v.admin("POST", "/api/v1/screens/pair", map[string]any{"code": d.ticket.Code, "screen": s.screenA}), http.StatusCreated)
	if got.ID != s.screenA || got.Name != "A" || !got.Repaired || got.Device == nil {
		t.Fatalf("re-paired screen: got %+v, want screen A, repaired, with the device", got)
	}
	a := must[playlists.PairAdopted](t, d.poll(), http.StatusOK)
	if a.ScreenID != s.screenA {
		t.Fatalf("device got screen %q, want %q", a.ScreenID, s.screenA)
	}
	// The old player is cut off; the new one is the screen.
	if rec := v.do("GET", "/api/v1/device/manifest", s.tokenA, nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("old token after re-pairing: got %d, want 401", rec.Code)
	}
	v.hub.mu.Lock()
	kicked := strings.Join(v.hub.kicked, ",")
	v.hub.mu.Unlock()
	if !strings.Contains(kicked, s.screenA) {
		t.Errorf("kicked: got %q, want the old player's socket closed", kicked)
	}
	if rec := v.do("GET", "/api/v1/device/manifest", a.Token, nil); rec.Code != http.StatusOK {
		t.Errorf("new token: got %d %s, want 200", rec.Code, rec.Body)
	}
	// Plays and schedules are still the screen's.
	must[playsAnswer](t, v.do("POST", "/api/v1/device/plays", a.Token, goodBatch("b2", s.item, 2)), http.StatusOK)
	rows := must[[]struct {
		Key   string `json:"key"`
		Plays int    `json:"plays"`
	}](t, v.admin("GET", "/api/v1/reports/plays?group_by=screen&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", nil), http.StatusOK)
	if len(rows) != 1 || rows[0].Key != s.screenA || rows[0].Plays != 5 {
		t.Errorf("play report after re-pairing: got %+v, want 5 plays on %s", rows, s.screenA)
	}
	if rec := v.admin("GET", "/api/v1/schedules/"+sched, nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), s.screenA) {
		t.Errorf("schedule naming the screen: got %d %s", rec.Code, rec.Body)
	}
	// A plain token rotation unbinds the paired device.
	must[map[string]string](t, v.admin("POST", "/api/v1/screens/"+s.screenA+"/token", nil), http.StatusOK)
	if after := must[pairedView](t, v.admin("GET", "/api/v1/screens/"+s.screenA, nil), http.StatusOK); after.Device != nil {
		t.Errorf("device after a token rotation: got %+v, want none", after.Device)
	}
}

func TestPairStartThrottledAndBounded(t *testing.T) {
	clk := &pairClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	v := newEnv(t, func(o *Options) { o.Pairing = pairing.Options{Now: clk.now, StartsPerClient: 3, MaxPending: 4} })
	start := func(addr string) *httptest.ResponseRecorder {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		return v.request("POST", playlists.PathDevicePair, playlists.PairStart{PublicKey: playlists.EncodeKey(pub)}, func(r *http.Request) {
			r.RemoteAddr = addr + ":4000"
		})
	}
	for range 3 {
		if rec := start("192.0.2.1"); rec.Code != http.StatusCreated {
			t.Fatalf("start: got %d %s", rec.Code, rec.Body)
		}
	}
	if rec := start("192.0.2.1"); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("fourth start from one address: got %d %s, want 429", rec.Code, rec.Body)
	}
	if rec := start("192.0.2.2"); rec.Code != http.StatusCreated {
		t.Errorf("start from another address: got %d %s, want 201", rec.Code, rec.Body)
	}
	if rec := start("192.0.2.3"); rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "pairing_full") || rec.Header().Get("Retry-After") == "" {
		t.Errorf("start with the table full: got %d %s, want 429 pairing_full with Retry-After", rec.Code, rec.Body)
	}
}

func TestScreenOrientation(t *testing.T) {
	v := newEnv(t)
	scr := must[pairedView](t, v.admin("POST", "/api/v1/screens", map[string]any{"name": "竖屏", "orientation": "portrait"}), http.StatusCreated)
	if scr.Orientation != "portrait" {
		t.Errorf("orientation: got %q, want portrait", scr.Orientation)
	}
	rec := v.admin("PUT", "/api/v1/screens/"+scr.ID, map[string]any{"name": "竖屏", "orientation": "diagonal"})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "orientation") {
		t.Errorf("bad orientation: got %d %s, want 400 naming orientation", rec.Code, rec.Body)
	}
}
