package display

import (
	"context"
	"time"

	"kiosk/playlists"
)

// SetManifest switches to the content of m; nil means no content, which puts
// up the fallback screen. m must be sealed (as BuildManifest and the cache
// deliver it) and is not modified afterwards by the caller.
//
// The switch is immediate when the item on screen is no longer in the new
// rotation; otherwise that item finishes its time and the rotation continues
// from it, so a republish that does not touch this screen's rotation does not
// make every screen start over.
func (s *Server) SetManifest(m *playlists.Manifest) {
	s.mu.Lock()
	if m != nil && s.m != nil && m.Version != "" && m.Version == s.m.Version {
		s.mu.Unlock()
		return
	}
	old := ""
	if s.m != nil {
		old = s.m.Version
	}
	s.m = m
	version := ""
	if m != nil {
		version = m.Version
		if m.Timezone != "" {
			s.tz = m.Timezone
		}
	}
	// An urgent notice in the new manifest covers the screen at once; the
	// rotation underneath is re-decided when the last one ends.
	if now := s.now(); !s.updateUrgent(now) {
		s.reconcile(now)
	}
	s.mu.Unlock()
	s.deliverPlays()
	s.log.Info("display content switched", "from_version", old, "to_version", version)
	s.poke()
}

// Run drives the rotation on the injected clock until ctx ends. It sleeps
// until the next switch instant, but never longer than a second, because the
// corrected clock may jump when the sync loop refines its offset.
func (s *Server) Run(ctx context.Context) {
	defer s.doneOnce.Do(func() { close(s.done) })
	// Runs before done closes: the last item shown is a play too.
	defer s.finishPlays()
	defer s.finishUrgent() // before finishPlays: a notice on screen is the last play
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := s.now()
		// While an urgent notice covers the screen the rotation stands
		// still (urgent.go); only the overlay's own clock runs.
		urgent := s.updateUrgent(now)
		if !urgent && now.Before(s.since.Add(-backJumpTolerance)) {
			s.log.Warn("clock went backwards, restarting the current slot",
				"since", s.since, "now", now)
			s.endPlayMonotonic()
			s.since = now
			s.beginPlay()
			if s.curOK {
				s.ends = now.Add(itemDuration(s.cur.Item))
			}
			s.reconcile(now)
		}
		if !urgent && !s.switchAt.IsZero() && !now.Before(s.switchAt) {
			s.advance(now)
		}
		wait := s.maxWait
		switchAt := s.switchAt
		if urgent {
			switchAt = s.urgent.at
		}
		if !switchAt.IsZero() {
			if d := switchAt.Sub(now); d < wait {
				wait = max(d, 0)
			}
		}
		s.mu.Unlock()
		s.deliverPlays()

		// Since Go 1.23 Reset on a fired or running timer is safe: no stale
		// tick can be received afterwards.
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// poke wakes Run to recompute its sleep after the state changed under it.
func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// resolve returns the rotation at t and the instant it may next change.
// s.mu must be held.
func (s *Server) resolve(t time.Time) ([]playlists.Entry, time.Time) {
	if s.m == nil {
		return nil, time.Time{}
	}
	res := s.m.Resolve(t)
	until := res.Until
	// Date windows are cheap to check here and switching on them must be
	// exact even if a resolver leaves Until zero.
	if b := dateBoundary(s.m, t); !b.IsZero() && (until.IsZero() || b.Before(until)) {
		until = b
	}
	if !until.After(t) {
		// A boundary that is not in the future would make Run spin.
		until = time.Time{}
	}
	return res.Entries, until
}

// dateBoundary returns the first From or To of any schedule after t.
func dateBoundary(m *playlists.Manifest, t time.Time) time.Time {
	var b time.Time
	consider := func(p *time.Time) {
		if p != nil && p.After(t) && (b.IsZero() || p.Before(b)) {
			b = *p
		}
	}
	for i := range m.Schedules {
		consider(m.Schedules[i].From)
		consider(m.Schedules[i].To)
	}
	return b
}

// reconcile re-decides at now after the manifest or the clock changed under
// the director: the item on screen stays (and keeps its start) if the new
// rotation still holds it, otherwise the new rotation starts at once.
// s.mu must be held.
func (s *Server) reconcile(now time.Time) {
	entries, until := s.resolve(now)
	if len(entries) == 0 {
		s.showFallback(now, until)
		return
	}
	if !s.curOK {
		s.show(entries, 0, now, until)
		return
	}
	i := indexOf(entries, s.cur, s.pos)
	if i < 0 {
		s.show(entries, 0, now, until)
		return
	}
	if entries[i].Item != s.cur.Item {
		// Same slot, edited content: put the edit up now, keep the slot's
		// start so the item does not get extra time.
		s.showID++
		s.ends = s.since.Add(itemDuration(entries[i].Item))
	}
	s.rotation, s.pos, s.cur = entries, i, entries[i]
	s.switchAt = earliest(s.ends, until)
	s.predictNext()
	s.notify()
}

// advance handles the clock reaching switchAt: the item on screen ended, or
// a schedule window opened or closed. s.mu must be held.
func (s *Server) advance(now time.Time) {
	t := s.switchAt
	if t.IsZero() || now.Sub(t) > lateTolerance {
		t = now
	}
	entries, until := s.resolve(t)
	same := sameRotation(s.rotation, entries)
	switch {
	case len(entries) == 0:
		s.showFallback(t, until)
	case !s.curOK:
		s.show(entries, 0, t, until)
	case same && t.Before(s.ends):
		// A window boundary that leaves this rotation as it is (say a
		// lower priority schedule opened): the item keeps its time.
		s.rotation, s.cur = entries, entries[s.pos]
		s.switchAt = earliest(s.ends, until)
		s.predictNext()
		s.notify()
	case same:
		s.show(entries, (s.pos+1)%len(entries), t, until)
	default:
		// The rotation changed: start the new one from its beginning.
		s.show(entries, 0, t, until)
	}
}

// show puts entries[pos] on screen at t. s.mu must be held.
func (s *Server) show(entries []playlists.Entry, pos int, t, until time.Time) {
	s.endPlay(t)
	s.rotation, s.pos, s.cur, s.curOK = entries, pos, entries[pos], true
	s.since = t
	s.beginPlay()
	s.ends = t.Add(itemDuration(s.cur.Item))
	s.switchAt = earliest(s.ends, until)
	s.showID++
	s.predictNext()
	s.log.Debug("showing item", "item", s.cur.Item.ID, "title", s.cur.Item.Title,
		"position", pos, "of", len(entries), "until", s.switchAt)
	s.notify()
}

// showFallback puts the fallback screen up at t, or keeps it up. s.mu must
// be held.
func (s *Server) showFallback(t, until time.Time) {
	if s.curOK {
		s.endPlay(t)
		s.curOK = false
		s.cur, s.rotation, s.pos = playlists.Entry{}, nil, 0
		s.since = t
		s.showID++
		s.log.Info("nothing scheduled, showing the fallback screen")
	}
	s.ends = time.Time{}
	s.switchAt = until
	if until.IsZero() && s.m != nil {
		s.switchAt = t.Add(fallbackRecheck)
	}
	s.predictNext()
	s.notify()
}

// predictNext works out what goes up at switchAt so the page can preload it.
// s.mu must be held.
func (s *Server) predictNext() {
	s.next, s.nextOK, s.nextAt = playlists.Entry{}, false, time.Time{}
	t := s.switchAt
	if t.IsZero() || s.m == nil {
		return
	}
	entries, _ := s.resolve(t)
	if len(entries) == 0 {
		return
	}
	if s.curOK && sameRotation(s.rotation, entries) {
		s.next, s.nextOK = entries[(s.pos+1)%len(entries)], true
		s.nextAt = s.ends
		return
	}
	s.next, s.nextOK, s.nextAt = entries[0], true, t
}

// itemDuration is how long an item stays up; validation guarantees at least
// a second, and a corrupt zero must not make the director spin.
func itemDuration(it playlists.Item) time.Duration {
	if it.DurationS < 1 {
		return playlists.DefaultDuration * time.Second
	}
	return time.Duration(it.DurationS) * time.Second
}

// earliest returns the earlier of a and b, treating zero as "never".
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}

// sameSlot reports whether two entries are the same slot of a rotation,
// whatever their item's content.
func sameSlot(a, b playlists.Entry) bool {
	return a.Item.ID == b.Item.ID && a.Playlist == b.Playlist && a.Schedule == b.Schedule
}

// sameRotation reports whether a and b hold the same slots in the same
// order, so the position in one is meaningful in the other.
func sameRotation(a, b []playlists.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameSlot(a[i], b[i]) {
			return false
		}
	}
	return true
}

// indexOf finds e's slot in entries, preferring hint (the old position) when
// the same item appears more than once.
func indexOf(entries []playlists.Entry, e playlists.Entry, hint int) int {
	if hint >= 0 && hint < len(entries) && sameSlot(entries[hint], e) {
		return hint
	}
	for i := range entries {
		if sameSlot(entries[i], e) {
			return i
		}
	}
	return -1
}
