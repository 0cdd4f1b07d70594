package display

import (
	"strings"
	"time"

	"kiosk/playlists"
)

// UrgentLabel is the band text residents see above an urgent notice.
const UrgentLabel = "紧急通知"

// KindUrgent is the kind Current reports while an urgent notice is up. It
// is no item kind: heartbeats and /state use it to tell a notice apart.
const KindUrgent playlists.Kind = "urgent"

// urgentState is the urgent overlay. While a notice of the manifest is in
// force (on the corrected clock) it covers the screen and the rotation
// underneath stands still: its item does not advance or count as played.
// When the last notice ends, the interrupted item starts again in full.
// Every field is guarded by Server.mu.
type urgentState struct {
	on    bool
	list  []playlists.Urgent // active notices, in rotation order
	pos   int                // index in list of the notice on screen
	since time.Time          // when list[pos] went up
	next  time.Time          // when the rotation moves on; zero with one notice
	at    time.Time          // next instant the overlay must be re-decided
	slot  time.Duration      // per-notice time when several rotate; 0: playlists.UrgentSlot
}

func (u *urgentState) slotLen() time.Duration {
	if u.slot > 0 {
		return u.slot
	}
	return playlists.UrgentSlot
}

func (u *urgentState) current() playlists.Urgent { return u.list[u.pos] }

// updateUrgent brings the overlay up to date at now and reports whether a
// notice covers the screen. It needs no server: notices leave at their
// ExpiresAt on the corrected clock. s.mu must be held.
func (s *Server) updateUrgent(now time.Time) bool {
	var active []playlists.Urgent
	if s.m != nil {
		active = s.m.ActiveUrgent(now)
	}
	u := &s.urgent
	if len(active) == 0 {
		if u.on {
			s.endUrgent(now)
		}
		return false
	}
	before := u.key()
	switch {
	case !u.on:
		// The item underneath ends here; endPlay must run before u.on is
		// set, while the item still counts as on screen.
		s.endPlay(now)
		u.on = true
		u.list, u.pos, u.since = active, 0, now
		s.log.Info("urgent notice interrupts the rotation", "urgent", active[0].ID, "title", active[0].Title,
			"active", len(active), "expires_at", active[0].ExpiresAt)
	case !sameUrgentIDs(u.list, active):
		cur := u.current()
		// A notice just sent goes up at once; otherwise the one on screen
		// stays if it is still in force.
		pos := -1
		for i, a := range active {
			if urgentIndex(u.list, a.ID) < 0 {
				pos = i
				break
			}
		}
		if pos < 0 {
			pos = max(urgentIndex(active, cur.ID), 0)
		}
		if active[pos].ID != cur.ID {
			s.urgentPlayed(cur, u.since, now)
			u.since = now
		}
		u.list, u.pos = active, pos
	default:
		u.list = active
		if now.Before(u.since.Add(-backJumpTolerance)) {
			// The corrected clock went back: restart the slot rather than
			// leave one notice up until the clock catches up.
			u.since = now
		}
		if len(active) > 1 && !u.next.IsZero() && !now.Before(u.next) {
			s.urgentPlayed(u.current(), u.since, u.next)
			start := u.next
			if now.Sub(start) > lateTolerance {
				start = now
			}
			u.pos, u.since = (u.pos+1)%len(active), start
		}
	}
	u.next = time.Time{}
	if len(u.list) > 1 {
		u.next = u.since.Add(u.slotLen())
	}
	u.at = earliest(u.next, s.m.NextUrgentChange(now))
	if u.key() != before {
		s.notify()
	}
	return true
}

