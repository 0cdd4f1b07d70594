package publish

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// fleet is what the last recompute worked from, kept so the next one can
// rebuild only what a change affects: the screens and groups (the
// publisher's own copies, refreshed from the store for each changed id),
// the screens sorted into classes (one context but for the id), the ids
// the catalog's targets name, each named screen's sharing key, how many
// screens share each key, and the builder holding the catalog and one
// manifest per key.
//
// A screen no target names by id (a free screen) has its class's key and
// manifest; only named screens have keys of their own. A change of content
// so builds one manifest per class and per named screen, and touches a
// screen only when its manifest changed.
type fleet struct {
	ok      bool
	b       *builder
	screens map[string]store.Screen
	groups  map[string]playlists.Group
	classes map[string]*class // by class key (classKey)
	classOf map[string]*class // by screen id
	named   map[string]struct{}
	keyOf   map[string]string // the key of each named screen that exists
	refs    map[string]int
}

// class is the screens of one class key: the same context but for the id.
type class struct {
	name    string
	sc      playlists.ScreenContext // a member's, without its id
	members map[string]struct{}
	// sorted is the members in id order, kept up to date for the first
	// few members that join or leave after it is sorted (edits), and nil
	// once more did: a group moving thousands of screens costs one sort,
	// not thousands of inserts.
	sorted []string
	edits  int
	// free counts the members no target names by id; key and pub are
	// their sharing key and manifest ("" and nil while free is 0).
	free int
	key  string
	pub  *Published
}

func newClass(name string, sc playlists.ScreenContext) *class {
	sc.ID = ""
	return &class{name: name, sc: sc, members: map[string]struct{}{}}
}

// context is the context of member id.
func (c *class) context(id string) playlists.ScreenContext {
	sc := c.sc
	sc.ID = id
	return sc
}

// maxSortedEdits is how many members may join or leave a class before its
// id order is sorted again rather than kept up to date.
const maxSortedEdits = 64

// ids returns the members in id order.
func (c *class) ids() []string {
	if c.sorted == nil {
		c.sorted, c.edits = slices.Sorted(maps.Keys(c.members)), 0
	}
	return c.sorted
}

// join and leave add and remove member id.
func (c *class) join(id string) {
	c.members[id] = struct{}{}
	c.edit(id, true)
}

func (c *class) leave(id string) {
	delete(c.members, id)
	c.edit(id, false)
}

func (c *class) edit(id string, in bool) {
	if c.sorted == nil {
		return
	}
	if c.edits++; c.edits > maxSortedEdits {
		c.sorted = nil
		return
	}
	i, found := slices.BinarySearch(c.sorted, id)
	switch {
	case in && !found:
		c.sorted = slices.Insert(c.sorted, i, id)
	case !in && found:
		c.sorted = slices.Delete(c.sorted, i, i+1)
	}
}

// rep returns a member not in named, or "" when there is none.
func (c *class) rep(named map[string]struct{}) string {
	for id := range c.members {
		if _, ok := named[id]; !ok {
			return id
		}
	}
	return ""
}

// recompute describes one recompute, for tests and metrics.
type recompute struct {
	Full bool // every screen's manifest recut
	// Catalog: recut for new content or a passing change instant, from
	// the screens and groups the fleet holds (no snapshot).
	Catalog  bool
	Screens  int // screens whose manifest was looked at
	Built    int // manifests built, not reused
	Changed  int // screens whose version changed
	Duration time.Duration
}

// recomputeLocked brings the published manifests up to date with pd: from
// a fresh snapshot when pd says so or nothing was computed yet; every
// manifest from the fleet held when the catalog changed or a known change
// instant has passed (the catalog the builder holds is cut for the time
// before it); else only for the screens pd names and those under the
// groups it names. The caller holds pubMu.
func (p *Publisher) recomputeLocked(pd pending) error {
	if pd.empty() {
		return nil
	}
	if p.onStart != nil {
		p.onStart()
	}
	start := time.Now()
	now := p.opts.Now()
	p.mu.RLock()
	due := p.next
	p.mu.RUnlock()
	var r recompute
	var changed map[string][]string
	var err error
	switch {
	case pd.all || !p.fleet.ok:
		r, changed, err = p.full(now)
	case pd.catalog || (!due.IsZero() && !now.Before(due)):
		r, changed, err = p.recut(pd, now)
	default:
		r, changed, err = p.partial(pd)
	}
	if err != nil {
		// The fleet may be half updated: the next recompute starts over
		// from a snapshot.
		p.fleet.ok = false
		return err
	}
	// The duration is the recompute's; the push that follows is the hub's
	// (kiosk_hub_*).
	r.Duration = time.Since(start)
	r.Changed = p.push(changed)
	scope := "partial"
	if r.Full {
		scope = "full"
	}
	p.duration.WithLabelValues(scope).Observe(r.Duration.Seconds())
	p.built.Add(float64(r.Built))
	p.distinct.Set(float64(len(p.fleet.refs)))
	if p.onDone != nil {
		p.onDone(r)
	}
	return nil
}

