package playlists

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	shaA = strings.Repeat("a", 64)
	shaB = strings.Repeat("b", 64)
)

// testCatalog is a small district: a street (华阳路) with two compounds, a
// monthly law for everyone, anti-fraud evenings for elderly-tagged screens,
// a notice for one screen, and some rows that point at nothing.
func testCatalog(now time.Time) Catalog {
	past := now.Add(-time.Hour)
	future := now.Add(48 * time.Hour)
	return Catalog{
		Schedules: []Schedule{
			{ID: "law-month", Playlist: "law", Target: Target{All: true}, Priority: 10, CreatedAt: now},
			{ID: "street-traffic", Playlist: "traffic", Target: Target{Groups: []string{"huayang-rd"}}, Cron: "0 7 * * 1-5", DurationS: 7200},
			{ID: "fraud-elderly", Playlist: "fraud", Target: Target{Tags: []string{"elderly"}}, Cron: "0 18 * * *", DurationS: 7200},
			{ID: "water-cut", Playlist: "water", Target: Target{Screens: []string{"scr-b"}}, To: &future},
			{ID: "ended", Playlist: "law", Target: Target{All: true}, To: &past},
			{ID: "ends-now", Playlist: "law", Target: Target{All: true}, To: &now},
			{ID: "dangling", Playlist: "no-such-playlist", Target: Target{All: true}},
		},
		Playlists: map[string]Playlist{
			"law":     {ID: "law", Name: "每月一法", Items: []string{"i-law", "i-gone"}, UpdatedAt: now},
			"traffic": {ID: "traffic", Name: "交通安全", Items: []string{"i-traffic", "i-law"}},
			"fraud":   {ID: "fraud", Name: "反诈", Items: []string{"i-fraud", "i-no-asset"}},
			"water":   {ID: "water", Name: "停水", Items: []string{"i-water"}},
			"unused":  {ID: "unused", Name: "unused", Items: []string{"i-unused"}},
		},
		Items: map[string]Item{
			"i-law":      {ID: "i-law", Kind: KindLegalStory, Title: "民法典第一千零三十二条", DurationS: 15, Asset: shaA, CreatedAt: now},
			"i-traffic":  {ID: "i-traffic", Kind: KindPSA, Title: "礼让行人", DurationS: 10},
			"i-fraud":    {ID: "i-fraud", Kind: KindPSA, Title: "谨防电信诈骗", DurationS: 10, Asset: shaB},
			"i-no-asset": {ID: "i-no-asset", Kind: KindPSA, Title: "missing media", DurationS: 10, Asset: strings.Repeat("c", 64)},
			"i-water":    {ID: "i-water", Kind: KindNotice, Title: "3号楼明日停水", DurationS: 20},
			"i-unused":   {ID: "i-unused", Kind: KindNotice, Title: "unused", DurationS: 20},
		},
		Assets: map[string]AssetRef{
			shaA: {SHA256: shaA, Size: 100, MIME: "image/png"},
			shaB: {SHA256: shaB, Size: 200, MIME: "video/mp4"},
		},
	}
}

var (
	screenA = ScreenContext{ID: "scr-a", Groups: []string{"cuiyuan", "huayang-rd"}, Tags: []string{"elderly"}}
	screenB = ScreenContext{ID: "scr-b", Groups: []string{"jinxiu", "huayang-rd"}, Timezone: "America/New_York"}
	screenC = ScreenContext{ID: "scr-c", Groups: []string{"elsewhere"}}
)

