package hub

// Reading the player's frames: what each one does, the plain-shape fast
// path for the acks every publish brings, and how bad frames end a
// connection. The read pump (client.go) calls handleFrame for each.

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
	"kiosk/server/internal/textclip"
)

// handleFrame acts on one frame and reports whether to keep reading.
func (c *client) handleFrame(mt int, data []byte) bool {
	h := c.hub
	if mt == websocket.TextMessage && !utf8.Valid(data) {
		// RFC 6455 §8.1: a text frame that is not UTF-8 fails the
		// connection with 1007. Decoding it would quietly turn the bad
		// bytes into U+FFFD and store them.
		h.metrics.frames.WithLabelValues(frameMalformed).Inc()
		c.drop(dropInvalidUTF8, closeFrame(closeInvalidData, "text frame is not valid UTF-8"))
		return false
	}
	if mt != websocket.TextMessage {
		h.metrics.frames.WithLabelValues(frameMalformed).Inc()
		return c.badFrame("frames must be JSON text messages")
	}
	if c.helloed {
		if keep, ok := c.ackedFast(data); ok {
			return keep
		}
	}
	env, err := playlists.Decode(data)
	if err != nil {
		h.metrics.frames.WithLabelValues(frameMalformed).Inc()
		return c.badFrame("malformed frame: want {\"type\": ..., \"data\": ...}")
	}
	h.metrics.frames.WithLabelValues(frameLabel(env.Type)).Inc()

	if !c.helloed {
		if env.Type != playlists.MsgHello {
			return c.protocolClose(fmt.Sprintf("the first frame must be hello, got %s", quoteType(env.Type)))
		}
		return c.hello(env)
	}

	switch env.Type {
	case playlists.MsgApplied, playlists.MsgHeartbeat:
		h.awaitFanOut(c.done) // pushes first (fanout.go)
	}
	switch env.Type {
	case playlists.MsgApplied:
		var a playlists.Applied
		if err := env.DecodeData(&a); err != nil {
			return c.badFrame(err.Error())
		}
		return c.applied(a)
	case playlists.MsgHeartbeat:
		var hb playlists.Heartbeat
		if err := env.DecodeData(&hb); err != nil {
			return c.badFrame(err.Error())
		}
		h.handler.Heartbeat(c.screenID, hb)
	case playlists.MsgTime:
		var ts playlists.TimeSync
		if err := env.DecodeData(&ts); err != nil {
			return c.badFrame(err.Error())
		}
		c.sendJSON(playlists.MsgTime, playlists.TimeSync{T0: ts.T0, Server: h.now().UnixMilli()})
	case playlists.MsgCommandResult:
		var r playlists.CommandResult
		if err := env.DecodeData(&r); err != nil {
			return c.badFrame(err.Error())
		}
		if r.ID == "" {
			return c.badFrame("command_result: missing id")
		}
		h.handler.CommandResult(c.screenID, r)
	case playlists.MsgHello:
		return c.badFrame("hello was already received")
	default:
		return c.badFrame(fmt.Sprintf("unknown frame type %s", quoteType(env.Type)))
	}
	return true
}

// ackedFast handles an applied or heartbeat frame in the player's plain
// shape, the frames every screen sends after every publish, without the
// reflection decoder (playlists.DecodeAcked); ok is false for any other
// frame. Not inlined: the decoded frame would otherwise sit in
// handleFrame's own stack frame, and the hello, which passes through
// handleFrame too, would then outgrow every read pump's first 4 KB stack
// for good (TestServerMemoryPerIdleScreen).
//
//go:noinline
func (c *client) ackedFast(data []byte) (keep, ok bool) {
	h := c.hub
	typ, a, hb, ok := playlists.DecodeAcked(data)
	if !ok {
		return false, false
	}
	h.metrics.frames.WithLabelValues(typ).Inc()
	h.awaitFanOut(c.done) // pushes first (fanout.go)
	if typ == playlists.MsgApplied {
		return c.applied(a), true
	}
	h.handler.Heartbeat(c.screenID, hb)
	return true, true
}

