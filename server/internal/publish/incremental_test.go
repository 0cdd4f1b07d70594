package publish

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// fixture is a store with a tree of groups, content targeting parts of it
// and n screens spread over the groups, tags and time zones, published
// once, with a fixed clock.
type fixture struct {
	st    *store.Store
	p     *Publisher
	rec   *pushRecorder
	items []playlists.Item
	pls   []playlists.Playlist
	ids   []string
}

var fixtureGroups = []playlists.Group{
	{ID: "city", Name: "城区"},
	{ID: "d1", Name: "一街道", Parent: "city"},
	{ID: "d2", Name: "二街道", Parent: "city", Timezone: "Asia/Urumqi"},
	{ID: "c1", Name: "小区一", Parent: "d1", Layout: playlists.LayoutHeader},
	{ID: "c2", Name: "小区二", Parent: "d1"},
	{ID: "c3", Name: "小区三", Parent: "d2"},
	{ID: "c4", Name: "小区四", Parent: "d2", Layout: playlists.LayoutHeaderTicker},
}

var (
	fixtureTags  = [][]string{nil, {"lobby"}, {"gate"}, {"lobby", "gate"}}
	fixtureZones = []string{"", "", "", "Europe/Berlin"}
)

func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	clock := func() time.Time { return testNow }
	st := must(store.Open(t.TempDir(), clock))
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, rec: newRecorder()}
	for _, g := range fixtureGroups {
		must(st.CreateGroup(g))
	}
	for i := range 4 {
		f.items = append(f.items, must(st.CreateItem(playlists.Item{Kind: "notice", Title: fmt.Sprintf("通知%d", i)})))
	}
	for i, target := range []playlists.Target{{All: true}, {Groups: []string{"d1"}}, {Tags: []string{"lobby"}}, {Groups: []string{"c3"}, Tags: []string{"gate"}}} {
		pl := must(st.CreatePlaylist(playlists.Playlist{Name: fmt.Sprintf("pl%d", i), Items: []string{f.items[i].ID}}))
		f.pls = append(f.pls, pl)
		must(st.CreateSchedule(playlists.Schedule{Playlist: pl.ID, Target: target}))
	}
	must(st.CreateUrgent(playlists.Urgent{Title: "停水", Target: playlists.Target{Groups: []string{"c4"}}, ExpiresAt: testNow.Add(time.Hour)}))
	scs := make([]store.Screen, n)
	for i := range scs {
		scs[i] = store.Screen{Name: fmt.Sprintf("屏%d", i), Group: []string{"", "c1", "c2", "c3", "c4"}[i%5],
			Tags: fixtureTags[i%4], Timezone: fixtureZones[i%4]}
	}
	created, _ := must2(st.CreateScreens(scs))
	for _, sc := range created {
		f.ids = append(f.ids, sc.ID)
	}
	// Subscribed from here: the writes above are in the first publish.
	f.p = New(Options{Store: st, Push: f.rec.push, Now: clock, Logger: slog.New(slog.DiscardHandler)})
	if err := f.p.Publish(); err != nil {
		t.Fatal(err)
	}
	f.rec.take()
	return f
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// step runs one recompute of what is pending, as Run does on a notice,
// and returns what it did (ok false: nothing was pending).
func (f *fixture) step(t testing.TB) (recompute, bool) {
	t.Helper()
	var got recompute
	ran := false
	f.p.onDone = func(r recompute) { got, ran = r, true }
	f.p.pubMu.Lock()
	err := f.p.recomputeLocked(f.p.takePending())
	f.p.pubMu.Unlock()
	f.p.onDone = nil
	if err != nil {
		t.Fatal(err)
	}
	return got, ran
}

