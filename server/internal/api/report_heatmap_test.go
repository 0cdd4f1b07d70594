package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/store"
)

// heatPage decodes GET /reports/heatmap; NextOffset is a pointer to tell
// an absent next_offset from 0.
type heatPage struct {
	Days        []string  `json:"days"`
	Capped      bool      `json:"capped"`
	Today       string    `json:"today"`
	Sort        string    `json:"sort"`
	Rows        []heatRow `json:"rows"`
	Total       int       `json:"total"`
	Offset      int       `json:"offset"`
	NextOffset  *int      `json:"next_offset"`
	DarkCells   int       `json:"dark_cells"`
	DarkScreens int       `json:"dark_screens"`
	MaxSeconds  float64   `json:"max_seconds"`
}

// heatFleet is a district of 10,000 screens created on testNow's day
// (2026-03-01 in Beijing): 30 of them played that day (1 to 5 plays of
// 10 s each), and one more, deleted since, played on 02-28 only.
type heatFleet struct {
	all    []store.Screen
	played map[string]int64 // screen → plays on 03-01
	gone   string
}

func newHeatFleet(t *testing.T, v *env) heatFleet {
	t.Helper()
	f := heatFleet{played: map[string]int64{}}
	must[map[string]any](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "east", "name": "东街道"}), http.StatusCreated)
	in := make([]store.Screen, 10000)
	for i := range in {
		in[i] = store.Screen{Name: pageName(i)}
		if i%1000 == 1 {
			in[i].Group = "east"
		}
	}
	all, _, err := v.st.CreateScreens(in)
	if err != nil {
		t.Fatal(err)
	}
	f.all = all
	for i := range 30 {
		s := all[i*300+1]
		n := 1 + i%5
		if _, err := v.st.IngestPlays(s.ID, goodBatch("b", "item", n)); err != nil {
			t.Fatal(err)
		}
		f.played[s.ID] = int64(n)
	}
	old, _, err := v.st.CreateScreens([]store.Screen{{Name: "拆除的屏"}})
	if err != nil {
		t.Fatal(err)
	}
	f.gone = old[0].ID
	b := goodBatch("old", "item", 2)
	for i := range b.Plays {
		b.Plays[i].Start -= (24 * time.Hour).Milliseconds()
	}
	if _, err := v.st.IngestPlays(f.gone, b); err != nil {
		t.Fatal(err)
	}
	if err := v.st.DeleteScreen(f.gone); err != nil {
		t.Fatal(err)
	}
	return f
}

// heatBase covers 02-27, 02-28 and 03-01 in Beijing; "today" is 03-01.
const heatBase = "/api/v1/reports/heatmap?from=2026-02-27T00:00:00%2B08:00&to=2026-03-02T00:00:00%2B08:00&tz=Asia%2FShanghai"

