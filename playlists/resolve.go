package playlists

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	// Screens run on minimal images that may lack /usr/share/zoneinfo; without
	// the embedded database an Asia/Shanghai screen would silently evaluate
	// its dayparts in UTC, eight hours off.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// ResolveHorizon is how far past T Resolve looks for the next change. It is a
// day longer than the week a manifest is built for, so a screen that has been
// offline for a while still learns when its next window opens.
const ResolveHorizon = 8 * 24 * time.Hour

// Entry is one slot of a rotation: an item and where it came from.
type Entry struct {
	Item     Item   `json:"item"`
	Playlist string `json:"playlist"`
	Schedule string `json:"schedule"`
}

// Resolution is what plays on a screen at an instant: the rotation of the
// winning priority, and the instant the answer may next change.
type Resolution struct {
	// Priority of the winning schedules; 0 when nothing plays.
	Priority int `json:"priority"`
	// Schedules are the winning schedules, by id: active, at Priority, and
	// with at least one item to show.
	Schedules []string `json:"schedules"`
	// Entries is the rotation; empty means the player shows its fallback.
	Entries []Entry `json:"entries"`
	// Default is true when no schedule had anything to show and Entries
	// come from the manifest's DefaultPlaylist (their Schedule is empty).
	Default bool `json:"default,omitempty"`
	// Until is the next instant after T at which any schedule that could
	// contribute items opens or closes, exact to the nanosecond of its
	// bound. The rotation may be the same afterwards (a lower priority
	// toggled), so callers compare rather than assume. Zero means no change
	// within ResolveHorizon.
	Until time.Time `json:"until,omitzero"`
}

// locations caches time zones by name: LoadLocation reads and parses a file
// on every call, and Resolve runs on every window boundary of every screen.
var locations sync.Map // string → *time.Location

// Location returns the manifest's time zone: DefaultTimezone when none is
// set, UTC for an unknown name (the server refuses unknown names, so that is
// a last resort).
func (m *Manifest) Location() *time.Location {
	return loadLocation(m.Timezone)
}

func loadLocation(name string) *time.Location {
	if name == "" {
		name = DefaultTimezone
	}
	if v, ok := locations.Load(name); ok {
		return v.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	v, _ := locations.LoadOrStore(name, loc)
	return v.(*time.Location)
}

// ParseDaypart parses a schedule's cron expression as Resolve reads it: the
// standard 5-field syntax or a descriptor, without @every (an interval is
// not a daypart) and without robfig's CRON_TZ=/TZ= prefix (a rule evaluates
// in the screen's time zone; a second source of truth would make one
// manifest play differently depending on which field someone read).
func ParseDaypart(expr string) (cron.Schedule, error) {
	trimmed := strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(trimmed, "@every"):
		return nil, errors.New("@every is not a daypart; use a 5-field expression or @daily/@weekly/@monthly")
	case strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ="):
		return nil, errors.New("a time zone prefix is not allowed; dayparts evaluate in the screen's time zone")
	}
	if spec, ok, err := parseNthWeekday(trimmed); ok {
		return spec, err
	}
	return ParseCron(expr)
}

// parseNthWeekday reads the one extension to standard cron that dayparts
// accept: a weekday field "D#N", the Nth weekday D of the month (1#1 is
// the first Monday, 5#3 the third Friday, N from 1 to 5), as Quartz and
// cronie write it. Standard cron cannot say this: when both day fields
// are restricted it fires on either ("0 8 1-7 * 1" is every Monday and
// also the 1st to the 7th), which is the rule robfig/cron follows too.
// The day-of-month field must be "*" alongside it. ok is false when expr
// does not use the extension. A player older than this parser refuses
// such a rule, so the schedule stays dark there rather than playing on
// the wrong days.
func parseNthWeekday(expr string) (spec cron.Schedule, ok bool, err error) {
	f := strings.Fields(expr)
	if len(f) != 5 || !strings.Contains(f[4], "#") {
		return nil, false, nil
	}
	day, nth, found := strings.Cut(f[4], "#")
	if !found || len(day) != 1 || day[0] < '0' || day[0] > '6' || len(nth) != 1 || nth[0] < '1' || nth[0] > '5' {
		return nil, true, fmt.Errorf("weekday %q: the Nth-weekday form is D#N with D from 0 (Sunday) to 6 and N from 1 to 5, such as 1#1 for the first Monday", f[4])
	}
	if f[2] != "*" {
		return nil, true, fmt.Errorf("day of month %q: must be * with an Nth-weekday rule (%s)", f[2], f[4])
	}
	inner, err := ParseCron(strings.Join([]string{f[0], f[1], f[2], f[3], day}, " "))
	if err != nil {
		return nil, true, err
	}
	return nthWeekday{inner: inner, nth: int(nth[0] - '0')}, true, nil
}

