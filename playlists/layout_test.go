package playlists

import (
	"errors"
	"testing"
	"time"
)

func TestResolveLayout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		own    string
		groups []string
		want   string
	}{
		{"nothing set is full screen", "", nil, LayoutFull},
		{"groups that inherit are full screen", "", []string{"", ""}, LayoutFull},
		{"own layout wins", LayoutHeader, []string{LayoutHeaderTicker}, LayoutHeader},
		{"own full beats a group's header", LayoutFull, []string{LayoutHeader}, LayoutFull},
		{"the compound's layout", "", []string{LayoutHeaderTicker, LayoutHeader}, LayoutHeaderTicker},
		{"the street's layout when the compound inherits", "", []string{"", LayoutHeader}, LayoutHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ResolveLayout(tc.own, tc.groups...); got != tc.want {
				t.Errorf("ResolveLayout(%q, %q) = %q, want %q", tc.own, tc.groups, got, tc.want)
			}
		})
	}
}

func TestCheckLayout(t *testing.T) {
	for _, l := range Layouts {
		if err := CheckLayout(l); err != nil {
			t.Errorf("CheckLayout(%q) = %v, want nil", l, err)
		}
	}
	err := CheckLayout("sidebar")
	var fe FieldError
	if !errors.As(err, &fe) || fe.Field != "layout" {
		t.Errorf("CheckLayout(sidebar) = %v, want a FieldError on layout", err)
	}
}

// TestManifestCarriesLayout: a header layout and its text ride in the
// manifest (and so in its version); full screen adds nothing, so manifests
// of screens that never chose a layout keep their versions.
func TestManifestCarriesLayout(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := Catalog{Playlists: map[string]Playlist{}, Items: map[string]Item{}, Assets: map[string]AssetRef{}}
	full := BuildManifest(ScreenContext{ID: "s", Layout: LayoutFull, Header: "阳光小区"}, c, now)
	plain := BuildManifest(ScreenContext{ID: "s"}, c, now)
	if full.Layout != "" || full.Header != "" || full.Version != plain.Version {
		t.Errorf("full screen: layout %q header %q version %s, want nothing added and version %s", full.Layout, full.Header, full.Version, plain.Version)
	}
	hdr := BuildManifest(ScreenContext{ID: "s", Layout: LayoutHeaderTicker, Header: "阳光小区"}, c, now)
	if hdr.Layout != LayoutHeaderTicker || hdr.Header != "阳光小区" {
		t.Errorf("header ticker: got layout %q header %q", hdr.Layout, hdr.Header)
	}
	if hdr.Version == plain.Version || hdr.ComputeVersion() != hdr.Version {
		t.Errorf("the layout must be part of the sealed version")
	}
}
