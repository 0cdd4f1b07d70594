package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/pquerna/otp/totp"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// loadOpenAPI parses and validates the embedded description.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi: got %q, want 3.1.x", doc.OpenAPI)
	}
	tags := map[string]bool{}
	for _, tag := range doc.Tags {
		tags[tag.Name] = true
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.Summary == "" {
				t.Errorf("%s: no summary", where)
			}
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q also used by %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
			if len(op.Tags) == 0 {
				t.Errorf("%s: no tags", where)
			}
			for _, tag := range op.Tags {
				if !tags[tag] {
					t.Errorf("%s: tag %q is not declared under tags", where, tag)
				}
			}
			if _, ok := op.Extensions["x-kiosk-capability"].(string); !ok {
				t.Errorf("%s: no x-kiosk-capability", where)
			}
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s: no responses", where)
			}
		}
	}
}

// echoParam is an echo path parameter, ":id".
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIMatchesRoutes compares the description with the real router:
// every route is described with the capability routes.go gives it, and
// nothing is described that is not routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	v := newEnv(t)

	documented := map[string]string{} // "GET /api/v1/items/{id}" → capability
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			c, _ := op.Extensions["x-kiosk-capability"].(string)
			documented[method+" "+path] = c
		}
	}

	routed := map[string]string{}
	for _, r := range v.e.Routes() {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue // echo's not-found routes for the groups, and e.Any's other methods
		}
		if r.Path == "/admin" || strings.HasPrefix(r.Path, "/admin/") {
			continue // the admin page's static files, not the API
		}
		if strings.Contains(r.Path, "*") {
			t.Errorf("%s %s: a wildcard route the description cannot name", r.Method, r.Path)
			continue
		}
		c := string(capPublic) // /healthz and /metrics sit outside the route table
		if rule, ok := v.h.table[routeKey(r.Method, r.Path)]; ok {
			c = string(rule.cap)
		} else if strings.HasPrefix(r.Path, "/api/") {
			t.Errorf("%s %s: not in the route table", r.Method, r.Path)
		}
		routed[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = c
	}

	var missing, extra, wrongCap []string
	for k, c := range routed {
		dc, ok := documented[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case dc != c:
			wrongCap = append(wrongCap, k+": documented "+dc+", routed "+c)
		}
	}
	for k := range documented {
		if _, ok := routed[k]; !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	slices.Sort(wrongCap)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json (%d):\n\t%s", len(missing), strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("operations in openapi.json that no route serves (%d):\n\t%s", len(extra), strings.Join(extra, "\n\t"))
	}
	if len(wrongCap) > 0 {
		t.Errorf("x-kiosk-capability differs from routes.go (%d):\n\t%s", len(wrongCap), strings.Join(wrongCap, "\n\t"))
	}
	if len(routed) < 50 {
		t.Errorf("only %d routes found: is the router built?", len(routed))
	}
}

func TestOpenAPIServed(t *testing.T) {
	v := newEnv(t)
	rec := v.do(http.MethodGet, "/api/v1/openapi.json", "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json without a credential: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type: %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc == "" {
		t.Error("no Cache-Control")
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if got["openapi"] != "3.1.0" {
		t.Errorf("openapi: %v", got["openapi"])
	}
	if string(rec.Body.Bytes()) != string(openAPIDoc) {
		t.Error("body differs from the embedded openapi.json")
	}
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	req := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match %s: got %d with %d bytes, want 304 and no body", etag, rec.Code, rec.Body.Len())
	}
}

// describedCall sends one request through the router and checks it and the
// answer against the description, the way e2e/openapi_test.go checks the
// end-to-end traffic; this covers operations those tests do not reach.
type describedCall struct {
	t      *testing.T
	v      *env
	router routers.Router
	// auth adds the credential; the break-glass admin token unless set.
	auth func(*http.Request)
}

func newDescribedCall(t *testing.T, v *env) *describedCall {
	t.Helper()
	router, err := legacy.NewRouter(loadOpenAPI(t))
	if err != nil {
		t.Fatal(err)
	}
	return &describedCall{t: t, v: v, router: router}
}