// endUrgent takes the overlay down at now and resumes the rotation: the
// interrupted item starts again with its full time, as if it had just gone
// up. s.mu must be held.
func (s *Server) endUrgent(now time.Time) {
	u := &s.urgent
	s.urgentPlayed(u.current(), u.since, now)
	s.log.Info("urgent notices ended, rotation resumes", "last", u.current().ID)
	*u = urgentState{slot: u.slot}
	s.since = now
	s.beginPlay()
	if s.curOK {
		s.ends = now.Add(itemDuration(s.cur.Item))
		s.showID++ // the page shows the item afresh
	}
	s.reconcile(now)
	s.notify()
}

// finishUrgent records the notice on screen when the director stops.
func (s *Server) finishUrgent() {
	s.mu.Lock()
	if s.urgent.on {
		now := s.now()
		s.urgentPlayed(s.urgent.current(), s.urgent.since, now)
		s.urgent.since = now
	}
	s.mu.Unlock()
	s.deliverPlays()
}

// urgentPlayed queues the proof of play of a notice shown from since to
// end. s.mu must be held.
func (s *Server) urgentPlayed(n playlists.Urgent, since, end time.Time) {
	if s.plays.onPlay == nil || !end.After(since) {
		return
	}
	if len(s.plays.queue) >= maxQueuedPlays {
		s.plays.dropped++
		return
	}
	s.plays.queue = append(s.plays.queue, playlists.Play{
		Item: n.ID, Urgent: true, Start: since.UnixMilli(), DurationMS: end.Sub(since).Milliseconds(),
	})
}

// urgentCurrent is the notice on screen as an entry, for Current and the
// heartbeat. s.mu must be held.
func (s *Server) urgentCurrent() (playlists.Entry, time.Time, bool) {
	if !s.urgent.on {
		return playlists.Entry{}, time.Time{}, false
	}
	n := s.urgent.current()
	return playlists.Entry{Item: playlists.Item{
		ID: n.ID, Kind: KindUrgent, Title: n.Title, Body: n.Body, Asset: n.Asset,
	}}, s.urgent.since, true
}

// UrgentShowing returns the id of the urgent notice on screen, or "".
func (s *Server) UrgentShowing() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.urgent.on {
		return ""
	}
	return s.urgent.current().ID
}

// urgentEvent is the overlay as the page renders it. Text is data, set
// with textContent by the page.
type urgentEvent struct {
	ID        string     `json:"id"`
	Label     string     `json:"label"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Media     *mediaView `json:"media,omitempty"`
	Since     int64      `json:"since"`      // unix ms, corrected clock
	ExpiresAt int64      `json:"expires_at"` // unix ms
	Index     int        `json:"index"`      // 1-based position among Count
	Count     int        `json:"count"`
}

// urgentView builds the overlay event, nil when no notice is up. s.mu must
// be held.
func (s *Server) urgentView() *urgentEvent {
	u := &s.urgent
	if !u.on {
		return nil
	}
	n := u.current()
	ev := &urgentEvent{
		ID: n.ID, Label: UrgentLabel, Title: n.Title, Body: n.Body,
		Since: u.since.UnixMilli(), ExpiresAt: n.ExpiresAt.UnixMilli(),
		Index: u.pos + 1, Count: len(u.list),
	}
	if n.Asset != "" {
		// Only pictures: a notice is read, and a video would pull the eye
		// from the words.
		if v := s.view(playlists.Item{Asset: n.Asset}); v.Media != nil && v.Media.Type == "image" {
			ev.Media = v.Media
		}
	}
	return ev
}

// key identifies what the overlay shows, to notify the page on change.
func (u *urgentState) key() string {
	if !u.on {
		return ""
	}
	var b strings.Builder
	for _, n := range u.list {
		b.WriteString(n.ID)
		b.WriteByte(',')
	}
	b.WriteString(u.current().ID)
	b.WriteString(u.since.String())
	return b.String()
}

func sameUrgentIDs(a, b []playlists.Urgent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			return false
		}
	}
	return true
}

func urgentIndex(list []playlists.Urgent, id string) int {
	for i := range list {
		if list[i].ID == id {
			return i
		}
	}
	return -1
}
