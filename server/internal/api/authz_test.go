package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp/totp"

	"kiosk/server/internal/store"
)

const testPassword = "correct horse battery"

// person is someone signed in to the page: the session cookie and the
// CSRF token the page sends back.
type person struct {
	v      *env
	cookie *http.Cookie
	device *http.Cookie
	csrf   string
	id     string
}

// addUser creates a user through the API with the break-glass token.
func (v *env) addUser(name string, role store.Role, groups ...string) string {
	v.t.Helper()
	body := map[string]any{"username": name, "password": testPassword, "role": role, "groups": groups}
	u := must[userView](v.t, v.admin("POST", "/api/v1/users", body), http.StatusCreated)
	return u.ID
}

// signIn signs name in and returns the person.
func (v *env) signIn(name string) *person {
	v.t.Helper()
	rec := v.request("POST", "/api/v1/session", map[string]string{"username": name, "password": testPassword}, nil)
	sv := must[sessionView](v.t, rec, http.StatusOK)
	p := &person{v: v, csrf: sv.CSRF, id: sv.User.ID}
	for _, c := range rec.Result().Cookies() {
		switch c.Name {
		case sessionCookie:
			p.cookie = c
		case deviceCookie:
			p.device = c
		}
	}
	if p.cookie == nil || !p.cookie.HttpOnly || p.cookie.SameSite != http.SameSiteStrictMode {
		v.t.Fatalf("session cookie: got %+v, want HttpOnly SameSite=Strict", p.cookie)
	}
	return p
}

