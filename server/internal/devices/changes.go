package devices

import (
	"sync"
	"sync/atomic"
)

// changeFeed tells watchers (the admin page's live fleet, GET
// /fleet/events) which screens changed: a sequence number that grows with
// every change, each screen's last change number (screen.changed), and a
// channel closed (and replaced) at the next change after a watcher asked
// for it. Watchers never block the registry: they read the channel and
// ask what changed at their pace. A change takes no lock of the feed's
// unless a watcher is waiting for the channel to close.
//
// A screen's number is given and stored under the screen's lock, and
// ChangedSince reads the sequence first and each screen under its lock,
// so a change it counts is always one it sees.
type changeFeed struct {
	seq   atomic.Uint64
	armed atomic.Bool // a watcher holds an open channel

	mu   sync.Mutex
	wake chan struct{}
	// other: changes of screens not in the registry (deleted ones, so
	// watchers hear of the delete; touched ids it never knew). Kept, as a
	// deleted screen's id is not reused.
	other map[string]uint64
}

// touchLocked records a change of s; its screen lock must be held. Call
// wakeWatchers after unlocking.
func (f *changeFeed) touchLocked(s *screen) { s.changed.Store(f.seq.Add(1)) }

// touchGone records that s was deleted; its lock must be held.
func (f *changeFeed) touchGone(s *screen) { f.touchOther(s.id) }

// touchOther records a change of a screen the registry does not hold.
func (f *changeFeed) touchOther(id string) {
	f.mu.Lock()
	if f.other == nil {
		f.other = map[string]uint64{}
	}
	f.other[id] = f.seq.Add(1)
	f.mu.Unlock()
	f.wakeWatchers()
}

// wakeWatchers closes the channel a watcher waits on, if one does.
func (f *changeFeed) wakeWatchers() {
	if !f.armed.Load() {
		return
	}
	f.mu.Lock()
	wake := f.wake
	f.wake = nil
	f.armed.Store(false)
	f.mu.Unlock()
	if wake != nil {
		close(wake)
	}
}

// Changes returns a channel closed at the next change and the sequence
// number of the last change so far, to pass to ChangedSince.
func (r *Registry) Changes() (<-chan struct{}, uint64) {
	f := &r.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wake == nil {
		f.wake = make(chan struct{})
	}
	f.armed.Store(true)
	return f.wake, f.seq.Load()
}

// ChangedSince lists the screens changed after seq (including deleted
// ones) and the sequence number they bring the caller to. A screen
// changed again while this runs is left for the next call, so nothing is
// reported twice.
func (r *Registry) ChangedSince(seq uint64) ([]string, uint64) {
	f := &r.feed
	upTo := f.seq.Load()
	var ids []string
	if upTo == seq {
		return nil, upTo
	}
	r.screens.Range(func(_, v any) bool {
		s := v.(*screen)
		if c := s.changed.Load(); c > seq && c <= upTo {
			ids = append(ids, s.id)
			return true
		}
		// A change numbered ≤ upTo may still be being stored: its lock
		// is held until it is.
		s.mu.Lock()
		c := s.changed.Load()
		s.mu.Unlock()
		if c > seq && c <= upTo {
			ids = append(ids, s.id)
		}
		return true
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.other) == 0 {
		return ids, upTo
	}
	// An id touched before the registry knew it may be listed already.
	listed := make(map[string]bool, len(ids))
	for _, id := range ids {
		listed[id] = true
	}
	for id, c := range f.other {
		if c > seq && c <= upTo && !listed[id] {
			ids = append(ids, id)
		}
	}
	return ids, upTo
}

// Touch records that a screen's record changed outside the registry
// (renamed, its published version changed), so watchers show it again.
func (r *Registry) Touch(screenIDs ...string) {
	for _, id := range screenIDs {
		if s := r.get(id); s != nil {
			s.mu.Lock()
			r.feed.touchLocked(s)
			s.mu.Unlock()
		} else {
			r.feed.touchOther(id)
		}
	}
	r.feed.wakeWatchers()
}