var describedOptions = func() *openapi3filter.Options {
	o := &openapi3filter.Options{
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc, // the server checks credentials
		RejectWhenRequestBodyNotSpecified: true,
		IncludeResponseStatus:             true,
	}
	o.WithCustomSchemaErrorFunc(func(se *openapi3.SchemaError) string {
		return fmt.Sprintf("at /%s: %s", strings.Join(se.JSONPointer(), "/"), se.Reason)
	})
	return o
}()

// do sends body (JSON unless ctype says otherwise) with d's credential,
// checks the exchange and answers the recorder.
func (d *describedCall) do(method, path string, body any, ctype string) *httptest.ResponseRecorder {
	d.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			d.t.Fatal(err)
		}
		ctype = "application/json"
	}
	newReq := func() *http.Request {
		r := httptest.NewRequest(method, path, bytes.NewReader(raw))
		if raw == nil {
			r = httptest.NewRequest(method, path, nil)
		}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if d.auth != nil {
			d.auth(r)
		} else {
			r.Header.Set("Authorization", "Bearer "+adminToken)
		}
		return r
	}
	rec := httptest.NewRecorder()
	d.v.e.ServeHTTP(rec, newReq())

	req := newReq()
	where := fmt.Sprintf("%s %s → %d", method, path, rec.Code)
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			d.t.Errorf("%s: not in the description: %v", where, err)
		}
		return rec
	}
	opts := *describedOptions
	if ctype != "" && ctype != "application/json" {
		opts.ExcludeRequestBody = true // uploads: only the content type is described
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: &opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && rec.Code < 400 {
		d.t.Errorf("%s: request accepted but invalid by the description: %v", where, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code,
		Header: rec.Header(), Options: &opts}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		d.t.Errorf("%s: answer does not match the description: %v\n%s", where, err, truncate(rec.Body.String(), 400))
	}
	return rec
}