// full recomputes every screen from a fresh snapshot. Whatever was pending
// is dropped first: the snapshot is read after, so it shows those changes.
func (p *Publisher) full(now time.Time) (recompute, map[string][]string, error) {
	p.takePending()
	snap, err := p.opts.Store.Snapshot()
	if err != nil {
		return recompute{}, nil, fmt.Errorf("publish: %w", err)
	}
	if !p.fleet.ok {
		return p.rebuild(snap, now)
	}
	// The fleet is kept: only the screens the snapshot shows changed (a
	// change no notice announced) are placed again, then every manifest
	// is recut as after a content change.
	r, changed, err := p.recutFrom(snap.Catalog, now, p.fleet.sync(snap))
	r.Catalog = false
	return r, changed, err
}

// rebuild makes the fleet from snap alone, for the first recompute and
// the one after a failed recompute.
func (p *Publisher) rebuild(snap store.Snapshot, now time.Time) (recompute, map[string][]string, error) {
	f := &p.fleet
	*f = fleet{
		groups:  snap.Groups,
		screens: make(map[string]store.Screen, len(snap.Screens)),
		classes: map[string]*class{},
		classOf: make(map[string]*class, len(snap.Screens)),
	}
	for _, scr := range snap.Screens {
		f.screens[scr.ID] = scr
		sc := Context(scr, f.groups)
		name := classKey(sc)
		c := f.classes[name]
		if c == nil {
			c = newClass(name, sc)
			f.classes[name] = c
		}
		c.members[scr.ID] = struct{}{}
		c.sorted = append(c.sorted, scr.ID) // the snapshot is in id order
		f.classOf[scr.ID] = c
	}
	for _, c := range f.classes {
		if !slices.IsSorted(c.sorted) {
			c.sorted = nil
		}
	}
	if _, err := f.rekey(snap.Catalog, now, nil); err != nil {
		return recompute{}, nil, err
	}
	f.ok = true
	next := make(map[string]*Published, len(f.screens))
	for id, c := range f.classOf {
		next[id] = f.pubOf(id, c)
	}
	p.mu.Lock()
	old := p.byScreen
	p.byScreen = next
	p.mu.Unlock()
	p.setNext(NextChange(snap.Catalog, now))
	changed := map[string][]string{}
	for id, m := range next {
		if o, ok := old[id]; !ok || o.Manifest.Version != m.Manifest.Version {
			changed[m.Manifest.Version] = append(changed[m.Manifest.Version], id)
		}
	}
	return recompute{Full: true, Screens: len(next), Built: f.b.built}, changed, nil
}

// recut cuts every manifest again from a fresh catalog at now, after the
// screens and groups pd names are brought up to date, without reading the
// screens: one manifest per class with free members, one per named screen.
// Only screens whose manifest object changed are written and pushed.
func (p *Publisher) recut(pd pending, now time.Time) (recompute, map[string][]string, error) {
	f := &p.fleet
	affected, err := f.refresh(p.opts.Store, pd)
	if err != nil {
		return recompute{}, nil, err
	}
	cat, err := p.opts.Store.Catalog()
	if err != nil {
		return recompute{}, nil, fmt.Errorf("publish: %w", err)
	}
	var dirty []string
	for id := range affected {
		if f.place(id) {
			dirty = append(dirty, id)
		}
	}
	return p.recutFrom(cat, now, dirty)
}

