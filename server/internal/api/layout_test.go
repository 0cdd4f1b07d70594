package api

import (
	"net/http"
	"strings"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// TestLayoutOnScreensAndGroups: groups and screens take a layout, a bad
// one is refused with a field error, a PUT without the field keeps it, and
// the screen's manifest carries the layout resolved up the group chain
// with its compound's name for the header.
func TestLayoutOnScreensAndGroups(t *testing.T) {
	v := newEnv(t)
	s := v.seed()

	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "street", "name": "新华街道", "layout": "header_ticker"}), 201)
	c1 := must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "c1", "name": "阳光小区", "parent": "street"}), 201)
	if c1.Layout != "" {
		t.Errorf("group without a layout: got %q, want empty (inherit)", c1.Layout)
	}
	rec := v.admin("POST", "/api/v1/groups", map[string]any{"id": "c2", "name": "x", "layout": "sidebar"})
	if e := must[map[string]string](t, rec, http.StatusBadRequest); e["code"] != "invalid_field" || !strings.HasPrefix(e["error"], "layout:") {
		t.Errorf("bad group layout: got %v, want a refusal naming the field layout", e)
	}
	rec = v.admin("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A", "layout": "banner"})
	if e := must[map[string]string](t, rec, http.StatusBadRequest); e["code"] != "invalid_field" || !strings.HasPrefix(e["error"], "layout:") {
		t.Errorf("bad screen layout: got %v, want a refusal naming the field layout", e)
	}

	// Screen A sits in the compound and inherits the street's layout.
	scr := must[store.Screen](t, v.admin("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A", "group": "c1"}), 200)
	if scr.Layout != "" {
		t.Errorf("screen layout: got %q, want empty (inherit)", scr.Layout)
	}
	manifest := func(token string) playlists.Manifest {
		t.Helper()
		if err := v.pub.Publish(); err != nil {
			t.Fatal(err)
		}
		return must[playlists.Manifest](t, v.do("GET", "/api/v1/device/manifest", token, nil), 200)
	}
	if m := manifest(s.tokenA); m.Layout != playlists.LayoutHeaderTicker || m.Header != "阳光小区" {
		t.Errorf("inherited: manifest layout %q header %q, want header_ticker and 阳光小区", m.Layout, m.Header)
	}
	if m := manifest(s.tokenB); m.Layout != "" || m.Header != "" {
		t.Errorf("screen B has no group: manifest layout %q header %q, want full screen (omitted)", m.Layout, m.Header)
	}

	// The compound chooses the header only; then the screen its own.
	g := must[playlists.Group](t, v.admin("PUT", "/api/v1/groups/c1", map[string]any{"name": "阳光小区", "parent": "street", "layout": "header"}), 200)
	if g.Layout != "header" {
		t.Errorf("PUT group layout: got %q, want header", g.Layout)
	}
	if m := manifest(s.tokenA); m.Layout != playlists.LayoutHeader {
		t.Errorf("compound's layout: manifest layout %q, want header", m.Layout)
	}
	must[store.Screen](t, v.admin("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A", "group": "c1", "layout": "full"}), 200)
	if m := manifest(s.tokenA); m.Layout != "" {
		t.Errorf("screen's own full: manifest layout %q, want omitted", m.Layout)
	}
	// A PUT that leaves layout out (a form that does not show it) keeps it.
	scr = must[store.Screen](t, v.admin("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A renamed", "group": "c1"}), 200)
	if scr.Layout != "full" {
		t.Errorf("PUT without layout: got %q, want full kept", scr.Layout)
	}
	g = must[playlists.Group](t, v.admin("PUT", "/api/v1/groups/c1", map[string]any{"name": "阳光小区", "parent": "street"}), 200)
	if g.Layout != "header" {
		t.Errorf("group PUT without layout: got %q, want header kept", g.Layout)
	}
	if got := must[store.Screen](t, v.admin("GET", "/api/v1/screens/"+s.screenA, nil), 200); got.Layout != "full" {
		t.Errorf("GET screen: layout %q, want full", got.Layout)
	}
	// A screen that inherits says what it inherits.
	must[store.Screen](t, v.admin("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A", "group": "c1", "layout": ""}), 200)
	eff := must[map[string]any](t, v.admin("GET", "/api/v1/screens/"+s.screenA, nil), 200)
	if eff["layout_effective"] != "header" || eff["layout"] != nil {
		t.Errorf("GET screen inheriting: layout %v layout_effective %v, want none and header (the compound's)", eff["layout"], eff["layout_effective"])
	}
	// Created with a layout.
	type tok struct {
		ID string `json:"id"`
	}
	created := must[tok](t, v.admin("POST", "/api/v1/screens", map[string]any{"name": "C", "layout": "header"}), 201)
	if got := must[store.Screen](t, v.admin("GET", "/api/v1/screens/"+created.ID, nil), 200); got.Layout != "header" {
		t.Errorf("created screen: layout %q, want header", got.Layout)
	}
}
