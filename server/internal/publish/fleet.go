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
// each screen's sharing key, how many screens share each key, and the
// builder holding the catalog and one manifest per key.
type fleet struct {
	ok      bool
	b       *builder
	screens map[string]store.Screen
	groups  map[string]playlists.Group
	keyOf   map[string]string
	refs    map[string]int
}

// recompute describes one recompute, for tests and metrics.
type recompute struct {
	Full     bool
	Screens  int // screens whose manifest was looked at
	Built    int // manifests built, not reused
	Changed  int // screens whose version changed
	Duration time.Duration
}

// recomputeLocked brings the published manifests up to date with pd: in
// full when pd says so, the catalog changed, nothing was computed yet, or
// a known change instant has passed (the catalog the builder holds is cut
// for the time before it); else only for the screens pd names and those
// under the groups it names. The caller holds pubMu.
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
	if pd.all || pd.catalog || !p.fleet.ok || (!due.IsZero() && !now.Before(due)) {
		r, changed, err = p.full(now)
	} else {
		r, changed, err = p.partial(pd)
	}
	if err != nil {
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
	b := newBuilder(snap.Catalog, now)
	f := fleet{
		ok: true, b: b, groups: snap.Groups,
		screens: make(map[string]store.Screen, len(snap.Screens)),
		keyOf:   make(map[string]string, len(snap.Screens)),
		refs:    map[string]int{},
	}
	next := make(map[string]*Published, len(snap.Screens))
	for _, scr := range snap.Screens {
		k, pub, err := b.manifest(scr, snap.Groups)
		if err != nil {
			return recompute{}, nil, err
		}
		f.screens[scr.ID] = scr
		f.keyOf[scr.ID] = k
		f.refs[k]++
		next[scr.ID] = pub
	}
	p.fleet = f
	due := NextChange(snap.Catalog, now)

	p.mu.Lock()
	prev := p.byScreen
	p.byScreen = next
	moved := !due.Equal(p.next)
	p.next = due
	p.mu.Unlock()
	if moved {
		select {
		case p.rearm <- struct{}{}:
		default:
		}
	}
	changed := map[string][]string{}
	for id, m := range next {
		if old, ok := prev[id]; !ok || old.Manifest.Version != m.Manifest.Version {
			changed[m.Manifest.Version] = append(changed[m.Manifest.Version], id)
		}
	}
	return recompute{Full: true, Screens: len(next), Built: b.built}, changed, nil
}

// partial recomputes the screens pd names and every screen in the subtree
// of a group pd names, reusing the manifests of keys already built.
func (p *Publisher) partial(pd pending) (recompute, map[string][]string, error) {
	f := &p.fleet
	src := p.opts.Store
	affected := map[string]bool{}
	if len(pd.groups) > 0 {
		for id := range pd.groups {
			g, err := src.GetGroup(id)
			switch {
			case isNotFound(err):
				delete(f.groups, id)
			case err != nil:
				return recompute{}, nil, fmt.Errorf("publish: %w", err)
			default:
				f.groups[id] = g
			}
		}
		for id, scr := range f.screens {
			if underAny(scr.Group, f.groups, pd.groups) {
				affected[id] = true
			}
		}
	}
	for id := range pd.screens {
		scr, err := src.GetScreen(id)
		switch {
		case isNotFound(err):
			delete(f.screens, id)
		case err != nil:
			return recompute{}, nil, fmt.Errorf("publish: %w", err)
		default:
			f.screens[id] = scr
		}
		affected[id] = true
	}

	builtBefore := f.b.built
	updates := make(map[string]*Published, len(affected))
	for id := range affected {
		oldKey, had := f.keyOf[id]
		scr, ok := f.screens[id]
		if !ok {
			if had {
				f.release(oldKey)
				delete(f.keyOf, id)
			}
			updates[id] = nil
			continue
		}
		k, pub, err := f.b.manifest(scr, f.groups)
		if err != nil {
			return recompute{}, nil, err
		}
		f.refs[k]++
		if had {
			f.release(oldKey)
		}
		f.keyOf[id] = k
		updates[id] = pub
	}

	changed := map[string][]string{}
	p.mu.Lock()
	for id, pub := range updates {
		old, had := p.byScreen[id]
		if pub == nil {
			delete(p.byScreen, id)
			continue
		}
		p.byScreen[id] = pub
		if !had || old.Manifest.Version != pub.Manifest.Version {
			changed[pub.Manifest.Version] = append(changed[pub.Manifest.Version], id)
		}
	}
	p.mu.Unlock()
	return recompute{Screens: len(affected), Built: f.b.built - builtBefore}, changed, nil
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
