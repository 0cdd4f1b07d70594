package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/assets"
	"kiosk/playlists"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/store"
)

const adminToken = "test-admin-token"

var testNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type fakeHub struct {
	mu     sync.Mutex
	kicked []string
}

func (f *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusTeapot)
}

func (f *fakeHub) Kick(id string) {
	f.mu.Lock()
	f.kicked = append(f.kicked, id)
	f.mu.Unlock()
}

type env struct {
	t    *testing.T
	e    *echo.Echo
	h    *handler
	st   *store.Store
	pub  *publish.Publisher
	devs *devices.Registry
	hub  *fakeHub
}

// newEnv builds the API over a fresh store; mods adjust the Options.
func newEnv(t *testing.T, mods ...func(*Options)) *env {
	t.Helper()
	now := func() time.Time { return testNow }
	st, err := store.Open(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub := publish.New(publish.Options{Store: st, Now: now})
	devs, err := devices.New(devices.Options{Store: st, Version: pub.Version, Now: now, OfflineAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	fh := &fakeHub{}
	opts := Options{
		Store: st, Devices: devs, Publisher: pub, Hub: fh,
		AdminToken: adminToken, MaxUploadBytes: 4096, Now: now,
		Metrics: prometheus.NewRegistry(),
	}
	for _, m := range mods {
		m(&opts)
	}
	h, e := build(opts)
	return &env{t: t, e: e, h: h, st: st, pub: pub, devs: devs, hub: fh}
}

// do sends body (a string is sent raw, anything else as JSON) with token.
func (v *env) do(method, path, token string, body any) *httptest.ResponseRecorder {
	v.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			v.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
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

func (v *env) admin(method, path string, body any) *httptest.ResponseRecorder {
	v.t.Helper()
	return v.do(method, path, adminToken, body)
}

// must asserts the status and decodes the JSON answer.
func must[T any](t *testing.T, rec *httptest.ResponseRecorder, code int) T {
	t.Helper()
	if rec.Code != code {
		t.Fatalf("status: got %d, want %d; body %s", rec.Code, code, rec.Body)
	}
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

func upload(v *env, token, name string, data []byte) *httptest.ResponseRecorder {
	v.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/assets", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec
}

func pngBytes(extra string) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), extra...)
}

type idResp struct {
	ID string `json:"id"`
}

// seed makes an asset, an item using it, a playlist and a schedule for all
// screens, and two screens; it returns their ids and tokens.
type seeded struct {
	sha, item, playlist, schedule string
	screenA, tokenA               string
	screenB, tokenB               string
}

func (v *env) seed() seeded {
	t := v.t
	t.Helper()
	var s seeded
	a := must[store.Asset](t, upload(v, adminToken, "a.png", pngBytes("a")), http.StatusCreated)
	s.sha = a.SHA256
	s.item = must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "反诈", "asset": s.sha, "duration_s": 8}), 201).ID
	s.playlist = must[idResp](t, v.admin("POST", "/api/v1/playlists", map[string]any{"name": "日常", "items": []string{s.item}}), 201).ID
	s.schedule = must[idResp](t, v.admin("POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{"all": true}}), 201).ID
	type tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	ta := must[tok](t, v.admin("POST", "/api/v1/screens", map[string]any{"name": "A", "tags": []string{"lobby"}}), 201)
	tb := must[tok](t, v.admin("POST", "/api/v1/screens", map[string]any{"name": "B"}), 201)
	s.screenA, s.tokenA, s.screenB, s.tokenB = ta.ID, ta.Token, tb.ID, tb.Token
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHealthzAndMetrics(t *testing.T) {
	v := newEnv(t)
	if rec := v.do("GET", "/healthz", "", nil); rec.Code != 200 {
		t.Fatalf("healthz: got %d, want 200", rec.Code)
	}
	rec := v.do("GET", "/metrics", "", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `kiosk_http_requests_total{code="200",method="GET",route="/healthz"} 1`) {
		t.Errorf("metrics: got %d %s, want the healthz request counted", rec.Code, rec.Body)
	}
}

func TestContractRoundTrip(t *testing.T) {
	v := newEnv(t)
	s := v.seed()

	// Groups.
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "street", "name": "新华街道", "timezone": "Asia/Shanghai"}), 201)
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "c1", "name": "小区", "parent": "street"}), 201)
	gs := must[[]playlists.Group](t, v.admin("GET", "/api/v1/groups", nil), 200)
	if len(gs) != 2 {
		t.Errorf("groups: got %d, want 2", len(gs))
	}
	must[map[string]any](t, v.admin("PUT", "/api/v1/screens/"+s.screenB, map[string]any{"name": "B2", "group": "c1"}), 200)

	// Item GET/PUT and list.
	it := must[playlists.Item](t, v.admin("PUT", "/api/v1/items/"+s.item, map[string]any{"id": s.item, "kind": "notice", "title": "停水通知", "duration_s": 12}), 200)
	if it.Title != "停水通知" || it.DurationS != 12 || it.Asset != "" {
		t.Errorf("PUT item: got %+v", it)
	}
	if got := must[playlists.Item](t, v.admin("GET", "/api/v1/items/"+s.item, nil), 200); got.Title != "停水通知" {
		t.Errorf("GET item: got title %q, want 停水通知", got.Title)
	}
	if got := must[[]playlists.Item](t, v.admin("GET", "/api/v1/items", nil), 200); len(got) != 1 {
		t.Errorf("list items: got %d, want 1", len(got))
	}

	// Playlist PUT replaces.
	it2 := must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "legal_story", "title": "每月一法"}), 201).ID
	pl := must[playlists.Playlist](t, v.admin("PUT", "/api/v1/playlists/"+s.playlist, map[string]any{"name": "新", "items": []string{it2, s.item, it2}}), 200)
	if pl.Name != "新" || len(pl.Items) != 3 {
		t.Errorf("PUT playlist: got %+v", pl)
	}

	// Schedule with window, cron and group target.
	sc := must[playlists.Schedule](t, v.admin("POST", "/api/v1/schedules", map[string]any{
		"playlist": s.playlist, "target": map[string]any{"groups": []string{"street"}},
		"cron": "0 7 * * 1-5", "duration_s": 7200, "from": "2026-03-01T00:00:00+08:00", "to": "2026-04-01T00:00:00+08:00", "priority": 5,
	}), 201)
	if sc.Cron != "0 7 * * 1-5" || sc.From == nil || sc.Priority != 5 {
		t.Errorf("POST schedule: got %+v", sc)
	}
	must[playlists.Schedule](t, v.admin("PUT", "/api/v1/schedules/"+sc.ID, map[string]any{"playlist": s.playlist, "target": map[string]any{"screens": []string{s.screenA}}}), 200)
	if got := must[[]playlists.Schedule](t, v.admin("GET", "/api/v1/schedules", nil), 200); len(got) != 2 {
		t.Errorf("list schedules: got %d, want 2", len(got))
	}

	// Screen status shape.
	st := must[map[string]any](t, v.admin("GET", "/api/v1/screens/"+s.screenA, nil), 200)
	for _, k := range []string{"online", "last_seen", "applied_version", "current_item", "published_version", "player_version"} {
		if _, ok := st[k]; !ok {
			t.Errorf("GET screen: missing %q in %v", k, st)
		}
	}
	if _, ok := st["token"]; ok {
		t.Errorf("GET screen leaks a token field")
	}
	if _, ok := st["token_hash"]; ok {
		t.Errorf("GET screen leaks the token hash")
	}

	// Asset metadata and raw bytes.
	a := must[store.Asset](t, v.admin("GET", "/api/v1/assets/"+s.sha, nil), 200)
	if a.MIME != assets.MIMEPNG {
		t.Errorf("asset mime: got %q", a.MIME)
	}
	rec := v.admin("GET", "/api/v1/assets/"+s.sha+"/raw", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" || rec.Header().Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(rec.Header().Get("Content-Security-Policy"), "sandbox") || rec.Header().Get("ETag") != `"`+s.sha+`"` {
		t.Errorf("raw asset: got %d headers %v", rec.Code, rec.Header())
	}

	// Deletes in dependency order; in-use ones refused first.
	if rec := v.admin("DELETE", "/api/v1/playlists/"+s.playlist, nil); rec.Code != 409 || !strings.Contains(rec.Body.String(), s.schedule) {
		t.Errorf("delete used playlist: got %d %s, want 409 naming %s", rec.Code, rec.Body, s.schedule)
	}
	for _, p := range []string{"/api/v1/schedules/" + s.schedule, "/api/v1/schedules/" + sc.ID, "/api/v1/playlists/" + s.playlist,
		"/api/v1/items/" + s.item, "/api/v1/items/" + it2, "/api/v1/assets/" + s.sha, "/api/v1/screens/" + s.screenB, "/api/v1/groups/c1", "/api/v1/groups/street"} {
		if rec := v.admin("DELETE", p, nil); rec.Code != 204 {
			t.Errorf("DELETE %s: got %d %s, want 204", p, rec.Code, rec.Body)
		}
	}
	if rec := v.admin("GET", "/api/v1/items/"+s.item, nil); rec.Code != 404 {
		t.Errorf("GET deleted item: got %d, want 404", rec.Code)
	}

	// Audit trail recorded the mutations, with the socket IP.
	es := must[[]store.AuditEntry](t, v.admin("GET", "/api/v1/audit?limit=5", nil), 200)
	if len(es) != 5 || es[0].Action != "DELETE /api/v1/groups/:id" || es[0].Target != "street" || es[0].IP == "" {
		t.Errorf("audit: got %+v, want newest DELETE of group street", es)
	}
}

