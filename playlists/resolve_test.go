package playlists

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// ts parses an RFC 3339 instant; tests spell offsets out so that DST cases
// say exactly which of two equal wall-clock times they mean.
func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func tp(t testing.TB, s string) *time.Time {
	v := ts(t, s)
	return &v
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// testManifest builds a sealed manifest in tz holding the schedules and the
// playlists named in pls; every item id mentioned becomes an item.
func testManifest(tz string, pls map[string][]string, scheds ...Schedule) *Manifest {
	m := &Manifest{Timezone: tz, Schedules: scheds}
	seen := map[string]bool{}
	for id, items := range pls {
		m.Playlists = append(m.Playlists, Playlist{ID: id, Name: id, Items: items})
		for _, it := range items {
			if !seen[it] {
				seen[it] = true
				m.Items = append(m.Items, Item{ID: it, Kind: KindNotice, Title: "title " + it, DurationS: 10})
			}
		}
	}
	m.Seal()
	return m
}

func entryIDs(r Resolution) []string {
	ids := make([]string, len(r.Entries))
	for i, e := range r.Entries {
		ids[i] = e.Item.ID
	}
	return ids
}

func describe(r Resolution) string {
	until := "zero"
	if !r.Until.IsZero() {
		until = r.Until.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("priority=%d schedules=%v entries=%v until=%s", r.Priority, r.Schedules, entryIDs(r), until)
}

func TestScheduleActive(t *testing.T) {
	sh := "Asia/Shanghai"
	ny := "America/New_York"
	be := "Europe/Berlin"
	tests := []struct {
		name string
		tz   string
		s    Schedule
		at   string
		want bool
	}{
		// Date windows: from inclusive, to exclusive, either side open.
		{"always on", sh, Schedule{}, "2025-03-03T00:00:00+08:00", true},
		{"at from", sh, Schedule{From: tp(t, "2025-03-01T00:00:00+08:00")}, "2025-03-01T00:00:00+08:00", true},
		{"just before from", sh, Schedule{From: tp(t, "2025-03-01T00:00:00+08:00")}, "2025-02-28T23:59:59.999999999+08:00", false},
		{"open end long after", sh, Schedule{From: tp(t, "2025-03-01T00:00:00+08:00")}, "2035-03-01T00:00:00+08:00", true},
		{"at to", sh, Schedule{To: tp(t, "2025-04-01T00:00:00+08:00")}, "2025-04-01T00:00:00+08:00", false},
		{"just before to", sh, Schedule{To: tp(t, "2025-04-01T00:00:00+08:00")}, "2025-03-31T23:59:59.999999999+08:00", true},
		{"open start long before", sh, Schedule{To: tp(t, "2025-04-01T00:00:00+08:00")}, "2015-01-01T00:00:00+08:00", true},
		{"window in another zone's terms", sh, Schedule{From: tp(t, "2025-03-01T00:00:00Z")}, "2025-03-01T07:59:59+08:00", false},

		// Weekday mornings 7:00-9:00.
		{"weekday morning open", sh, Schedule{Cron: "0 7 * * 1-5", DurationS: 7200}, "2025-03-03T07:00:00+08:00", true},
		{"weekday morning last second", sh, Schedule{Cron: "0 7 * * 1-5", DurationS: 7200}, "2025-03-03T08:59:59.999+08:00", true},
		{"weekday morning closed at 9", sh, Schedule{Cron: "0 7 * * 1-5", DurationS: 7200}, "2025-03-03T09:00:00+08:00", false},
		{"weekday morning before 7", sh, Schedule{Cron: "0 7 * * 1-5", DurationS: 7200}, "2025-03-03T06:59:59+08:00", false},
		{"weekday morning not on saturday", sh, Schedule{Cron: "0 7 * * 1-5", DurationS: 7200}, "2025-03-08T07:30:00+08:00", false},
		{"evaluated in screen zone not UTC", sh, Schedule{Cron: "0 7 * * 1-5", DurationS: 7200}, "2025-03-02T23:30:00Z", true},

		// Midnight crossing.
		{"night before midnight", sh, Schedule{Cron: "0 22 * * *", DurationS: 4 * 3600}, "2025-03-03T23:59:59+08:00", true},
		{"night after midnight", sh, Schedule{Cron: "0 22 * * *", DurationS: 4 * 3600}, "2025-03-04T01:59:59+08:00", true},
		{"night closed at 2", sh, Schedule{Cron: "0 22 * * *", DurationS: 4 * 3600}, "2025-03-04T02:00:00+08:00", false},
		{"friday night into saturday", sh, Schedule{Cron: "0 22 * * 5", DurationS: 4 * 3600}, "2025-03-08T01:00:00+08:00", true},
		{"saturday night not scheduled", sh, Schedule{Cron: "0 22 * * 5", DurationS: 4 * 3600}, "2025-03-09T01:00:00+08:00", false},

		// Month ends.
		{"31st skipped in april", sh, Schedule{Cron: "0 8 31 * *", DurationS: 3600}, "2025-04-30T08:30:00+08:00", false},
		{"31st in may", sh, Schedule{Cron: "0 8 31 * *", DurationS: 3600}, "2025-05-31T08:30:00+08:00", true},
		{"window from jan 31 into feb 1", sh, Schedule{Cron: "0 20 31 * *", DurationS: 10 * 3600}, "2025-02-01T05:59:59+08:00", true},
		{"window from jan 31 closed", sh, Schedule{Cron: "0 20 31 * *", DurationS: 10 * 3600}, "2025-02-01T06:00:00+08:00", false},
		{"feb 29 in a leap year", sh, Schedule{Cron: "0 9 29 2 *", DurationS: 3600}, "2028-02-29T09:00:00+08:00", true},
		{"never fires is never active", sh, Schedule{Cron: "0 0 30 2 *", DurationS: 3600}, "2025-03-01T00:30:00+08:00", false},

		// Descriptors.
		{"@daily open", sh, Schedule{Cron: "@daily", DurationS: 3600}, "2025-03-03T00:59:59+08:00", true},
		{"@daily closed", sh, Schedule{Cron: "@daily", DurationS: 3600}, "2025-03-03T01:00:00+08:00", false},
		{"@weekly is sunday midnight", sh, Schedule{Cron: "@weekly", DurationS: 86400}, "2025-03-09T12:00:00+08:00", true},
		{"@weekly not monday", sh, Schedule{Cron: "@weekly", DurationS: 86400}, "2025-03-10T12:00:00+08:00", false},
		{"@monthly all month", sh, Schedule{Cron: "@monthly", DurationS: MaxCronWindow}, "2025-03-07T23:59:59+08:00", true},

		// Date window clips the daypart.
		{"daypart open but before from", sh, Schedule{Cron: "0 7 * * *", DurationS: 7200, From: tp(t, "2025-03-03T08:00:00+08:00")}, "2025-03-03T07:30:00+08:00", false},
		{"daypart open at from", sh, Schedule{Cron: "0 7 * * *", DurationS: 7200, From: tp(t, "2025-03-03T08:00:00+08:00")}, "2025-03-03T08:00:00+08:00", true},
		{"daypart open but at to", sh, Schedule{Cron: "0 7 * * *", DurationS: 7200, To: tp(t, "2025-03-03T08:00:00+08:00")}, "2025-03-03T08:00:00+08:00", false},

		// Rules Validate refuses stay dark rather than guessing.
		{"bad cron", sh, Schedule{Cron: "61 * * * *", DurationS: 60}, "2025-03-03T07:00:00+08:00", false},
		{"@every refused", sh, Schedule{Cron: "@every 1m", DurationS: 60}, "2025-03-03T07:00:00+08:00", false},
		{"tz prefix refused", sh, Schedule{Cron: "CRON_TZ=UTC 0 7 * * *", DurationS: 7200}, "2025-03-03T07:30:00Z", false},
		{"zero duration", sh, Schedule{Cron: "0 7 * * *"}, "2025-03-03T07:00:00+08:00", false},
		{"duration over a week", sh, Schedule{Cron: "0 7 * * *", DurationS: MaxCronWindow + 1}, "2025-03-03T07:00:00+08:00", false},

		// New York springs forward on 2025-03-09 at 02:00 EST to 03:00 EDT.
		{"spring: skipped 02:30 fires at 03:00 EDT", ny, Schedule{Cron: "30 2 * * *", DurationS: 3600}, "2025-03-09T03:00:00-04:00", true},
		{"spring: skipped fire window is real seconds", ny, Schedule{Cron: "30 2 * * *", DurationS: 3600}, "2025-03-09T03:59:59-04:00", true},
		{"spring: skipped fire window closes", ny, Schedule{Cron: "30 2 * * *", DurationS: 3600}, "2025-03-09T04:00:00-04:00", false},
		{"spring: nothing before the jump", ny, Schedule{Cron: "30 2 * * *", DurationS: 3600}, "2025-03-09T01:59:59-05:00", false},
		{"spring: next day as usual", ny, Schedule{Cron: "30 2 * * *", DurationS: 3600}, "2025-03-10T02:30:00-04:00", true},
		{"spring: window across the jump lasts real time", ny, Schedule{Cron: "0 1 * * *", DurationS: 7200}, "2025-03-09T03:59:59-04:00", true},
		{"spring: window across the jump closes", ny, Schedule{Cron: "0 1 * * *", DurationS: 7200}, "2025-03-09T04:00:00-04:00", false},
		{"spring: skipped quarter hours collapse into one fire", ny, Schedule{Cron: "*/15 2 * * *", DurationS: 60}, "2025-03-09T03:00:59-04:00", true},
		{"spring: collapsed fire has one window", ny, Schedule{Cron: "*/15 2 * * *", DurationS: 60}, "2025-03-09T03:01:00-04:00", false},
		{"spring: 03:00 rule unaffected", ny, Schedule{Cron: "0 3 * * *", DurationS: 60}, "2025-03-09T03:00:30-04:00", true},

		// New York falls back on 2025-11-02 at 02:00 EDT to 01:00 EST.
		{"fall: first 01:30", ny, Schedule{Cron: "30 1 * * *", DurationS: 1800}, "2025-11-02T01:45:00-04:00", true},
		{"fall: between the two 01:30s", ny, Schedule{Cron: "30 1 * * *", DurationS: 1800}, "2025-11-02T01:15:00-05:00", false},
		{"fall: second 01:30", ny, Schedule{Cron: "30 1 * * *", DurationS: 1800}, "2025-11-02T01:45:00-05:00", true},
		{"fall: second window closes", ny, Schedule{Cron: "30 1 * * *", DurationS: 1800}, "2025-11-02T02:00:00-05:00", false},
		{"fall: 02:30 fires once", ny, Schedule{Cron: "30 2 * * *", DurationS: 1800}, "2025-11-02T02:45:00-05:00", true},

		// Berlin springs forward 2025-03-30 02:00 CET to 03:00 CEST and falls
		// back 2025-10-26 03:00 CEST to 02:00 CET.
		{"berlin spring: skipped 02:15 fires at 03:00", be, Schedule{Cron: "15 2 * * *", DurationS: 600}, "2025-03-30T03:09:59+02:00", true},
		{"berlin spring: closes", be, Schedule{Cron: "15 2 * * *", DurationS: 600}, "2025-03-30T03:10:00+02:00", false},
		{"berlin fall: first 02:15", be, Schedule{Cron: "15 2 * * *", DurationS: 600}, "2025-10-26T02:20:00+02:00", true},
		{"berlin fall: second 02:15", be, Schedule{Cron: "15 2 * * *", DurationS: 600}, "2025-10-26T02:20:00+01:00", true},

		// No zone named: Asia/Shanghai, which has no DST.
		{"default zone is shanghai", "", Schedule{Cron: "0 7 * * *", DurationS: 60}, "2025-03-02T23:00:30Z", true},
		{"shanghai has no gap", "", Schedule{Cron: "30 2 * * *", DurationS: 60}, "2025-03-09T02:30:30+08:00", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Manifest{Timezone: tc.tz}
			got := tc.s.Active(ts(t, tc.at), m.Location())
			if got != tc.want {
				t.Errorf("Schedule{Cron: %q, DurationS: %d}.Active(%s) in %q = %v, want %v", tc.s.Cron, tc.s.DurationS, tc.at, tc.tz, got, tc.want)
			}
		})
	}
}

func TestLocation(t *testing.T) {
	tests := []struct{ tz, want string }{
		{"", "Asia/Shanghai"},
		{"Asia/Shanghai", "Asia/Shanghai"},
		{"America/New_York", "America/New_York"},
		{"Mars/Olympus_Mons", "UTC"},
	}
	for _, tc := range tests {
		m := Manifest{Timezone: tc.tz}
		if got := m.Location().String(); got != tc.want {
			t.Errorf("Manifest{Timezone: %q}.Location() = %s, want %s", tc.tz, got, tc.want)
		}
	}
}

func TestResolvePriorities(t *testing.T) {
	pls := map[string][]string{
		"default": {"d1", "d2"},
		"law":     {"l1", "l2", "l3", "l4"},
		"fraud":   {"f1", "f2"},
		"fire":    {"x1"},
		"empty":   {},
		"ghosts":  {},
	}
	always := func(id, pl string, prio int) Schedule {
		return Schedule{ID: id, Playlist: pl, Priority: prio, Target: Target{All: true}}
	}
	at := "2025-03-03T10:00:00+08:00"
	tests := []struct {
		name          string
		scheds        []Schedule
		wantPriority  int
		wantSchedules []string
		wantEntries   []string
	}{
		{"default alone", []Schedule{always("s0", "default", 0)}, 0, []string{"s0"}, []string{"d1", "d2"}},
		{"higher priority wins", []Schedule{always("s0", "default", 0), always("s1", "law", 10)}, 10, []string{"s1"}, []string{"l1", "l2", "l3", "l4"}},
		{"equal priorities interleave", []Schedule{always("s0", "default", 0), always("a", "law", 5), always("b", "fraud", 5)},
			5, []string{"a", "b"}, []string{"l1", "f1", "l2", "f2", "l3", "l4"}},
		{"interleave order is by id not position", []Schedule{always("b", "fraud", 5), always("a", "law", 5)},
			5, []string{"a", "b"}, []string{"l1", "f1", "l2", "f2", "l3", "l4"}},
		{"three-way interleave", []Schedule{always("c", "fire", 1), always("a", "law", 1), always("b", "fraud", 1)},
			1, []string{"a", "b", "c"}, []string{"l1", "f1", "x1", "l2", "f2", "l3", "l4"}},
		{"empty winner falls through", []Schedule{always("s0", "default", 0), always("s9", "empty", 9)}, 0, []string{"s0"}, []string{"d1", "d2"}},
		{"missing playlist falls through", []Schedule{always("s0", "default", 0), always("s9", "nope", 9)}, 0, []string{"s0"}, []string{"d1", "d2"}},
		{"falls to the next level with content", []Schedule{always("s0", "default", 0), always("s5", "fraud", 5), always("s9", "empty", 9)},
			5, []string{"s5"}, []string{"f1", "f2"}},
		{"empty sibling does not dilute", []Schedule{always("a", "law", 3), always("b", "empty", 3)}, 3, []string{"a"}, []string{"l1", "l2", "l3", "l4"}},
		{"shared playlist shown once", []Schedule{always("a", "fraud", 3), always("b", "fraud", 3)}, 3, []string{"a", "b"}, []string{"f1", "f2"}},
		{"negative priority below default", []Schedule{always("neg", "law", -1), always("s0", "default", 0)}, 0, []string{"s0"}, []string{"d1", "d2"}},
		{"inactive higher priority ignored", []Schedule{always("s0", "default", 0),
			{ID: "s9", Playlist: "law", Priority: 9, Target: Target{All: true}, Cron: "0 7 * * *", DurationS: 3600}}, 0, []string{"s0"}, []string{"d1", "d2"}},
		{"nothing at all", nil, 0, []string{}, []string{}},
		{"only empty playlists", []Schedule{always("a", "empty", 0)}, 0, []string{}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := testManifest("Asia/Shanghai", pls, tc.scheds...)
			got := m.Resolve(ts(t, at))
			if got.Priority != tc.wantPriority || !slices.Equal(got.Schedules, tc.wantSchedules) || !slices.Equal(entryIDs(got), tc.wantEntries) {
				t.Errorf("Resolve = %s\nwant priority=%d schedules=%v entries=%v", describe(got), tc.wantPriority, tc.wantSchedules, tc.wantEntries)
			}
			if got.Entries == nil || got.Schedules == nil {
				t.Errorf("Resolve returned nil slices (%#v, %#v), want empty slices that encode as []", got.Schedules, got.Entries)
			}
		})
	}
}

