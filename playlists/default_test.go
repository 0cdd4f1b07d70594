package playlists

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func TestResolveDefaultPlaylist(t *testing.T) {
	pls := map[string][]string{"morning": {"m1", "m2"}, "dflt": {"d1", "d2"}, "empty": {}}
	morning := Schedule{ID: "s-morning", Playlist: "morning", Target: Target{All: true}, Cron: "0 7 * * *", DurationS: 7200, Priority: 5}
	emptyHigh := Schedule{ID: "s-empty", Playlist: "empty", Target: Target{All: true}, Priority: 50}
	tests := []struct {
		name        string
		dflt        string
		at          string
		want        []string
		wantDefault bool
		wantUntil   string
	}{
		{"schedule wins over default", "dflt", "2025-06-03T08:00:00+08:00", []string{"m1", "m2"}, false, "2025-06-03T09:00:00+08:00"},
		{"default fills the gap", "dflt", "2025-06-03T10:00:00+08:00", []string{"d1", "d2"}, true, "2025-06-04T07:00:00+08:00"},
		{"empty high priority cannot blank the default", "dflt", "2025-06-03T06:00:00+08:00", []string{"d1", "d2"}, true, "2025-06-03T07:00:00+08:00"},
		{"no default: fallback", "", "2025-06-03T10:00:00+08:00", []string{}, false, "2025-06-04T07:00:00+08:00"},
		{"default missing from the manifest: fallback", "gone", "2025-06-03T10:00:00+08:00", []string{}, false, "2025-06-04T07:00:00+08:00"},
		{"empty default: fallback", "empty", "2025-06-03T10:00:00+08:00", []string{}, false, "2025-06-04T07:00:00+08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testManifest("Asia/Shanghai", pls, morning, emptyHigh)
			m.DefaultPlaylist = tt.dflt
			got := m.Resolve(ts(t, tt.at))
			if ids := entryIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("entries = %v, want %v (%s)", ids, tt.want, describe(got))
			}
			if got.Default != tt.wantDefault {
				t.Errorf("Default = %v, want %v", got.Default, tt.wantDefault)
			}
			if !got.Until.Equal(ts(t, tt.wantUntil)) {
				t.Errorf("Until = %v, want %s", got.Until, tt.wantUntil)
			}
			for _, e := range got.Entries {
				if tt.wantDefault && (e.Playlist != tt.dflt || e.Schedule != "") {
					t.Errorf("default entry %+v, want playlist %s and no schedule", e, tt.dflt)
				}
			}
		})
	}
}

func TestBuildManifestDefaultPlaylist(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	c := testCatalog(now)
	sc := screenC
	sc.DefaultPlaylist = "unused"
	m := BuildManifest(sc, c, now)
	if m.DefaultPlaylist != "unused" {
		t.Fatalf("DefaultPlaylist = %q, want unused", m.DefaultPlaylist)
	}
	if _, ok := m.Playlist("unused"); !ok {
		t.Errorf("default playlist not carried in the manifest")
	}
	if _, ok := m.Item("i-unused"); !ok {
		t.Errorf("default playlist's item not carried in the manifest")
	}
	sc.DefaultPlaylist = "no-such"
	if m := BuildManifest(sc, c, now); m.DefaultPlaylist != "" {
		t.Errorf("dangling default kept as %q, want it left out", m.DefaultPlaylist)
	}
}

// With a non-empty default and no always-on schedule at all, the resolver
// never returns an empty rotation, and is deterministic.
func TestResolveDefaultProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for n := range 300 {
		base := randomInstant(rng)
		m := randomManifest(rng, base)
		// Drop the always-on schedule randomManifest adds; the default
		// playlist alone must fill the gaps.
		m.Schedules = slices.DeleteFunc(m.Schedules, func(s Schedule) bool { return s.ID == "default" })
		m.DefaultPlaylist = "default"
		m.Seal()
		for range 6 {
			at := base.Add(time.Duration(rng.Int64N(int64(6*24*time.Hour))) - 3*24*time.Hour)
			got := m.Resolve(at)
			ctx := fmt.Sprintf("manifest %d (%s, %+v) at %s", n, m.Timezone, m.Schedules, at.Format(time.RFC3339))
			if len(got.Entries) == 0 {
				t.Fatalf("%s: empty rotation with a default playlist: %s", ctx, describe(got))
			}
			if got.Default != (len(got.Schedules) == 0) {
				t.Fatalf("%s: Default=%v with schedules %v", ctx, got.Default, got.Schedules)
			}
			if again := m.Resolve(at); !reflect.DeepEqual(got, again) {
				t.Fatalf("%s: not deterministic", ctx)
			}
		}
	}
}