func TestAuth(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	tests := []struct {
		name, method, path, token string
		want                      int
	}{
		{"no token on admin", "GET", "/api/v1/items", "", 401},
		{"wrong token on admin", "GET", "/api/v1/items", "nope", 401},
		{"device token on admin list", "GET", "/api/v1/items", s.tokenA, 403},
		{"device token on admin create", "POST", "/api/v1/screens", s.tokenA, 403},
		{"device token on own screen status", "GET", "/api/v1/screens/" + s.screenA, s.tokenA, 403},
		{"admin token on device manifest", "GET", "/api/v1/device/manifest", adminToken, 403},
		{"no token on device manifest", "GET", "/api/v1/device/manifest", "", 401},
		{"bad token on device asset", "GET", "/api/v1/device/assets/" + s.sha, "nope", 401},
		{"device token on manifest", "GET", "/api/v1/device/manifest", s.tokenA, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "POST" {
				body = map[string]any{"name": "x"}
			}
			rec := v.do(tt.method, tt.path, tt.token, body)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want >= 400 {
				var e map[string]string
				if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e["error"] == "" {
					t.Errorf("error body: got %s, want {\"error\": ...}", rec.Body)
				}
			}
		})
	}
	if got, _ := v.st.ListScreens(); len(got) != 2 {
		t.Errorf("screens after refused device create: got %d, want 2", len(got))
	}
}

