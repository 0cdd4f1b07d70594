package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/store"
)

// Timing of GET /fleet/events.
const (
	// DefaultStreamKeepAlive: a comment line this often keeps proxies
	// from closing an idle stream, and the session is checked again.
	DefaultStreamKeepAlive = 20 * time.Second
	// fleetEventGap: at most one event a second, however many screens
	// report; what changed in between goes out together.
	fleetEventGap = time.Second
	// streamWriteTimeout drops a client that stops reading.
	streamWriteTimeout = 15 * time.Second
)

// fleetEvent is one server-sent event of GET /fleet/events. The first
// (full) lists every screen the caller may see; later ones list the
// screens changed since the previous event (state, heartbeat, applied
// version, name, group) and those deleted or moved out of the caller's
// groups, each with the fleet's counts at that moment.
type fleetEvent struct {
	Full    bool         `json:"full,omitempty"`
	Screens []screenView `json:"screens"`
	Removed []string     `json:"removed,omitempty"`
	Fleet   fleetView    `json:"fleet"`
}

// fleetEvents is GET /fleet/events: the fleet as a stream of server-sent
// events for the admin page, which opens it with EventSource (a cookie
// session; a page signed in with a bearer token polls instead). It is
// not the person at work, so it never extends the session (identify
// treats Accept: text/event-stream as background); it ends when the
// session does, and when the server shuts down.
func (h *handler) fleetEvents(c echo.Context) error {
	p := principalOf(c)
	deadline, err := h.stillSignedIn(p)
	if err != nil {
		return err
	}
	w := c.Response()
	rc := http.NewResponseController(w)
	hdr := w.Header()
	hdr.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)

	write := func(s string) error {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := fmt.Fprint(w, s); err != nil {
			return err
		}
		return rc.Flush()
	}
	send := func(ev fleetEvent) error {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		return write("event: fleet\ndata: " + string(b) + "\n\n")
	}
	// end tells the page why the stream stops, so it does not reconnect
	// into a refusal but signs in again.
	end := func(code string) error {
		return write(fmt.Sprintf("event: end\ndata: {\"code\":%q}\n\n", code))
	}

	wake, seq := h.devices.Changes()
	first, err := h.fleetSnapshot(p)
	if err != nil {
		return nil // the status is sent; the page falls back to polling
	}
	// shown is what this stream has listed: only those may be reported
	// removed, or a person limited to some groups would learn of screens
	// outside them.
	shown := make(map[string]bool, len(first.Screens))
	for _, s := range first.Screens {
		shown[s.ID] = true
	}
	if err := write("retry: 5000\n\n"); err != nil {
		return nil
	}
	if err := send(first); err != nil {
		return nil
	}

	ctx := c.Request().Context()
	every := h.opts.StreamKeepAlive
	if every <= 0 {
		every = DefaultStreamKeepAlive
	}
	keep := time.NewTicker(every)
	defer keep.Stop()
	expiry := newDeadlineTimer(h.opts.Now, deadline)
	defer expiry.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.opts.Done:
			_ = end("shutdown")
			return nil
		case <-keep.C:
			if deadline, err = h.stillSignedIn(p); err != nil {
				_ = end(errorKey(err, http.StatusUnauthorized))
				return nil
			}
			expiry.Reset(deadline)
			if err := write(": keep-alive\n\n"); err != nil {
				return nil
			}
		case <-expiry.C():
			if deadline, err = h.stillSignedIn(p); err != nil {
				_ = end(errorKey(err, http.StatusUnauthorized))
				return nil
			}
			expiry.Reset(deadline)
		case <-wake:
			if gap := time.Until(last.Add(fleetEventGap)); gap > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(gap):
				}
			}
			// The next channel before reading what changed: a change in
			// between closes it, and the loop comes round again.
			wake, _ = h.devices.Changes()
			var ids []string
			ids, seq = h.devices.ChangedSince(seq)
			if len(ids) == 0 {
				continue
			}
			// A person's groups may have changed since the stream began.
			if fresh, err := h.principalAgain(p); err == nil {
				p = fresh
			}
			ev, err := h.fleetChanges(p, ids, shown)
			if err != nil {
				h.log.Warn("fleet events", "error", err)
				continue
			}
			if len(ev.Screens) == 0 && len(ev.Removed) == 0 {
				continue // changes outside the person's groups
			}
			if err := send(ev); err != nil {
				return nil
			}
			last = time.Now()
		}
	}
}