func TestResolveEntriesCarryOrigin(t *testing.T) {
	m := testManifest("", map[string][]string{"pl": {"b", "a", "b"}},
		Schedule{ID: "s", Playlist: "pl", Target: Target{All: true}})
	got := m.Resolve(ts(t, "2025-03-03T10:00:00+08:00"))
	want := []Entry{
		{Item: Item{ID: "b", Kind: KindNotice, Title: "title b", DurationS: 10}, Playlist: "pl", Schedule: "s"},
		{Item: Item{ID: "a", Kind: KindNotice, Title: "title a", DurationS: 10}, Playlist: "pl", Schedule: "s"},
		{Item: Item{ID: "b", Kind: KindNotice, Title: "title b", DurationS: 10}, Playlist: "pl", Schedule: "s"},
	}
	if !reflect.DeepEqual(got.Entries, want) {
		t.Errorf("Entries = %+v\nwant %+v", got.Entries, want)
	}
}

func TestResolveUnsealedManifest(t *testing.T) {
	// A manifest put together by hand is not sorted; Resolve must not rely
	// on the binary search that a sealed one allows.
	m := &Manifest{
		Schedules: []Schedule{{ID: "s", Playlist: "p2", Target: Target{All: true}}},
		Playlists: []Playlist{{ID: "p2", Items: []string{"z", "a"}}, {ID: "p1", Items: []string{"a"}}},
		Items:     []Item{{ID: "z", Title: "z"}, {ID: "a", Title: "a"}},
	}
	got := m.Resolve(ts(t, "2025-03-03T10:00:00+08:00"))
	if want := []string{"z", "a"}; !slices.Equal(entryIDs(got), want) {
		t.Errorf("Resolve on unsealed manifest = %s, want entries %v", describe(got), want)
	}
}