// Without a break-glass token configured, no bearer token but a person's
// own is accepted, and nothing is open without signing in.
func TestNoBreakGlassToken(t *testing.T) {
	v := newEnv(t)
	v.e = New(Options{Store: v.st, Devices: v.devs, Publisher: v.pub, Hub: v.hub, MaxUploadBytes: 10, Metrics: prometheus.NewRegistry()})
	rec := v.do("GET", "/api/v1/items", "", nil)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "sign in") {
		t.Errorf("no credential: got %d %s, want 401 saying sign in", rec.Code, rec.Body)
	}
	if rec := v.do("GET", "/api/v1/items", "anything", nil); rec.Code != 401 {
		t.Errorf("any token without a break-glass token: got %d, want 401", rec.Code)
	}
}

func TestBadInput(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	tests := []struct {
		name, method, path string
		body               any
		want               int
		mention            string
	}{
		{"invalid JSON", "POST", "/api/v1/items", `{"kind": "psa", "title": `, 400, "invalid JSON"},
		{"syntax error", "POST", "/api/v1/items", `{"kind" "psa"}`, 400, "invalid JSON"},
		{"empty body", "POST", "/api/v1/items", ``, 400, "empty"},
		{"trailing data", "POST", "/api/v1/items", `{"kind":"psa","title":"x"} {}`, 400, "after the object"},
		{"not an object", "POST", "/api/v1/items", `[1,2]`, 400, "object"},
		{"unknown field", "POST", "/api/v1/items", `{"kind":"psa","title":"x","colour":"red"}`, 400, "colour"},
		{"wrong type", "POST", "/api/v1/items", `{"kind":"psa","title":"x","duration_s":"ten"}`, 400, "duration_s"},
		{"fractional duration", "POST", "/api/v1/items", `{"kind":"psa","title":"x","duration_s":1.5}`, 400, "duration_s"},
		{"bad kind", "POST", "/api/v1/items", `{"kind":"ad","title":"x"}`, 400, "kind"},
		{"missing title", "POST", "/api/v1/items", `{"kind":"psa"}`, 400, "title"},
		{"missing asset", "POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "x", "asset": strings.Repeat("b", 64)}, 400, "asset"},
		{"client id on create", "POST", "/api/v1/items", `{"id":"itm_mine","kind":"psa","title":"x"}`, 400, "id"},
		{"playlist missing item", "POST", "/api/v1/playlists", map[string]any{"name": "p", "items": []string{s.item, "itm_nope"}}, 400, "items[1]"},
		{"playlist items wrong type", "POST", "/api/v1/playlists", `{"name":"p","items":"itm_1"}`, 400, "items"},
		{"playlist PUT id mismatch", "PUT", "/api/v1/playlists/" + s.playlist, map[string]any{"id": "pl_other", "name": "p"}, 400, "id"},
		{"schedule missing playlist", "POST", "/api/v1/schedules", map[string]any{"playlist": "pl_nope", "target": map[string]any{"all": true}}, 400, "playlist"},
		{"schedule empty target", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{}}, 400, "target"},
		{"schedule unknown target field", "POST", "/api/v1/schedules", `{"playlist":"x","target":{"everyone":true}}`, 400, "everyone"},
		{"schedule wrong nested type", "POST", "/api/v1/schedules", `{"playlist":"x","target":{"groups":"a"}}`, 400, "target.groups"},
		{"schedule missing group", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{"groups": []string{"nope"}}}, 400, "target.groups[0]"},
		{"schedule bad from", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{"all": true}, "from": "tomorrow"}, 400, "from"},
		{"schedule to before from", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{"all": true}, "from": "2026-05-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}, 400, "to"},
		{"schedule bad cron", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{"all": true}, "cron": "every day", "duration_s": 60}, 400, "cron"},
		{"group bad timezone", "POST", "/api/v1/groups", map[string]any{"id": "g", "name": "g", "timezone": "Moon/Base"}, 400, "timezone"},
		{"group missing parent", "POST", "/api/v1/groups", map[string]any{"id": "g", "name": "g", "parent": "nope"}, 400, "parent"},
		{"group bad id", "POST", "/api/v1/groups", map[string]any{"id": "a b/c", "name": "g"}, 400, "id"},
		{"screen missing group", "POST", "/api/v1/screens", map[string]any{"name": "x", "group": "nope"}, 400, "group"},
		{"screen tags wrong type", "POST", "/api/v1/screens", `{"name":"x","tags":[1]}`, 400, "tags"},
		{"missing item", "GET", "/api/v1/items/itm_nope", nil, 404, "itm_nope"},
		{"put missing item", "PUT", "/api/v1/items/itm_nope", map[string]any{"kind": "psa", "title": "x"}, 404, "itm_nope"},
		{"delete item in use", "DELETE", "/api/v1/items/" + s.item, nil, 409, s.playlist},
		{"delete asset in use", "DELETE", "/api/v1/assets/" + s.sha, nil, 409, s.item},
		{"unknown route", "GET", "/api/v1/nothing", nil, 404, "route"},
		{"audit bad limit", "GET", "/api/v1/audit?limit=-1", nil, 400, "limit"},
	}
	before := counts(t, v)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := v.admin(tt.method, tt.path, tt.body)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			var e map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.Contains(e["error"], tt.mention) {
				t.Errorf("error body: got %s, want {\"error\"} mentioning %q", rec.Body, tt.mention)
			}
		})
	}
	if after := counts(t, v); after != before {
		t.Errorf("refused requests changed the store: before %s, after %s", before, after)
	}
}

