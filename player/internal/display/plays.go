package display

import (
	"sync"
	"time"

	"kiosk/playlists"
)

// maxQueuedPlays bounds the plays waiting for delivery to OnPlay. Delivery
// is a local bbolt write and normally keeps up with rotations of seconds;
// the bound only stops a wedged callback from growing memory without end.
const maxQueuedPlays = 10000

// playLog turns the director's "what is on screen since when" into
// proof-of-play records. The director queues a play while it holds s.mu
// (where it knows exactly when an item left the screen) and the plays are
// handed to OnPlay after s.mu is released, because OnPlay writes to disk
// and the page's event stream must not wait for an fsync.
type playLog struct {
	onPlay func(playlists.Play)
	// mono is the monotonic reading taken when the play on screen began;
	// it measures the play when the corrected clock jumped under it.
	mono time.Time

	queue   []playlists.Play // guarded by Server.mu
	dropped int              // guarded by Server.mu

	deliver sync.Mutex // keeps plays in order when two goroutines flush
}

// beginPlay notes the monotonic start of the play that just went up.
// s.mu must be held.
func (s *Server) beginPlay() {
	s.plays.mono = time.Now()
}

// endPlay queues the play of the entry on screen, ended at end on the
// corrected clock. Nothing is queued while the fallback screen is up.
// s.mu must be held.
func (s *Server) endPlay(end time.Time) {
	s.queuePlay(end.Sub(s.since))
}

// endPlayMonotonic ends the play on screen measuring its length on the
// monotonic clock: the corrected clock moved backwards, so end minus start
// on it would be wrong or negative. s.mu must be held.
func (s *Server) endPlayMonotonic() {
	d := time.Duration(0)
	if !s.plays.mono.IsZero() {
		d = time.Since(s.plays.mono)
	}
	s.queuePlay(d)
}

func (s *Server) queuePlay(d time.Duration) {
	if !s.curOK || s.plays.onPlay == nil || s.urgent.on {
		// While an urgent notice covers the screen the rotation is not
		// seen; the notice makes its own plays (urgent.go).
		return
	}
	if d <= 0 {
		// Replaced in the same instant it went up (a manifest switch right
		// after a rotation step): nobody saw it, so it is no play.
		return
	}
	if len(s.plays.queue) >= maxQueuedPlays {
		s.plays.dropped++
		return
	}
	s.plays.queue = append(s.plays.queue, playlists.Play{
		Item:       s.cur.Item.ID,
		Playlist:   s.cur.Playlist,
		Schedule:   s.cur.Schedule,
		Start:      s.since.UnixMilli(),
		DurationMS: d.Milliseconds(),
	})
}

// deliverPlays hands queued plays to OnPlay, oldest first. It must be
// called without s.mu held.
func (s *Server) deliverPlays() {
	if s.plays.onPlay == nil {
		return
	}
	s.plays.deliver.Lock()
	defer s.plays.deliver.Unlock()
	s.mu.Lock()
	q, dropped := s.plays.queue, s.plays.dropped
	s.plays.queue, s.plays.dropped = nil, 0
	s.mu.Unlock()
	if dropped > 0 {
		s.log.Error("proof-of-play records dropped: the play recorder does not keep up", "dropped", dropped)
	}
	for _, p := range q {
		s.plays.onPlay(p)
	}
}

// finishPlays ends the play on screen when the director stops (the player
// is shutting down), so the last item shown is recorded with the time it
// really had, and restarts the slot's clock so a later call cannot count
// the same time twice.
func (s *Server) finishPlays() {
	s.mu.Lock()
	now := s.now()
	s.endPlay(now)
	s.since = now
	s.beginPlay()
	s.mu.Unlock()
	s.deliverPlays()
}