// recutFrom cuts every manifest from cat at now, the screens in dirty
// having just been placed (moved between classes, added or removed).
func (p *Publisher) recutFrom(cat playlists.Catalog, now time.Time, dirty []string) (recompute, map[string][]string, error) {
	f := &p.fleet
	wasNamed := f.named
	moved, err := f.rekey(cat, now, f.b.shared)
	if err != nil {
		return recompute{}, nil, err
	}
	// What changes is worked out before mu is taken, reading byScreen
	// unlocked: only a recompute writes it, under pubMu, which the caller
	// holds. Readers then wait for the writes alone.
	//
	// Each moved class gives its changed members as one run in id order;
	// the other screens looked at one by one give one run a version. The
	// runs are merged, so push gets every list in id order already.
	type write struct {
		id  string
		pub *Published // nil: the screen is gone
	}
	var writes []write
	runs := map[string][][]string{}
	single := map[string][]string{}
	differs := func(id string, pub *Published) bool {
		old, had := p.byScreen[id]
		if had && old == pub {
			return false
		}
		writes = append(writes, write{id, pub})
		return !had || old.Manifest.Version != pub.Manifest.Version
	}
	// A free member of a class whose manifest object did not change, and
	// that neither moved nor was named, holds that object already.
	recut := make(map[*class]bool, len(moved))
	for _, c := range moved {
		recut[c] = true
		var run []string
		for _, id := range c.ids() {
			if _, ok := f.named[id]; !ok && differs(id, c.pub) {
				run = append(run, id)
			}
		}
		if len(run) > 0 {
			runs[c.pub.Manifest.Version] = append(runs[c.pub.Manifest.Version], run)
		}
	}
	seen := map[string]bool{}
	one := func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		c, ok := f.classOf[id]
		_, named := f.named[id]
		switch {
		case !ok:
			if _, had := p.byScreen[id]; had {
				writes = append(writes, write{id, nil})
			}
		case recut[c] && !named: // done with its class
		default:
			if pub := f.pubOf(id, c); differs(id, pub) {
				single[pub.Manifest.Version] = append(single[pub.Manifest.Version], id)
			}
		}
	}
	for _, id := range dirty {
		one(id)
	}
	for id := range wasNamed {
		one(id)
	}
	for id := range f.named {
		one(id)
	}
	p.mu.Lock()
	for _, w := range writes {
		if w.pub == nil {
			delete(p.byScreen, w.id)
		} else {
			p.byScreen[w.id] = w.pub
		}
	}
	p.mu.Unlock()
	for v, ids := range single {
		slices.Sort(ids)
		runs[v] = append(runs[v], ids)
	}
	changed := make(map[string][]string, len(runs))
	for v, rs := range runs {
		changed[v] = mergeRuns(rs)
	}
	p.setNext(NextChange(cat, now))
	return recompute{Full: true, Catalog: true, Screens: len(f.screens), Built: f.b.built}, changed, nil
}

// sync brings the fleet's screens and groups to snap's, places again each
// screen whose class may have changed with them, and returns those whose
// class did change.
func (f *fleet) sync(snap store.Snapshot) []string {
	moved := map[string]struct{}{}
	for id, g := range snap.Groups {
		if old, ok := f.groups[id]; !ok || !sameGroup(old, g) {
			moved[id] = struct{}{}
		}
	}
	for id := range f.groups {
		if _, ok := snap.Groups[id]; !ok {
			moved[id] = struct{}{}
		}
	}
	f.groups = snap.Groups
	var check []string
	for _, scr := range snap.Screens {
		old, ok := f.screens[scr.ID]
		f.screens[scr.ID] = scr
		if !ok || !sameTargeting(old, scr) || (len(moved) > 0 && underAny(scr.Group, f.groups, moved)) {
			check = append(check, scr.ID)
		}
	}
	if len(f.screens) != len(snap.Screens) { // some are gone
		live := make(map[string]struct{}, len(snap.Screens))
		for _, scr := range snap.Screens {
			live[scr.ID] = struct{}{}
		}
		for id := range f.screens {
			if _, ok := live[id]; !ok {
				delete(f.screens, id)
				check = append(check, id)
			}
		}
	}
	var dirty []string
	for _, id := range check {
		if f.place(id) {
			dirty = append(dirty, id)
		}
	}
	return dirty
}

// sameGroup and sameTargeting report whether two versions of a group or
// screen give the same contexts (Context).
func sameGroup(a, b playlists.Group) bool {
	return a.Name == b.Name && a.Parent == b.Parent && a.Timezone == b.Timezone &&
		a.DefaultPlaylist == b.DefaultPlaylist && a.Layout == b.Layout
}

func sameTargeting(a, b store.Screen) bool {
	return a.Group == b.Group && a.Timezone == b.Timezone && a.DefaultPlaylist == b.DefaultPlaylist &&
		a.Layout == b.Layout && slices.Equal(a.Tags, b.Tags)
}

// setLocked publishes pub for screen id and reports whether its version
// changed (or it had none). The caller holds mu for writing.
func (p *Publisher) setLocked(id string, pub *Published) bool {
	old, had := p.byScreen[id]
	if had && old == pub {
		return false
	}
	p.byScreen[id] = pub
	return !had || old.Manifest.Version != pub.Manifest.Version
}