func counts(t *testing.T, v *env) string {
	snap, err := v.st.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("schedules=%d playlists=%d items=%d assets=%d screens=%d groups=%d",
		len(snap.Catalog.Schedules), len(snap.Catalog.Playlists), len(snap.Catalog.Items),
		len(snap.Catalog.Assets), len(snap.Screens), len(snap.Groups))
}

func TestUploads(t *testing.T) {
	v := newEnv(t) // MaxUploadBytes 4096
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"png", pngBytes("ok"), 201},
		{"jpeg", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, "jfif"...), 201},
		{"html", []byte("<!doctype html><html><script>alert(1)</script></html>"), 415},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 415},
		{"html named png", []byte("<html><body>hi</body></html>"), 415},
		{"oversized", append(pngBytes("big"), bytes.Repeat([]byte{1}, 5000)...), 413},
		{"way oversized", append(pngBytes("huge"), bytes.Repeat([]byte{1}, 200<<10)...), 413},
		{"empty", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := upload(v, adminToken, "x.png", tt.data)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want == 201 {
				a := must[map[string]any](t, rec, 201)
				for _, k := range []string{"sha256", "size", "mime"} {
					if _, ok := a[k]; !ok {
						t.Errorf("upload answer lacks %q: %v", k, a)
					}
				}
			}
		})
	}
	if as, _ := v.st.ListAssets(); len(as) != 2 {
		t.Errorf("assets stored: got %d, want 2 (refused uploads store nothing)", len(as))
	}
	// Not multipart at all.
	if rec := v.admin("POST", "/api/v1/assets", `{"file":"x"}`); rec.Code != 400 {
		t.Errorf("JSON upload: got %d, want 400", rec.Code)
	}
	// Multipart without the file field.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("name", "x")
	mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/assets", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "file") {
		t.Errorf("multipart without file: got %d %s, want 400 naming file", rec.Code, rec.Body)
	}
}