// checkMatchesFull compares every published manifest with a full Compute
// of the store at the same instant, byte for byte, and checks that screens
// share a manifest object exactly when Compute makes them share one.
func (f *fixture) checkMatchesFull(t *testing.T) {
	t.Helper()
	snap := must(f.st.Snapshot())
	want := must(Compute(snap, testNow))
	f.p.mu.RLock()
	defer f.p.mu.RUnlock()
	if len(f.p.byScreen) != len(want) {
		t.Fatalf("published %d screens, a full compute has %d", len(f.p.byScreen), len(want))
	}
	pair := map[*Published]*Published{}
	back := map[*Published]*Published{}
	for id, w := range want {
		g, ok := f.p.byScreen[id]
		if !ok {
			t.Fatalf("screen %s has no published manifest", id)
		}
		if !bytes.Equal(g.JSON, w.JSON) {
			t.Fatalf("screen %s: published\n%s\nfull compute\n%s", id, g.JSON, w.JSON)
		}
		if p, ok := pair[w]; ok && p != g {
			t.Fatalf("screen %s: Compute shares its manifest with another screen, the publisher does not", id)
		}
		if p, ok := back[g]; ok && p != w {
			t.Fatalf("screen %s: the publisher shares its manifest with a screen Compute does not", id)
		}
		pair[w], back[g] = g, w
	}
	if len(f.p.fleet.refs) != len(pair) {
		t.Errorf("publisher counts %d distinct manifests, a full compute has %d", len(f.p.fleet.refs), len(pair))
	}
}

// TestOneScreenChangeRebuildsOne: at 2,000 screens, creating, editing,
// rotating the token of or deleting one screen looks at that screen only
// and builds at most its one manifest.
func TestOneScreenChangeRebuildsOne(t *testing.T) {
	f := newFixture(t, 2000)
	id := f.ids[7]
	cur := must(f.st.GetScreen(id))

	// A time zone no other screen has: a manifest of its own, built.
	cur.Timezone = "America/Lima"
	must(f.st.UpdateScreen(id, cur))
	r, _ := f.step(t)
	if r.Full || r.Screens != 1 || r.Built != 1 || r.Changed != 1 {
		t.Errorf("one screen edited: got %+v, want 1 screen looked at, 1 manifest built, 1 changed, not full", r)
	}
	if got := f.rec.take(); len(got) != 1 || !slices.Equal(got[f.p.Version(id)], []string{id}) {
		t.Errorf("pushes: got %v, want only %s", got, id)
	}
	f.checkMatchesFull(t)

	// A second screen joining it reuses that manifest: nothing built, and
	// both hold the same object.
	other := must(f.st.GetScreen(f.ids[3]))
	other.Group, other.Tags, other.Timezone = cur.Group, cur.Tags, cur.Timezone
	must(f.st.UpdateScreen(other.ID, other))
	if r, _ := f.step(t); r.Screens != 1 || r.Built != 0 {
		t.Errorf("screen joining an existing manifest: got %+v, want 1 looked at, 0 built", r)
	}
	a, _ := f.p.Manifest(id)
	b, _ := f.p.Manifest(other.ID)
	if a != b {
		t.Errorf("two screens with the same targets hold different manifest objects")
	}

	must(f.st.RotateScreenToken(id))
	if r, _ := f.step(t); r.Screens != 1 || r.Built != 0 || r.Changed != 0 {
		t.Errorf("token rotated: got %+v, want 1 looked at, nothing built or changed", r)
	}

	sc, _ := must2(f.st.CreateScreen(store.Screen{Name: "新屏", Group: "c2", Timezone: "Asia/Tokyo"}))
	if r, _ := f.step(t); r.Screens != 1 || r.Built != 1 || r.Changed != 1 {
		t.Errorf("screen created: got %+v, want 1 looked at, 1 built, 1 changed", r)
	}
	must(0, f.st.DeleteScreen(sc.ID))
	if r, _ := f.step(t); r.Screens != 1 || r.Built != 0 || r.Changed != 0 {
		t.Errorf("screen deleted: got %+v, want 1 looked at, nothing built", r)
	}
	if _, ok := f.p.Manifest(sc.ID); ok {
		t.Errorf("a deleted screen still has a manifest")
	}
	f.checkMatchesFull(t)
}

