package display

import (
	"slices"
	"testing"

	"kiosk/playlists"
)

// TestShowEventLayout: the show event carries the manifest's layout and
// header text, and with header_ticker the titles of the notices in the
// rotation (each once, in order); safe mode takes the layout away, since
// the slate covers the whole screen.
func TestShowEventLayout(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	water := item("water", playlists.KindNotice, 10)
	water.Title = "3 号楼停水"
	story := item("story", playlists.KindLegalStory, 10)
	clinic := item("clinic", playlists.KindNotice, 10)
	clinic.Title = "社区卫生服务站周六开放"
	build := func(layout string, safe bool) *playlists.Manifest {
		m := manifest([]playlists.Item{water, story, clinic}, map[string][]string{"pl": {"water", "story", "clinic", "water"}},
			[]playlists.Schedule{schedule("s", "pl", 0, nil, nil)})
		m.Layout, m.Header = layout, "阳光小区"
		if safe {
			m.SafeMode = &playlists.SafeModeState{ID: "safe1", Since: T0}
		}
		m.Seal()
		return m
	}

	s.SetManifest(build(playlists.LayoutHeaderTicker, false))
	ev := s.snapshot()
	if ev.Layout != playlists.LayoutHeaderTicker || ev.Header != "阳光小区" {
		t.Errorf("layout %q header %q, want header_ticker and 阳光小区", ev.Layout, ev.Header)
	}
	if want := []string{"3 号楼停水", "社区卫生服务站周六开放"}; !slices.Equal(ev.Ticker, want) {
		t.Errorf("ticker %q, want the notices' titles once each %q", ev.Ticker, want)
	}

	s.SetManifest(build(playlists.LayoutHeader, false))
	if ev := s.snapshot(); ev.Layout != playlists.LayoutHeader || ev.Ticker != nil {
		t.Errorf("header only: layout %q ticker %q, want header and no ticker", ev.Layout, ev.Ticker)
	}

	s.SetManifest(build(playlists.LayoutHeaderTicker, true))
	if ev := s.snapshot(); ev.Layout != "" || ev.Header != "" || ev.Ticker != nil || !ev.SafeMode {
		t.Errorf("safe mode: layout %q header %q ticker %q safe %v, want no layout on the slate", ev.Layout, ev.Header, ev.Ticker, ev.SafeMode)
	}
}
