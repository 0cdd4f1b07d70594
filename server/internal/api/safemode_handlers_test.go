package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

func TestSafeModeOnAndOff(t *testing.T) {
	var announced []store.Alert
	v := newEnv(t, func(o *Options) { o.Announce = func(a store.Alert) { announced = append(announced, a) } })
	s := v.seed()
	v.addUser("rev", store.RoleReviewer)
	v.addUser("ed", store.RoleEditor)
	rev, ed := v.signIn("rev"), v.signIn("ed")
	manifest := func(token string) playlists.Manifest {
		t.Helper()
		if err := v.pub.Publish(); err != nil {
			t.Fatal(err)
		}
		var m playlists.Manifest
		if err := json.Unmarshal(v.do("GET", "/api/v1/device/manifest", token, nil).Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	before := manifest(s.tokenA)

	if rec := ed.do("POST", "/api/v1/safe-mode", map[string]any{"target": map[string]any{"all": true}}); rec.Code != http.StatusForbidden {
		t.Errorf("editor starting safe mode: got %d, want 403", rec.Code)
	}
	if rec := rev.do("POST", "/api/v1/safe-mode", map[string]any{"target": map[string]any{}}); rec.Code != http.StatusBadRequest {
		t.Errorf("empty target: got %d, want 400", rec.Code)
	}
	m := must[store.SafeMode](t, rev.do("POST", "/api/v1/safe-mode", map[string]any{"target": map[string]any{"screens": []string{s.screenA}}}), http.StatusCreated)
	if m.ID == "" || m.By != "rev" || !m.Active() {
		t.Fatalf("safe mode: %+v", m)
	}
	a := manifest(s.tokenA)
	if a.SafeMode == nil || a.SafeMode.ID != m.ID || len(a.Items) != 0 {
		t.Fatalf("screen A in safe mode: safe_mode %+v, %d items", a.SafeMode, len(a.Items))
	}
	if b := manifest(s.tokenB); b.SafeMode != nil || len(b.Items) == 0 {
		t.Errorf("screen B (not targeted) in safe mode (%+v) or lost its content (%d items)", b.SafeMode, len(b.Items))
	}
	list := must[[]store.SafeMode](t, ed.do("GET", "/api/v1/safe-mode", nil), http.StatusOK)
	if len(list) != 1 || list[0].ID != m.ID {
		t.Errorf("list: %+v", list)
	}
	if rec := rev.do("DELETE", "/api/v1/safe-mode/"+m.ID, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("lift: %d %s", rec.Code, rec.Body)
	}
	if after := manifest(s.tokenA); after.Version != before.Version {
		t.Errorf("after lifting, screen A's manifest is %s, want the one before %s", after.Version, before.Version)
	}
	if len(announced) != 2 || announced[0].Kind != "safe_mode_on" || announced[1].Kind != "safe_mode_off" {
		t.Errorf("webhook events: %+v", announced)
	}
	entries, _ := v.st.ListAudit(store.AuditFilter{Object: m.ID})
	if len(entries) != 2 || !strings.Contains(entries[1].Detail, "safe mode on") {
		t.Errorf("audit: %+v", entries)
	}
}