// nthWeekday fires where inner (a rule on one weekday) fires, but only in
// the Nth week of the month: days (N-1)*7+1 to N*7.
type nthWeekday struct {
	inner cron.Schedule
	nth   int
}

// Next returns the first fire after t, or zero if none within about five
// years, as robfig's own Next does.
func (s nthWeekday) Next(t time.Time) time.Time {
	limit := t.AddDate(5, 0, 0)
	for {
		n := s.inner.Next(t)
		if n.IsZero() || n.After(limit) {
			return time.Time{}
		}
		if (n.Day()-1)/7+1 == s.nth {
			return n
		}
		// Every other fire that day is in the wrong week too: go on from
		// the last second of the day.
		y, m, d := n.Date()
		t = time.Date(y, m, d+1, 0, 0, 0, 0, n.Location()).Add(-time.Second)
	}
}

// dayparts caches parsed expressions for Resolve. A parsed SpecSchedule is
// only read by Next, so one value is safely shared by concurrent calls. Only
// manifests feed it (a handful of expressions staff wrote), never raw API
// input, which would let anyone grow it without bound.
var dayparts sync.Map // string → daypartEntry

type daypartEntry struct {
	spec cron.Schedule
	err  error
}

func cachedDaypart(expr string) (cron.Schedule, error) {
	if v, ok := dayparts.Load(expr); ok {
		e := v.(daypartEntry)
		return e.spec, e.err
	}
	var e daypartEntry
	e.spec, e.err = ParseDaypart(expr)
	dayparts.Store(expr, e)
	return e.spec, e.err
}

// rule is a schedule compiled for evaluation in one time zone.
type rule struct {
	from, to *time.Time
	spec     cron.Schedule // nil: no daypart, active all through the date window
	dur      time.Duration
	loc      *time.Location
	broken   bool // a rule Validate would refuse: never active
}

func compile(s *Schedule, loc *time.Location) rule {
	r := rule{from: s.From, to: s.To, loc: loc}
	if s.Cron == "" {
		return r
	}
	spec, err := cachedDaypart(s.Cron)
	// An unreadable rule or a window outside the limits Validate enforces
	// stays dark instead of guessing; the rest of the manifest still plays.
	if err != nil || s.DurationS <= 0 || s.DurationS > MaxCronWindow {
		r.broken = true
		return r
	}
	r.spec = spec
	r.dur = time.Duration(s.DurationS) * time.Second
	return r
}

func (r *rule) inDates(t time.Time) bool {
	if r.from != nil && t.Before(*r.from) {
		return false
	}
	return r.to == nil || t.Before(*r.to)
}

func (r *rule) active(t time.Time) bool {
	if r.broken || !r.inDates(t) {
		return false
	}
	if r.spec == nil {
		return true
	}
	// t is inside a window iff some fire f has f <= t < f+dur, that is
	// f in (t-dur, t]; the first fire after t-dur settles it without
	// walking minute by minute.
	return !r.nextFire(t.Add(-r.dur), t).IsZero()
}

// nextFire returns the first fire in (after, limit], or zero if none.
//
// A rule fires at every instant whose wall-clock time in r.loc matches the
// expression. robfig's Next is asked only within one stretch of constant UTC
// offset, in a fixed zone, where wall time runs evenly: on a real zone its
// hour arithmetic goes wrong around transitions (it skips times that a
// spring-forward removes without saying so, and after Lord Howe's
// half-hour shift it misses whole days). Across a transition:
//   - wall times that a forward jump removes (02:30 on the day New York goes
//     from 02:00 to 03:00) fire at the jump itself, as cron(8) does; several
//     skipped fires collapse into one;
//   - wall times that a backward jump repeats (01:30 on the day New York
//     goes from 02:00 back to 01:00) exist twice and fire twice.
func (r *rule) nextFire(after, limit time.Time) time.Time {
	seg, from := after, after
	for {
		lt := seg.In(r.loc)
		name, off := lt.Zone()
		_, end := lt.ZoneBounds()
		n := r.spec.Next(from.In(time.FixedZone(name, off)))
		if !n.IsZero() && (end.IsZero() || n.Before(end)) {
			if n.After(limit) {
				return time.Time{}
			}
			return n.In(r.loc)
		}
		if end.IsZero() || end.After(limit) {
			return time.Time{}
		}
		if r.firesInGap(end) {
			return end.In(r.loc)
		}
		// Next(x) looks from the whole second after x, so one nanosecond
		// back lets a fire at the very start of the next stretch count.
		seg, from = end, end.Add(-time.Nanosecond)
	}
}

