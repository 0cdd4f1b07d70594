package devices

import "sync"

// changeFeed tells watchers (the admin page's live fleet, GET
// /fleet/events) which screens changed: a sequence number that grows with
// every change, the number of each screen's last change, and a channel
// closed (and replaced) whenever something changed. Watchers never block
// the registry: they read the channel and ask what changed at their pace.
type changeFeed struct {
	mu   sync.Mutex
	seq  uint64
	at   map[string]uint64 // screen id → seq of its last change; kept after a delete so watchers hear of it
	wake chan struct{}
}

func (f *changeFeed) touch(ids ...string) {
	if len(ids) == 0 {
		return
	}
	f.mu.Lock()
	if f.at == nil {
		f.at = map[string]uint64{}
	}
	f.seq++
	for _, id := range ids {
		f.at[id] = f.seq
	}
	wake := f.wake
	f.wake = nil
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
	return f.wake, f.seq
}

// ChangedSince lists the screens changed after seq (including deleted
// ones) and the sequence number they bring the caller to.
func (r *Registry) ChangedSince(seq uint64) ([]string, uint64) {
	f := &r.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id, s := range f.at {
		if s > seq {
			ids = append(ids, id)
		}
	}
	return ids, f.seq
}

// Touch records that a screen's record changed outside the registry
// (renamed, moved to another group, created or deleted), so watchers show
// it again.
func (r *Registry) Touch(screenIDs ...string) { r.feed.touch(screenIDs...) }
