package store

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

type playFixture struct {
	s                *Store
	screenA, screenB string
	itemX, itemY     string
}

// newPlayFixture: screen A in group "east" (东街道), screen B in no group,
// items X (反诈宣传) and Y (法律故事).
func newPlayFixture(t *testing.T) playFixture {
	t.Helper()
	s := openTest(t)
	if _, err := s.CreateGroup(playlists.Group{ID: "east", Name: "东街道"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(playlists.Group{ID: "west", Name: "西街道"}); err != nil {
		t.Fatal(err)
	}
	a, _, err := s.CreateScreen(Screen{Name: "一号屏", Group: "east"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.CreateScreen(Screen{Name: "二号屏"})
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.CreateItem(playlists.Item{Kind: playlists.KindPSA, Title: "反诈宣传", DurationS: 10})
	if err != nil {
		t.Fatal(err)
	}
	y, err := s.CreateItem(playlists.Item{Kind: playlists.KindLegalStory, Title: "法律故事", DurationS: 10})
	if err != nil {
		t.Fatal(err)
	}
	return playFixture{s: s, screenA: a.ID, screenB: b.ID, itemX: x.ID, itemY: y.ID}
}

func pl(id, item string, start time.Time, d time.Duration) playlists.Play {
	return playlists.Play{ID: id, Item: item, Playlist: "p", Schedule: "s", Start: start.UnixMilli(), DurationMS: d.Milliseconds()}
}

func TestIngestPlaysDedup(t *testing.T) {
	f := newPlayFixture(t)
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	b1 := playlists.PlayBatch{BatchID: "b1", Plays: []playlists.Play{
		pl("p1", f.itemX, t0, 10*time.Second),
		pl("p2", f.itemY, t0.Add(10*time.Second), 10*time.Second),
		pl("p2", f.itemY, t0.Add(10*time.Second), 10*time.Second), // repeated inside a batch
	}}
	steps := []struct {
		name   string
		screen string
		batch  playlists.PlayBatch
		want   IngestResult
	}{
		{"new batch", f.screenA, b1, IngestResult{Accepted: 2}},
		{"same batch again", f.screenA, b1, IngestResult{Duplicate: true}},
		{"new batch, one play already stored", f.screenA, playlists.PlayBatch{BatchID: "b2", Plays: []playlists.Play{
			pl("p2", f.itemY, t0.Add(10*time.Second), 10*time.Second),
			pl("p3", f.itemX, t0.Add(20*time.Second), 5*time.Second),
		}}, IngestResult{Accepted: 1}},
		// Ids are per screen: B may use the same batch and play ids as A.
		{"other screen, same ids", f.screenB, b1, IngestResult{Accepted: 2}},
	}
	for _, st := range steps {
		got, err := f.s.IngestPlays(st.screen, st.batch)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Fatalf("%s: got %+v, want %+v", st.name, got, st.want)
		}
	}
	if _, err := f.s.IngestPlays("scr_missing", playlists.PlayBatch{BatchID: "x"}); err == nil {
		t.Fatal("ingest for an unknown screen: got nil error, want not found")
	}

	all, err := f.s.ListPlays(t0.Add(-time.Hour), t0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("stored %d plays, want 5: %+v", len(all), all)
	}
	first := all[0]
	want := StoredPlay{Play: pl("p1", f.itemX, t0, 10*time.Second), Screen: f.screenA, Group: "east"}
	if first.Screen == f.screenB {
		want.Screen, want.Group = f.screenB, ""
	}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("first stored play = %+v, want %+v", first, want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Start < all[i-1].Start {
			t.Fatalf("ListPlays not in start order: %d before %d", all[i-1].Start, all[i].Start)
		}
	}
}

func TestPlayReport(t *testing.T) {
	f := newPlayFixture(t)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	// 23:59:30 and 00:00:30 Shanghai time straddle a day boundary that is
	// not a UTC day boundary.
	late := time.Date(2026, 3, 1, 23, 59, 30, 0, sh)
	early := time.Date(2026, 3, 2, 0, 0, 30, 0, sh)
	ingest := func(screen, batch string, plays ...playlists.Play) {
		t.Helper()
		if _, err := f.s.IngestPlays(screen, playlists.PlayBatch{BatchID: batch, Plays: plays}); err != nil {
			t.Fatal(err)
		}
	}
	ingest(f.screenA, "a1",
		pl("a-1", f.itemX, late, 10*time.Second),
		pl("a-2", f.itemY, late.Add(10*time.Second), 10*time.Second),
		pl("a-3", f.itemX, early, 2500*time.Millisecond))
	ingest(f.screenB, "b1",
		pl("b-1", f.itemX, early, 10*time.Second),
		playlists.Play{ID: "b-2", Item: "urg_gone", Urgent: true, Start: early.Add(time.Minute).UnixMilli(), DurationMS: 30000})
	// Moving A to another group later does not move its past plays.
	sc, err := f.s.GetScreen(f.screenA)
	if err != nil {
		t.Fatal(err)
	}
	sc.Group = "west"
	if _, err := f.s.UpdateScreen(f.screenA, sc); err != nil {
		t.Fatal(err)
	}
	ingest(f.screenA, "a2", pl("a-4", f.itemY, early.Add(2*time.Minute), time.Second))
	// Outside the range: must not count.
	ingest(f.screenB, "b2", pl("b-3", f.itemX, late.Add(-time.Hour), time.Second), pl("b-4", f.itemX, early.Add(time.Hour), time.Second))

	from, to := late.Add(-time.Minute), early.Add(time.Hour) // to is exclusive
	x, y := f.itemX, f.itemY
	// Item and screen keys are random ids, so their order is worked out.
	sortRows := func(rows []ReportRow) []ReportRow {
		slices.SortFunc(rows, func(a, b ReportRow) int { return strings.Compare(a.Key, b.Key) })
		return rows
	}
	cases := []struct {
		groupBy string
		want    []ReportRow
	}{
		{GroupByItem, sortRows([]ReportRow{
			{x, "反诈宣传", 3, 22.5, "", ""},
			{y, "法律故事", 2, 11, "", ""},
			{"urg_gone", "urg_gone", 1, 30, "", ""},
		})},
		{GroupByScreen, sortRows([]ReportRow{
			{f.screenA, "一号屏", 4, 23.5, "", ""},
			{f.screenB, "二号屏", 2, 40, "", ""},
		})},
		{GroupByGroup, []ReportRow{
			{"", "(no group)", 2, 40, "", ""},
			{"east", "东街道", 3, 22.5, "", ""},
			{"west", "西街道", 1, 1, "", ""},
		}},
		{GroupByDay, []ReportRow{
			{"2026-03-01", "2026-03-01", 2, 20, "", ""},
			{"2026-03-02", "2026-03-02", 4, 43.5, "", ""},
		}},
		// The urgent notice counts as urgent although it is gone.
		{GroupByKind, []ReportRow{
			{"legal_story", "legal_story", 2, 11, "", ""},
			{"psa", "psa", 3, 22.5, "", ""},
			{"urgent", "urgent", 1, 30, "", ""},
		}},
		{GroupByScreenDay, sortRows([]ReportRow{
			{"2026-03-01/" + f.screenA, "一号屏", 2, 20, f.screenA, "2026-03-01"},
			{"2026-03-02/" + f.screenA, "一号屏", 2, 3.5, f.screenA, "2026-03-02"},
			{"2026-03-02/" + f.screenB, "二号屏", 2, 40, f.screenB, "2026-03-02"},
		})},
	}
	for _, chunk := range []int{50_000, 2} {
		reportChunk = chunk
		for _, c := range cases {
			got, err := f.s.PlayReport(ReportQuery{From: from, To: to, GroupBy: c.groupBy, Loc: sh})
			if err != nil {
				t.Fatalf("group_by %s: %v", c.groupBy, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("group_by %s (chunk %d):\n got %+v\nwant %+v", c.groupBy, chunk, got, c.want)
			}
		}
	}
	reportChunk = 50_000

	// Filters: one screen, one group (as it was at play time).
	for _, c := range []struct {
		q    ReportQuery
		want int64
	}{
		{ReportQuery{Screen: f.screenA}, 4},
		{ReportQuery{Screen: f.screenB}, 2},
		{ReportQuery{Group: "east"}, 3},
		{ReportQuery{Group: "west", Screen: f.screenB}, 0},
	} {
		c.q.From, c.q.To, c.q.GroupBy = from, to, GroupByScreen
		rows, err := f.s.PlayReport(c.q)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, r := range rows {
			n += r.Plays
		}
		if n != c.want {
			t.Errorf("report with screen %q group %q counted %d plays, want %d", c.q.Screen, c.q.Group, n, c.want)
		}
	}

	// The same plays by UTC day: all on 2026-03-01 UTC.
	got, err := f.s.PlayReport(ReportQuery{From: from, To: to, GroupBy: GroupByDay, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "2026-03-01" || got[0].Plays != 6 {
		t.Fatalf("by UTC day = %+v, want one row 2026-03-01 with 6 plays", got)
	}
	if _, err := f.s.PlayReport(ReportQuery{From: from, To: to, GroupBy: "week"}); err == nil {
		t.Fatal("group_by week: got nil error, want one")
	}
}

// TestPlayReportScale measures ingest and a report over many plays; run
// with -v to see the numbers. Kept small enough for every test run.
func TestPlayReportScale(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test skipped in -short mode")
	}
	f := newPlayFixture(t)
	const screens, perScreen = 20, 2500
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	began := time.Now()
	for sc := range screens {
		screen := f.screenA
		if sc%2 == 1 {
			screen = f.screenB
		}
		for b := 0; b < perScreen/playlists.MaxPlaysPerBatch; b++ {
			batch := playlists.PlayBatch{BatchID: fmt.Sprintf("s%d-b%d", sc, b)}
			for i := range playlists.MaxPlaysPerBatch {
				n := b*playlists.MaxPlaysPerBatch + i
				item := f.itemX
				if n%3 == 0 {
					item = f.itemY
				}
				batch.Plays = append(batch.Plays, pl(fmt.Sprintf("s%d-%d", sc, n), item, t0.Add(time.Duration(n)*10*time.Second), 10*time.Second))
			}
			if _, err := f.s.IngestPlays(screen, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := screens * perScreen
	ingest := time.Since(began)
	began = time.Now()
	rows, err := f.s.PlayReport(ReportQuery{From: t0, To: t0.AddDate(0, 0, 30), GroupBy: GroupByDay, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	report := time.Since(began)
	var n int64
	for _, r := range rows {
		n += r.Plays
	}
	if n != int64(total) {
		t.Fatalf("report counted %d plays, want %d", n, total)
	}
	t.Logf("%d plays: ingest %v (%.0f plays/s), report by day %v (%.0f plays/s)",
		total, ingest, float64(total)/ingest.Seconds(), report, float64(total)/report.Seconds())
}

func TestPrunePlays(t *testing.T) {
	f := newPlayFixture(t)
	old := pruneChunk
	pruneChunk = 3 // several transactions for a handful of plays
	t.Cleanup(func() { pruneChunk = old })

	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	var plays []playlists.Play
	for i := range 10 {
		plays = append(plays, pl(fmt.Sprintf("p%d", i), f.itemX, t0.Add(time.Duration(i)*24*time.Hour), 10*time.Second))
	}
	if _, err := f.s.IngestPlays(f.screenA, playlists.PlayBatch{BatchID: "b1", Plays: plays}); err != nil {
		t.Fatal(err)
	}
	cutoff := t0.Add(7 * 24 * time.Hour) // keeps days 7, 8, 9
	n, err := f.s.PrunePlays(cutoff)
	if err != nil || n != 7 {
		t.Fatalf("PrunePlays = %d, %v; want 7, nil", n, err)
	}
	left, err := f.s.ListPlays(t0.Add(-time.Hour), t0.Add(30*24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range left {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"p7", "p8", "p9"}) {
		t.Fatalf("plays left after prune: %v, want [p7 p8 p9]", ids)
	}
	// The dedup entries of kept plays stay: re-sending them adds nothing.
	res, err := f.s.IngestPlays(f.screenA, playlists.PlayBatch{BatchID: "b2", Plays: plays[7:]})
	if err != nil || res.Accepted != 0 {
		t.Fatalf("re-sending kept plays: %+v, %v; want 0 accepted", res, err)
	}
	// Nothing more to prune at the same cutoff.
	if n, err := f.s.PrunePlays(cutoff); err != nil || n != 0 {
		t.Fatalf("second PrunePlays = %d, %v; want 0, nil", n, err)
	}
}

func TestIngestSkipsPlaysFarInTheFuture(t *testing.T) {
	f := newPlayFixture(t) // the store's clock is testNow
	res, err := f.s.IngestPlays(f.screenA, playlists.PlayBatch{BatchID: "b1", Plays: []playlists.Play{
		pl("now", f.itemX, testNow, 10*time.Second),
		pl("tomorrow", f.itemX, testNow.Add(23*time.Hour), 10*time.Second),
		pl("next-year", f.itemX, testNow.AddDate(1, 0, 0), 10*time.Second),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Skipped != 1 {
		t.Fatalf("IngestPlays = %+v, want 2 accepted and 1 skipped", res)
	}
	all, err := f.s.ListPlays(testNow.Add(-time.Hour), testNow.AddDate(2, 0, 0), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("stored %d plays, want 2 (the one a year ahead skipped)", len(all))
	}
}

// TestPruneBatchesInChunks: batch records older than BatchRetention go,
// newer ones stay, however the chunks fall; a batch re-sent after its
// record went still adds no play twice.
func TestPruneBatchesInChunks(t *testing.T) {
	f := newPlayFixture(t) // the store's clock is testNow
	old := pruneChunk
	pruneChunk = 3
	t.Cleanup(func() { pruneChunk = old })
	var oldIDs, newIDs []string
	for i := range 11 {
		id := fmt.Sprintf("b%02d", i)
		at := testNow.Add(-time.Duration(i) * 24 * time.Hour * 5) // every 5 days back: b00..b06 within 30 days
		f.s.now = func() time.Time { return at }
		if _, err := f.s.IngestPlays(f.screenA, playlists.PlayBatch{BatchID: id, Plays: []playlists.Play{pl("p"+id, f.itemX, at.Add(-time.Minute), 10*time.Second)}}); err != nil {
			t.Fatal(err)
		}
		if testNow.Sub(at) <= BatchRetention { // a record exactly as old as the retention stays
			newIDs = append(newIDs, id)
		} else {
			oldIDs = append(oldIDs, id)
		}
	}
	f.s.now = func() time.Time { return testNow }
	if _, err := f.s.PrunePlays(testNow.AddDate(-2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	var left []string
	f.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPlayBatches).ForEach(func(k, _ []byte) error {
			left = append(left, string(k[bytes.IndexByte(k, 0)+1:]))
			return nil
		})
	})
	if !slices.Equal(left, newIDs) {
		t.Errorf("batch records left %v, want the %d within %s: %v (old: %v)", left, len(newIDs), BatchRetention, newIDs, oldIDs)
	}
	// The plays themselves are younger than the play cutoff: a re-sent old
	// batch is refused by the play ids.
	res, err := f.s.IngestPlays(f.screenA, playlists.PlayBatch{BatchID: oldIDs[0], Plays: []playlists.Play{pl("p"+oldIDs[0], f.itemX, testNow.Add(-35*24*time.Hour), 10*time.Second)}})
	if err != nil || res.Accepted != 0 || res.Duplicate {
		t.Errorf("re-sent old batch: %+v, %v; want a new batch record with nothing accepted", res, err)
	}
}
