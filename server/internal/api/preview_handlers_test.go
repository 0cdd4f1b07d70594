package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/screenpage"
	"kiosk/server/internal/store"
)

type warned struct {
	ID       string               `json:"id"`
	Warnings []screenpage.Warning `json:"warnings"`
}

func codes(ws []screenpage.Warning) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code+"/"+w.Orientation)
	}
	return strings.Join(out, ",")
}

// TestItemWarnings: item writes answer the fit estimator's warnings and
// save anyway; a short item has none.
func TestItemWarnings(t *testing.T) {
	v := newEnv(t)
	ok := must[warned](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "社区卫生服务站周六照常开放", "body": "请携带医保卡。"}), 201)
	if ok.ID == "" || ok.Warnings == nil || len(ok.Warnings) != 0 {
		t.Errorf("short item: id %q warnings %v, want saved with an empty list", ok.ID, ok.Warnings)
	}
	long := strings.Repeat("关于进一步加强辖区居民小区消防安全管理的通知", 9)
	got := must[warned](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": long, "body": "请注意。"}), 201)
	if got.ID == "" || !strings.Contains(codes(got.Warnings), "title_below_floor/landscape") || !strings.Contains(codes(got.Warnings), "title_below_floor/portrait") {
		t.Errorf("200-character title: id %q warnings %s, want saved with title_below_floor on both panels", got.ID, codes(got.Warnings))
	}
	for _, w := range got.Warnings {
		if w.Field != "title" || w.Message == "" {
			t.Errorf("warning %+v: want field title and a message", w)
		}
	}
	body := strings.Repeat("为进一步做好辖区防汛工作，保障居民生命财产安全，街道办事处定于本月十五日至二十日开展排水设施专项检查。", 20)
	up := must[warned](t, v.admin("PUT", "/api/v1/items/"+ok.ID, map[string]any{"kind": "notice", "title": "防汛检查", "body": body, "duration_s": 10}), 200)
	if !strings.Contains(codes(up.Warnings), "body_paged/landscape") || !strings.Contains(codes(up.Warnings), "body_pages_fast/landscape") {
		t.Errorf("long body in 10 s: warnings %s, want body_paged and body_pages_fast", codes(up.Warnings))
	}
}

// TestPreviewFit: the form's live check answers both panels for the
// layout asked, or the tightest in use, and refuses a bad layout.
func TestPreviewFit(t *testing.T) {
	v := newEnv(t)
	a := must[fitAnswer](t, v.admin("POST", "/api/v1/preview/fit", map[string]any{"title": "停水通知", "body": "明天停水。"}), 200)
	if a.Layout != "full" || len(a.Fits) != 2 || a.Fits[0].Status != "ok" || a.Fits[1].Name != "portrait" || len(a.Warnings) != 0 || !a.Estimate {
		t.Errorf("short text: got %+v, want ok on both panels in full layout", a)
	}
	must[map[string]any](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "c1", "name": "阳光小区", "layout": "header_ticker"}), 201)
	a = must[fitAnswer](t, v.admin("POST", "/api/v1/preview/fit", map[string]any{"title": "停水通知"}), 200)
	if a.Layout != "header_ticker" || a.Fits[0].Layout != "header_ticker" {
		t.Errorf("with a group on header_ticker: estimated for %q, want header_ticker", a.Layout)
	}
	a = must[fitAnswer](t, v.admin("POST", "/api/v1/preview/fit", map[string]any{"title": "停水通知", "layout": "full"}), 200)
	if a.Layout != "full" {
		t.Errorf("layout asked: got %q, want full", a.Layout)
	}
	rec := v.admin("POST", "/api/v1/preview/fit", map[string]any{"title": "x", "layout": "sidebar"})
	if e := must[map[string]string](t, rec, http.StatusBadRequest); e["code"] != "invalid_field" {
		t.Errorf("bad layout: got %v, want invalid_field", e)
	}
	rec = v.admin("POST", "/api/v1/preview/fit", map[string]any{"title": "x", "colour": "red"})
	if rec.Code != http.StatusBadRequest {
		t.Errorf("unknown field: got %d, want 400", rec.Code)
	}
}

// TestTightestLayoutScansScreensAndGroups: the tightest layout is found on
// a screen deep in a list of thousands, and on a group.
func TestTightestLayoutScansScreensAndGroups(t *testing.T) {
	v := newEnv(t)
	h := v.h
	scrs := manyScreens(t, v.st, 3000, func(i int) string { return fmt.Sprintf("屏%04d", i) })
	if got := h.tightestLayout(); got != playlists.LayoutFull {
		t.Fatalf("no layout chosen anywhere: %q, want full", got)
	}
	last := scrs[len(scrs)-1]
	last.Layout = playlists.LayoutHeader
	if _, err := v.st.UpdateScreen(last.ID, last); err != nil {
		t.Fatal(err)
	}
	if got := h.tightestLayout(); got != playlists.LayoutHeader {
		t.Fatalf("one screen on header: %q", got)
	}
	if _, err := v.st.CreateGroup(playlists.Group{ID: "ticker-street", Name: "滚动条街道", Layout: playlists.LayoutHeaderTicker}); err != nil {
		t.Fatal(err)
	}
	if got := h.tightestLayout(); got != playlists.LayoutHeaderTicker {
		t.Fatalf("a group on header_ticker: %q", got)
	}
}

// BenchmarkTightestLayout10k: what every item save pays to find the
// tightest layout at 10,000 screens when none chose one (the whole list
// is read).
func BenchmarkTightestLayout10k(b *testing.B) {
	now := func() time.Time { return testNow }
	st, err := store.Open(b.TempDir(), now)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	h, _ := build(Options{Store: st, Hub: &fakeHub{}, AdminToken: adminToken, MaxUploadBytes: 4096, Now: now, Metrics: prometheus.NewRegistry()})
	manyScreens(b, st, 10000, func(i int) string { return fmt.Sprintf("屏%05d", i) })
	b.ReportAllocs()
	for b.Loop() {
		if h.tightestLayout() != playlists.LayoutFull {
			b.Fatal("want full")
		}
	}
}
