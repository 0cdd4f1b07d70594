package main

import (
	"bytes"
	"image/png"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"kiosk/assets"
	"kiosk/playlists"
)

// Editorial limits the demo holds itself to: legible from three metres.
const (
	maxTitleRunes = 20
	maxBodyRunes  = 90
	maxSentences  = 3
	minDurationS  = 8
	maxDurationS  = 15
	minItems      = 12
	minImageItems = 4
)

func TestDemoItemsAreValid(t *testing.T) {
	if len(demoItems) < minItems {
		t.Errorf("demo has %d items, want at least %d", len(demoItems), minItems)
	}
	keys := map[string]bool{}
	kinds := map[playlists.Kind]int{}
	images := 0
	for _, d := range demoItems {
		t.Run(d.Key, func(t *testing.T) {
			if keys[d.Key] {
				t.Errorf("key %q used twice", d.Key)
			}
			keys[d.Key] = true
			kinds[d.Kind]++
			it := playlists.Item{Kind: d.Kind, Title: d.Title, Body: d.Body, DurationS: d.DurationS}
			if d.Image != "" {
				images++
				if _, ok := illustrations[d.Image]; !ok {
					t.Errorf("image %q: no such illustration (have %v)", d.Image, illustrationNames())
				}
				// The real sha is known only after rendering; any valid one
				// checks the shape of the field.
				it.Asset = strings.Repeat("a", 64)
			}
			if err := it.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if n := utf8.RuneCountInString(d.Title); n > maxTitleRunes {
				t.Errorf("title %q is %d characters, want at most %d", d.Title, n, maxTitleRunes)
			}
			if n := utf8.RuneCountInString(d.Body); n == 0 || n > maxBodyRunes {
				t.Errorf("body is %d characters, want 1..%d", n, maxBodyRunes)
			}
			if n := sentences(d.Body); n < 1 || n > maxSentences {
				t.Errorf("body has %d sentences, want 1..%d: %q", n, maxSentences, d.Body)
			}
			if d.DurationS < minDurationS || d.DurationS > maxDurationS {
				t.Errorf("duration %d s, want %d..%d", d.DurationS, minDurationS, maxDurationS)
			}
		})
	}
	for _, k := range []playlists.Kind{playlists.KindLegalStory, playlists.KindNotice, playlists.KindPSA} {
		if kinds[k] == 0 {
			t.Errorf("no item of kind %s, want every kind represented", k)
		}
	}
	if images < minImageItems {
		t.Errorf("%d items have an image, want at least %d", images, minImageItems)
	}
}

// sentences counts sentence-ending punctuation, Chinese or English.
func sentences(s string) int {
	n := 0
	for _, r := range s {
		switch r {
		case '。', '！', '？', '.', '!', '?':
			n++
		}
	}
	return n
}

func TestDemoPlaylistsAndSchedulesAreConsistent(t *testing.T) {
	keys := map[string]bool{}
	for _, d := range demoItems {
		keys[d.Key] = true
	}
	used := map[string]bool{}
	names := map[string]bool{}
	if len(demoPlaylists) < 2 {
		t.Errorf("demo has %d playlists, want at least 2", len(demoPlaylists))
	}
	for _, pl := range demoPlaylists {
		p := playlists.Playlist{Name: pl.Name, Items: pl.Items}
		if err := p.Validate(); err != nil {
			t.Errorf("playlist %s: Validate() = %v, want nil", pl.Name, err)
		}
		if len(pl.Items) == 0 {
			t.Errorf("playlist %s is empty", pl.Name)
		}
		names[pl.Name] = true
		for _, k := range pl.Items {
			if !keys[k] {
				t.Errorf("playlist %s: item key %q is not a demo item", pl.Name, k)
			}
			used[k] = true
		}
	}
	for k := range keys {
		if !used[k] {
			t.Errorf("item %q is in no playlist, so no screen would ever show it", k)
		}
	}

	groups := map[string]bool{}
	for _, g := range demoGroups {
		if g.Parent != "" && !groups[g.Parent] {
			t.Errorf("group %s: parent %q must come earlier in demoGroups", g.ID, g.Parent)
		}
		groups[g.ID] = true
	}
	if !groups[demoScreenGroup] {
		t.Errorf("demo screen group %q is not a demo group", demoScreenGroup)
	}

	if len(demoSchedules) < 2 {
		t.Errorf("demo has %d schedules, want at least 2", len(demoSchedules))
	}
	dayparts := 0
	for i, sc := range demoSchedules {
		if !names[sc.Playlist] {
			t.Errorf("schedule %d: playlist %q is not a demo playlist", i, sc.Playlist)
		}
		s := playlists.Schedule{Playlist: sc.Playlist, Target: sc.Target, Cron: sc.Cron, DurationS: sc.DurationS, Priority: sc.Priority}
		if err := s.Validate(); err != nil {
			t.Errorf("schedule %d: Validate() = %v, want nil", i, err)
		}
		for _, g := range sc.Target.Groups {
			if !groups[g] {
				t.Errorf("schedule %d: target group %q is not a demo group", i, g)
			}
		}
		if sc.Cron != "" {
			dayparts++
		}
	}
	if dayparts == 0 {
		t.Error("no schedule has a cron daypart, want at least one")
	}
}

func TestIllustrationsArePNG(t *testing.T) {
	names := illustrationNames()
	if !slices.IsSorted(names) || len(names) != len(illustrations) {
		t.Fatalf("illustrationNames() = %v, want all %d names sorted", names, len(illustrations))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			b, err := renderIllustration(name)
			if err != nil {
				t.Fatalf("renderIllustration: %v", err)
			}
			if mime, err := assets.Sniff(b); err != nil || mime != assets.MIMEPNG {
				t.Errorf("Sniff = %q, %v; want %q, nil", mime, err, assets.MIMEPNG)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("png.Decode: %v", err)
			}
			if got := img.Bounds().Size(); got.X != imageWidth || got.Y != imageHeight {
				t.Errorf("size %v, want %dx%d", got, imageWidth, imageHeight)
			}
			// A picture that is one flat colour means a painter drew nothing.
			if c0, c1 := img.At(0, 0), img.At(imageWidth/2, imageHeight/2); c0 == c1 {
				t.Errorf("corner and centre are both %v; want a visible subject", c0)
			}
			// Deterministic: the same bytes (and so the same sha) every run,
			// which lets the server deduplicate across runs.
			again, err := renderIllustration(name)
			if err != nil {
				t.Fatalf("second renderIllustration: %v", err)
			}
			if assets.Sum(again) != assets.Sum(b) {
				t.Error("two renders differ, want identical bytes")
			}
		})
	}
	if _, err := renderIllustration("no-such-picture"); err == nil {
		t.Error("renderIllustration(unknown) = nil error, want an error")
	}
}

func TestNextPort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1:8080", "127.0.0.1:8081"},
		{"127.0.0.1:65535", "127.0.0.1:0"},
		{"localhost:http", "localhost:0"},
		{"nonsense", "127.0.0.1:0"},
	}
	for _, tt := range tests {
		if got := nextPort(tt.in); got != tt.want {
			t.Errorf("nextPort(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "'abc'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