func TestResolveMissingItemsSkipped(t *testing.T) {
	m := testManifest("", map[string][]string{"pl": {"a"}}, Schedule{ID: "s", Playlist: "pl", Target: Target{All: true}})
	m.Playlists[0].Items = []string{"gone", "a", "gone"}
	got := m.Resolve(ts(t, "2025-03-03T10:00:00+08:00"))
	if want := []string{"a"}; !slices.Equal(entryIDs(got), want) {
		t.Errorf("Resolve = %s, want entries %v", describe(got), want)
	}
}

func TestResolveUntil(t *testing.T) {
	pls := map[string][]string{"default": {"d"}, "morning": {"m"}, "night": {"n"}, "empty": {}}
	def := Schedule{ID: "def", Playlist: "default", Target: Target{All: true}}
	morning := Schedule{ID: "am", Playlist: "morning", Priority: 5, Target: Target{All: true}, Cron: "0 7 * * 1-5", DurationS: 7200}
	tests := []struct {
		name   string
		tz     string
		scheds []Schedule
		at     string
		want   string // "" = zero
		wantIn []string
	}{
		{"only an always-on default never changes", "", []Schedule{def}, "2025-03-03T06:00:00+08:00", "", []string{"d"}},
		{"before the morning window", "", []Schedule{def, morning}, "2025-03-03T06:59:59.5+08:00", "2025-03-03T07:00:00+08:00", []string{"d"}},
		{"at the opening", "", []Schedule{def, morning}, "2025-03-03T07:00:00+08:00", "2025-03-03T09:00:00+08:00", []string{"m"}},
		{"inside the window", "", []Schedule{def, morning}, "2025-03-03T08:59:59+08:00", "2025-03-03T09:00:00+08:00", []string{"m"}},
		{"at the close", "", []Schedule{def, morning}, "2025-03-03T09:00:00+08:00", "2025-03-04T07:00:00+08:00", []string{"d"}},
		{"friday close skips the weekend", "", []Schedule{def, morning}, "2025-03-07T09:00:00+08:00", "2025-03-10T07:00:00+08:00", []string{"d"}},
		{"to is exact to the nanosecond", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, To: tp(t, "2025-03-03T12:34:56.789+08:00")}},
			"2025-03-03T10:00:00+08:00", "2025-03-03T12:34:56.789+08:00", []string{"n"}},
		{"from within the horizon", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, From: tp(t, "2025-03-10T00:00:00+08:00")}},
			"2025-03-03T00:00:00+08:00", "2025-03-10T00:00:00+08:00", []string{"d"}},
		{"from beyond the horizon", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, From: tp(t, "2025-03-12T00:00:01+08:00")}},
			"2025-03-03T00:00:00+08:00", "", []string{"d"}},
		{"from inside a closed daypart waits for the opening", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 22 * * *", DurationS: 3600, From: tp(t, "2025-03-03T12:00:00+08:00")}},
			"2025-03-03T00:00:00+08:00", "2025-03-03T22:00:00+08:00", []string{"d"}},
		{"from inside an open daypart", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 22 * * *", DurationS: 3600, From: tp(t, "2025-03-03T22:30:00+08:00")}},
			"2025-03-03T22:00:00+08:00", "2025-03-03T22:30:00+08:00", []string{"d"}},
		{"to cuts an open daypart", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 22 * * *", DurationS: 3600, To: tp(t, "2025-03-03T22:30:00+08:00")}},
			"2025-03-03T22:10:00+08:00", "2025-03-03T22:30:00+08:00", []string{"n"}},
		{"midnight crossing closes next day", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 22 * * *", DurationS: 4 * 3600}},
			"2025-03-03T23:00:00+08:00", "2025-03-04T02:00:00+08:00", []string{"n"}},
		{"overlapping windows of one schedule merge", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 * * * *", DurationS: 5400, To: tp(t, "2025-03-05T00:00:00+08:00")}},
			"2025-03-03T10:00:00+08:00", "2025-03-05T00:00:00+08:00", []string{"n"}},
		{"touching windows merge", "", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 8,9 * * *", DurationS: 3600}},
			"2025-03-03T08:10:00+08:00", "2025-03-03T10:00:00+08:00", []string{"n"}},
		{"empty playlists do not mark changes", "", []Schedule{def,
			{ID: "s", Playlist: "empty", Priority: 1, Target: Target{All: true}, Cron: "0 7 * * *", DurationS: 3600}},
			"2025-03-03T06:00:00+08:00", "", []string{"d"}},
		{"lower priority toggles still mark a change", "", []Schedule{
			{ID: "top", Playlist: "default", Priority: 9, Target: Target{All: true}},
			{ID: "low", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 7 * * *", DurationS: 3600}},
			"2025-03-03T06:00:00+08:00", "2025-03-03T07:00:00+08:00", []string{"d"}},
		{"nothing now, something later", "", []Schedule{morning}, "2025-03-03T06:00:00+08:00", "2025-03-03T07:00:00+08:00", []string{}},

		{"spring: skipped fire opens at the jump", "America/New_York", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "30 2 * * *", DurationS: 3600}},
			"2025-03-09T00:00:00-05:00", "2025-03-09T03:00:00-04:00", []string{"d"}},
		{"spring: and closes a real hour later", "America/New_York", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "30 2 * * *", DurationS: 3600}},
			"2025-03-09T03:00:00-04:00", "2025-03-09T04:00:00-04:00", []string{"n"}},
		{"spring: collapsed fires close once", "America/New_York", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "*/15 2 * * *", DurationS: 60}},
			"2025-03-09T03:00:00-04:00", "2025-03-09T03:01:00-04:00", []string{"n"}},
		{"spring: then the next day", "America/New_York", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "*/15 2 * * *", DurationS: 60}},
			"2025-03-09T03:01:00-04:00", "2025-03-10T02:00:00-04:00", []string{"d"}},
		{"spring: window across the jump", "America/New_York", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 1 * * *", DurationS: 7200}},
			"2025-03-09T01:00:00-05:00", "2025-03-09T04:00:00-04:00", []string{"n"}},
		{"fall: the two windows of a repeated hour merge", "America/New_York", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "0 1 * * *", DurationS: 7200}},
			"2025-11-02T01:00:00-04:00", "2025-11-02T03:00:00-05:00", []string{"n"}},
		{"fall: short windows open twice", "America/New_York", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "30 1 * * *", DurationS: 1800}},
			"2025-11-02T01:00:00-05:00", "2025-11-02T01:30:00-05:00", []string{"d"}},
		{"fall: first short window closes at the repeat", "America/New_York", []Schedule{def,
			{ID: "s", Playlist: "night", Priority: 1, Target: Target{All: true}, Cron: "30 1 * * *", DurationS: 1800}},
			"2025-11-02T01:40:00-04:00", "2025-11-02T01:00:00-05:00", []string{"n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := testManifest(tc.tz, pls, tc.scheds...)
			got := m.Resolve(ts(t, tc.at))
			var want time.Time
			if tc.want != "" {
				want = ts(t, tc.want)
			}
			if !got.Until.Equal(want) {
				t.Errorf("Resolve(%s).Until = %v, want %v (%s)", tc.at, got.Until, want, describe(got))
			}
			if !slices.Equal(entryIDs(got), tc.wantIn) {
				t.Errorf("Resolve(%s) entries = %v, want %v", tc.at, entryIDs(got), tc.wantIn)
			}
			if !got.Until.IsZero() && got.Until.Location() != m.Location() {
				t.Errorf("Until is in %v, want the manifest's zone %v", got.Until.Location(), m.Location())
			}
		})
	}
}

