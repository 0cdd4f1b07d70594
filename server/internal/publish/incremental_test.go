package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// fixture is a store with a tree of groups, content targeting parts of it
// and n screens spread over the groups, tags and time zones, published
// once, with a clock that moves only when a test moves it (now).
type fixture struct {
	st    *store.Store
	src   *countingSource
	p     *Publisher
	rec   *pushRecorder
	now   time.Time
	items []playlists.Item
	pls   []playlists.Playlist
	ids   []string
}

// countingSource is the store, counting the reads the publisher makes;
// while mute, the changes it announces do not reach the publisher (as
// if made behind the store's back).
type countingSource struct {
	*store.Store
	snapshots, catalogs, screens, groups int
	mute                                 bool
}

func (c *countingSource) Subscribe(fn func(store.Change)) {
	c.Store.Subscribe(func(ch store.Change) {
		if !c.mute {
			fn(ch)
		}
	})
}

func (c *countingSource) Snapshot() (store.Snapshot, error) {
	c.snapshots++
	return c.Store.Snapshot()
}

func (c *countingSource) Catalog() (playlists.Catalog, error) {
	c.catalogs++
	return c.Store.Catalog()
}

func (c *countingSource) GetScreen(id string) (store.Screen, error) {
	c.screens++
	return c.Store.GetScreen(id)
}

func (c *countingSource) GetGroup(id string) (playlists.Group, error) {
	c.groups++
	return c.Store.GetGroup(id)
}

// reset sets every count back to zero.
func (c *countingSource) reset() { c.snapshots, c.catalogs, c.screens, c.groups = 0, 0, 0, 0 }

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
	f := &fixture{rec: newRecorder(), now: testNow}
	clock := func() time.Time { return f.now }
	st := must(store.Open(t.TempDir(), clock))
	t.Cleanup(func() { st.Close() })
	f.st, f.src = st, &countingSource{Store: st}
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
	f.p = New(Options{Store: f.src, Push: f.rec.push, Now: clock, Logger: slog.New(slog.DiscardHandler)})
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
	want := must(Compute(snap, f.now))
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
	checkFleet(t, &f.p.fleet)
}