func TestDeviceEndpoints(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	// Screen B gets its own playlist with a second asset that A must not read.
	shaB := must[store.Asset](t, upload(v, adminToken, "b.png", pngBytes("b")), 201).SHA256
	itB := must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "B only", "asset": shaB}), 201).ID
	plB := must[idResp](t, v.admin("POST", "/api/v1/playlists", map[string]any{"name": "B", "items": []string{itB}}), 201).ID
	must[idResp](t, v.admin("POST", "/api/v1/schedules", map[string]any{"playlist": plB, "target": map[string]any{"screens": []string{s.screenB}}}), 201)
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}

	rec := v.do("GET", "/api/v1/device/manifest", s.tokenA, nil)
	m := must[playlists.Manifest](t, rec, 200)
	if m.Version == "" || rec.Header().Get("ETag") != `"`+m.Version+`"` || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("manifest headers: got ETag %q Cache-Control %q for version %q", rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"), m.Version)
	}
	if m.ComputeVersion() != m.Version {
		t.Errorf("served manifest does not hash to its version")
	}
	if _, ok := m.Asset(shaB); ok {
		t.Errorf("screen A's manifest contains B's asset")
	}

	req := httptest.NewRequest("GET", "/api/v1/device/manifest", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokenA)
	req.Header.Set("If-None-Match", `"`+m.Version+`"`)
	rec = httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	if rec.Code != 304 {
		t.Errorf("If-None-Match current version: got %d, want 304", rec.Code)
	}

	// A reads its own asset, with Range and 304 support.
	rec = v.do("GET", "/api/v1/device/assets/"+s.sha, s.tokenA, nil)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), pngBytes("a")) || rec.Header().Get("Content-Type") != "image/png" {
		t.Errorf("own asset: got %d %q type %q", rec.Code, rec.Body, rec.Header().Get("Content-Type"))
	}
	req = httptest.NewRequest("GET", "/api/v1/device/assets/"+s.sha, nil)
	req.Header.Set("Authorization", "Bearer "+s.tokenA)
	req.Header.Set("Range", "bytes=2-5")
	rec = httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	if rec.Code != 206 || !bytes.Equal(rec.Body.Bytes(), pngBytes("a")[2:6]) {
		t.Errorf("range: got %d %q, want 206 with bytes 2-5", rec.Code, rec.Body)
	}
	req = httptest.NewRequest("GET", "/api/v1/device/assets/"+s.sha, nil)
	req.Header.Set("Authorization", "Bearer "+s.tokenA)
	req.Header.Set("If-None-Match", `"`+s.sha+`"`)
	rec = httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	if rec.Code != 304 || rec.Header().Get("ETag") != `"`+s.sha+`"` {
		t.Errorf("asset If-None-Match: got %d (ETag %q), want 304", rec.Code, rec.Header().Get("ETag"))
	}
	// The 304 comes from memory: with the blob gone from the disk it is
	// still answered (a full GET is not).
	blob := filepath.Join(v.st.Dir(), "assets", s.sha[:2], s.sha)
	hidden := blob + ".hidden"
	if err := os.Rename(blob, hidden); err != nil {
		t.Fatal(err)
	}
	for _, inm := range []string{`"` + s.sha + `"`, `W/"other", "` + s.sha + `"`} {
		req = httptest.NewRequest("GET", "/api/v1/device/assets/"+s.sha, nil)
		req.Header.Set("Authorization", "Bearer "+s.tokenA)
		req.Header.Set("If-None-Match", inm)
		rec = httptest.NewRecorder()
		v.e.ServeHTTP(rec, req)
		if rec.Code != 304 {
			t.Errorf("asset If-None-Match %s with the blob off the disk: got %d, want 304 from memory", inm, rec.Code)
		}
	}
	if rec := v.do("GET", "/api/v1/device/assets/"+s.sha, s.tokenA, nil); rec.Code == 200 {
		t.Errorf("full GET with the blob off the disk: got 200")
	}
	if err := os.Rename(hidden, blob); err != nil {
		t.Fatal(err)
	}

	// A cannot read B's asset; B can.
	if rec := v.do("GET", "/api/v1/device/assets/"+shaB, s.tokenA, nil); rec.Code != 404 {
		t.Errorf("A reading B's asset: got %d, want 404", rec.Code)
	}
	if rec := v.do("GET", "/api/v1/device/assets/"+shaB, s.tokenB, nil); rec.Code != 200 {
		t.Errorf("B reading its asset: got %d %s, want 200", rec.Code, rec.Body)
	}
}

