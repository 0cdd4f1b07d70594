package store

import (
	"slices"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Change is what one committed write transaction changed that manifests
// depend on: the ids of screens and groups written or deleted, and whether
// any of the content screens are sent (items, playlists, schedules, assets,
// urgent notices, safe modes) was written. The store announces it to its
// subscribers once the transaction is committed (Subscribe), so nothing
// outside the store has to remember to say that content changed.
type Change struct {
	Screens []string
	Groups  []string
	Catalog bool
}

// Empty reports whether c names nothing.
func (c Change) Empty() bool { return len(c.Screens) == 0 && len(c.Groups) == 0 && !c.Catalog }

// Subscribe calls fn with every Change committed from now on, in the
// goroutine that committed it, after the in-memory index already shows it.
// fn must not block or write to the store; queue and return.
func (s *Store) Subscribe(fn func(Change)) {
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	s.mem.subs = append(s.mem.subs, fn)
}

// memIndex is every screen and group decoded once and kept in memory, so
// reads (ListScreens, GetScreen, ListGroups, Snapshot) decode nothing. The
// bbolt file stays the source of truth: the index is filled from it at
// Open and changed only after a write transaction that changed the file
// has committed (tx.OnCommit). bbolt runs commit handlers after it has
// released its writer lock, so two handlers may run out of order; each
// entry keeps the id of the transaction that wrote it (bbolt numbers
// committed write transactions in order) and an older write never
// replaces a newer one.
type memIndex struct {
	mu      sync.RWMutex
	screens map[string]memScreen
	groups  map[string]memGroup
	// shared is every live screen in id order, copies made once and
	// handed out read-only (SharedScreens); nil after any screen change,
	// rebuilt by the next reader.
	shared []*Screen
	subs   []func(Change)
}

// memScreen is a screen as stored; gone marks a deleted one, kept so a
// late handler of an older transaction cannot bring it back.
type memScreen struct {
	sc   Screen
	rev  uint64
	gone bool
}

type memGroup struct {
	g    playlists.Group
	rev  uint64
	gone bool
}

// txNotes holds what each open write transaction has changed so far, keyed
// by the transaction; boltDB adds the entry when a transaction's function
// starts and removes it when the function returns.
var txNotes sync.Map // *bolt.Tx → *txNote

// txNote collects one transaction's changes. Values are recorded as
// written; nil marks a delete.
type txNote struct {
	s       *Store
	screens map[string]*Screen
	groups  map[string]*playlists.Group
	catalog bool
	armed   bool
}

// beginNote starts noting tx's changes for s.
func (s *Store) beginNote(tx *bolt.Tx) { txNotes.Store(tx, &txNote{s: s}) }

// endNote stops noting tx: what was noted is applied by the commit
// handler, if the transaction commits.
func endNote(tx *bolt.Tx) { txNotes.Delete(tx) }

func noteFor(tx *bolt.Tx) *txNote {
	v, ok := txNotes.Load(tx)
	if !ok {
		return nil
	}
	n := v.(*txNote)
	if !n.armed {
		n.armed = true
		rev := uint64(tx.ID())
		tx.OnCommit(func() { n.s.applyNote(n, rev) })
	}
	return n
}

// noteScreen records that tx wrote screen id (sc nil: deleted it).
func noteScreen(tx *bolt.Tx, id string, sc *Screen) {
	if n := noteFor(tx); n != nil {
		if n.screens == nil {
			n.screens = map[string]*Screen{}
		}
		if sc != nil {
			c := cloneScreen(*sc)
			sc = &c
		}
		n.screens[id] = sc
	}
}

// noteGroup records that tx wrote group id (g nil: deleted it).
func noteGroup(tx *bolt.Tx, id string, g *playlists.Group) {
	if n := noteFor(tx); n != nil {
		if n.groups == nil {
			n.groups = map[string]*playlists.Group{}
		}
		if g != nil {
			c := *g
			g = &c
		}
		n.groups[id] = g
	}
}

// noteCatalog records that tx wrote content manifests are cut from.
func noteCatalog(tx *bolt.Tx) {
	if n := noteFor(tx); n != nil {
		n.catalog = true
	}
}

// applyNote updates the index with a committed transaction's changes and
// announces them.
func (s *Store) applyNote(n *txNote, rev uint64) {
	ch := Change{Catalog: n.catalog}
	m := &s.mem
	m.mu.Lock()
	for id, sc := range n.screens {
		ch.Screens = append(ch.Screens, id)
		old, had := m.screens[id]
		if had && old.rev > rev {
			continue
		}
		if sc == nil {
			m.screens[id] = memScreen{rev: rev, gone: true}
		} else {
			m.screens[id] = memScreen{sc: *sc, rev: rev}
		}
		m.shared = nil
	}
	for id, g := range n.groups {
		ch.Groups = append(ch.Groups, id)
		if old, had := m.groups[id]; had && old.rev > rev {
			continue
		}
		if g == nil {
			m.groups[id] = memGroup{rev: rev, gone: true}
		} else {
			m.groups[id] = memGroup{g: *g, rev: rev}
		}
	}
	subs := m.subs
	m.mu.Unlock()
	slices.Sort(ch.Screens)
	slices.Sort(ch.Groups)
	if ch.Empty() {
		return
	}
	for _, fn := range subs {
		fn(ch)
	}
}

// loadIndex fills the index from the file, at Open.
func (s *Store) loadIndex() error {
	return s.db.View(func(tx *bolt.Tx) error {
		rev := uint64(tx.ID())
		recs, err := listJSON[screenRecord](tx, bucketScreens)
		if err != nil {
			return err
		}
		groups, err := listJSON[playlists.Group](tx, bucketGroups)
		if err != nil {
			return err
		}
		m := &s.mem
		m.mu.Lock()
		defer m.mu.Unlock()
		m.screens = make(map[string]memScreen, len(recs))
		for _, r := range recs {
			m.screens[r.ID] = memScreen{sc: r.Screen, rev: rev}
		}
		m.groups = make(map[string]memGroup, len(groups))
		for _, g := range groups {
			m.groups[g.ID] = memGroup{g: g, rev: rev}
		}
		m.shared = nil
		return nil
	})
}

// cloneScreen copies sc deeply enough that changing the copy (its tags,
// its paired device) cannot change the original.
func cloneScreen(sc Screen) Screen {
	sc.Tags = slices.Clone(sc.Tags)
	if sc.Tags == nil {
		sc.Tags = []string{}
	}
	if sc.Device != nil {
		d := *sc.Device
		sc.Device = &d
	}
	return sc
}

// memScreens returns copies of every screen, ordered by id: the shared
// list, each screen cloned so the caller may change it.
func (s *Store) memScreens() []Screen {
	shared := s.SharedScreens()
	out := make([]Screen, len(shared))
	for i, sc := range shared {
		out[i] = cloneScreen(*sc)
	}
	return out
}

// SharedScreens returns every screen in id order without copying them per
// call: the slice and the screens are shared by every caller until a
// screen changes, so callers must treat both as read-only (copy a screen
// before changing or keeping it). A list request at 10,000 screens then
// costs one pass over pointers instead of 10,000 copies; ListScreens is
// the copying form for callers that change what they get.
func (s *Store) SharedScreens() []*Screen {
	m := &s.mem
	m.mu.RLock()
	out := m.shared
	m.mu.RUnlock()
	if out != nil {
		return out
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shared == nil {
		shared := make([]*Screen, 0, len(m.screens))
		for _, e := range m.screens {
			if !e.gone {
				c := cloneScreen(e.sc)
				shared = append(shared, &c)
			}
		}
		slices.SortFunc(shared, func(a, b *Screen) int { return strings.Compare(a.ID, b.ID) })
		m.shared = shared
	}
	return m.shared
}

// memScreen returns a copy of screen id, if it exists.
func (s *Store) memScreen(id string) (Screen, bool) {
	s.mem.mu.RLock()
	defer s.mem.mu.RUnlock()
	e, ok := s.mem.screens[id]
	if !ok || e.gone {
		return Screen{}, false
	}
	return cloneScreen(e.sc), true
}

// memGroups returns every group by id (groups hold no slices or pointers,
// so the values are copies).
func (s *Store) memGroups() map[string]playlists.Group {
	s.mem.mu.RLock()
	defer s.mem.mu.RUnlock()
	out := make(map[string]playlists.Group, len(s.mem.groups))
	for id, e := range s.mem.groups {
		if !e.gone {
			out[id] = e.g
		}
	}
	return out
}

// memGroup returns group id, if it exists.
func (s *Store) memGroup(id string) (playlists.Group, bool) {
	s.mem.mu.RLock()
	defer s.mem.mu.RUnlock()
	e, ok := s.mem.groups[id]
	if !ok || e.gone {
		return playlists.Group{}, false
	}
	return e.g, true
}