// mergeRuns merges lists each in order, with no id in two, into one.
func mergeRuns(runs [][]string) []string {
	for len(runs) > 1 {
		next := runs[:0:0]
		for i := 0; i < len(runs); i += 2 {
			if i+1 == len(runs) {
				next = append(next, runs[i])
				break
			}
			a, b := runs[i], runs[i+1]
			out := make([]string, 0, len(a)+len(b))
			for len(a) > 0 && len(b) > 0 {
				if a[0] < b[0] {
					out, a = append(out, a[0]), a[1:]
				} else {
					out, b = append(out, b[0]), b[1:]
				}
			}
			next = append(next, append(append(out, a...), b...))
		}
		runs = next
	}
	return runs[0]
}

// setNext records the next known change instant and tells Run when it
// moved.
func (p *Publisher) setNext(due time.Time) {
	p.mu.Lock()
	moved := !due.Equal(p.next)
	p.next = due
	p.mu.Unlock()
	if moved {
		select {
		case p.rearm <- struct{}{}:
		default:
		}
	}
}

// partial recomputes the screens pd names and every screen in the subtree
// of a group pd names, reusing the manifests of keys already built.
func (p *Publisher) partial(pd pending) (recompute, map[string][]string, error) {
	f := &p.fleet
	affected, err := f.refresh(p.opts.Store, pd)
	if err != nil {
		return recompute{}, nil, err
	}
	builtBefore := f.b.built
	// Keys are let go of only after the new ones are taken, so a screen
	// that keeps its key, or joins one about to lose its last screen,
	// reuses the manifest built.
	var release, placed []string
	for id := range affected {
		k, had := f.keyFor(id)
		if !f.place(id) {
			continue // same class: same key, same manifest
		}
		if had {
			release = append(release, k)
		}
		placed = append(placed, id)
	}
	updates := make(map[string]*Published, len(placed))
	for _, id := range placed {
		c, ok := f.classOf[id]
		if !ok {
			updates[id] = nil
			continue
		}
		k, pub, err := f.assign(id, c)
		if err != nil {
			return recompute{}, nil, err
		}
		f.refs[k]++
		updates[id] = pub
	}
	for _, k := range release {
		f.release(k)
	}

	changed := map[string][]string{}
	p.mu.Lock()
	for id, pub := range updates {
		if pub == nil {
			delete(p.byScreen, id)
			continue
		}
		if p.setLocked(id, pub) {
			changed[pub.Manifest.Version] = append(changed[pub.Manifest.Version], id)
		}
	}
	p.mu.Unlock()
	return recompute{Screens: len(affected), Built: f.b.built - builtBefore}, changed, nil
}

// refresh reads the groups and screens pd names from src into the fleet
// and returns the screens they affect: those pd names and those under the
// groups it names.
func (f *fleet) refresh(src Source, pd pending) (map[string]bool, error) {
	affected := map[string]bool{}
	if len(pd.groups) > 0 {
		for id := range pd.groups {
			g, err := src.GetGroup(id)
			switch {
			case isNotFound(err):
				delete(f.groups, id)
			case err != nil:
				return nil, fmt.Errorf("publish: %w", err)
			default:
				f.groups[id] = g
			}
		}
		// A class's group chain is the one before this change, but it
		// matches the chain now up to the first changed group: the
		// screens under a changed group are those of the classes whose
		// chain holds one.
		for _, c := range f.classes {
			if slices.ContainsFunc(c.sc.Groups, func(g string) bool { _, ok := pd.groups[g]; return ok }) {
				for id := range c.members {
					affected[id] = true
				}
			}
		}
	}
	for id := range pd.screens {
		scr, err := src.GetScreen(id)
		switch {
		case isNotFound(err):
			delete(f.screens, id)
		case err != nil:
			return nil, fmt.Errorf("publish: %w", err)
		default:
			f.screens[id] = scr
		}
		affected[id] = true
	}
	return affected, nil
}