// request sends body as JSON with the given extra setup.
func (v *env) request(method, path string, body any, setup func(*http.Request)) *httptest.ResponseRecorder {
	v.t.Helper()
	var r *strings.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			v.t.Fatal(err)
		}
		r = strings.NewReader(string(raw))
	} else {
		r = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, r)
	if strings.HasSuffix(path, "/events") {
		// A stream (GET /fleet/events) runs until its client leaves: this
		// one leaves once the answer has begun.
		ctx, cancel := context.WithCancel(req.Context())
		cancel()
		req = req.WithContext(ctx)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if setup != nil {
		setup(req)
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec
}

// do sends a request as p, the way the page does.
func (p *person) do(method, path string, body any) *httptest.ResponseRecorder {
	p.v.t.Helper()
	return p.v.request(method, path, body, func(r *http.Request) {
		r.AddCookie(p.cookie)
		r.Header.Set(csrfHeader, p.csrf)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	})
}

// TestRouteTableCoversEveryRoute walks echo's routes: each /api/v1 route
// must be in the authorisation table, or guard refuses it for everyone.
func TestRouteTableCoversEveryRoute(t *testing.T) {
	v := newEnv(t)
	n := 0
	for _, r := range v.e.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1") || strings.HasSuffix(r.Path, "/*") || r.Path == "/api/v1" || r.Path == "/api/v1/device" {
			continue // the groups' catch-alls answer 404
		}
		n++
		if rule, ok := v.h.table[routeKey(r.Method, r.Path)]; !ok || rule.cap == "" {
			t.Errorf("route %s %s is not in the authorisation table (routes.go: register it through the registrar with a capability)", r.Method, r.Path)
		}
	}
	if n < 60 {
		t.Fatalf("walked %d routes, want the whole API (over 60)", n)
	}
	// And a route missing from the table is refused, whoever asks.
	v.e.GET("/api/v1/unlisted", func(c echo.Context) error { return c.NoContent(http.StatusOK) }, v.h.guard)
	if rec := v.admin("GET", "/api/v1/unlisted", nil); rec.Code != http.StatusForbidden {
		t.Errorf("unlisted route as break-glass: got %d, want 403", rec.Code)
	}
}

// concretePath fills a route template's parameters.
func concretePath(p string) string {
	p = strings.ReplaceAll(p, ":sha", strings.Repeat("a", 64))
	p = strings.ReplaceAll(p, ":cid", "cmd_x")
	return strings.ReplaceAll(p, ":id", "x")
}

// TestRoleMatrix checks every role, anonymous callers and a device token
// against every route: refused exactly when the role lacks the route's
// capability (README "Roles"), and never refused by the gate otherwise.
func TestRoleMatrix(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	callers := map[string]func(method, path string) *httptest.ResponseRecorder{
		"anonymous": func(m, p string) *httptest.ResponseRecorder { return v.request(m, p, map[string]any{}, nil) },
		"device":    func(m, p string) *httptest.ResponseRecorder { return v.do(m, p, s.tokenA, map[string]any{}) },
	}
	roleOf := map[string]store.Role{}
	for _, role := range store.Roles {
		name := "u-" + string(role)
		v.addUser(name, role)
		p := v.signIn(name)
		callers[name] = func(m, path string) *httptest.ResponseRecorder { return p.do(m, path, map[string]any{}) }
		roleOf[name] = role
	}
	for _, r := range v.e.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasPrefix(r.Path, "/api/v1/device") || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		if r.Path == "/api/v1/session" && r.Method != http.MethodGet {
			continue // signing in and out change the callers; tested on their own
		}
		rule := v.h.table[routeKey(r.Method, r.Path)].cap
		for name, call := range callers {
			rec := call(r.Method, concretePath(r.Path))
			var want string
			switch {
			case rule == capPublic:
				continue
			case name == "anonymous":
				want = "401"
			case name == "device":
				want = "403"
			default:
				pr := &principal{Role: roleOf[name]}
				if !pr.can(rule) {
					want = "403"
				}
			}
			got := rec.Code
			gateRefused := got == 401 || (got == 403 && strings.Contains(rec.Body.String(), "may not"))
			switch want {
			case "401":
				if got != 401 {
					t.Errorf("%s %s as %s: got %d %s, want 401", r.Method, r.Path, name, got, rec.Body)
				}
			case "403":
				if got != 403 {
					t.Errorf("%s %s as %s: got %d %s, want 403", r.Method, r.Path, name, got, rec.Body)
				}
			default:
				if gateRefused {
					t.Errorf("%s %s as %s (%s): refused with %d %s, want the handler to answer", r.Method, r.Path, name, rule, got, rec.Body)
				}
			}
		}
	}
}

// TestTechnicianCannotChangeContent: 403 on every content write, whatever
// the body.
func TestTechnicianCannotChangeContent(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	v.addUser("tech", store.RoleTechnician)
	p := v.signIn("tech")
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/items"}, {"PUT", "/api/v1/items/" + s.item}, {"DELETE", "/api/v1/items/" + s.item},
		{"POST", "/api/v1/playlists"}, {"PUT", "/api/v1/playlists/" + s.playlist}, {"DELETE", "/api/v1/playlists/" + s.playlist},
		{"POST", "/api/v1/schedules"}, {"POST", "/api/v1/assets"}, {"DELETE", "/api/v1/assets/" + s.sha},
		{"POST", "/api/v1/changesets/x/approve"},
	} {
		if rec := p.do(c.method, c.path, map[string]any{}); rec.Code != http.StatusForbidden {
			t.Errorf("technician %s %s: got %d %s, want 403", c.method, c.path, rec.Code, rec.Body)
		}
	}
	// A default playlist is content too, even on a screen they may edit.
	rec := p.do("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A", "default_playlist": s.playlist})
	if rec.Code != http.StatusForbidden {
		t.Errorf("technician setting a default playlist: got %d %s, want 403", rec.Code, rec.Body)
	}
	if rec := p.do("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "大堂屏"}); rec.Code != http.StatusOK {
		t.Errorf("technician renaming a screen: got %d %s, want 200", rec.Code, rec.Body)
	}
}

func TestSessionCSRFAndTimeouts(t *testing.T) {
	now := testNow
	v := newEnv(t, func(o *Options) { o.Now = func() time.Time { return now } })
	v.addUser("ed", store.RoleEditor)
	p := v.signIn("ed")
	item := map[string]any{"kind": "notice", "title": "t", "duration_s": 10}

	// A browser request without the token, a wrong token, a cross-site or
	// cross-origin request: refused.
	for name, setup := range map[string]func(*http.Request){
		"browser, no header": func(r *http.Request) {
			r.AddCookie(p.cookie)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		},
		"same origin, no header": func(r *http.Request) {
			r.AddCookie(p.cookie)
			r.Header.Set("Origin", "http://"+r.Host)
		},
		"cross-origin": func(r *http.Request) {
			r.AddCookie(p.cookie)
			r.Header.Set(csrfHeader, p.csrf)
			r.Header.Set("Origin", "https://evil.example")
		},
		"wrong": func(r *http.Request) { r.AddCookie(p.cookie); r.Header.Set(csrfHeader, "nope") },
		"cross-site": func(r *http.Request) {
			r.AddCookie(p.cookie)
			r.Header.Set(csrfHeader, p.csrf)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		},
	} {
		rec := v.request("POST", "/api/v1/items", item, setup)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"code":"csrf"`) {
			t.Errorf("%s: got %d %s, want 403 code csrf", name, rec.Code, rec.Body)
		}
	}
	if sets, _ := v.st.ListChangeSets("", ""); len(sets) != 0 {
		t.Fatalf("refused requests drafted %d change sets", len(sets))
	}
	if rec := p.do("POST", "/api/v1/items", item); rec.Code != http.StatusCreated {
		t.Fatalf("same-origin POST: %d %s", rec.Code, rec.Body)
	}
	// A program holding the cookie (no browser headers) is no CSRF victim.
	if rec := v.request("POST", "/api/v1/items", item, func(r *http.Request) { r.AddCookie(p.cookie) }); rec.Code != http.StatusCreated {
		t.Errorf("cookie from a script, no browser headers: got %d %s, want 201", rec.Code, rec.Body)
	}

	// Idle timeout.
	now = now.Add(DefaultIdleTimeout + time.Second)
	if rec := p.do("GET", "/api/v1/session", nil); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "session_expired") {
		t.Errorf("after the idle timeout: got %d %s, want 401 session_expired", rec.Code, rec.Body)
	}

	// The page's timed refreshes do not count as activity.
	p = v.signIn("ed")
	for i := 0; i < 4; i++ {
		now = now.Add(DefaultIdleTimeout / 3)
		v.request("GET", "/api/v1/fleet", nil, func(r *http.Request) {
			r.AddCookie(p.cookie)
			r.Header.Set("X-Kiosk-Background", "1")
		})
	}
	if rec := p.do("GET", "/api/v1/session", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("after background refreshes only: got %d, want 401 (idle)", rec.Code)
	}

	// Absolute timeout, however active.
	p = v.signIn("ed")
	for i := 0; i < 60; i++ {
		now = now.Add(DefaultIdleTimeout / 2)
		if rec := p.do("GET", "/api/v1/session", nil); rec.Code != http.StatusOK {
			if now.Sub(testNow) < DefaultAbsoluteTimeout {
				t.Fatalf("active session refused early: %d %s", rec.Code, rec.Body)
			}
			break
		}
	}
	if rec := p.do("GET", "/api/v1/session", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("after the absolute timeout: got %d, want 401", rec.Code)
	}

	// Sign-out ends the session server-side: the old cookie is dead.
	p = v.signIn("ed")
	if rec := p.do("DELETE", "/api/v1/session", nil); rec.Code != http.StatusNoContent {
		t.Fatalf("sign out: %d %s", rec.Code, rec.Body)
	}
	if rec := p.do("GET", "/api/v1/session", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("cookie after sign-out: got %d, want 401", rec.Code)
	}

	// Disabling a user ends their sessions at once.
	p = v.signIn("ed")
	if rec := v.admin("PUT", "/api/v1/users/"+p.id, map[string]any{"disabled": true}); rec.Code != http.StatusOK {
		t.Fatalf("disable: %d %s", rec.Code, rec.Body)
	}
	if rec := p.do("GET", "/api/v1/session", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("session of a disabled user: got %d, want 401", rec.Code)
	}
}

// TestSignInThrottleSparesDeviceCookie: a stranger's failures lock the
// address and the account for strangers, never the owner's browser.
func TestSignInThrottleSparesDeviceCookie(t *testing.T) {
	v := newEnv(t)
	v.addUser("alice", store.RoleEditor)
	owner := v.signIn("alice")
	if owner.device == nil {
		t.Fatal("no device cookie after a successful sign-in")
	}
	v.addUser("mallory", store.RoleViewer)
	m := v.signIn("mallory")
	wrong := map[string]string{"username": "alice", "password": "not the password!"}
	right := map[string]string{"username": "alice", "password": testPassword}
	throttled := 0
	for i := 0; i < 100; i++ {
		rec := v.request("POST", "/api/v1/session", wrong, nil)
		switch rec.Code {
		case http.StatusTooManyRequests:
			throttled++
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		case http.StatusUnauthorized:
		default:
			t.Fatalf("attempt %d: got %d %s", i, rec.Code, rec.Body)
		}
	}
	if throttled < 80 {
		t.Errorf("attacker throttled on %d of 100 attempts, want most", throttled)
	}
	// The attacker is throttled even with the right password.
	if rec := v.request("POST", "/api/v1/session", right, nil); rec.Code != http.StatusTooManyRequests {
		t.Errorf("right password without device cookie after the flood: got %d, want 429", rec.Code)
	}
	// The owner's browser is not.
	rec := v.request("POST", "/api/v1/session", right, func(r *http.Request) { r.AddCookie(owner.device) })
	if rec.Code != http.StatusOK {
		t.Errorf("owner with device cookie after the flood: got %d %s, want 200", rec.Code, rec.Body)
	}
	// A device cookie for another account does not help.
	if rec := v.request("POST", "/api/v1/session", right, func(r *http.Request) { r.AddCookie(m.device) }); rec.Code != http.StatusTooManyRequests {
		t.Errorf("right password with another account's device cookie: got %d, want 429", rec.Code)
	}
}

// TestTrustedProxy: X-Forwarded-For counts only from a configured proxy.
func TestTrustedProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted bool
		want    string
	}{{"untrusted peer", false, "192.0.2.1"}, {"trusted proxy", true, "203.0.113.9"}} {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t, func(o *Options) {
				if tc.trusted {
					_, n, _ := net.ParseCIDR("192.0.2.0/24")
					o.TrustedProxies = append(o.TrustedProxies, n)
				}
			})
			v.addUser("ann", store.RoleViewer)
			rec := v.request("POST", "/api/v1/session", map[string]string{"username": "ann", "password": "wrong password!!"}, func(r *http.Request) {
				r.Header.Set("X-Forwarded-For", "203.0.113.9")
			})
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("got %d", rec.Code)
			}
			entries, err := v.st.ListAudit(store.AuditFilter{Action: "sign-in failed"})
			if err != nil || len(entries) != 1 {
				t.Fatalf("audit: %v %v", entries, err)
			}
			if entries[0].IP != tc.want {
				t.Errorf("audited address: got %s, want %s", entries[0].IP, tc.want)
			}
		})
	}
}

func TestPersonalTokens(t *testing.T) {
	v := newEnv(t)
	v.addUser("rev", store.RoleReviewer)
	p := v.signIn("rev")
	var tok struct {
		ID, Token string
		Role      store.Role
	}
	tok = must[struct {
		ID, Token string
		Role      store.Role
	}](t, p.do("POST", "/api/v1/me/tokens", map[string]string{"name": "nightly", "role": "viewer"}), http.StatusCreated)
	if !strings.HasPrefix(tok.Token, personalTokenPrefix) || tok.Role != store.RoleViewer {
		t.Fatalf("token: %+v", tok)
	}
	if rec := v.do("GET", "/api/v1/items", tok.Token, nil); rec.Code != http.StatusOK {
		t.Errorf("viewer token reading: %d", rec.Code)
	}
	if rec := v.do("POST", "/api/v1/items", tok.Token, map[string]any{"kind": "notice", "title": "x", "duration_s": 5}); rec.Code != http.StatusForbidden {
		t.Errorf("viewer token writing: got %d, want 403", rec.Code)
	}
	if rec := p.do("POST", "/api/v1/me/tokens", map[string]string{"name": "x", "role": "admin"}); rec.Code != http.StatusBadRequest {
		t.Errorf("token above own role: got %d, want 400", rec.Code)
	}
	list := must[[]store.APIToken](t, p.do("GET", "/api/v1/me/tokens", nil), http.StatusOK)
	if len(list) != 1 || list[0].LastUsed.IsZero() || strings.Contains(p.do("GET", "/api/v1/me/tokens", nil).Body.String(), "hash") {
		t.Errorf("token list: %+v (want one, with last use, no hash)", list)
	}
	if rec := p.do("DELETE", "/api/v1/me/tokens/"+tok.ID, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d", rec.Code)
	}
	if rec := v.do("GET", "/api/v1/items", tok.Token, nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("revoked token: got %d, want 401", rec.Code)
	}
}

func TestUserBadInput(t *testing.T) {
	v := newEnv(t)
	for _, tc := range []struct {
		body    map[string]any
		mention string
	}{
		{map[string]any{"username": "newuser9", "password": "short", "role": "editor"}, "password"},
		{map[string]any{"username": "newuser9", "password": testPassword, "role": "boss"}, "role"},
		{map[string]any{"username": "newuser9", "password": testPassword, "role": "editor", "groups": []string{"nope"}}, "groups[0]"},
		{map[string]any{"username": "new user", "password": testPassword, "role": "editor"}, "username"},
	} {
		rec := v.admin("POST", "/api/v1/users", tc.body)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.mention) {
			t.Errorf("POST /users %v: got %d %s, want 400 naming %s", tc.body, rec.Code, rec.Body, tc.mention)
		}
	}
	if users, _ := v.st.ListUsers(); len(users) != 0 {
		t.Errorf("refused users were stored: %+v", users)
	}
}

func TestReviewFlowOverAPI(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	v.addUser("ed", store.RoleEditor)
	v.addUser("rev", store.RoleReviewer)
	v.addUser("rev2", store.RoleReviewer)
	ed, rev, rev2 := v.signIn("ed"), v.signIn("rev"), v.signIn("rev2")
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	before := v.pub.Version(s.screenA)

	created := must[map[string]any](t, ed.do("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "新通知", "duration_s": 8}), http.StatusCreated)
	csID, _ := created["changeset"].(string)
	if csID == "" {
		t.Fatalf("draft response names no change set: %v", created)
	}
	pl := must[map[string]any](t, ed.do("PUT", "/api/v1/playlists/"+s.playlist, map[string]any{"name": "p", "items": []string{s.item, created["id"].(string)}}), http.StatusOK)
	if pl["changeset"] != csID {
		t.Fatalf("second draft went to %v, want %s", pl["changeset"], csID)
	}
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	if got := v.pub.Version(s.screenA); got != before {
		t.Fatalf("a draft changed the screen's manifest version")
	}
	d := must[changeSetDetail](t, rev.do("GET", "/api/v1/changesets/"+csID, nil), http.StatusOK)
	if len(d.Changes) != 2 || d.Reach.Count != 2 || d.CanApprove {
		t.Fatalf("detail of an open set: %d changes, reach %d, can_approve %t; want 2, 2, false", len(d.Changes), d.Reach.Count, d.CanApprove)
	}
	if rec := rev.do("POST", "/api/v1/changesets/"+csID+"/submit", nil); rec.Code != http.StatusForbidden {
		t.Errorf("submitting someone else's set: got %d, want 403", rec.Code)
	}
	must[changeSetSummary](t, ed.do("POST", "/api/v1/changesets/"+csID+"/submit", nil), http.StatusOK)
	if rec := ed.do("POST", "/api/v1/changesets/"+csID+"/approve", nil); rec.Code != http.StatusForbidden {
		t.Errorf("editor approving: got %d, want 403", rec.Code)
	}

	// A reviewer's own set needs another reviewer.
	own := must[map[string]any](t, rev.do("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "防诈骗", "duration_s": 8}), http.StatusCreated)
	ownID := own["changeset"].(string)
	must[changeSetSummary](t, rev.do("POST", "/api/v1/changesets/"+ownID+"/submit", nil), http.StatusOK)
	rec := rev.do("POST", "/api/v1/changesets/"+ownID+"/approve", nil)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "self_approval") {
		t.Errorf("self approval: got %d %s, want 403 self_approval", rec.Code, rec.Body)
	}
	if rec := rev2.do("POST", "/api/v1/changesets/"+ownID+"/reject", map[string]any{}); rec.Code != http.StatusBadRequest {
		t.Errorf("reject without comment: got %d, want 400", rec.Code)
	}
	must[changeSetSummary](t, rev2.do("POST", "/api/v1/changesets/"+ownID+"/reject", map[string]any{"comment": "先别发"}), http.StatusOK)

	must[changeSetSummary](t, rev.do("POST", "/api/v1/changesets/"+csID+"/approve", map[string]any{"comment": "好"}), http.StatusOK)
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	if got := v.pub.Version(s.screenA); got == before {
		t.Fatal("approval did not change the screen's manifest")
	}
	m, _ := v.pub.Manifest(s.screenA)
	if !strings.Contains(string(m.JSON), "新通知") || strings.Contains(string(m.JSON), "防诈骗") {
		t.Errorf("published manifest: want the approved item and not the rejected one")
	}
	entries, err := v.st.ListAudit(store.AuditFilter{User: "rev"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(entries, func(e store.AuditEntry) bool { return strings.Contains(e.Detail, "approved") && e.Role == "reviewer" }) {
		t.Errorf("audit has no approval entry by rev: %+v", entries)
	}
}

func TestTOTPEnrolmentAndSignIn(t *testing.T) {
	now := testNow
	v := newEnv(t, func(o *Options) { o.Now = func() time.Time { return now }; o.RequireMFA = true })
	v.addUser("boss", store.RoleAdmin)
	p := v.signIn("boss")
	// Until enrolled, an admin reaches only their own account.
	if rec := p.do("GET", "/api/v1/items", nil); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "mfa_enrolment_required") {
		t.Fatalf("admin without TOTP under -require-mfa: got %d %s", rec.Code, rec.Body)
	}
	en := must[totpEnrolment](t, p.do("POST", "/api/v1/me/totp", nil), http.StatusOK)
	if !strings.HasPrefix(en.QRPNG, "data:image/png;base64,") || en.Secret == "" {
		t.Fatalf("enrolment: %+v", en)
	}
	if rec := p.do("POST", "/api/v1/me/totp/confirm", map[string]string{"code": "000000"}); rec.Code != http.StatusBadRequest {
		t.Errorf("confirm with a wrong code: got %d, want 400", rec.Code)
	}
	code, err := totp.GenerateCode(en.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if rec := p.do("POST", "/api/v1/me/totp/confirm", map[string]string{"code": code}); rec.Code != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	if rec := p.do("GET", "/api/v1/items", nil); rec.Code != http.StatusOK {
		t.Errorf("after enrolment: got %d", rec.Code)
	}
	if rec := p.do("DELETE", "/api/v1/me/totp", map[string]string{"password": testPassword}); rec.Code != http.StatusForbidden {
		t.Errorf("turning TOTP off where policy requires it: got %d, want 403", rec.Code)
	}

	creds := map[string]string{"username": "boss", "password": testPassword}
	rec := v.request("POST", "/api/v1/session", creds, nil)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "totp_required") {
		t.Fatalf("password only: got %d %s, want 401 totp_required", rec.Code, rec.Body)
	}
	now = now.Add(30 * time.Second)
	code, _ = totp.GenerateCode(en.Secret, now)
	creds["totp"] = code
	if rec := v.request("POST", "/api/v1/session", creds, nil); rec.Code != http.StatusOK {
		t.Fatalf("with the code: got %d %s", rec.Code, rec.Body)
	}
	if rec := v.request("POST", "/api/v1/session", creds, nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("the same code again: got %d, want 401 (replay)", rec.Code)
	}
	// An admin resets it for a person who lost their phone.
	if rec := v.admin("DELETE", "/api/v1/users/"+p.id+"/totp", nil); rec.Code != http.StatusNoContent {
		t.Fatalf("reset MFA: %d", rec.Code)
	}
	delete(creds, "totp")
	if rec := v.request("POST", "/api/v1/session", creds, nil); rec.Code != http.StatusOK {
		t.Errorf("after reset: got %d %s", rec.Code, rec.Body)
	}
}

func TestLastAdminCannotBeDemoted(t *testing.T) {
	v := newEnv(t)
	id := v.addUser("only", store.RoleAdmin)
	for _, body := range []map[string]any{{"role": "editor"}, {"disabled": true}} {
		if rec := v.admin("PUT", "/api/v1/users/"+id, body); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "last_admin") {
			t.Errorf("PUT %v on the last admin: got %d %s, want 409 last_admin", body, rec.Code, rec.Body)
		}
	}
	v.addUser("second", store.RoleAdmin)
	if rec := v.admin("PUT", "/api/v1/users/"+id, map[string]any{"role": "editor"}); rec.Code != http.StatusOK {
		t.Errorf("demoting one of two admins: got %d %s", rec.Code, rec.Body)
	}
}

func TestBreakGlassReadsAreAudited(t *testing.T) {
	v := newEnv(t)
	if rec := v.admin("GET", "/api/v1/items", nil); rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	got, err := v.st.ListAudit(store.AuditFilter{Action: "GET /api/v1/items"})
	if err != nil || len(got) != 1 || got[0].Via != viaBreakGlass || !strings.HasPrefix(got[0].Actor, "break-glass:") {
		t.Fatalf("audit of a break-glass read: %+v %v", got, err)
	}
}

// A reviewer limited to one street cannot approve what reaches another.
func TestScopedReviewer(t *testing.T) {
	v := newEnv(t)
	s := v.seed() // an all-screens schedule plays s.playlist on A and B
	for _, g := range []string{"street-a", "street-b"} {
		must[map[string]any](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": g, "name": g}), http.StatusCreated)
	}
	for scr, g := range map[string]string{s.screenA: "street-a", s.screenB: "street-b"} {
		if rec := v.admin("PUT", "/api/v1/screens/"+scr, map[string]any{"name": scr, "group": g}); rec.Code != http.StatusOK {
			t.Fatalf("move screen: %d %s", rec.Code, rec.Body)
		}
	}
	v.addUser("ed", store.RoleEditor)
	v.addUser("rev-a", store.RoleReviewer, "street-a")
	v.addUser("rev", store.RoleReviewer)
	ed, revA, rev := v.signIn("ed"), v.signIn("rev-a"), v.signIn("rev")
	res := must[map[string]any](t, ed.do("PUT", "/api/v1/items/"+s.item, map[string]any{"kind": "psa", "title": "改过", "asset": s.sha, "duration_s": 8}), http.StatusOK)
	cs := res["changeset"].(string)
	must[changeSetSummary](t, ed.do("POST", "/api/v1/changesets/"+cs+"/submit", nil), http.StatusOK)
	if d := must[changeSetDetail](t, revA.do("GET", "/api/v1/changesets/"+cs, nil), http.StatusOK); d.CanApprove {
		t.Error("can_approve for a reviewer whose scope the set exceeds")
	}
	if rec := revA.do("POST", "/api/v1/changesets/"+cs+"/approve", nil); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "out_of_scope") {
		t.Errorf("scoped reviewer approving beyond their street: got %d %s, want 403 out_of_scope", rec.Code, rec.Body)
	}
	must[changeSetSummary](t, rev.do("POST", "/api/v1/changesets/"+cs+"/approve", nil), http.StatusOK)
	entries, _ := v.st.ListAudit(store.AuditFilter{Object: s.item})
	if len(entries) == 0 || entries[0].Before == "" || entries[0].After == "" {
		t.Errorf("audit of the item edit: %+v, want before and after hashes", entries)
	}
}