func scheduleIDs(m Manifest) []string {
	var ids []string
	for _, s := range m.Schedules {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestBuildManifestTargets(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	c := testCatalog(now)
	tests := []struct {
		name      string
		screen    ScreenContext
		schedules []string
		playlists []string
		items     []string
		assets    []string
		tz        string
	}{
		{"compound screen with elderly tag", screenA,
			[]string{"fraud-elderly", "law-month", "street-traffic"},
			[]string{"fraud", "law", "traffic"},
			[]string{"i-fraud", "i-law", "i-traffic"},
			[]string{shaA, shaB}, DefaultTimezone},
		{"other compound, named screen", screenB,
			[]string{"law-month", "street-traffic", "water-cut"},
			[]string{"law", "traffic", "water"},
			[]string{"i-law", "i-traffic", "i-water"},
			[]string{shaA}, "America/New_York"},
		{"outside the street", screenC,
			[]string{"law-month"},
			[]string{"law"},
			[]string{"i-law"},
			[]string{shaA}, DefaultTimezone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := BuildManifest(tc.screen, c, now)
			if got := scheduleIDs(m); !slices.Equal(got, tc.schedules) {
				t.Errorf("schedules = %v, want %v", got, tc.schedules)
			}
			var pls, items, assets []string
			for _, p := range m.Playlists {
				pls = append(pls, p.ID)
			}
			for _, it := range m.Items {
				items = append(items, it.ID)
			}
			for _, a := range m.Assets {
				assets = append(assets, a.SHA256)
			}
			if !slices.Equal(pls, tc.playlists) {
				t.Errorf("playlists = %v, want %v", pls, tc.playlists)
			}
			if !slices.Equal(items, tc.items) {
				t.Errorf("items = %v, want %v", items, tc.items)
			}
			if !slices.Equal(assets, tc.assets) {
				t.Errorf("assets = %v, want %v", assets, tc.assets)
			}
			if m.Timezone != tc.tz {
				t.Errorf("timezone = %q, want %q", m.Timezone, tc.tz)
			}
			if m.Version == "" || m.Version != m.ComputeVersion() {
				t.Errorf("version = %q, want the sealed %q", m.Version, m.ComputeVersion())
			}
		})
	}
}

func TestBuildManifestLeavesOutDanglingRefs(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	m := BuildManifest(screenA, testCatalog(now), now)
	law, ok := m.Playlist("law")
	if !ok {
		t.Fatalf("playlist law missing from %v", m.Playlists)
	}
	if want := []string{"i-law"}; !slices.Equal(law.Items, want) {
		t.Errorf("law items = %v, want %v (unknown item dropped)", law.Items, want)
	}
	fraud, _ := m.Playlist("fraud")
	if want := []string{"i-fraud"}; !slices.Equal(fraud.Items, want) {
		t.Errorf("fraud items = %v, want %v (item with missing asset dropped)", fraud.Items, want)
	}
	if slices.Contains(scheduleIDs(m), "dangling") {
		t.Errorf("schedule with unknown playlist kept: %v", scheduleIDs(m))
	}
	for _, id := range []string{"ended", "ends-now"} {
		if slices.Contains(scheduleIDs(m), id) {
			t.Errorf("schedule %s that ended by %v kept: %v", id, now, scheduleIDs(m))
		}
	}
	for _, it := range m.Items {
		if !it.CreatedAt.IsZero() || !it.UpdatedAt.IsZero() {
			t.Errorf("item %s keeps timestamps %v/%v; they would churn the version", it.ID, it.CreatedAt, it.UpdatedAt)
		}
	}
	for _, s := range m.Schedules {
		if !s.CreatedAt.IsZero() {
			t.Errorf("schedule %s keeps CreatedAt %v", s.ID, s.CreatedAt)
		}
	}
	if _, ok := m.Item("i-gone"); ok {
		t.Errorf("Item(i-gone) found, want absent")
	}
	if a, ok := m.Asset(shaB); !ok || a.Size != 200 {
		t.Errorf("Asset(shaB) = %+v, %v; want size 200", a, ok)
	}
}

func TestManifestVersionStable(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	withGroups := func(groups ...string) Catalog {
		c := testCatalog(now)
		for j := range c.Schedules {
			if c.Schedules[j].ID == "street-traffic" {
				c.Schedules[j].Target.Groups = groups
			}
		}
		return c
	}
	want := BuildManifest(screenA, withGroups("huayang-rd", "jinxiu"), now)
	if again := BuildManifest(screenA, withGroups("huayang-rd", "jinxiu"), now); again.Version != want.Version {
		t.Fatalf("same input, versions %s and %s", again.Version, want.Version)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		// Equal targets written in another order, or with repeats, are the
		// same target.
		groups := []string{"huayang-rd", "jinxiu", "huayang-rd"}
		rng.Shuffle(len(groups), func(a, b int) { groups[a], groups[b] = groups[b], groups[a] })
		c := withGroups(groups...)
		rng.Shuffle(len(c.Schedules), func(a, b int) { c.Schedules[a], c.Schedules[b] = c.Schedules[b], c.Schedules[a] })
		// Timestamps that do not change what plays do not change the version.
		for id, it := range c.Items {
			it.UpdatedAt = now.Add(time.Duration(i) * time.Minute)
			c.Items[id] = it
		}
		got := BuildManifest(screenA, c, now.Add(time.Duration(i)*time.Second))
		if got.Version != want.Version {
			t.Errorf("shuffle %d (schedules %v, groups %v): version %s, want %s", i, scheduleIDs(got), groups, got.Version, want.Version)
		}
	}
}

func TestManifestVersionChangesWithContent(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	base := BuildManifest(screenA, testCatalog(now), now)
	edits := map[string]func(*Catalog){
		"item title": func(c *Catalog) {
			it := c.Items["i-law"]
			it.Title = "民法典第一千零三十三条"
			c.Items["i-law"] = it
		},
		"playlist order": func(c *Catalog) {
			p := c.Playlists["traffic"]
			p.Items = []string{"i-law", "i-traffic"}
			c.Playlists["traffic"] = p
		},
		"schedule priority": func(c *Catalog) { c.Schedules[0].Priority = 11 },
		"schedule cron":     func(c *Catalog) { c.Schedules[1].Cron = "0 8 * * 1-5" },
		"asset size":        func(c *Catalog) { c.Assets[shaA] = AssetRef{SHA256: shaA, Size: 101, MIME: "image/png"} },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			c := testCatalog(now)
			edit(&c)
			if got := BuildManifest(screenA, c, now); got.Version == base.Version {
				t.Errorf("version %s unchanged after changing the %s", got.Version, name)
			}
		})
	}
	if other := BuildManifest(ScreenContext{ID: "scr-a", Groups: screenA.Groups, Tags: screenA.Tags, Timezone: "Europe/Berlin"}, testCatalog(now), now); other.Version == base.Version {
		t.Errorf("version %s unchanged after changing the time zone", other.Version)
	}
}

