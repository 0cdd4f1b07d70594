package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// twoStreets seeds two screens, A in street-a and B in street-b.
func twoStreets(t *testing.T, v *env) seeded {
	t.Helper()
	s := v.seed()
	for _, g := range []string{"street-a", "street-b"} {
		must[map[string]any](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": g, "name": g}), http.StatusCreated)
	}
	for scr, g := range map[string]string{s.screenA: "street-a", s.screenB: "street-b"} {
		if rec := v.admin("PUT", "/api/v1/screens/"+scr, map[string]any{"name": scr, "group": g}); rec.Code != http.StatusOK {
			t.Fatalf("move screen: %d %s", rec.Code, rec.Body)
		}
	}
	return s
}

// A reviewer limited to street-a can neither see nor lift safe mode on
// street-b.
func TestScopedReviewerCannotLiftOthersSafeMode(t *testing.T) {
	v := newEnv(t)
	s := twoStreets(t, v)
	v.addUser("rev-a", store.RoleReviewer, "street-a")
	revA := v.signIn("rev-a")
	m := must[store.SafeMode](t, v.admin("POST", "/api/v1/safe-mode", map[string]any{"target": map[string]any{"groups": []string{"street-b"}}}), http.StatusCreated)
	if rec := revA.do("GET", "/api/v1/safe-mode/"+m.ID, nil); rec.Code != http.StatusNotFound {
		t.Errorf("scoped GET of another street's safe mode: got %d, want 404", rec.Code)
	}
	if list := must[[]store.SafeMode](t, revA.do("GET", "/api/v1/safe-mode", nil), http.StatusOK); len(list) != 0 {
		t.Errorf("scoped list shows %d safe modes of another street", len(list))
	}
	if rec := revA.do("DELETE", "/api/v1/safe-mode/"+m.ID, nil); rec.Code != http.StatusNotFound {
		t.Errorf("scoped DELETE of another street's safe mode: got %d, want 404", rec.Code)
	}
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	var mb playlists.Manifest
	_ = json.Unmarshal(v.do("GET", "/api/v1/device/manifest", s.tokenB, nil).Body.Bytes(), &mb)
	if mb.SafeMode == nil {
		t.Error("street-b's screen left safe mode")
	}
}

// Safe mode must not hide a change set's reach from the scope check.
func TestScopedReviewerReachIgnoresSafeMode(t *testing.T) {
	v := newEnv(t)
	s := twoStreets(t, v)
	v.addUser("ed", store.RoleEditor)
	v.addUser("rev-a", store.RoleReviewer, "street-a")
	ed, revA := v.signIn("ed"), v.signIn("rev-a")
	res := must[map[string]any](t, ed.do("POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{"groups": []string{"street-b"}}, "priority": 5}), http.StatusCreated)
	cs := res["changeset"].(string)
	must[changeSetSummary](t, ed.do("POST", "/api/v1/changesets/"+cs+"/submit", nil), http.StatusOK)
	must[store.SafeMode](t, v.admin("POST", "/api/v1/safe-mode", map[string]any{"target": map[string]any{"groups": []string{"street-b"}}}), http.StatusCreated)
	if rec := revA.do("POST", "/api/v1/changesets/"+cs+"/approve", nil); rec.Code != http.StatusForbidden {
		t.Errorf("street-a reviewer approving a street-b schedule while street-b is in safe mode: got %d %s, want 403", rec.Code, rec.Body)
	}
}