// TestOpenAPIDescribesAnswers walks through the admin API as the
// break-glass admin and checks each exchange against the description.
func TestOpenAPIDescribesAnswers(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	d := newDescribedCall(t, v)
	want := func(rec *httptest.ResponseRecorder, code int) {
		t.Helper()
		if rec.Code != code {
			t.Fatalf("got %d, want %d: %s", rec.Code, code, rec.Body)
		}
	}
	id := func(rec *httptest.ResponseRecorder) string {
		t.Helper()
		var o struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil || o.ID == "" {
			t.Fatalf("no id in %s", rec.Body)
		}
		return o.ID
	}

	want(d.do("GET", "/healthz", nil, ""), 200)
	want(d.do("GET", "/metrics", nil, ""), 200)
	want(d.do("GET", "/api/v1/openapi.json", nil, ""), 200)
	want(d.do("GET", "/api/v1/session", nil, ""), 200)
	want(d.do("GET", "/api/v1/me", nil, ""), 200)
	want(d.do("GET", "/api/v1/me/tokens", nil, ""), 400) // break-glass is not a person
	want(d.do("POST", "/api/v1/session", map[string]any{"username": "nobody", "password": "x"}, ""), 401)

	// People.
	u := d.do("POST", "/api/v1/users", map[string]any{"username": "lin", "password": "a long enough passphrase 42",
		"role": "editor", "groups": []string{}}, "")
	want(u, 201)
	uid := id(u)
	want(d.do("GET", "/api/v1/users", nil, ""), 200)
	want(d.do("GET", "/api/v1/users/"+uid, nil, ""), 200)
	want(d.do("PUT", "/api/v1/users/"+uid, map[string]any{"role": "reviewer", "urgent": true}, ""), 200)
	want(d.do("POST", "/api/v1/users/"+uid+"/password", map[string]any{"password": "another long passphrase 43"}, ""), 204)
	want(d.do("DELETE", "/api/v1/users/"+uid+"/totp", nil, ""), 204)
	want(d.do("GET", "/api/v1/users/nope", nil, ""), 404)

	// Content.
	want(d.do("GET", "/api/v1/assets", nil, ""), 200)
	want(d.do("GET", "/api/v1/assets/"+s.sha, nil, ""), 200)
	want(d.do("GET", "/api/v1/assets/"+s.sha+"/raw", nil, ""), 200)
	want(d.do("GET", "/api/v1/items", nil, ""), 200)
	want(d.do("GET", "/api/v1/items/"+s.item, nil, ""), 200)
	want(d.do("PUT", "/api/v1/items/"+s.item, map[string]any{"kind": "notice", "title": "停水通知", "body": "周三", "duration_s": 12}, ""), 200)
	want(d.do("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "x", "colour": "red"}, ""), 400)
	extra := id(d.do("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "临时"}, ""))
	want(d.do("DELETE", "/api/v1/items/"+extra, nil, ""), 204)
	want(d.do("GET", "/api/v1/playlists", nil, ""), 200)
	want(d.do("GET", "/api/v1/playlists/"+s.playlist, nil, ""), 200)
	want(d.do("PUT", "/api/v1/playlists/"+s.playlist, map[string]any{"name": "日常", "items": []string{s.item}}, ""), 200)
	want(d.do("GET", "/api/v1/schedules", nil, ""), 200)
	want(d.do("GET", "/api/v1/schedules/"+s.schedule, nil, ""), 200)
	want(d.do("PUT", "/api/v1/schedules/"+s.schedule, map[string]any{"playlist": s.playlist, "target": map[string]any{"all": true},
		"cron": "0 7 * * *", "duration_s": 3600, "from": "2026-03-01T00:00:00+08:00", "to": nil, "priority": 2}, ""), 200)
	want(d.do("GET", "/api/v1/changesets?state=open", nil, ""), 200)

	// Fleet.
	g := d.do("POST", "/api/v1/groups", map[string]any{"id": "jd", "name": "街道", "timezone": "Asia/Shanghai"}, "")
	want(g, 201)
	want(d.do("GET", "/api/v1/groups", nil, ""), 200)
	want(d.do("GET", "/api/v1/groups/jd", nil, ""), 200)
	want(d.do("PUT", "/api/v1/groups/jd", map[string]any{"name": "街道", "default_playlist": s.playlist}, ""), 200)
	want(d.do("PUT", "/api/v1/screens/"+s.screenB, map[string]any{"name": "B", "group": "jd", "tags": []string{"hall"}, "orientation": "portrait"}, ""), 200)
	want(d.do("GET", "/api/v1/screens", nil, ""), 200)
	want(d.do("GET", "/api/v1/screens?state=offline&group=jd", nil, ""), 200)
	want(d.do("GET", "/api/v1/screens?limit=1", nil, ""), 200) // with a next_cursor
	want(d.do("GET", "/api/v1/screens?tag=hall&q=b&group=-&id="+s.screenA+"&id="+s.screenB, nil, ""), 200)
	want(d.do("GET", "/api/v1/screens?limit=0", nil, ""), 400)
	want(d.do("GET", "/api/v1/screens?cursor=not-a-cursor", nil, ""), 400)
	want(d.do("GET", "/api/v1/screens/"+s.screenA, nil, ""), 200)
	want(d.do("GET", "/api/v1/screens/"+s.screenA+"/manifest", nil, ""), 200)
	want(d.do("GET", "/api/v1/screens/"+s.screenA+"/history?limit=10", nil, ""), 200)
	want(d.do("GET", "/api/v1/screens/"+s.screenA+"/timeline?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", nil, ""), 200)
	want(d.do("GET", "/api/v1/screens/"+s.screenA+"/now", nil, ""), 200)
	want(d.do("GET", "/api/v1/screens/"+s.screenA+"/commands", nil, ""), 200)
	want(d.do("POST", "/api/v1/screens/"+s.screenA+"/commands", map[string]any{"type": "reload"}, ""), 503) // not enabled here
	want(d.do("GET", "/api/v1/screens/"+s.screenA+"/screenshot", nil, ""), 404)
	want(d.do("POST", "/api/v1/screens/"+s.screenA+"/token", nil, ""), 200)
	want(d.do("GET", "/api/v1/fleet", nil, ""), 200)
	want(d.do("GET", "/api/v1/alerts?limit=5", nil, ""), 200)
	want(d.do("POST", "/api/v1/screens/pair", map[string]any{"code": "ABCD2345", "name": "C"}, ""), 404)
	c := d.do("POST", "/api/v1/screens", map[string]any{"name": "C", "group": "jd"}, "")
	want(c, 201)
	want(d.do("DELETE", "/api/v1/screens/"+id(c), nil, ""), 204)

	// Webhooks.
	w := d.do("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef0123"}, "")
	want(w, 201)
	want(d.do("GET", "/api/v1/webhooks", nil, ""), 200)
	want(d.do("DELETE", "/api/v1/webhooks/"+id(w), nil, ""), 204)

	// Urgent notices and safe mode.
	n := d.do("POST", "/api/v1/urgent", map[string]any{"title": "暴雨预警", "body": "请勿外出", "target": map[string]any{"groups": []string{"jd"}},
		"expires_at": testNow.Add(time.Hour).Format(time.RFC3339)}, "")
	want(n, 201)
	want(d.do("GET", "/api/v1/urgent", nil, ""), 200)
	want(d.do("GET", "/api/v1/urgent/"+id(n), nil, ""), 200)
	want(d.do("DELETE", "/api/v1/urgent/"+id(n), nil, ""), 204)
	m := d.do("POST", "/api/v1/safe-mode", map[string]any{"target": map[string]any{"screens": []string{s.screenA}}}, "")
	want(m, 201)
	want(d.do("GET", "/api/v1/safe-mode", nil, ""), 200)
	want(d.do("GET", "/api/v1/safe-mode/"+id(m), nil, ""), 200)
	want(d.do("DELETE", "/api/v1/safe-mode/"+id(m), nil, ""), 204)

	// Releases are not set up in this server.
	want(d.do("GET", "/api/v1/player-versions", nil, ""), 503)
	want(d.do("GET", "/api/v1/rollouts", nil, ""), 503)

	// Audit and reports.
	want(d.do("GET", "/api/v1/audit?limit=5&since=2026-01-01", nil, ""), 200)
	want(d.do("GET", "/api/v1/audit.csv?limit=5", nil, ""), 200)
	want(d.do("GET", "/api/v1/audit/verify", nil, ""), 200)
	want(d.do("GET", "/api/v1/reports/plays?from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z&group_by=day", nil, ""), 200)
	want(d.do("GET", "/api/v1/reports/plays?from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z&format=csv", nil, ""), 200)
	want(d.do("GET", "/api/v1/reports/plays", nil, ""), 400)
	want(d.do("GET", "/api/v1/reports/heatmap?from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z&sort=dark&limit=2", nil, ""), 200)
	want(d.do("GET", "/api/v1/reports/heatmap?from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z&sort=worst", nil, ""), 400)
	want(d.do("GET", "/api/v1/backup", nil, ""), 200)

	// Content deletions last, in dependency order.
	want(d.do("DELETE", "/api/v1/schedules/"+s.schedule, nil, ""), 204)
	want(d.do("PUT", "/api/v1/groups/jd", map[string]any{"name": "街道"}, ""), 200)
	want(d.do("DELETE", "/api/v1/playlists/"+s.playlist, nil, ""), 204)
	want(d.do("DELETE", "/api/v1/items/"+s.item, nil, ""), 204)
	want(d.do("DELETE", "/api/v1/assets/"+s.sha, nil, ""), 204)
	want(d.do("PUT", "/api/v1/screens/"+s.screenB, map[string]any{"name": "B"}, ""), 200)
	want(d.do("DELETE", "/api/v1/groups/jd", nil, ""), 204)
	want(d.do("GET", "/api/v1/nothing-here", nil, ""), 404)
}

// TestOpenAPIDescribesAccountAnswers walks through a person's own account
// (session cookie and CSRF token), the pairing a player starts, and the
// routes that answer 503 when a feature is not set up.
func TestOpenAPIDescribesAccountAnswers(t *testing.T) {
	now := testNow
	v := newEnv(t, func(o *Options) { o.Now = func() time.Time { return now } })
	v.addUser("lin", store.RoleEditor)
	d := newDescribedCall(t, v)
	want := func(rec *httptest.ResponseRecorder, code int) {
		t.Helper()
		if rec.Code != code {
			t.Fatalf("got %d, want %d: %s", rec.Code, code, rec.Body)
		}
	}

	d.auth = func(*http.Request) {}
	rec := d.do("POST", "/api/v1/session", map[string]any{"username": "lin", "password": testPassword}, "")
	want(rec, 200)
	var se struct {
		CSRF string `json:"csrf"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &se); err != nil || se.CSRF == "" {
		t.Fatalf("no csrf in %s", rec.Body)
	}
	cookies := rec.Result().Cookies()
	d.auth = func(r *http.Request) {
		for _, c := range cookies {
			r.AddCookie(c)
		}
		r.Header.Set("X-CSRF-Token", se.CSRF)
	}
	want(d.do("GET", "/api/v1/session", nil, ""), 200)
	want(d.do("GET", "/api/v1/me", nil, ""), 200)
	tok := d.do("POST", "/api/v1/me/tokens", map[string]any{"name": "nightly export", "role": "viewer"}, "")
	want(tok, 201)
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(tok.Body.Bytes(), &created); err != nil || created.ID == "" {
		t.Fatalf("no token id in %s", tok.Body)
	}
	want(d.do("GET", "/api/v1/me/tokens", nil, ""), 200)
	want(d.do("DELETE", "/api/v1/me/tokens/"+created.ID, nil, ""), 204)

	en := d.do("POST", "/api/v1/me/totp", nil, "")
	want(en, 200)
	var secret struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(en.Body.Bytes(), &secret); err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(secret.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	want(d.do("POST", "/api/v1/me/totp/confirm", map[string]any{"code": code}, ""), 204)
	want(d.do("DELETE", "/api/v1/me/totp", map[string]any{"password": testPassword}, ""), 204)
	want(d.do("PUT", "/api/v1/me/password", map[string]any{"current": testPassword, "new": "a brand new passphrase 44"}, ""), 204)

	// A draft, renamed and discarded by its author.
	item := d.do("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "草稿"}, "")
	want(item, 201)
	var draft struct {
		ChangeSet string `json:"changeset"`
	}
	if err := json.Unmarshal(item.Body.Bytes(), &draft); err != nil || draft.ChangeSet == "" {
		t.Fatalf("an editor's item is not drafted: %s", item.Body)
	}
	want(d.do("PUT", "/api/v1/changesets/"+draft.ChangeSet, map[string]any{"title": "停水通知"}, ""), 200)
	want(d.do("GET", "/api/v1/changesets/"+draft.ChangeSet, nil, ""), 200)
	want(d.do("DELETE", "/api/v1/changesets/"+draft.ChangeSet, nil, ""), 204)
	want(d.do("DELETE", "/api/v1/session", nil, ""), 204)

	// A player without a token asks for a code and polls.
	d.auth = func(*http.Request) {}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	start := d.do("POST", "/api/v1/device/pair", map[string]any{"public_key": playlists.EncodeKey(pub)}, "")
	want(start, 201)
	var ticket playlists.PairTicket
	if err := json.Unmarshal(start.Body.Bytes(), &ticket); err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Unix()
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, playlists.PairProofMessage(ticket.Poll, ts)))
	d.auth = func(r *http.Request) {
		r.Header.Set(playlists.HeaderPairTime, strconv.FormatInt(ts, 10))
		r.Header.Set(playlists.HeaderPairSignature, sig)
	}
	want(d.do("GET", "/api/v1/device/pair/"+ticket.Poll, nil, ""), 202)

	// Features this server was started without answer 503.
	d.auth = nil
	want(d.do("POST", "/api/v1/groups", map[string]any{"id": "jd", "name": "街道"}, ""), 201)
	want(d.do("POST", "/api/v1/groups/jd/commands", map[string]any{"type": "identify", "ttl_s": 60}, ""), 503)
	want(d.do("GET", "/api/v1/player-builds", nil, ""), 503)
	want(d.do("POST", "/api/v1/rollouts", map[string]any{"version": "1.4.0", "canary_groups": []string{"jd"}, "percent": 10}, ""), 503)
	want(d.do("POST", "/api/v1/rollouts/r1/pause", nil, ""), 503)
}
