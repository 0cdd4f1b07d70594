package api

import (
	"net/http"
	"strings"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

func TestWebhookHandlers(t *testing.T) {
	v := newEnv(t)
	const secret = "0123456789abcdef-secret"
	bad := []struct {
		body any
		want string // in the error
	}{
		{map[string]any{"url": "ftp://example.org/x", "secret": secret}, "url"},
		{map[string]any{"url": "example.org/x", "secret": secret}, "url"},
		{map[string]any{"url": "http://", "secret": secret}, "url"},
		{map[string]any{"url": "https://user:pw@example.org/", "secret": secret}, "credentials"},
		{map[string]any{"url": "https://example.org/", "secret": "   "}, "secret"}, // none at all: the server makes one
		{map[string]any{"url": "https://example.org/", "secret": "short"}, "at least 16"},
		{map[string]any{"url": "https://example.org/", "secret": secret, "extra": 1}, "extra"},
		{`{"url": 5}`, "url"},
	}
	for _, tc := range bad {
		rec := v.admin(http.MethodPost, "/api/v1/webhooks", tc.body)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("POST /webhooks %v: got %d %s, want 400 mentioning %q", tc.body, rec.Code, rec.Body, tc.want)
		}
	}
	created := must[map[string]any](t, v.admin(http.MethodPost, "/api/v1/webhooks", map[string]any{"url": "https://alerts.example.org/kiosk", "secret": secret}), http.StatusCreated)
	id, _ := created["id"].(string)
	if id == "" || created["secret"] != nil || created["url"] != "https://alerts.example.org/kiosk" {
		t.Errorf("created webhook: got %v, want id and url, no secret", created)
	}
	list := must[[]map[string]any](t, v.admin(http.MethodGet, "/api/v1/webhooks", nil), http.StatusOK)
	if len(list) != 1 || list[0]["secret"] != nil || strings.Contains(v.admin(http.MethodGet, "/api/v1/webhooks", nil).Body.String(), secret) {
		t.Errorf("GET /webhooks: got %v, want one webhook and the secret nowhere", list)
	}
	if rec := v.do(http.MethodGet, "/api/v1/webhooks", "", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /webhooks without a token: got %d, want 401", rec.Code)
	}
	if rec := v.admin(http.MethodDelete, "/api/v1/webhooks/"+id, nil); rec.Code != http.StatusNoContent {
		t.Errorf("DELETE /webhooks/%s: got %d %s, want 204", id, rec.Code, rec.Body)
	}
	if rec := v.admin(http.MethodDelete, "/api/v1/webhooks/"+id, nil); rec.Code != http.StatusNotFound {
		t.Errorf("DELETE /webhooks/%s twice: got %d, want 404", id, rec.Code)
	}
}

func TestAlertsAndHistoryHandlers(t *testing.T) {
	v := newEnv(t)
	scr, _, err := v.st.CreateScreen(store.Screen{Name: "东门"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"offline", "recovered", "degraded"} {
		if _, err := v.st.AddAlert(store.Alert{Kind: k}); err != nil {
			t.Fatal(err)
		}
	}
	as := must[[]store.Alert](t, v.admin(http.MethodGet, "/api/v1/alerts?limit=2", nil), http.StatusOK)
	if len(as) != 2 || as[0].Kind != "degraded" || as[1].Kind != "recovered" {
		t.Errorf("GET /alerts?limit=2: got %+v, want [degraded recovered]", as)
	}
	for _, q := range []string{"0", "-1", "x", "100000"} {
		if rec := v.admin(http.MethodGet, "/api/v1/alerts?limit="+q, nil); rec.Code != http.StatusBadRequest {
			t.Errorf("GET /alerts?limit=%s: got %d, want 400", q, rec.Code)
		}
	}

	v.devs.SetToken(scr.ID, "tok") // as createScreen does
	v.devs.Hello(scr.ID, playlists.Hello{})
	hist := must[[]store.Transition](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/history", nil), http.StatusOK)
	if len(hist) != 1 || hist[0].To != "online" {
		t.Errorf("history right after connecting: got %+v, want the →online transition (flushed on read)", hist)
	}
	if rec := v.admin(http.MethodGet, "/api/v1/screens/scr_nope/history", nil); rec.Code != http.StatusNotFound {
		t.Errorf("history of an unknown screen: got %d, want 404", rec.Code)
	}
	if rec := v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/history?since=yesterday", nil); rec.Code != http.StatusBadRequest {
		t.Errorf("history?since=yesterday: got %d, want 400", rec.Code)
	}
	got := must[map[string]any](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID, nil), http.StatusOK)
	if got["state"] != "online" || got["state_since"] == nil {
		t.Errorf("GET /screens/{id}: state %v since %v, want online with a since", got["state"], got["state_since"])
	}
}

func TestFleetAndScreenFilters(t *testing.T) {
	v := newEnv(t)
	for _, g := range []playlists.Group{{ID: "street", Name: "街道"}, {ID: "c1", Name: "一区", Parent: "street"}, {ID: "c2", Name: "二区", Parent: "street"}, {ID: "other", Name: "别处"}} {
		if _, err := v.st.CreateGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name, group string) string {
		s, _, err := v.st.CreateScreen(store.Screen{Name: name, Group: group})
		if err != nil {
			t.Fatal(err)
		}
		v.devs.SetToken(s.ID, "tok-"+name)
		return s.ID
	}
	a, b := mk("a", "c1"), mk("b", "c2")
	mk("c", "other")
	mk("d", "")
	v.devs.Hello(a, playlists.Hello{})
	v.devs.Hello(b, playlists.Hello{})

	ids := func(path string) []string {
		var out []string
		page := must[struct{ Screens []struct{ ID string } }](t, v.admin(http.MethodGet, path, nil), http.StatusOK)
		for _, s := range page.Screens {
			out = append(out, s.ID)
		}
		return out
	}
	if got := ids("/api/v1/screens?group=street&state=online"); len(got) != 2 {
		t.Errorf("online in street (nested c1, c2): got %v, want 2", got)
	}
	if got := ids("/api/v1/screens?group=c1"); len(got) != 1 || got[0] != a {
		t.Errorf("group c1: got %v, want [%s]", got, a)
	}
	if got := ids("/api/v1/screens?state=offline"); len(got) != 2 {
		t.Errorf("offline: got %v, want the 2 never-connected screens", got)
	}
	if got := ids("/api/v1/screens"); len(got) != 4 {
		t.Errorf("unfiltered: got %d screens, want 4", len(got))
	}

	f := must[fleetView](t, v.admin(http.MethodGet, "/api/v1/fleet", nil), http.StatusOK)
	if f.Total != 4 || f.State["online"] != 2 || f.State["offline"] != 2 || f.State["stale"] != 0 || f.Ungrouped["offline"] != 1 {
		t.Errorf("fleet totals: got %+v", f)
	}
	want := map[string][2]int{"c1": {1, 1}, "c2": {1, 1}, "other": {1, 0}, "street": {2, 2}} // total, online
	for _, g := range f.Groups {
		if w := want[g.Group]; g.Total != w[0] || g.State["online"] != w[1] {
			t.Errorf("fleet group %s: total %d online %d, want %d and %d", g.Group, g.Total, g.State["online"], w[0], w[1])
		}
	}
	if len(f.Groups) != 4 || f.Groups[0].Group != "c1" {
		t.Errorf("fleet groups: got %+v, want 4 sorted by id", f.Groups)
	}
}