// firesInGap reports whether the transition at x skips wall-clock time (the
// offset grows) and the rule would have fired in the skipped stretch.
func (r *rule) firesInGap(x time.Time) bool {
	_, before := x.Add(-time.Second).In(r.loc).Zone()
	_, after := x.In(r.loc).Zone()
	if after <= before {
		return false
	}
	// On a clock that kept the old offset the skipped stretch exists: it
	// is [x, x+gap) there, and a fixed zone has no transitions for Next to
	// skip.
	old := time.FixedZone("", before)
	n := r.spec.Next(x.Add(-time.Second).In(old))
	return !n.IsZero() && n.Before(x.Add(time.Duration(after-before)*time.Second))
}

// cronNextChange returns the first instant in (t, limit] at which the
// daypart alone switches between open and closed, or zero if none.
// Overlapping and touching windows of the same rule merge into one.
func (r *rule) cronNextChange(t, limit time.Time) time.Time {
	f := r.nextFire(t.Add(-r.dur), limit)
	if f.IsZero() {
		return time.Time{}
	}
	if f.After(t) {
		return f
	}
	end := f.Add(r.dur)
	for !end.After(limit) {
		g := r.nextFire(f, end)
		if g.IsZero() {
			return end.In(r.loc)
		}
		// Any fire in (f, end] extends the window to its own end, and the
		// latest one extends it furthest. Probing back from end in growing
		// steps finds a late one quickly, so "* * * * *" for a week takes a
		// few steps instead of ten thousand.
		for back := time.Minute; back < end.Sub(g); back *= 2 {
			if h := r.nextFire(end.Add(-back), end); !h.IsZero() {
				g = h
				break
			}
		}
		f, end = g, g.Add(r.dur)
	}
	return time.Time{}
}

// nextChange returns the first instant in (t, limit] at which the rule's
// activity differs from its activity at t, or zero if none.
func (r *rule) nextChange(t, limit time.Time) time.Time {
	if r.broken {
		return time.Time{}
	}
	now := r.active(t)
	for cur := t; ; {
		var c time.Time
		switch {
		case r.from != nil && cur.Before(*r.from):
			// Nothing the daypart does before the window matters.
			c = *r.from
		case r.to != nil && !cur.Before(*r.to):
			return time.Time{}
		default:
			if r.spec != nil {
				c = r.cronNextChange(cur, limit)
			}
			if r.to != nil && (c.IsZero() || r.to.Before(c)) {
				c = *r.to
			}
		}
		if c.IsZero() || c.After(limit) || !c.After(cur) {
			return time.Time{}
		}
		if r.active(c) != now {
			return c.In(r.loc)
		}
		cur = c
	}
}

// Active reports whether s is active at t with its dayparts evaluated in
// loc. See the package documentation for the rules.
func (s Schedule) Active(t time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = loadLocation("")
	}
	r := compile(&s, loc)
	return r.active(t.Round(0))
}

// NextChange returns the first instant after t, at most ResolveHorizon
// later, at which s switches between active and inactive in loc; zero if
// none. Windows of one schedule that overlap or touch count as one.
func (s Schedule) NextChange(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = loadLocation("")
	}
	t = t.Round(0)
	r := compile(&s, loc)
	return r.nextChange(t, t.Add(ResolveHorizon))
}

// Resolve returns what plays at t. Among the schedules that are active at t
// and have at least one item to show, the highest priority wins; schedules
// of equal priority are interleaved by position into one rotation, in order
// of schedule id. A schedule whose playlist is empty, or whose items the
// manifest lacks, never wins, so the next lower priority with content fills
// the gap. Two winners that share a playlist contribute it once.
func (m *Manifest) Resolve(t time.Time) Resolution {
	res, _ := m.resolve(t)
	return res
}