// checkFleet checks what the fleet keeps against itself: each screen in
// the one class its context names, each class's id order and count of
// free members, and each key counted once for every screen that has it.
func checkFleet(t *testing.T, fl *fleet) {
	t.Helper()
	refs := map[string]int{}
	for id, scr := range fl.screens {
		c, ok := fl.classOf[id]
		if !ok || fl.classes[c.name] != c {
			t.Fatalf("screen %s: not in a class of the fleet", id)
		}
		if want := classKey(Context(scr, fl.groups)); c.name != want {
			t.Fatalf("screen %s: in class %q, its context's is %q", id, c.name, want)
		}
		k, ok := fl.keyFor(id)
		if !ok {
			t.Fatalf("screen %s has no key", id)
		}
		refs[k]++
	}
	for name, c := range fl.classes {
		free := 0
		for id := range c.members {
			if fl.classOf[id] != c {
				t.Fatalf("class %q holds %s, which is in another", name, id)
			}
			if _, ok := fl.named[id]; !ok {
				free++
			}
		}
		if len(c.members) == 0 || c.free != free || (free > 0) != (c.pub != nil) {
			t.Fatalf("class %q: %d members, free %d (counted %d), manifest %v", name, len(c.members), c.free, free, c.pub != nil)
		}
		if c.sorted != nil && !slices.Equal(c.sorted, slices.Sorted(maps.Keys(c.members))) {
			t.Fatalf("class %q: id order %v, members %v", name, c.sorted, slices.Sorted(maps.Keys(c.members)))
		}
	}
	if !maps.Equal(refs, fl.refs) {
		t.Fatalf("key counts %v, counted from the screens %v", fl.refs, refs)
	}
	if len(fl.b.shared) != len(refs) {
		t.Fatalf("the builder holds %d manifests for %d keys", len(fl.b.shared), len(refs))
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
		if k, _ := f.p.fleet.keyFor(id); !before[k] {
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

// TestCatalogChangeBuildsEachKeyOnce: a content edit reads the catalog and
// nothing else (no snapshot, no screen or group), builds every distinct
// manifest once whatever the number of screens, and pushes exactly the
// screens whose manifest changed; a target naming screens by id gives
// those screens, and only those, manifests of their own, and they share
// their class's again once no target names them.
func TestCatalogChangeBuildsEachKeyOnce(t *testing.T) {
	f := newFixture(t, 2000)
	inD1 := map[string]bool{}
	for _, id := range f.ids {
		if g := must(f.st.GetScreen(id)).Group; g == "c1" || g == "c2" {
			inD1[id] = true
		}
	}
	reads := func(what string) {
		t.Helper()
		if c := f.src; c.snapshots != 0 || c.screens != 0 || c.groups != 0 || c.catalogs != 1 {
			t.Errorf("%s: read %d snapshots, %d screens, %d groups, %d catalogs; want the catalog once and nothing else",
				what, c.snapshots, c.screens, c.groups, c.catalogs)
		}
		f.src.reset()
	}
	pushed := func() map[string]bool {
		got := map[string]bool{}
		for _, ids := range f.rec.take() {
			for _, id := range ids {
				got[id] = true
			}
		}
		return got
	}

	// pl1 is scheduled on d1: the screens of c1 and c2 change.
	f.src.reset()
	pl := f.pls[1]
	pl.Items = []string{f.items[2].ID, f.items[0].ID}
	must(f.st.UpdatePlaylist(pl.ID, pl))
	r, _ := f.step(t)
	reads("playlist edited")
	if !r.Full || !r.Catalog || r.Built != len(f.p.fleet.refs) || r.Screens != len(f.ids) || r.Changed != len(inD1) {
		t.Errorf("playlist edited: got %+v, want a recut of %d screens building %d manifests (the distinct keys), %d changed",
			r, len(f.ids), len(f.p.fleet.refs), len(inD1))
	}
	if r.Built > 100 {
		t.Errorf("built %d manifests for 2,000 screens; the fixture has a few dozen distinct keys", r.Built)
	}
	if got := pushed(); !maps.Equal(got, inD1) {
		t.Errorf("pushed %d screens, want the %d under d1", len(got), len(inD1))
	}
	f.checkMatchesFull(t)

	// A schedule naming two screens (one in c3, one in no group) by id.
	a, b := f.ids[3], f.ids[5]
	peer := f.ids[3+20] // same group, tags and zone as a
	sch := must(f.st.CreateSchedule(playlists.Schedule{Playlist: f.pls[0].ID, Target: playlists.Target{Screens: []string{a, b}}}))
	r, _ = f.step(t)
	reads("schedule naming two screens")
	if r.Built != len(f.p.fleet.refs) || r.Changed != 2 {
		t.Errorf("schedule naming two screens: got %+v, want %d built (the distinct keys), 2 changed", r, len(f.p.fleet.refs))
	}
	if got := pushed(); !maps.Equal(got, map[string]bool{a: true, b: true}) {
		t.Errorf("pushed %v, want only %s and %s", got, a, b)
	}
	ma, _ := f.p.Manifest(a)
	mp, _ := f.p.Manifest(peer)
	if ma == mp {
		t.Errorf("a screen a schedule names shares its manifest with one it does not name")
	}
	f.checkMatchesFull(t)

	must(0, f.st.DeleteSchedule(sch.ID))
	r, _ = f.step(t)
	reads("schedule deleted")
	if r.Changed != 2 {
		t.Errorf("schedule deleted: got %+v, want the 2 screens it named changed", r)
	}
	ma, _ = f.p.Manifest(a)
	mp, _ = f.p.Manifest(peer)
	if ma != mp {
		t.Errorf("a screen no longer named does not share its class's manifest again")
	}
	f.checkMatchesFull(t)
	if _, ran := f.step(t); ran {
		t.Errorf("a recompute ran with nothing pending")
	}
}

// TestIncrementalMatchesFull applies random sequences of edits of every
// kind, recomputing after one or several, and compares the result with a
// full Compute each time. The content edits aim at screen ids (alone and
// with groups or tags), tags and nested groups, and screens and groups
// change time zones, layouts and default playlists, so a recut per class
// meets every way two screens of one class could differ; the clock moves
// past schedule ends and notice expiries too.
func TestIncrementalMatchesFull(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 60)
			rng := rand.New(rand.NewPCG(seed, 10))
			groups := []string{"", "city", "d1", "d2", "c1", "c2", "c3", "c4"}
			pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
			for range 160 {
				if rng.IntN(12) == 0 {
					// Edits the publisher is not told of: the next full
					// recompute (the routine refresh) must find them.
					f.src.mute = true
					for range 1 + rng.IntN(4) {
						f.randomEdit(t, rng, &groups, pick)
					}
					f.src.mute = false
					if err := f.p.Publish(); err != nil {
						t.Fatal(err)
					}
					f.checkMatchesFull(t)
					continue
				}
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

var (
	randomZones   = append(fixtureZones, "Asia/Tokyo")
	randomLayouts = []string{"", playlists.LayoutFull, playlists.LayoutHeader, playlists.LayoutHeaderTicker}
)

func (f *fixture) randomEdit(t *testing.T, rng *rand.Rand, groups *[]string, pick func([]string) string) {
	t.Helper()
	st := f.st
	live := must(st.ListScreens())
	anyScreen := func() store.Screen { return live[rng.IntN(len(live))] }
	anyPlaylist := func() string { return pick([]string{"", "", f.pls[rng.IntN(len(f.pls))].ID}) }
	switch op := rng.IntN(20); {
	case op == 0 || len(live) == 0:
		sc, _ := must2(st.CreateScreen(store.Screen{Name: "n", Group: pick(*groups), Tags: fixtureTags[rng.IntN(4)], Timezone: pick(fixtureZones)}))
		f.ids = append(f.ids, sc.ID)
	case op == 1 && rng.IntN(3) == 0: // tags alone
		sc := anyScreen()
		sc.Tags = fixtureTags[rng.IntN(4)]
		must(st.UpdateScreen(sc.ID, sc))
	case op == 1:
		sc := anyScreen()
		sc.Group, sc.Tags, sc.Timezone = pick(*groups), fixtureTags[rng.IntN(4)], pick(randomZones)
		sc.Layout = pick(randomLayouts[:3])
		if rng.IntN(3) == 0 {
			sc.DefaultPlaylist = anyPlaylist()
		}
		if rng.IntN(4) == 0 { // the same tags in another order: the same class
			sc.Tags = []string{"gate", "lobby"}
		}
		must(st.UpdateScreen(sc.ID, sc))
	case op == 2:
		// A screen a schedule names cannot go; one a notice or safe mode
		// names can.
		if err := st.DeleteScreen(anyScreen().ID); err != nil && !errors.As(err, new(store.InUseError)) {
			t.Fatal(err)
		}
	case op == 3:
		must(st.RotateScreenToken(anyScreen().ID))
	case op == 4:
		id := pick((*groups)[4:]) // a compound moves between districts, or changes
		g := must(st.GetGroup(id))
		if rng.IntN(3) == 0 { // renamed only: the header its screens show
			g.Name = g.Name + "'"
			must(st.UpdateGroup(id, g))
			break
		}
		if parents := slices.DeleteFunc(slices.Clone((*groups)[1:]), func(p string) bool { return f.under(p, id) }); len(parents) > 0 {
			g.Parent = pick(parents)
		}
		g.Timezone = pick([]string{"", "Asia/Urumqi", "Europe/Berlin"})
		g.Layout = pick([]string{"", playlists.LayoutHeader, playlists.LayoutHeaderTicker})
		g.Name = pick([]string{"甲", "乙"})
		if rng.IntN(3) == 0 {
			g.DefaultPlaylist = anyPlaylist()
		}
		must(st.UpdateGroup(id, g))
	case op == 5:
		id := fmt.Sprintf("g%d", len(*groups))
		must(st.CreateGroup(playlists.Group{ID: id, Name: id, Parent: pick((*groups)[1:]),
			Timezone: pick([]string{"", "Asia/Tokyo"}), Layout: pick(randomLayouts)}))
		*groups = append(*groups, id)
	case op == 6:
		pl := f.pls[rng.IntN(len(f.pls))]
		pl.Items = []string{f.items[rng.IntN(len(f.items))].ID}
		must(st.UpdatePlaylist(pl.ID, pl))
	case op == 7 || op == 8:
		must(st.CreateSchedule(playlists.Schedule{Playlist: f.pls[rng.IntN(len(f.pls))].ID, Target: f.randomTarget(rng, live, *groups)}))
	case op == 9:
		scs := []store.Screen{{Name: "a", Group: pick(*groups)}, {Name: "b", Group: pick(*groups), Tags: []string{"lobby"}}}
		created, _ := must2(st.CreateScreens(scs))
		for _, sc := range created {
			f.ids = append(f.ids, sc.ID)
		}
	case op == 10: // ends within the hour: the clock may pass it
		to := f.now.Add(time.Duration(10+rng.IntN(50)) * time.Minute)
		must(st.CreateSchedule(playlists.Schedule{Playlist: f.pls[rng.IntN(len(f.pls))].ID, Target: f.randomTarget(rng, live, *groups), To: &to}))
	case op == 11:
		if scs := must(st.ListSchedules()); len(scs) > 0 {
			must(0, st.DeleteSchedule(scs[rng.IntN(len(scs))].ID))
		}
	case op == 12:
		if scs := must(st.ListSchedules()); len(scs) > 0 {
			sc := scs[rng.IntN(len(scs))]
			sc.Target = f.randomTarget(rng, live, *groups)
			must(st.UpdateSchedule(sc.ID, sc))
		}
	case op == 13:
		must(st.CreateUrgent(playlists.Urgent{Title: "通知", Target: f.randomTarget(rng, live, *groups),
			ExpiresAt: f.now.Add(time.Duration(10+rng.IntN(80)) * time.Minute)}))
	case op == 14:
		if us := must(st.ListUrgent(f.now)); len(us) > 0 {
			must(st.WithdrawUrgent(us[rng.IntN(len(us))].ID))
		}
	case op == 15:
		must(st.StartSafeMode(f.randomTarget(rng, live, *groups), "test"))
	case op == 16:
		if ms := must(st.ListSafeModes(f.now)); len(ms) > 0 {
			must(st.LiftSafeMode(ms[rng.IntN(len(ms))].ID, "test"))
		}
	case op == 17: // time passes; a token rotation makes something pending
		f.now = f.now.Add(time.Duration(rng.IntN(40)) * time.Minute)
		must(st.RotateScreenToken(anyScreen().ID))
	case op == 18:
		pl := f.pls[rng.IntN(len(f.pls))]
		pl.Items = []string{f.items[rng.IntN(len(f.items))].ID, f.items[rng.IntN(len(f.items))].ID}
		must(st.UpdatePlaylist(pl.ID, pl))
	default:
		sc := anyScreen()
		sc.DefaultPlaylist = anyPlaylist()
		must(st.UpdateScreen(sc.ID, sc))
	}
}

// randomTarget names some of: up to three live screens by id, a group
// anywhere in the tree, a tag; or every screen.
func (f *fixture) randomTarget(rng *rand.Rand, live []store.Screen, groups []string) playlists.Target {
	var t playlists.Target
	if rng.IntN(12) == 0 {
		return playlists.Target{All: true}
	}
	for t.IsEmpty() {
		if rng.IntN(2) == 0 {
			for range 1 + rng.IntN(3) {
				t.Screens = append(t.Screens, live[rng.IntN(len(live))].ID)
			}
		}
		if rng.IntN(3) == 0 {
			t.Groups = []string{groups[1+rng.IntN(len(groups)-1)]}
		}
		if rng.IntN(3) == 0 {
			t.Tags = []string{[]string{"lobby", "gate"}[rng.IntN(2)]}
		}
	}
	return t
}

// under reports whether group g is id or lies below it.
func (f *fixture) under(g, id string) bool {
	for steps := 0; g != "" && steps < 100; steps++ {
		if g == id {
			return true
		}
		g = must(f.st.GetGroup(g)).Parent
	}
	return false
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

// TestMergeRuns: lists each in id order merge into one in id order, so
// push gets its lists sorted already.
func TestMergeRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 7 {
		var all []string
		runs := make([][]string, n+1)
		for i := range 40 {
			id := fmt.Sprintf("scr_%03d", i)
			all = append(all, id)
			r := rng.IntN(len(runs))
			runs[r] = append(runs[r], id)
		}
		if got := mergeRuns(runs); !slices.Equal(got, all) {
			t.Errorf("%d runs: got %v, want %v", len(runs), got, all)
		}
	}
}

// The wake-up at a change instant reads the catalog, not a snapshot, and
// leaves what a full recompute would.
func TestWakeReadsTheCatalogOnly(t *testing.T) {
	f := newFixture(t, 300)
	f.src.reset()
	if err := f.p.wake(); err != nil {
		t.Fatal(err)
	}
	if c := f.src; c.snapshots != 0 || c.catalogs != 1 || c.screens != 0 || c.groups != 0 {
		t.Errorf("wake read %d snapshots, %d catalogs, %d screens, %d groups; want the catalog once", c.snapshots, c.catalogs, c.screens, c.groups)
	}
	want := must(Compute(must(f.st.Snapshot()), f.now))
	for _, id := range f.ids {
		got, ok := f.p.Manifest(id)
		if !ok || string(got.JSON) != string(want[id].JSON) {
			t.Fatalf("screen %s after wake differs from a full compute", id)
		}
	}
}
