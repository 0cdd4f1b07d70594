package devices

import "sync"

// Tally is how many screens are in each state, indexed like States.
type Tally [4]int

// Of returns the count for state s.
func (t Tally) Of(s State) int { return t[stateIndex(s)] }

// Total is the number of screens counted.
func (t Tally) Total() int { return t[0] + t[1] + t[2] + t[3] }

// Add adds u's counts to t.
func (t *Tally) Add(u Tally) {
	for i := range t {
		t[i] += u[i]
	}
}

// Map is t as a map with every state present.
func (t Tally) Map() map[State]int {
	m := make(map[State]int, len(States))
	for i, s := range States {
		m[s] = t[i]
	}
	return m
}

func stateIndex(s State) int {
	switch s {
	case StateOnline:
		return 0
	case StateOffline:
		return 1
	case StateStale:
		return 2
	case StateDegraded:
		return 3
	}
	panic("devices: unknown state " + string(s))
}

// tally keeps the counts per group a screen is directly in, moved on
// every state change, create, move and delete, so the fleet summary adds
// up groups instead of walking screens. Its lock is taken under a
// screen's lock, never the other way round, and only when a count moves:
// a heartbeat that changes no state never takes it.
type tally struct {
	mu sync.Mutex
	by map[string]*Tally // direct group ("" none) → counts
}

func (t *tally) add(group string, s State, d int) {
	t.mu.Lock()
	t.addLocked(group, s, d)
	t.mu.Unlock()
}

func (t *tally) addLocked(group string, s State, d int) {
	if t.by == nil {
		t.by = map[string]*Tally{}
	}
	c := t.by[group]
	if c == nil {
		c = &Tally{}
		t.by[group] = c
	}
	c[stateIndex(s)] += d
	if *c == (Tally{}) {
		delete(t.by, group)
	}
}

func (t *tally) move(fromGroup string, from State, toGroup string, to State) {
	if fromGroup == toGroup && from == to {
		return
	}
	t.mu.Lock()
	t.addLocked(fromGroup, from, -1)
	t.addLocked(toGroup, to, 1)
	t.mu.Unlock()
}

// GroupCounts returns the counts by the group screens are directly in
// ("" for screens in no group); a group's nested groups are separate
// entries, for the caller to add up along its group tree. Groups with no
// screens are absent.
func (r *Registry) GroupCounts() map[string]Tally {
	r.tally.mu.Lock()
	defer r.tally.mu.Unlock()
	out := make(map[string]Tally, len(r.tally.by))
	for g, c := range r.tally.by {
		out[g] = *c
	}
	return out
}

// Counts returns how many screens are in each state.
func (r *Registry) Counts() map[State]int {
	var all Tally
	r.tally.mu.Lock()
	for _, c := range r.tally.by {
		all.Add(*c)
	}
	r.tally.mu.Unlock()
	return all.Map()
}
