package publish

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

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