// applied takes the player's report that it shows version a.Version now,
// with the heartbeat that follows it when the player sends them together.
func (c *client) applied(a playlists.Applied) bool {
	h := c.hub
	if a.Version == "" {
		return c.badFrame("applied: missing version")
	}
	if d, ok := c.ackLatency(a.Version, h.now()); ok {
		h.metrics.pushAck.Observe(d.Seconds())
	}
	h.handler.Applied(c.screenID, a)
	if a.Heartbeat != nil {
		h.handler.Heartbeat(c.screenID, *a.Heartbeat)
	}
	return true
}

// hello answers the player's first frame.
func (c *client) hello(env playlists.Envelope) bool {
	h := c.hub
	var hi playlists.Hello
	if err := env.DecodeData(&hi); err != nil {
		return c.protocolClose(err.Error())
	}
	w, err := h.handler.Hello(c.screenID, hi)
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			c.sendJSON(playlists.MsgError, playlists.ErrorNote{Error: "unauthorized"})
			c.drop(dropProtocol, closeReq{code: closePolicy, text: "unauthorized", flush: true})
			return false
		}
		h.log.Error("hello", "screen", c.screenID, "error", err)
		c.sendJSON(playlists.MsgError, playlists.ErrorNote{Error: "internal error, try again later"})
		c.kill(closeReq{code: closeInternalError, text: "internal error", flush: true})
		return false
	}
	if w.ScreenID == "" {
		w.ScreenID = c.screenID
	}
	if w.ServerTime == 0 {
		w.ServerTime = h.now().UnixMilli()
	}
	if !slices.Contains(w.Accept, playlists.AcceptAppliedHeartbeat) {
		w.Accept = append(w.Accept, playlists.AcceptAppliedHeartbeat)
	}
	c.helloed = true
	if slices.Contains(hi.Accept, playlists.AcceptManifest) {
		c.inline.Store(true)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(h.opts.PongWait))
	c.welcome(w)
	h.handler.Welcomed(c.screenID)
	h.log.Debug("screen said hello", "screen", c.screenID,
		"player_version", hi.PlayerVersion, "applied_version", hi.AppliedVersion, "version", w.Version)
	return true
}

// badFrame answers a frame the hub cannot use with an error note and keeps
// the connection, unless the player keeps doing it.
func (c *client) badFrame(msg string) bool {
	if !c.helloed {
		return c.protocolClose(msg)
	}
	// The time is taken before the note goes out: a player (or a test)
	// that has read the note must find this frame already counted at it.
	now := c.hub.now()
	c.sendJSON(playlists.MsgError, playlists.ErrorNote{Error: msg})
	keep := c.badFrames[:0]
	for _, t := range c.badFrames {
		if now.Sub(t) < badFrameWindow {
			keep = append(keep, t)
		}
	}
	c.badFrames = append(keep, now)
	if len(c.badFrames) > maxBadFrames {
		c.drop(dropProtocol, closeReq{
			code:  closePolicy,
			text:  fmt.Sprintf("more than %d bad frames in %s", maxBadFrames, badFrameWindow),
			flush: true,
		})
		return false
	}
	return true
}

// protocolClose ends a connection that broke the handshake rules, after
// sending msg as an error note (and as the close reason, clipped: it must
// fit in a 125-byte control frame).
func (c *client) protocolClose(msg string) bool {
	c.sendJSON(playlists.MsgError, playlists.ErrorNote{Error: msg})
	c.drop(dropProtocol, closeReq{code: closePolicy, text: textclip.Clip(msg, 120), flush: true})
	return false
}

// quoteType quotes a player-chosen type for an error message, shortened so
// the reply cannot be used to reflect a large payload.
func quoteType(t string) string {
	return fmt.Sprintf("%q", textclip.Clip(t, 40))
}