// TestGroupChangeRebuildsSubtree: a group's edit looks at the screens
// under it, at any depth, and builds one manifest per distinct key among
// them; screens elsewhere are not pushed.
func TestGroupChangeRebuildsSubtree(t *testing.T) {
	f := newFixture(t, 2000)
	inD1 := map[string]bool{}
	keys := map[string]bool{}
	for _, id := range f.ids {
		if g := must(f.st.GetScreen(id)).Group; g == "c1" || g == "c2" {
			inD1[id] = true
		}
	}
	before := map[string]bool{}
	for k := range f.p.fleet.refs {
		before[k] = true
	}
	g := fixtureGroups[1]
	g.Timezone = "Asia/Kolkata" // every screen under d1 without its own zone moves
	must(f.st.UpdateGroup(g.ID, g))
	r, _ := f.step(t)
	for id := range inD1 {
		if k := f.p.fleet.keyOf[id]; !before[k] {
			keys[k] = true // a key the subtree did not have: built once
		}
	}
	if r.Full || r.Screens != len(inD1) || r.Built != len(keys) || len(keys) == 0 {
		t.Errorf("group d1 edited: got %+v, want %d screens looked at (its subtree) and %d built (their new distinct keys)", r, len(inD1), len(keys))
	}
	for v, ids := range f.rec.take() {
		for _, id := range ids {
			if !inD1[id] {
				t.Errorf("screen %s outside d1 pushed %s", id, v)
			}
		}
	}
	f.checkMatchesFull(t)

	// Moving c2 under d2 touches c2's screens only.
	c2 := fixtureGroups[4]
	c2.Parent = "d2"
	must(f.st.UpdateGroup(c2.ID, c2))
	n := 0
	for _, id := range f.ids {
		if must(f.st.GetScreen(id)).Group == "c2" {
			n++
		}
	}
	if r, _ := f.step(t); r.Screens != n {
		t.Errorf("group c2 moved: looked at %d screens, want its %d", r.Screens, n)
	}
	f.checkMatchesFull(t)
}

// TestCatalogChangeBuildsEachKeyOnce: a content edit rebuilds every
// distinct manifest once, whatever the number of screens.
func TestCatalogChangeBuildsEachKeyOnce(t *testing.T) {
	f := newFixture(t, 2000)
	pl := f.pls[2]
	pl.Items = []string{f.items[2].ID, f.items[0].ID}
	must(f.st.UpdatePlaylist(pl.ID, pl))
	r, _ := f.step(t)
	if !r.Full || r.Built != len(f.p.fleet.refs) || r.Screens != len(f.ids) {
		t.Errorf("playlist edited: got %+v, want a full pass over %d screens building %d manifests (the distinct keys)", r, len(f.ids), len(f.p.fleet.refs))
	}
	if r.Built > 100 {
		t.Errorf("built %d manifests for 2,000 screens; the fixture has a few dozen distinct keys", r.Built)
	}
	f.checkMatchesFull(t)
	if _, ran := f.step(t); ran {
		t.Errorf("a recompute ran with nothing pending")
	}
}

// TestIncrementalMatchesFull applies random sequences of edits of every
// kind, recomputing after one or several, and compares the result with a
// full Compute each time.
func TestIncrementalMatchesFull(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 60)
			rng := rand.New(rand.NewPCG(seed, 10))
			groups := []string{"", "city", "d1", "d2", "c1", "c2", "c3", "c4"}
			pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
			for range 120 {
				f.randomEdit(t, rng, &groups, pick)
				if rng.IntN(3) == 0 {
					continue // gather a few edits into one recompute
				}
				f.step(t)
				f.checkMatchesFull(t)
			}
			f.step(t)
			f.checkMatchesFull(t)
		})
	}
}

