package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

type errorJSON struct {
	Error  string `json:"error"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Min    string `json:"min"`
	Limit  string `json:"limit"`
}

// TestErrorBodiesCarryCodeAndField walks refusals of every kind the API
// gives and checks each body has an English error and a code, and field
// errors name the field (with a stable reason for the common problems),
// so the admin page can word each in its own language.
func TestErrorBodiesCarryCodeAndField(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	v.addUser("ed", store.RoleEditor)
	ed := v.signIn("ed")
	long := strings.Repeat("长", 201)
	cases := []struct {
		name                string
		rec                 func() *http.Response
		status              int
		code, field, reason string
		limit               int
	}{
		{"no credentials", func() *http.Response { return v.do("GET", "/api/v1/screens", "", nil).Result() }, 401, "unauthorized", "", "", 0},
		{"bad token", func() *http.Response { return v.do("GET", "/api/v1/screens", "nope", nil).Result() }, 401, "", "", "", 0},
		{"no such object", func() *http.Response { return v.admin("GET", "/api/v1/items/itm-nope", nil).Result() }, 404, "not_found", "", "", 0},
		{"no such route", func() *http.Response { return v.admin("GET", "/api/v1/nothing-here", nil).Result() }, 404, "not_found", "", "", 0},
		{"not JSON", func() *http.Response { return v.admin("POST", "/api/v1/items", "{").Result() }, 400, "", "", "", 0},
		{"unknown field", func() *http.Response {
			return v.admin("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "x", "colour": 1}).Result()
		}, 400, "invalid_field", "colour", "", 0},
		{"title required", func() *http.Response {
			return v.admin("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": " "}).Result()
		}, 400, "invalid_field", "title", "required", 0},
		{"title too long", func() *http.Response {
			return v.admin("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": long}).Result()
		}, 400, "invalid_field", "title", "too_long", 200},
		{"duration out of range", func() *http.Response {
			return v.admin("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "x", "duration_s": -5}).Result()
		}, 400, "invalid_field", "duration_s", "out_of_range", 3600},
		{"unknown asset", func() *http.Response {
			return v.admin("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "x", "asset": strings.Repeat("a", 64)}).Result()
		}, 400, "invalid_field", "asset", "unknown_reference", 0},
		{"bad kind", func() *http.Response {
			return v.admin("POST", "/api/v1/items", map[string]any{"kind": "ad", "title": "x"}).Result()
		}, 400, "invalid_field", "kind", "invalid_format", 0},
		{"token name too long (built by hand)", func() *http.Response {
			return ed.do("POST", "/api/v1/me/tokens", map[string]any{"name": long, "role": "viewer"}).Result()
		}, 400, "invalid_field", "name", "too_long", 200},
		{"urgent without expiry", func() *http.Response {
			return v.admin("POST", "/api/v1/urgent", map[string]any{"title": "x", "target": map[string]any{"all": true}}).Result()
		}, 400, "invalid_field", "expires_at", "required", 0},
		{"forbidden role", func() *http.Response { return ed.do("GET", "/api/v1/users", nil).Result() }, 403, "forbidden", "", "", 0},
		{"csrf", func() *http.Response {
			return v.request("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "x"}, func(r *http.Request) {
				r.AddCookie(ed.cookie)
				r.Header.Set(csrfHeader, "stale")
			}).Result()
		}, 403, "csrf", "", "", 0},
		{"conflict", func() *http.Response {
			return v.admin("POST", "/api/v1/groups", map[string]any{"id": "g1", "name": "g"}).Result()
		}, 0, "", "", "", 0},
		{"delete item in use", func() *http.Response { return v.admin("DELETE", "/api/v1/items/"+s.item, nil).Result() }, 0, "", "", "", 0},
	}
	for _, c := range cases {
		resp := c.rec()
		if c.status != 0 && resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
		if resp.StatusCode < 400 {
			continue // a setup step (the group the conflict case needs)
		}
		var body errorJSON
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Errorf("%s: body is not JSON: %v", c.name, err)
			continue
		}
		if body.Error == "" || body.Code == "" {
			t.Errorf("%s: body %+v lacks error or code", c.name, body)
		}
		if c.code != "" && body.Code != c.code {
			t.Errorf("%s: code %q, want %q (%s)", c.name, body.Code, c.code, body.Error)
		}
		if body.Code == "invalid_field" && c.field != "" && body.Field == "" {
			t.Errorf("%s: field error without field: %+v", c.name, body)
		}
		if body.Field != c.field {
			t.Errorf("%s: field %q, want %q", c.name, body.Field, c.field)
		}
		if body.Reason != c.reason {
			t.Errorf("%s: reason %q, want %q (%s)", c.name, body.Reason, c.reason, body.Error)
		}
		if c.limit != 0 && body.Limit != strconv.Itoa(c.limit) {
			t.Errorf("%s: limit %v, want %d", c.name, body.Limit, c.limit)
		}
	}
	// The same group again is a conflict with its own code.
	rec := v.admin("POST", "/api/v1/groups", map[string]any{"id": "g1", "name": "g"})
	if rec.Code != http.StatusConflict {
		t.Fatalf("second group g1: %d %s", rec.Code, rec.Body)
	}
	var body errorJSON
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if body.Code != "group_exists" || body.Error == "" {
		t.Errorf("conflict body: %+v", body)
	}
}

// TestFieldReasonFromWording: FieldErrors built by hand get the reason
// their shared wording states, with the limits.
func TestFieldReasonFromWording(t *testing.T) {
	for _, c := range []struct {
		problem, reason string
		min, limit      int
	}{
		{"is required (what the token is for)", "required", 0, 0},
		{`playlist "x" does not exist`, "unknown_reference", 0, 0},
		{"is 300 characters, at most 200 allowed", "too_long", 0, 200},
		{"must be between 1 and 86400 seconds", "out_of_range", 1, 86400},
		{"must be between 0 and 86400000 (24 h) (got -1)", "out_of_range", 0, 86400000},
		{"must be a base64 Ed25519 public key", "", 0, 0},
	} {
		fe := withReason(playlists.FieldError{Field: "f", Problem: c.problem})
		if fe.Reason != c.reason || fe.Min != c.min || fe.Limit != c.limit {
			t.Errorf("%q: got %q %d..%d, want %q %d..%d", c.problem, fe.Reason, fe.Min, fe.Limit, c.reason, c.min, c.limit)
		}
	}
	// A constructor's reason stands.
	if fe := withReason(playlists.InvalidFormat("kind", "is required to be one of a, b")); fe.Reason != "invalid_format" {
		t.Errorf("constructor's reason replaced: %+v", fe)
	}
}