func TestManifestVersionSurvivesJSON(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	for _, sc := range []ScreenContext{screenA, screenB, screenC} {
		c := testCatalog(now)
		// Windows written in local time must hash the same once they come
		// back from JSON as UTC.
		loc := mustLoc(t, "Asia/Shanghai")
		from := time.Date(2025, 3, 1, 0, 0, 0, 0, loc)
		c.Schedules[0].From = &from
		m := BuildManifest(sc, c, now)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var back Manifest
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got := back.ComputeVersion(); got != m.Version || back.Version != m.Version {
			t.Errorf("%s: after a JSON round trip ComputeVersion = %s and Version = %s, want %s", sc.ID, got, back.Version, m.Version)
		}
		if !reflectEqualResolutions(m.Resolve(now), back.Resolve(now)) {
			t.Errorf("%s: decoded manifest resolves differently", sc.ID)
		}
	}
}

func reflectEqualResolutions(a, b Resolution) bool {
	return sameAnswer(a, b) && a.Until.Equal(b.Until)
}

func TestVerifyManifestBytes(t *testing.T) {
	m := Manifest{Timezone: DefaultTimezone, Schedules: []Schedule{}, Playlists: []Playlist{}, Items: []Item{{ID: "a", Kind: KindPSA, Title: "反诈", DurationS: 5}}, Assets: []AssetRef{}}
	m.Seal()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyManifest(body)
	if err != nil || v != m.Version {
		t.Fatalf("VerifyManifest(served bytes) = %q, %v; want %q, nil", v, err, m.Version)
	}
	// A field this code does not know still verifies: the check is on bytes.
	canonical := append(bytes.TrimSuffix(bytes.Replace(body, []byte(m.Version), nil, 1), []byte("}")), `,"urgent_v9":[{"id":"u1"}]}`...)
	sum := sha256.Sum256(canonical)
	newer := bytes.Replace(canonical, []byte(`{"version":""`), []byte(`{"version":"`+hex.EncodeToString(sum[:])+`"`), 1)
	if _, err := VerifyManifest(newer); err != nil {
		t.Fatalf("VerifyManifest(manifest with an unknown field) = %v, want nil", err)
	}
	for name, bad := range map[string][]byte{
		"flipped byte":  bytes.Replace(body, []byte("反诈"), []byte("反炸"), 1),
		"no version":    []byte(`{"timezone":"UTC"}`),
		"short version": []byte(`{"version":"abc","timezone":"UTC"}`),
		"empty":         nil,
	} {
		if _, err := VerifyManifest(bad); !errors.Is(err, ErrManifestMismatch) {
			t.Errorf("VerifyManifest(%s) = %v, want ErrManifestMismatch", name, err)
		}
	}
}