// TestResolveWalksADay follows Until through a day, as the player does, and
// checks every switch happens at the expected instant with the expected
// rotation.
func TestResolveWalksADay(t *testing.T) {
	pls := map[string][]string{"default": {"d"}, "traffic": {"t1", "t2"}, "law": {"l"}, "fraud": {"f"}}
	m := testManifest("Asia/Shanghai", pls,
		Schedule{ID: "default", Playlist: "default", Target: Target{All: true}},
		Schedule{ID: "law-month", Playlist: "law", Priority: 10, Target: Target{All: true},
			From: tp(t, "2025-03-03T12:00:00+08:00"), To: tp(t, "2025-04-01T00:00:00+08:00")},
		Schedule{ID: "traffic-am", Playlist: "traffic", Priority: 10, Target: Target{All: true}, Cron: "0 7 * * 1-5", DurationS: 7200},
		Schedule{ID: "fraud-pm", Playlist: "fraud", Priority: 20, Target: Target{All: true}, Cron: "30 18 * * *", DurationS: 5400},
	)
	type step struct {
		at      string
		entries []string
	}
	want := []step{
		{"2025-03-03T00:00:00+08:00", []string{"d"}},
		{"2025-03-03T07:00:00+08:00", []string{"t1", "t2"}},
		{"2025-03-03T09:00:00+08:00", []string{"d"}},
		{"2025-03-03T12:00:00+08:00", []string{"l"}},
		{"2025-03-03T18:30:00+08:00", []string{"f"}},
		{"2025-03-03T20:00:00+08:00", []string{"l"}},
		{"2025-03-04T07:00:00+08:00", []string{"l", "t1", "t2"}},
	}
	now := ts(t, want[0].at)
	for i, w := range want {
		if !now.Equal(ts(t, w.at)) {
			t.Fatalf("step %d: walked to %v, want %s", i, now, w.at)
		}
		r := m.Resolve(now)
		if !slices.Equal(entryIDs(r), w.entries) {
			t.Errorf("step %d at %s: entries %v, want %v", i, w.at, entryIDs(r), w.entries)
		}
		now = r.Until
	}
}

