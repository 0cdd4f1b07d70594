package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/store"
)

// listedScreen is what these tests read of a listed screen.
type listedScreen struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Group string   `json:"group"`
	Tags  []string `json:"tags"`
	State string   `json:"state"`
}

type listedPage struct {
	Screens    []listedScreen `json:"screens"`
	NextCursor *string        `json:"next_cursor"`
	Total      int            `json:"total"`
}

// pageNames gives the i-th screen of a large fleet its name: compounds of
// a hundred screens each, and a shared name every seventh screen, so the
// order needs its tie-break on the id.
func pageName(i int) string {
	if i%7 == 0 {
		return "大门"
	}
	return fmt.Sprintf("小区%03d 屏%02d", i/100, i%100)
}

// manyScreens registers n screens in one import and returns them.
func manyScreens(t testing.TB, st *store.Store, n int, name func(int) string) []store.Screen {
	t.Helper()
	in := make([]store.Screen, n)
	for i := range in {
		in[i] = store.Screen{Name: name(i)}
	}
	out, _, err := st.CreateScreens(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// listOrder sorts screens the way GET /screens pages them.
func listOrder(scrs []store.Screen) []string {
	s := slices.Clone(scrs)
	slices.SortFunc(s, func(a, b store.Screen) int {
		return screenKey{a.Name, a.ID}.compare(screenKey{b.Name, b.ID})
	})
	ids := make([]string, len(s))
	for i, x := range s {
		ids[i] = x.ID
	}
	return ids
}

// walk follows next_cursor from the first page of path (a query may
// follow) and returns every id in the order seen. between runs after each
// page but the last.
func walk(t *testing.T, get func(string) listedPage, path string, between func(page int)) (ids []string, pages int) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for {
		p := path
		if cursor != "" {
			p += sep + "cursor=" + url.QueryEscape(cursor)
		}
		pg := get(p)
		pages++
		for _, s := range pg.Screens {
			ids = append(ids, s.ID)
		}
		if pg.NextCursor == nil {
			return ids, pages
		}
		if *pg.NextCursor == "" {
			t.Fatalf("page %d: next_cursor present but empty", pages)
		}
		if pages > 20000 {
			t.Fatal("the cursor does not advance")
		}
		cursor = *pg.NextCursor
		if between != nil {
			between(pages)
		}
	}
}

func (v *env) listPage(path string) listedPage {
	v.t.Helper()
	return must[listedPage](v.t, v.admin(http.MethodGet, path, nil), http.StatusOK)
}

// Walking all pages at 10,000 screens returns every screen exactly once,
// in name-then-id order, with total on every page.
func TestScreenPagesWalkTenThousand(t *testing.T) {
	v := newEnv(t)
	all := manyScreens(t, v.st, 10000, pageName)
	want := listOrder(all)
	for _, tc := range []struct {
		query string
		pages int
	}{{"", 100}, {"?limit=500", 20}, {"?limit=333", 31}} {
		seenTotal := true
		got, pages := walk(t, func(p string) listedPage {
			pg := v.listPage(p)
			if pg.Total != 10000 {
				seenTotal = false
			}
			return pg
		}, "/api/v1/screens"+tc.query, nil)
		if pages != tc.pages {
			t.Errorf("%q: %d pages, want %d", tc.query, pages, tc.pages)
		}
		if !seenTotal {
			t.Errorf("%q: a page's total was not 10000", tc.query)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: walked %d ids, want the %d screens once each in order (first difference at %d)", tc.query, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Screens created and deleted between pages neither repeat nor push out
// the screens that stayed: each of those is seen exactly once, in order;
// a screen deleted before its page came is not listed.
func TestScreenPagesStableUnderInsertsAndDeletes(t *testing.T) {
	v := newEnv(t)
	all := manyScreens(t, v.st, 1000, pageName)
	order := listOrder(all)
	shown := map[string]int{}
	var got []string
	get := func(p string) listedPage {
		pg := v.listPage(p)
		for _, s := range pg.Screens {
			shown[s.ID]++
			got = append(got, s.ID)
		}
		return pg
	}
	deleted := map[string]bool{}
	deletedUnseen := map[string]bool{}
	added := map[string]bool{}
	walk(t, get, "/api/v1/screens?limit=100", func(page int) {
		// After each page: delete one screen already shown and one not
		// yet shown, and add screens that sort before, among and after
		// the ones left.
		for _, id := range []string{order[min(page*100-50, len(order)-1)], order[min(page*100+50, len(order)-1)]} {
			if deleted[id] {
				continue
			}
			if rec := v.admin(http.MethodDelete, "/api/v1/screens/"+id, nil); rec.Code != http.StatusNoContent {
				t.Fatalf("delete %s: %d %s", id, rec.Code, rec.Body)
			}
			deleted[id] = true
			if shown[id] == 0 {
				deletedUnseen[id] = true
			}
		}
		for _, name := range []string{"0 先", fmt.Sprintf("小区%03d 屏50b", page), "龙 后"} {
			s, _, err := v.st.CreateScreen(store.Screen{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			added[s.ID] = true
		}
	})
	if len(deletedUnseen) < 5 || len(deleted) < 10 || len(added) < 20 {
		t.Fatalf("the test changed too little: %d deleted (%d before shown), %d added", len(deleted), len(deletedUnseen), len(added))
	}
	for id, n := range shown {
		if n != 1 {
			t.Errorf("screen %s listed %d times", id, n)
		}
		if deletedUnseen[id] {
			t.Errorf("screen %s, deleted before its page, listed", id)
		}
	}
	// The screens present from start to end, in the order they came.
	var stayedWant, stayedGot []string
	for _, id := range order {
		if !deleted[id] {
			stayedWant = append(stayedWant, id)
		}
	}
	for _, id := range got {
		if !deleted[id] && !added[id] {
			stayedGot = append(stayedGot, id)
		}
	}
	if !slices.Equal(stayedGot, stayedWant) {
		t.Errorf("the %d screens that stayed: listed %d of them (first difference at %d)", len(stayedWant), len(stayedGot), firstDiff(stayedGot, stayedWant))
	}
	// Screens added behind the cursor are not listed; those added ahead
	// of it are.
	var addedSeen int
	for id := range added {
		addedSeen += shown[id]
	}
	if addedSeen == 0 || addedSeen == len(added) {
		t.Errorf("%d of %d screens added during the walk listed; want those added ahead of the cursor only", addedSeen, len(added))
	}
}

// The filters combine, total counts the matches on all pages, and group
// includes nested groups.
func TestScreenListFilters(t *testing.T) {
	v := newEnv(t)
	for _, g := range []playlists.Group{{ID: "street", Name: "新华街道"}, {ID: "c1", Name: "一区", Parent: "street"}, {ID: "c2", Name: "二区", Parent: "street"}, {ID: "other", Name: "别处"}} {
		if _, err := v.st.CreateGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name, group string, tags ...string) string {
		s, _, err := v.st.CreateScreen(store.Screen{Name: name, Group: group, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		v.devs.SetToken(s.ID, "tok-"+s.ID)
		return s.ID
	}
	lobby1 := mk("一号楼大堂 Lobby", "c1", "大堂", "indoor")
	gate1 := mk("一号门 Gate", "c1", "outdoor")
	lobby2 := mk("二号楼大堂 LOBBY", "c2", "大堂", "indoor")
	mk("别处大堂 lobby", "other", "大堂")
	loose := mk("无组 lobby", "", "indoor")
	v.devs.Hello(lobby1, playlists.Hello{})
	v.devs.Hello(gate1, playlists.Hello{})

	ids := func(path string) ([]string, int) {
		pg := v.listPage(path)
		var out []string
		for _, s := range pg.Screens {
			out = append(out, s.ID)
		}
		slices.Sort(out)
		return out, pg.Total
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"group=street", sorted(lobby1, gate1, lobby2)},
		{"group=c1&state=online", sorted(lobby1, gate1)},
		{"group=street&state=offline", sorted(lobby2)},
		{"group=-", sorted(loose)},
		{"tag=" + url.QueryEscape("大堂") + "&group=street", sorted(lobby1, lobby2)},
		{"tag=indoor&tag=" + url.QueryEscape("大堂"), sorted(lobby1, lobby2)},
		{"q=lobby&group=street", sorted(lobby1, lobby2)},
		{"q=LoBbY&tag=indoor", sorted(lobby1, lobby2, loose)},
		{"q=" + url.QueryEscape("大堂") + "&state=online", sorted(lobby1)},
		{"q=" + url.QueryEscape(" 号门 "), sorted(gate1)},
		{"q=" + url.QueryEscape(lobby2[len(lobby2)-4:]), sorted(lobby2)},
		{"id=" + lobby1 + "&id=" + loose + "&id=nope", sorted(lobby1, loose)},
		{"q=nothing-like-this", nil},
	} {
		got, total := ids("/api/v1/screens?" + tc.query)
		if !slices.Equal(got, tc.want) || total != len(tc.want) {
			t.Errorf("?%s: got %v (total %d), want %v", tc.query, got, total, tc.want)
		}
	}
	// A page smaller than the matches: total still counts all of them.
	pg := v.listPage("/api/v1/screens?q=lobby&limit=2")
	if len(pg.Screens) != 2 || pg.Total != 4 || pg.NextCursor == nil {
		t.Errorf("q=lobby&limit=2: %d screens, total %d, next %v; want 2 of 4 and a cursor", len(pg.Screens), pg.Total, pg.NextCursor)
	}
	// A cursor works across filters: it is a place in the order.
	rest := v.listPage("/api/v1/screens?q=lobby&limit=2&cursor=" + url.QueryEscape(*pg.NextCursor))
	if len(rest.Screens) != 2 || rest.NextCursor != nil || rest.Total != 4 {
		t.Errorf("second page of q=lobby: %d screens, next %v, total %d; want the last 2", len(rest.Screens), rest.NextCursor, rest.Total)
	}
}

// A person limited to a street sees only its screens, counted in total,
// and a filter cannot reach beyond the street.
func TestScreenListScoped(t *testing.T) {
	v := newEnv(t)
	for _, g := range []playlists.Group{{ID: "a", Name: "甲街道"}, {ID: "a1", Name: "甲一区", Parent: "a"}, {ID: "b", Name: "乙街道"}} {
		if _, err := v.st.CreateGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	var mine []store.Screen
	for i := range 250 {
		g := []string{"a", "a1", "b", ""}[i%4]
		s, _, err := v.st.CreateScreen(store.Screen{Name: fmt.Sprintf("屏 %03d", i), Group: g, Tags: []string{"t" + fmt.Sprint(i%2)}})
		if err != nil {
			t.Fatal(err)
		}
		if g == "a" || g == "a1" {
			mine = append(mine, s)
		}
	}
	v.addUser("tech-a", store.RoleTechnician, "a")
	techA := v.signIn("tech-a")
	get := func(p string) listedPage {
		return must[listedPage](t, techA.do(http.MethodGet, p, nil), http.StatusOK)
	}
	got, pages := walk(t, func(p string) listedPage {
		pg := get(p)
		if pg.Total != len(mine) {
			t.Errorf("%s: total %d, want %d (the street's screens only)", p, pg.Total, len(mine))
		}
		for _, s := range pg.Screens {
			if s.Group != "a" && s.Group != "a1" {
				t.Errorf("scoped list shows %s of group %q", s.ID, s.Group)
			}
		}
		return pg
	}, "/api/v1/screens?limit=50", nil)
	if !slices.Equal(got, listOrder(mine)) || pages != 3 {
		t.Errorf("scoped walk: %d ids in %d pages, want the %d screens of street a in order in 3", len(got), pages, len(mine))
	}
	for _, q := range []string{"group=b", "group=-", "tag=t1&group=b"} {
		if pg := get("/api/v1/screens?" + q); pg.Total != 0 || len(pg.Screens) != 0 {
			t.Errorf("scoped ?%s: total %d, %d screens; want none", q, pg.Total, len(pg.Screens))
		}
	}
	if pg := get("/api/v1/screens?tag=t1"); pg.Total != len(mine)/2 {
		t.Errorf("scoped ?tag=t1: total %d, want %d", pg.Total, len(mine)/2)
	}
}

// Bad paging input is a 400 with a code the page words.
func TestScreenListRefusals(t *testing.T) {
	v := newEnv(t)
	manyScreens(t, v.st, 3, pageName)
	long := strings.Repeat("长", maxScreenQuery+1)
	manyIDs := strings.Repeat("id=x&", maxScreenIDs+1)
	for _, tc := range []struct {
		query, code, field, reason string
		status                     int
	}{
		{"limit=0", "invalid_field", "limit", "out_of_range", 400},
		{"limit=501", "invalid_field", "limit", "out_of_range", 400},
		{"limit=ten", "invalid_field", "limit", "out_of_range", 400},
		{"limit=-1", "invalid_field", "limit", "out_of_range", 400},
		{"cursor=%25%25%25", "bad_cursor", "", "", 400},
		{"cursor=" + encodeCursor(screenKey{"x", ""}), "bad_cursor", "", "", 400},
		{"cursor=bm90IGpzb24", "bad_cursor", "", "", 400}, // "not json"
		{"cursor=" + strings.Repeat("A", maxCursorLen+4), "bad_cursor", "", "", 400},
		{"state=asleep", "invalid_field", "state", "invalid_format", 400},
		{"q=" + url.QueryEscape(long), "invalid_field", "q", "too_long", 400},
		{manyIDs, "invalid_field", "id", "", 400},
		{"group=nowhere", "not_found", "", "", 404},
	} {
		rec := v.admin(http.MethodGet, "/api/v1/screens?"+tc.query, nil)
		body := must[errorResponse](t, rec, tc.status)
		if body.Code != tc.code || body.Field != tc.field || body.Reason != tc.reason {
			t.Errorf("?%.40s: code %q field %q reason %q, want %q %q %q (%s)", tc.query, body.Code, body.Field, body.Reason, tc.code, tc.field, tc.reason, body.Error)
		}
	}
	// A cursor of a screen deleted since still continues after its place.
	pg := v.listPage("/api/v1/screens?limit=1")
	first := pg.Screens[0].ID
	if rec := v.admin(http.MethodDelete, "/api/v1/screens/"+first, nil); rec.Code != http.StatusNoContent {
		t.Fatal(rec.Body)
	}
	if rest := v.listPage("/api/v1/screens?cursor=" + url.QueryEscape(*pg.NextCursor)); len(rest.Screens) != 2 || rest.Total != 2 {
		t.Errorf("after the first screen was deleted, its cursor gave %d screens, total %d; want the other 2", len(rest.Screens), rest.Total)
	}
}

func TestContainsFold(t *testing.T) {
	for _, tc := range []struct {
		s, sub string
		want   bool
	}{
		{"Lobby 2", "LOBBY", true}, {"lobby", "Lobby 2", false}, {"一号楼大堂", "大堂", true}, {"一号楼大堂", "二号", false},
		{"ÉCOLE", "école", true}, {"Straße", "STRASSE", false}, {"ΣΊΣΥΦΟΣ", "σίσυφος", true}, {"x", "", true}, {"", "x", false},
		{"scr-AbC", "abc", true}, {"\xff\xfeabc", "ABC", true}, {"aaab", "AAB", true}, {"KELVIN", "\u212aelvin", true},
		{"\u212aelvin", "kELVIN", true}, {"σ", "Σ", true}, {"ς", "Σ", true},
	} {
		if got := containsFold(tc.s, tc.sub); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", tc.s, tc.sub, got, tc.want)
		}
	}
}

// BenchmarkScreenPage measures one default page of GET /screens at
// 10,000 screens through the handler: the first page, a search, and a
// page from the middle.
func BenchmarkScreenPage(b *testing.B) {
	now := func() time.Time { return testNow }
	st, err := store.Open(b.TempDir(), now)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	pub := publish.New(publish.Options{Store: st, Now: now})
	devs, err := devices.New(devices.Options{Store: st, Version: pub.Version, Now: now, OfflineAfter: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	_, e := build(Options{Store: st, Devices: devs, Publisher: pub, Hub: &fakeHub{}, AdminToken: adminToken,
		MaxUploadBytes: 4096, Now: now, Metrics: prometheus.NewRegistry()})
	manyScreens(b, st, 10000, pageName)
	for _, q := range []string{"", "?q=" + url.QueryEscape("屏5"), "?cursor=" + encodeCursor(screenKey{"小区050", "-"})} {
		name := strings.TrimPrefix(q, "?")
		if name == "" {
			name = "first"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/screens"+q, nil)
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

// BenchmarkScreenPageParts splits BenchmarkScreenPage: reading the 10,000
// screens from the store (its read path, outside this file), and picking
// one page from them in memory (pageOf: scope, filters, the bounded heap).
func BenchmarkScreenPageParts(b *testing.B) {
	st, err := store.Open(b.TempDir(), func() time.Time { return testNow })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	manyScreens(b, st, 10000, pageName)
	b.Run("store.ListScreens", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.ListScreens(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store.SharedScreens", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(st.SharedScreens()) != 10000 {
				b.Fatal("not 10,000 screens")
			}
		}
	})
	scrs := st.SharedScreens()
	h := &handler{}
	for _, tc := range []struct {
		name string
		f    screenFilter
	}{
		{"pageOf/first", screenFilter{limit: defaultScreenPage}},
		{"pageOf/q", screenFilter{limit: defaultScreenPage, q: newFoldNeedle("屏5")}},
		{"pageOf/cursor", screenFilter{limit: defaultScreenPage, after: &screenKey{"小区050", "-"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if page, _, total := h.pageOf(nil, &tc.f, scrs); len(page) != defaultScreenPage || total == 0 {
					b.Fatalf("page of %d, total %d", len(page), total)
				}
			}
		})
	}
}