// TestHeatmapReportAPI pages the heat-map of a 10,000-screen fleet: by
// name every screen (and the deleted one) exactly once in the screens
// list's order, with the counts of all of them on every page; darkest
// first puts the deleted screen (dark two days) first and the screens
// that played last, least airtime first; search, group and screen narrow
// it; bad input is a 400 that names the field.
func TestHeatmapReportAPI(t *testing.T) {
	v := newEnv(t)
	f := newHeatFleet(t, v)
	days := []string{"2026-02-27", "2026-02-28", "2026-03-01"}
	// Screens created on 03-01: 02-27 and 02-28 are not theirs, 03-01 is
	// dark unless they played; the deleted screen (no creation day known)
	// is dark on the two days it did not play.
	const wantDarkCells = 10000 - 30 + 2
	const wantDarkScreens = 10000 - 30 + 1

	// By name, 500 a page: every row once, in order, counts on every page.
	wantOrder := append(listOrder(f.all), f.gone) // sorted below: the gone screen's name is its id
	var got []string
	offset, pages := 0, 0
	for {
		pg := must[heatPage](t, v.admin("GET", fmt.Sprintf("%s&limit=500&offset=%d", heatBase, offset), nil), http.StatusOK)
		pages++
		if pg.Total != 10001 || pg.DarkCells != wantDarkCells || pg.DarkScreens != wantDarkScreens ||
			pg.Sort != "name" || pg.Offset != offset || pg.Capped || pg.Today != "2026-03-01" || !slices.Equal(pg.Days, days) || pg.MaxSeconds != 50 {
			t.Fatalf("page at %d: total %d dark %d/%d sort %q offset %d capped %v today %s days %v max %v", offset,
				pg.Total, pg.DarkCells, pg.DarkScreens, pg.Sort, pg.Offset, pg.Capped, pg.Today, pg.Days, pg.MaxSeconds)
		}
		for _, r := range pg.Rows {
			got = append(got, r.Screen)
			if len(r.Plays) != 3 || len(r.Seconds) != 3 {
				t.Fatalf("row %s: %d plays and %d seconds for 3 days", r.Screen, len(r.Plays), len(r.Seconds))
			}
			switch n, ok := f.played[r.Screen]; {
			case r.Screen == f.gone:
				if !r.Gone || r.Name != f.gone || r.Since != "" || r.DarkDays != 2 || !slices.Equal(r.Plays, []int64{0, 2, 0}) || r.TotalSeconds != 20 {
					t.Errorf("deleted screen's row %+v, want gone, named by its id, 2 plays on 02-28, dark 2 days", r)
				}
			case ok:
				if r.Gone || r.Since != "2026-03-01" || r.DarkDays != 0 || !slices.Equal(r.Plays, []int64{0, 0, n}) ||
					!slices.Equal(r.Seconds, []float64{0, 0, float64(10 * n)}) || r.TotalPlays != n {
					t.Errorf("played screen's row %+v, want %d plays on 03-01 and no dark day", r, n)
				}
			default:
				if r.Gone || r.Since != "2026-03-01" || r.DarkDays != 1 || r.TotalPlays != 0 {
					t.Errorf("silent screen's row %+v, want dark on 03-01 only", r)
				}
			}
		}
		if pg.NextOffset == nil {
			break
		}
		offset = *pg.NextOffset
	}
	if pages != 21 {
		t.Errorf("%d pages of 500 for 10,001 rows, want 21", pages)
	}
	byName := map[string]string{f.gone: f.gone}
	for _, s := range f.all {
		byName[s.ID] = s.Name
	}
	slices.SortFunc(wantOrder, func(a, b string) int {
		return screenKey{byName[a], a}.compare(screenKey{byName[b], b})
	})
	if !slices.Equal(got, wantOrder) {
		t.Fatalf("the pages by name hold %d rows, not the %d screens in name order", len(got), len(wantOrder))
	}

	// Darkest first: the deleted screen, then the silent screens by name;
	// the last page holds the 30 that played, least airtime first.
	pg := must[heatPage](t, v.admin("GET", heatBase+"&sort=dark&limit=3", nil), http.StatusOK)
	if len(pg.Rows) != 3 || pg.Rows[0].Screen != f.gone || pg.Rows[1].DarkDays != 1 || pg.Rows[2].DarkDays != 1 ||
		byName[pg.Rows[1].Screen] > byName[pg.Rows[2].Screen] || pg.NextOffset == nil || *pg.NextOffset != 3 {
		t.Fatalf("darkest first: %+v", pg.Rows)
	}
	pg = must[heatPage](t, v.admin("GET", heatBase+"&sort=dark&limit=30&offset=9971", nil), http.StatusOK)
	if len(pg.Rows) != 30 || pg.NextOffset != nil {
		t.Fatalf("the last page of darkest first: %d rows, next %v; want the 30 that played and no next", len(pg.Rows), pg.NextOffset)
	}
	for i, r := range pg.Rows {
		if _, ok := f.played[r.Screen]; !ok || i > 0 && r.TotalSeconds < pg.Rows[i-1].TotalSeconds {
			t.Fatalf("row %d of the last page %+v: want the screens that played, least airtime first", i, r)
		}
	}
	// Past the end: no rows, the counts still there.
	pg = must[heatPage](t, v.admin("GET", heatBase+"&offset=20000", nil), http.StatusOK)
	if len(pg.Rows) != 0 || pg.Total != 10001 || pg.NextOffset != nil {
		t.Fatalf("past the end: %d rows, total %d", len(pg.Rows), pg.Total)
	}

	// Search, group, screen.
	pg = must[heatPage](t, v.admin("GET", heatBase+"&q="+url.QueryEscape("小区099 屏99"), nil), http.StatusOK)
	if pg.Total != 1 || len(pg.Rows) != 1 || pg.Rows[0].Name != "小区099 屏99" {
		t.Fatalf("search: %+v", pg.Rows)
	}
	pg = must[heatPage](t, v.admin("GET", heatBase+"&group=east", nil), http.StatusOK)
	if pg.Total != 10 {
		t.Fatalf("group east: %d rows, want its 10 screens", pg.Total)
	}
	for _, r := range pg.Rows {
		if r.Group != "east" {
			t.Fatalf("group east lists %+v", r)
		}
	}
	pg = must[heatPage](t, v.admin("GET", heatBase+"&screen="+f.all[301].ID, nil), http.StatusOK)
	if pg.Total != 1 || pg.Rows[0].Screen != f.all[301].ID || pg.Rows[0].TotalPlays != f.played[f.all[301].ID] {
		t.Fatalf("one screen: %+v", pg.Rows)
	}

	// A person limited to east sees east only, whatever they ask.
	v.addUser("east-office", store.RoleViewer, "east")
	p := v.signIn("east-office")
	pg = must[heatPage](t, p.do("GET", heatBase+"&sort=dark", nil), http.StatusOK)
	if pg.Total != 10 {
		t.Fatalf("east's office sees %d rows, want east's 10", pg.Total)
	}
	if rec := p.do("GET", heatBase+"&screen="+f.all[0].ID, nil); rec.Code != http.StatusNotFound {
		t.Errorf("east's office asking for a screen outside east: %d, want 404", rec.Code)
	}

	// A range longer than 62 days shows its last 62.
	pg = must[heatPage](t, v.admin("GET", "/api/v1/reports/heatmap?from=2025-12-01T00:00:00%2B08:00&to=2026-03-02T00:00:00%2B08:00&limit=1", nil), http.StatusOK)
	if !pg.Capped || len(pg.Days) != 62 || pg.Days[61] != "2026-03-01" || len(pg.Rows[0].Plays) != 62 {
		t.Fatalf("a 91-day range: capped %v, %d days ending %v", pg.Capped, len(pg.Days), pg.Days[len(pg.Days)-1])
	}

	for _, c := range []struct{ query, field string }{
		{"&sort=worst", "sort"},
		{"&limit=0", "limit"},
		{"&limit=501", "limit"},
		{"&offset=-1", "offset"},
		{"&offset=x", "offset"},
		{"&q=" + strings.Repeat("x", 101), "q"},
		{"&tz=Mars/Olympus", "tz"},
	} {
		// heatBase names its tz first; a second one would not be read.
		e := must[map[string]string](t, v.admin("GET", strings.Replace(heatBase, "&tz=Asia%2FShanghai", "", 1)+c.query, nil), http.StatusBadRequest)
		if !strings.Contains(e["error"], c.field) {
			t.Errorf("%s: error %q does not name %s", c.query, e["error"], c.field)
		}
	}
}

