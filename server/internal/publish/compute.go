package publish

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// NextChange is the earliest instant after now at which a manifest cut from
// c changes with no edit: an urgent notice's ExpiresAt or a schedule's To,
// the two things BuildManifest drops by time. Zero when neither lies ahead.
// It does not check targets: an extra publish that changes nothing pushes
// nothing, and skipping the check keeps this linear in the catalog.
func NextChange(c playlists.Catalog, now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, u := range c.Urgent {
		consider(u.ExpiresAt)
	}
	for _, sc := range c.Schedules {
		if sc.To != nil {
			consider(*sc.To)
		}
	}
	return next
}

// Compute cuts every screen's manifest from snap at now. Screens with the
// same matching schedules and time zone share one manifest, built once.
func Compute(snap store.Snapshot, now time.Time) (map[string]*Published, error) {
	b := newBuilder(snap.Catalog, now)
	out := make(map[string]*Published, len(snap.Screens))
	for _, scr := range snap.Screens {
		_, pub, err := b.manifest(scr, snap.Groups)
		if err != nil {
			return nil, err
		}
		out[scr.ID] = pub
	}
	return out, nil
}

// builder cuts manifests from one catalog at one instant, building each
// distinct one once: shared maps a sharing key (sharingKey) to its
// manifest. A builder's manifests stay right for as long as the catalog
// does not change and no instant of NextChange has passed, since nothing
// else in a manifest depends on the clock; the publisher keeps one that
// long and builds only what a change of screens or groups needs.
type builder struct {
	cat    playlists.Catalog
	now    time.Time
	shared map[string]*Published
	// prev, when set, is the previous builder's shared: a manifest built
	// again under the same key with the same version is that object, not
	// a new one, so screens whose manifest did not change keep the very
	// object they had and a recut need not touch them.
	prev map[string]*Published
	// built counts manifests built (BuildManifest run), not reused from
	// a screen sharing them.
	built int
}

func newBuilder(cat playlists.Catalog, now time.Time) *builder {
	return &builder{cat: cat, now: now, shared: map[string]*Published{}}
}

// manifest returns scr's sharing key and manifest, building it unless a
// screen with the same key already has one.
func (b *builder) manifest(scr store.Screen, groups map[string]playlists.Group) (string, *Published, error) {
	return b.build(Context(scr, groups))
}

// build returns the sharing key and manifest of a screen with context
// sc, building the manifest unless one with the same key is built.
func (b *builder) build(sc playlists.ScreenContext) (string, *Published, error) {
	k := sharingKey(sc, b.cat)
	if pub, ok := b.shared[k]; ok {
		return k, pub, nil
	}
	m := playlists.BuildManifest(sc, b.cat, b.now)
	b.built++
	if old, ok := b.prev[k]; ok && old.Manifest.Version == m.Version {
		// Equal versions are equal content, so equal encodings.
		b.shared[k] = old
		return k, old, nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return "", nil, fmt.Errorf("publish: encode manifest: %w", err)
	}
	pub := &Published{Manifest: m, JSON: raw}
	b.shared[k] = pub
	return k, pub, nil
}

// sharingKey names everything of sc a manifest cut from cat depends on:
// the schedules, urgent notices and safe modes that target it (in id
// order), its default playlist, time zone, layout and header. Screens with
// the same key get the same manifest.
func sharingKey(sc playlists.ScreenContext, cat playlists.Catalog) string {
	var key strings.Builder
	key.Grow(128) // one allocation for a typical key instead of several
	// Schedules are already in id order.
	for _, sch := range cat.Schedules {
		if sch.Target.Matches(sc) {
			key.WriteString(sch.ID)
			key.WriteByte(',')
		}
	}
	for _, u := range cat.Urgent {
		if u.Target.Matches(sc) {
			key.WriteString("!" + u.ID + ",")
		}
	}
	for _, m := range cat.SafeModes {
		if m.Target.Matches(sc) {
			key.WriteString("~" + m.ID + ",")
		}
	}
	key.WriteString("#" + sc.DefaultPlaylist)
	key.WriteString("@" + sc.Timezone)
	key.WriteString("|" + sc.Layout + "|" + sc.Header)
	return key.String()
}

