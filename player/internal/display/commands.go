package display

import (
	"time"
)

// DefaultIdentifyDuration is how long "identify" shows the screen's name
// and id when the caller gives no duration.
const DefaultIdentifyDuration = 30 * time.Second

// commandMarks is the state of the technician's commands the page acts on.
// It is guarded by Server.mu. Each kind has a sequence number so that every
// event stream sends each command once, however many wake-ups it gets.
type commandMarks struct {
	reloadSeq     uint64
	identifySeq   uint64
	identifyUntil time.Time // on the corrected clock; zero: never
}

// streamMarks is what one event stream has already passed on.
type streamMarks struct {
	reload, identify uint64
}

// identifyEvent asks the page to show who this screen is, over everything,
// until Until (server-corrected unix ms).
type identifyEvent struct {
	Until      int64  `json:"until"`
	Now        int64  `json:"now"`
	ScreenID   string `json:"screen_id"`
	ScreenName string `json:"screen_name"`
}

// reloadEvent asks the page to reload itself.
type reloadEvent struct {
	Now int64 `json:"now"`
}

// Reload makes every connected kiosk page reload (location.reload), e.g.
// after a player upgrade changed the page's script, or a browser that has
// been up for weeks misbehaves. A page that connects later is not affected:
// it has just loaded.
func (s *Server) Reload() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmds.reloadSeq++
	s.notify()
	s.log.Info("kiosk page reload requested")
}

// Identify shows the screen's name and id very large over the content for
// d (DefaultIdentifyDuration when d <= 0), so a technician on site can tell
// which screen is which. It returns when the overlay ends, on the corrected
// clock. A page that connects meanwhile shows it too.
func (s *Server) Identify(d time.Duration) time.Time {
	if d <= 0 {
		d = DefaultIdentifyDuration
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	until := s.now().Add(d)
	s.cmds.identifySeq++
	s.cmds.identifyUntil = until
	s.notify()
	s.log.Info("identify overlay requested", "until", until)
	return until
}

// IdentifyUntil is when the identify overlay ends; zero when it is not up.
func (s *Server) IdentifyUntil() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identifyUntilLocked()
}

func (s *Server) identifyUntilLocked() time.Time {
	if u := s.cmds.identifyUntil; !u.IsZero() && s.now().Before(u) {
		return u
	}
	return time.Time{}
}

// newStreamMarks starts a stream's bookkeeping: reloads requested before it
// connected are not for it (the page has just loaded), an identify still
// running is.
func (s *Server) newStreamMarks() streamMarks {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := streamMarks{reload: s.cmds.reloadSeq, identify: s.cmds.identifySeq}
	if !s.identifyUntilLocked().IsZero() {
		m.identify-- // send the running one on connect
	}
	return m
}

// sendCommandEvents writes the command events the stream has not sent yet.
func (s *Server) sendCommandEvents(m *streamMarks, write func(event, id string, v any) error) error {
	st := s.syncStatus() // outside s.mu, like snapshot
	s.mu.Lock()
	reload := s.cmds.reloadSeq != m.reload
	m.reload = s.cmds.reloadSeq
	var ident *identifyEvent
	if s.cmds.identifySeq != m.identify {
		m.identify = s.cmds.identifySeq
		if until := s.identifyUntilLocked(); !until.IsZero() {
			ident = &identifyEvent{Until: until.UnixMilli(), Now: s.now().UnixMilli(), ScreenID: st.ScreenID, ScreenName: st.ScreenName}
		}
	}
	now := s.now().UnixMilli()
	s.mu.Unlock()
	if ident != nil {
		if err := write("identify", "", ident); err != nil {
			return err
		}
	}
	if reload {
		return write("reload", "", reloadEvent{Now: now})
	}
	return nil
}