func TestResolveConcurrent(t *testing.T) {
	// The caches are shared by the player's display and sync goroutines.
	m := testManifest("America/New_York", map[string][]string{"a": {"1"}, "b": {"2"}},
		Schedule{ID: "a", Playlist: "a", Target: Target{All: true}},
		Schedule{ID: "b", Playlist: "b", Priority: 1, Target: Target{All: true}, Cron: "*/7 9-17 * * 1-5", DurationS: 120})
	base := ts(t, "2025-03-03T09:00:00-05:00")
	want := make([]Resolution, 50)
	for i := range want {
		want[i] = m.Resolve(base.Add(time.Duration(i) * 97 * time.Second))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := range want {
				got := m.Resolve(base.Add(time.Duration(i) * 97 * time.Second))
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("concurrent Resolve #%d = %s, want %s", i, describe(got), describe(want[i]))
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestScheduleNextChange(t *testing.T) {
	loc := mustLoc(t, "Asia/Shanghai")
	s := Schedule{Cron: "0 7 * * 1-5", DurationS: 7200}
	tests := []struct{ at, want string }{
		{"2025-03-03T06:00:00+08:00", "2025-03-03T07:00:00+08:00"},
		{"2025-03-03T07:00:00+08:00", "2025-03-03T09:00:00+08:00"},
		{"2025-03-07T10:00:00+08:00", "2025-03-10T07:00:00+08:00"},
	}
	for _, tc := range tests {
		if got := s.NextChange(ts(t, tc.at), loc); !got.Equal(ts(t, tc.want)) {
			t.Errorf("NextChange(%s) = %v, want %s", tc.at, got, tc.want)
		}
	}
	if got := (Schedule{}).NextChange(ts(t, "2025-03-03T06:00:00+08:00"), loc); !got.IsZero() {
		t.Errorf("NextChange of an always-on schedule = %v, want zero", got)
	}
}

func BenchmarkResolve(b *testing.B) {
	m := testManifest("America/New_York", map[string][]string{"a": {"1", "2"}, "b": {"3"}, "c": {"4"}},
		Schedule{ID: "a", Playlist: "a", Target: Target{All: true}},
		Schedule{ID: "b", Playlist: "b", Priority: 1, Target: Target{All: true}, Cron: "0 7 * * 1-5", DurationS: 7200},
		Schedule{ID: "c", Playlist: "c", Priority: 1, Target: Target{All: true}, Cron: "30 18 * * *", DurationS: 5400})
	t0 := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
	for i := 0; b.Loop(); i++ {
		m.Resolve(t0.Add(time.Duration(i%10000) * time.Minute))
	}
}

func BenchmarkResolveDenseCron(b *testing.B) {
	// Worst case for Until: a window reopening every minute for a week.
	m := testManifest("Asia/Shanghai", map[string][]string{"a": {"1"}},
		Schedule{ID: "a", Playlist: "a", Target: Target{All: true}, Cron: "* * * * *", DurationS: MaxCronWindow})
	t0 := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
	for b.Loop() {
		m.Resolve(t0)
	}
}