// Context is what targeting knows about scr: its group and the group's
// ancestors, its tags, its time zone (its own, else the nearest group's in
// the chain, else playlists.DefaultTimezone) and its default playlist (its
// own, else the nearest group's in the chain), its layout (likewise, else
// full screen) and the header text of that layout (its own group's name).
func Context(scr store.Screen, groups map[string]playlists.Group) playlists.ScreenContext {
	sc := playlists.ScreenContext{ID: scr.ID, Tags: scr.Tags, Timezone: scr.Timezone, DefaultPlaylist: scr.DefaultPlaylist}
	var layouts []string
	if g, ok := groups[scr.Group]; ok {
		sc.Header = g.Name
	}
	// A group already in the chain closes a cycle: the chain stops there.
	// Chains are a few groups long, so looking back costs less than a map.
	for g := scr.Group; g != "" && !slices.Contains(sc.Groups, g); {
		sc.Groups = append(sc.Groups, g)
		grp, ok := groups[g]
		if !ok {
			break
		}
		if sc.Timezone == "" {
			sc.Timezone = grp.Timezone
		}
		if sc.DefaultPlaylist == "" {
			sc.DefaultPlaylist = grp.DefaultPlaylist
		}
		layouts = append(layouts, grp.Layout)
		g = grp.Parent
	}
	sc.Layout = playlists.ResolveLayout(scr.Layout, layouts...)
	if sc.Timezone == "" {
		sc.Timezone = playlists.DefaultTimezone
	}
	return sc
}

// classKey names everything of sc but its id that a manifest, or whether a
// target matches sc, depends on: the group chain, the tags as a set, the
// time zone, default playlist, layout and header. Screens with the same
// class key have the same sharing key, and so the same manifest, under any
// catalog whose targets name neither of them by id (targetScreens). Each
// part is length-prefixed, so different contexts never share a key.
func classKey(sc playlists.ScreenContext) string {
	var key strings.Builder
	key.Grow(96)
	field := func(s string) {
		key.WriteString(strconv.Itoa(len(s)))
		key.WriteByte(':')
		key.WriteString(s)
	}
	list := func(xs []string, kind byte) {
		key.WriteString(strconv.Itoa(len(xs)))
		key.WriteByte(kind)
		for _, x := range xs {
			field(x)
		}
	}
	list(sc.Groups, 'g')
	tags := sc.Tags
	if !strictlySorted(tags) {
		tags = slices.Compact(slices.Sorted(slices.Values(tags)))
	}
	list(tags, 't')
	field(sc.Timezone)
	field(sc.DefaultPlaylist)
	field(sc.Layout)
	field(sc.Header)
	return key.String()
}

// strictlySorted reports whether xs is sorted without repeats: a set
// already in canonical order.
func strictlySorted(xs []string) bool {
	for i := 1; i < len(xs); i++ {
		if xs[i-1] >= xs[i] {
			return false
		}
	}
	return true
}

// targetScreens is the set of screen ids a schedule, urgent notice or safe
// mode of cat names in its target (Target.Screens): the only screens whose
// manifest may differ from that of another screen of the same class.
func targetScreens(cat playlists.Catalog) map[string]struct{} {
	named := map[string]struct{}{}
	add := func(t playlists.Target) {
		for _, id := range t.Screens {
			named[id] = struct{}{}
		}
	}
	for _, sc := range cat.Schedules {
		add(sc.Target)
	}
	for _, u := range cat.Urgent {
		add(u.Target)
	}
	for _, m := range cat.SafeModes {
		add(m.Target)
	}
	return named
}