// resolve is Resolve that also returns the outranked schedules: active at
// t, with items to show, but below the winning priority.
func (m *Manifest) resolve(t time.Time) (Resolution, []string) {
	t = t.Round(0) // compare wall times only; a monotonic reading means nothing to a rule
	loc := m.Location()
	limit := t.Add(ResolveHorizon)
	look := m.lookup()

	type candidate struct {
		s *Schedule
		r rule
	}
	var (
		cands   []candidate
		winners []*Schedule
		best    int
	)
	for i := range m.Schedules {
		s := &m.Schedules[i]
		if !look.hasContent(s.Playlist) {
			// It can never change what plays, so it neither wins nor
			// marks a change in Until.
			continue
		}
		c := candidate{s: s, r: compile(s, loc)}
		cands = append(cands, c)
		if !c.r.active(t) {
			continue
		}
		switch {
		case len(winners) == 0 || s.Priority > best:
			winners, best = append(winners[:0], s), s.Priority
		case s.Priority == best:
			winners = append(winners, s)
		}
	}

	res := Resolution{Schedules: []string{}, Entries: []Entry{}}
	if len(winners) > 0 {
		res.Priority = best
		slices.SortStableFunc(winners, func(a, b *Schedule) int { return cmp.Compare(a.ID, b.ID) })
		seen := map[string]bool{}
		var lists [][]Entry
		for _, s := range winners {
			res.Schedules = append(res.Schedules, s.ID)
			if seen[s.Playlist] {
				continue
			}
			seen[s.Playlist] = true
			lists = append(lists, look.entries(s))
		}
		res.Entries = interleave(lists)
	} else if m.DefaultPlaylist != "" {
		// The gap filler: below every schedule, whatever its priority.
		res.Entries = look.entries(&Schedule{Playlist: m.DefaultPlaylist})
		res.Default = len(res.Entries) > 0
	}
	var outranked []string
	for _, c := range cands {
		if c.s.Priority < best && c.r.active(t) {
			outranked = append(outranked, c.s.ID)
		}
	}

	for _, c := range cands {
		if x := c.r.nextChange(t, limit); !x.IsZero() && (res.Until.IsZero() || x.Before(res.Until)) {
			res.Until = x
		}
	}
	if !res.Until.IsZero() {
		res.Until = res.Until.In(loc)
	}
	return res, outranked
}

// interleave merges rotations by position, A1 B1 A2 B2 A3 A4: each winner
// is on screen at the same rate until it runs out, so a long playlist cannot
// push a short one off for minutes.
func interleave(lists [][]Entry) []Entry {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]Entry, 0, n)
	for i := 0; len(out) < n; i++ {
		for _, l := range lists {
			if i < len(l) {
				out = append(out, l[i])
			}
		}
	}
	return out
}

// manifestLookup finds playlists and items in a manifest whether or not it
// is sealed: a sealed one is sorted and searched in place, anything else
// (a manifest built by hand) is indexed once.
type manifestLookup struct {
	m         *Manifest
	playlists map[string]*Playlist
	items     map[string]*Item
}

func (m *Manifest) lookup() manifestLookup {
	l := manifestLookup{m: m}
	if !slices.IsSortedFunc(m.Playlists, func(a, b Playlist) int { return cmp.Compare(a.ID, b.ID) }) {
		l.playlists = make(map[string]*Playlist, len(m.Playlists))
		for i := range m.Playlists {
			if _, dup := l.playlists[m.Playlists[i].ID]; !dup {
				l.playlists[m.Playlists[i].ID] = &m.Playlists[i]
			}
		}
	}
	if !slices.IsSortedFunc(m.Items, func(a, b Item) int { return cmp.Compare(a.ID, b.ID) }) {
		l.items = make(map[string]*Item, len(m.Items))
		for i := range m.Items {
			if _, dup := l.items[m.Items[i].ID]; !dup {
				l.items[m.Items[i].ID] = &m.Items[i]
			}
		}
	}
	return l
}

func (l manifestLookup) playlist(id string) (*Playlist, bool) {
	if l.playlists != nil {
		p, ok := l.playlists[id]
		return p, ok
	}
	i, ok := slices.BinarySearchFunc(l.m.Playlists, id, func(p Playlist, id string) int { return cmp.Compare(p.ID, id) })
	if !ok {
		return nil, false
	}
	return &l.m.Playlists[i], true
}

func (l manifestLookup) item(id string) (*Item, bool) {
	if l.items != nil {
		it, ok := l.items[id]
		return it, ok
	}
	i, ok := slices.BinarySearchFunc(l.m.Items, id, func(it Item, id string) int { return cmp.Compare(it.ID, id) })
	if !ok {
		return nil, false
	}
	return &l.m.Items[i], true
}

func (l manifestLookup) hasContent(playlist string) bool {
	pl, ok := l.playlist(playlist)
	if !ok {
		return false
	}
	for _, id := range pl.Items {
		if _, ok := l.item(id); ok {
			return true
		}
	}
	return false
}

func (l manifestLookup) entries(s *Schedule) []Entry {
	pl, ok := l.playlist(s.Playlist)
	if !ok {
		return nil
	}
	es := make([]Entry, 0, len(pl.Items))
	for _, id := range pl.Items {
		if it, ok := l.item(id); ok {
			es = append(es, Entry{Item: *it, Playlist: pl.ID, Schedule: s.ID})
		}
	}
	return es
}
