package api

import (
	"net/http"
	"strings"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/signing"
)

// TestNewTokensCarryTheServerKey: creating a screen and rotating its
// token answer the manifest key to pin with -server-key, the one the
// manifests are signed with; without a signer there is none to give.
func TestNewTokensCarryTheServerKey(t *testing.T) {
	signer, err := signing.Open(t.TempDir(), &serials{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := playlists.EncodeKey(signer.Public())
	type answer struct {
		ID        string `json:"id"`
		Token     string `json:"token"`
		ServerKey string `json:"server_key"`
	}
	v := newEnv(t, func(o *Options) { o.Signer = signer })
	c := must[answer](t, v.admin("POST", "/api/v1/screens", map[string]any{"name": "大堂"}), http.StatusCreated)
	if c.Token == "" || c.ServerKey != want {
		t.Errorf("POST /screens: token %q server_key %q, want a token and %q", c.Token, c.ServerKey, want)
	}
	r := must[answer](t, v.admin("POST", "/api/v1/screens/"+c.ID+"/token", nil), http.StatusOK)
	if r.Token == "" || r.Token == c.Token || r.ServerKey != want {
		t.Errorf("POST /screens/{id}/token: token %q server_key %q, want a new token and %q", r.Token, r.ServerKey, want)
	}

	plain := newEnv(t)
	rec := plain.admin("POST", "/api/v1/screens", map[string]any{"name": "大堂"})
	if rec.Code != http.StatusCreated || strings.Contains(rec.Body.String(), "server_key") {
		t.Errorf("POST /screens without a signer: %d %s, want no server_key", rec.Code, rec.Body)
	}
}

// TestGroupRefusalCodes: the page words group refusals by their codes.
func TestGroupRefusalCodes(t *testing.T) {
	v := newEnv(t)
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]string{"id": "heping", "name": "和平街道"}), http.StatusCreated)
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]string{"id": "heping-3", "name": "3 号小区", "parent": "heping"}), http.StatusCreated)
	type refusal struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	for _, tc := range []struct {
		what, method, path string
		body               any
		status             int
		code, says         string
	}{
		{"a taken id", "POST", "/api/v1/groups", map[string]string{"id": "heping", "name": "又一个"}, http.StatusConflict, "group_exists", "already exists"},
		{"a group with a nested group", "DELETE", "/api/v1/groups/heping", nil, http.StatusConflict, "group_in_use", `group heping-3 ("3 号小区")`},
		{"a cycle", "PUT", "/api/v1/groups/heping", map[string]string{"name": "和平街道", "parent": "heping-3"}, http.StatusBadRequest, "invalid_field", "cycle"},
		{"an unknown parent", "POST", "/api/v1/groups", map[string]string{"id": "x", "name": "x", "parent": "nowhere"}, http.StatusBadRequest, "invalid_field", "does not exist"},
		{"an unknown group", "DELETE", "/api/v1/groups/nowhere", nil, http.StatusNotFound, "not_found", "nowhere"},
	} {
		got := must[refusal](t, v.admin(tc.method, tc.path, tc.body), tc.status)
		if got.Code != tc.code || !strings.Contains(got.Error, tc.says) {
			t.Errorf("%s: %+v, want code %s and an error naming %q", tc.what, got, tc.code, tc.says)
		}
	}
	// A screen in it: in use too.
	must[map[string]any](t, v.admin("POST", "/api/v1/screens", map[string]any{"name": "大堂", "group": "heping-3"}), http.StatusCreated)
	if got := must[refusal](t, v.admin("DELETE", "/api/v1/groups/heping-3", nil), http.StatusConflict); got.Code != "group_in_use" || !strings.Contains(got.Error, "screen") {
		t.Errorf("a group with a screen: %+v, want group_in_use naming the screen", got)
	}
}