// fleetSnapshot is the first event: every screen p may see.
func (h *handler) fleetSnapshot(p *principal) (fleetEvent, error) {
	scrs, err := h.store.ListScreens()
	if err != nil {
		return fleetEvent{}, err
	}
	scrs = inScope(p, scrs, func(s store.Screen) string { return s.Group })
	ev := fleetEvent{Full: true, Screens: make([]screenView, len(scrs))}
	for i, s := range scrs {
		ev.Screens[i] = h.view(s)
	}
	ev.Fleet, err = h.fleetCounts(p)
	return ev, err
}

// fleetChanges is a later event: the screens ids as they are now, or
// removed when deleted or moved out of p's groups. shown is what the
// stream listed so far, kept up to date.
func (h *handler) fleetChanges(p *principal, ids []string, shown map[string]bool) (fleetEvent, error) {
	ev := fleetEvent{Screens: []screenView{}}
	for _, id := range ids {
		s, err := h.store.GetScreen(id)
		if errors.Is(err, store.ErrNotFound) || err == nil && !p.seesScreen(s.Group) {
			if shown[id] {
				ev.Removed = append(ev.Removed, id)
				delete(shown, id)
			}
			continue
		}
		if err != nil {
			return ev, err
		}
		shown[id] = true
		ev.Screens = append(ev.Screens, h.view(s))
	}
	var err error
	ev.Fleet, err = h.fleetCounts(p)
	return ev, err
}

// stillSignedIn checks that p's credential still holds, without counting
// as activity, and says when a session would expire if nothing else
// happens (zero: a token, which has no timeout).
func (h *handler) stillSignedIn(p *principal) (time.Time, error) {
	switch p.Via {
	case viaSession:
		se, err := h.store.GetSession(p.sessionHash)
		if errors.Is(err, store.ErrNotFound) {
			return time.Time{}, errCode(http.StatusUnauthorized, "session_expired", "your session has ended; sign in again")
		}
		if err != nil {
			return time.Time{}, err
		}
		now := h.opts.Now().UTC()
		idle, abs := se.LastSeen.Add(h.idleTimeout()), se.CreatedAt.Add(h.absoluteTimeout())
		if !now.Before(idle) || !now.Before(abs) {
			return time.Time{}, errCode(http.StatusUnauthorized, "session_expired", "your session has expired; sign in again")
		}
		u, err := h.store.GetUser(se.UserID)
		if err != nil || u.Disabled {
			return time.Time{}, errCode(http.StatusUnauthorized, "account_disabled", "this account is disabled or no longer exists")
		}
		if abs.Before(idle) {
			return abs, nil
		}
		return idle, nil
	case viaToken:
		t, err := h.store.LookupAPIToken(p.tokenHash)
		if err != nil {
			return time.Time{}, errCode(http.StatusUnauthorized, "invalid_token", "invalid or revoked token")
		}
		u, err := h.store.GetUser(t.UserID)
		if err != nil || u.Disabled {
			return time.Time{}, errCode(http.StatusUnauthorized, "account_disabled", "the account this token belongs to is disabled")
		}
	}
	return time.Time{}, nil
}

// principalAgain rebuilds p from the stored account, for its current
// groups (the role cannot grow: it is kept).
func (h *handler) principalAgain(p *principal) (*principal, error) {
	if p.Via == viaBreakGlass {
		return p, nil
	}
	u, err := h.store.GetUser(p.User.ID)
	if err != nil {
		return nil, err
	}
	fresh, err := h.userPrincipal(u, p.Role)
	if err != nil {
		return nil, err
	}
	fresh.Via, fresh.sessionHash, fresh.csrf, fresh.tokenHash = p.Via, p.sessionHash, p.csrf, p.tokenHash
	return fresh, nil
}

// deadlineTimer fires at a time of the handler's clock; a zero time
// never fires.
type deadlineTimer struct {
	t   *time.Timer
	now func() time.Time
}

func newDeadlineTimer(now func() time.Time, at time.Time) *deadlineTimer {
	d := &deadlineTimer{t: time.NewTimer(time.Hour), now: now}
	d.t.Stop()
	d.Reset(at)
	return d
}

func (d *deadlineTimer) Reset(at time.Time) {
	d.t.Stop()
	if !at.IsZero() {
		d.t.Reset(max(at.Sub(d.now()), 0) + 100*time.Millisecond)
	}
}

func (d *deadlineTimer) C() <-chan time.Time { return d.t.C }

func (d *deadlineTimer) Stop() { d.t.Stop() }