func TestTokenRotationAndScreenStatus(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	rot := must[map[string]string](t, v.admin("POST", "/api/v1/screens/"+s.screenA+"/token", nil), 200)
	if rot["token"] == "" || rot["token"] == s.tokenA {
		t.Fatalf("rotate: got %v, want a new token", rot)
	}
	if rec := v.do("GET", "/api/v1/device/manifest", s.tokenA, nil); rec.Code != 401 {
		t.Errorf("old token after rotation: got %d, want 401", rec.Code)
	}
	if rec := v.do("GET", "/api/v1/device/manifest", rot["token"], nil); rec.Code != 200 {
		t.Errorf("new token: got %d, want 200", rec.Code)
	}
	if len(v.hub.kicked) != 1 || v.hub.kicked[0] != s.screenA {
		t.Errorf("kicked: got %v, want [%s]", v.hub.kicked, s.screenA)
	}

	// Status reported through the hub handler shows up on GET.
	w, err := v.devs.Hello(s.screenA, playlists.Hello{PlayerVersion: "0.1.0", AppliedVersion: "old"})
	if err != nil || w.Version != v.pub.Version(s.screenA) || w.ScreenName != "A" {
		t.Fatalf("Hello: got %+v, %v", w, err)
	}
	v.devs.Applied(s.screenA, playlists.Applied{Version: w.Version})
	v.devs.Heartbeat(s.screenA, playlists.Heartbeat{CurrentItem: s.item, AppliedVersion: w.Version, PlayerVersion: "0.1.0"})
	st := must[map[string]any](t, v.admin("GET", "/api/v1/screens/"+s.screenA, nil), 200)
	if st["online"] != true || st["applied_version"] != w.Version || st["current_item"] != s.item || st["up_to_date"] != true || st["last_seen"] == nil {
		t.Errorf("screen status: got %v", st)
	}
	v.devs.Disconnected(s.screenA)
	st = must[map[string]any](t, v.admin("GET", "/api/v1/screens/"+s.screenA, nil), 200)
	if st["online"] != false || st["last_seen"] == nil {
		t.Errorf("after disconnect: got online=%v last_seen=%v, want false and kept", st["online"], st["last_seen"])
	}
}
