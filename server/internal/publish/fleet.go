package publish

import (
	"fmt"
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