func (f *fixture) randomEdit(t *testing.T, rng *rand.Rand, groups *[]string, pick func([]string) string) {
	t.Helper()
	st := f.st
	live := must(st.ListScreens())
	anyScreen := func() store.Screen { return live[rng.IntN(len(live))] }
	switch op := rng.IntN(10); {
	case op == 0 || len(live) == 0:
		sc, _ := must2(st.CreateScreen(store.Screen{Name: "n", Group: pick(*groups), Tags: fixtureTags[rng.IntN(4)], Timezone: pick(fixtureZones)}))
		f.ids = append(f.ids, sc.ID)
	case op == 1:
		sc := anyScreen()
		sc.Group, sc.Tags, sc.Timezone = pick(*groups), fixtureTags[rng.IntN(4)], pick(append(fixtureZones, "Asia/Tokyo"))
		sc.Layout = pick([]string{"", playlists.LayoutFull, playlists.LayoutHeader})
		must(st.UpdateScreen(sc.ID, sc))
	case op == 2:
		must(0, st.DeleteScreen(anyScreen().ID))
	case op == 3:
		must(st.RotateScreenToken(anyScreen().ID))
	case op == 4:
		id := pick((*groups)[4:]) // a compound moves between districts, or changes
		g := must(st.GetGroup(id))
		g.Parent = pick([]string{"d1", "d2", "city"})
		g.Timezone = pick([]string{"", "Asia/Urumqi", "Europe/Berlin"})
		g.Layout = pick([]string{"", playlists.LayoutHeader})
		g.Name = pick([]string{"甲", "乙"})
		must(st.UpdateGroup(id, g))
	case op == 5:
		id := fmt.Sprintf("g%d", len(*groups))
		must(st.CreateGroup(playlists.Group{ID: id, Name: id, Parent: pick((*groups)[1:])}))
		*groups = append(*groups, id)
	case op == 6:
		pl := f.pls[rng.IntN(len(f.pls))]
		pl.Items = []string{f.items[rng.IntN(len(f.items))].ID}
		must(st.UpdatePlaylist(pl.ID, pl))
	case op == 7:
		target := playlists.Target{Groups: []string{pick((*groups)[1:])}}
		if rng.IntN(2) == 0 {
			target = playlists.Target{Tags: []string{pick([]string{"lobby", "gate"})}}
		}
		must(st.CreateSchedule(playlists.Schedule{Playlist: f.pls[rng.IntN(len(f.pls))].ID, Target: target}))
	case op == 8:
		must(st.CreateUrgent(playlists.Urgent{Title: "通知", Target: playlists.Target{Groups: []string{pick((*groups)[1:])}}, ExpiresAt: testNow.Add(time.Hour)}))
	default:
		scs := []store.Screen{{Name: "a", Group: pick(*groups)}, {Name: "b", Group: pick(*groups), Tags: []string{"lobby"}}}
		created, _ := must2(st.CreateScreens(scs))
		for _, sc := range created {
			f.ids = append(f.ids, sc.ID)
		}
	}
}

// TestNoticesDuringRecomputeCoalesce: writes committed while a recompute
// runs are gathered into exactly one recompute after it, which covers all
// of them; a lone write starts one recompute of its screen with no
// Trigger call and no timer (Refresh an hour away, no known change).
func TestNoticesDuringRecomputeCoalesce(t *testing.T) {
	f := newFixture(t, 50)
	p := f.p
	p.opts.Refresh = time.Hour
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	done := make(chan recompute, 10)
	first := true
	p.onStart = func() {
		started <- struct{}{}
		if first {
			first = false
			<-release
		}
	}
	p.onDone = func(r recompute) { done <- r }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)

	rename := func(id, name string) {
		sc := must(f.st.GetScreen(id))
		sc.Name = name
		must(f.st.UpdateScreen(id, sc))
	}
	rename(f.ids[0], "一")
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no recompute started after a write")
	}
	for i := 1; i <= 5; i++ { // committed while the first recompute is held
		rename(f.ids[i], "二")
	}
	close(release)
	var rs []recompute
	for len(rs) < 2 {
		select {
		case r := <-done:
			rs = append(rs, r)
		case <-time.After(5 * time.Second):
			t.Fatalf("recomputes done: %+v, want 2", rs)
		}
	}
	if rs[0].Screens != 1 || rs[1].Screens != 5 || rs[0].Full || rs[1].Full {
		t.Errorf("recomputes: %+v, want one of the first screen, then one of the other 5", rs)
	}
	select {
	case r := <-done:
		t.Errorf("a third recompute ran: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
}