// BenchmarkHeatmapReport: 10,000 screens, 30 days, one play a day on each
// screen but every seventh day dark (about 257,000 plays). One page of the
// heat-map, by name and darkest first, against the screen × day report the
// page used to load whole (every cell of every screen, labelled).
//
//	go test -run '^$' -bench BenchmarkHeatmapReport -benchtime 20x ./server/internal/api/
func BenchmarkHeatmapReport(b *testing.B) {
	st, err := store.Open(b.TempDir(), func() time.Time { return testNow })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := func() time.Time { return testNow }
	pub := publish.New(publish.Options{Store: st, Now: now})
	devs, err := devices.New(devices.Options{Store: st, Version: pub.Version, Now: now, OfflineAfter: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	_, e := build(Options{Store: st, Devices: devs, Publisher: pub, Hub: &fakeHub{}, AdminToken: adminToken,
		MaxUploadBytes: 4096, Now: now, Metrics: prometheus.NewRegistry()})
	scrs := manyScreens(b, st, 10000, pageName)
	first := testNow.AddDate(0, 0, -29)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := range work {
				var pb playlists.PlayBatch
				pb.BatchID = "b"
				for d := range 30 {
					if (i+d)%7 == 0 {
						continue
					}
					pb.Plays = append(pb.Plays, playlists.Play{ID: fmt.Sprint(d), Item: "itm", Playlist: "pl",
						Start: first.AddDate(0, 0, d).Add(-time.Hour).UnixMilli(), DurationMS: 10000})
				}
				if _, err := st.IngestPlays(scrs[i].ID, pb); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range scrs {
		work <- i
	}
	close(work)
	wg.Wait()
	window := "from=" + url.QueryEscape(first.Add(-8*time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(testNow.Add(16*time.Hour).Format(time.RFC3339))
	for _, tc := range []struct{ name, path string }{
		{"heatmap-by-name", "/api/v1/reports/heatmap?" + window},
		{"heatmap-darkest", "/api/v1/reports/heatmap?sort=dark&" + window},
		{"screen_day-report", "/api/v1/reports/plays?group_by=screen_day&" + window},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, tc.path, nil)
				req.Header.Set("Authorization", "Bearer "+adminToken)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "body-bytes")
		})
	}
}