// place puts screen id into the class of its context now, or out of the
// fleet when it is gone, and reports whether its class changed. A screen
// that left a class is no longer counted in its key; one that joined has
// no key yet (assign, rekey).
func (f *fleet) place(id string) bool {
	old := f.classOf[id]
	var nc *class
	if scr, ok := f.screens[id]; ok {
		sc := Context(scr, f.groups)
		name := classKey(sc)
		if old != nil && old.name == name {
			return false
		}
		if nc = f.classes[name]; nc == nil {
			nc = newClass(name, sc)
			nc.sorted = []string{} // empty: in order, kept so as members join
			f.classes[name] = nc
		}
	} else if old == nil {
		return false
	}
	_, named := f.named[id]
	if nc != nil {
		nc.join(id)
		if !named {
			nc.free++
		}
		f.classOf[id] = nc
	} else {
		delete(f.classOf, id)
		delete(f.keyOf, id)
	}
	if old != nil {
		old.leave(id)
		if !named {
			if old.free--; old.free == 0 {
				old.key, old.pub = "", nil
			}
		}
		if len(old.members) == 0 {
			delete(f.classes, old.name)
		}
	}
	return true
}

// keyFor returns screen id's sharing key, if it has one.
func (f *fleet) keyFor(id string) (string, bool) {
	if k, ok := f.keyOf[id]; ok {
		return k, true
	}
	if c, ok := f.classOf[id]; ok && c.pub != nil {
		if _, named := f.named[id]; !named {
			return c.key, true
		}
	}
	return "", false
}

// pubOf returns the manifest of screen id, a member of c.
func (f *fleet) pubOf(id string, c *class) *Published {
	if k, ok := f.keyOf[id]; ok {
		return f.b.shared[k]
	}
	return c.pub
}

// assign gives screen id, just placed in c, its key and manifest: its own
// when a target names it, else its class's, built if the class has none.
func (f *fleet) assign(id string, c *class) (string, *Published, error) {
	if _, named := f.named[id]; named {
		k, pub, err := f.b.build(c.context(id))
		if err != nil {
			return "", nil, err
		}
		f.keyOf[id] = k
		return k, pub, nil
	}
	if c.pub == nil {
		k, pub, err := f.b.build(c.context(id))
		if err != nil {
			return "", nil, err
		}
		c.key, c.pub = k, pub
	}
	return c.key, c.pub, nil
}

// rekey cuts every manifest again from cat at now with a new builder: one
// per class with free members and one per named screen that exists, the
// object of prev kept wherever the key's manifest did not change. It
// returns the classes whose free members now have another object.
func (f *fleet) rekey(cat playlists.Catalog, now time.Time, prev map[string]*Published) ([]*class, error) {
	b := newBuilder(cat, now)
	b.prev = prev
	f.b = b
	f.named = targetScreens(cat)
	f.keyOf = make(map[string]string, len(f.named))
	f.refs = map[string]int{}
	namedIn := map[*class]int{}
	for id := range f.named {
		if c, ok := f.classOf[id]; ok {
			namedIn[c]++
		}
	}
	var moved []*class
	for _, c := range f.classes {
		old := c.pub
		c.free, c.key, c.pub = len(c.members)-namedIn[c], "", nil
		if c.free > 0 {
			k, pub, err := b.build(c.context(c.rep(f.named)))
			if err != nil {
				return nil, err
			}
			c.key, c.pub = k, pub
			f.refs[k] += c.free
		}
		if c.pub != nil && c.pub != old {
			moved = append(moved, c)
		}
	}
	for id := range f.named {
		c, ok := f.classOf[id]
		if !ok {
			continue
		}
		k, _, err := b.build(c.context(id))
		if err != nil {
			return nil, err
		}
		f.keyOf[id] = k
		f.refs[k]++
	}
	b.prev = nil
	return moved, nil
}

// release drops one screen's use of key k, and k's manifest with its last.
func (f *fleet) release(k string) {
	if f.refs[k]--; f.refs[k] <= 0 {
		delete(f.refs, k)
		delete(f.b.shared, k)
	}
}

// underAny reports whether group g, or a group above it, is in set. A
// chain longer than there are groups has a cycle and is not followed on.
func underAny(g string, groups map[string]playlists.Group, set map[string]struct{}) bool {
	for steps := 0; g != "" && steps <= len(groups); steps++ {
		if _, ok := set[g]; ok {
			return true
		}
		grp, ok := groups[g]
		if !ok {
			return false
		}
		g = grp.Parent
	}
	return false
}

// push sends each changed version once, to its screens in id order, and
// returns how many screens changed.
func (p *Publisher) push(changed map[string][]string) int {
	versions := make([]string, 0, len(changed))
	for v := range changed {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	n := 0
	for _, v := range versions {
		ids := changed[v]
		slices.Sort(ids)
		n += len(ids)
		p.changed.Add(float64(len(ids)))
		p.opts.Logger.Info("manifest published", "version", v, "screens", len(ids))
		if p.opts.Push != nil {
			p.opts.Push(v, ids)
		}
	}
	return n
}
