package hub

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// Close codes the hub sends (RFC 6455 §7.4.1).
const (
	closeNormal        = websocket.CloseNormalClosure           // replaced by a newer connection
	closeGoingAway     = websocket.CloseGoingAway               // server shutdown
	closePolicy        = websocket.ClosePolicyViolation         // protocol misuse, kicked, refused
	closeInvalidData   = websocket.CloseInvalidFramePayloadData // a text frame that is not UTF-8
	closeInternalError = websocket.CloseInternalServerErr
)

// closeReq says how a connection ends. It is decided once, by whoever ends
// the connection first, and carried out by the writer, the only goroutine
// allowed to write data frames.
type closeReq struct {
	code int
	text string
	// flush sends the frames already queued (typically the error note that
	// explains the close) before the close frame.
	flush bool
	// immediate skips the close frame: the peer is gone or the socket broken.
	immediate bool
}

func closeFrame(code int, text string) closeReq { return closeReq{code: code, text: text} }

// outFrame is one queued frame: for this client only (data), or a push's:
// its version notice, shared by many clients, or a pushed manifest whose
// frame is assembled when it is written (leaf idx of push.frames): the
// shared parts are encoded once per batch and each connection's bytes
// exist only while its writer sends them.
type outFrame struct {
	data []byte
	push *pushed
	idx  int
}

// pushed is what one push queues to every screen it reaches, shared by
// their frames so that a queued frame stays small (every connection's
// send queue holds SendBuffer of them for its whole life): the version
// notice encoded once (pm), or the batch of signed manifest frames, and
// the push's fan-out (nil for a notice queued after a welcome).
type pushed struct {
	pm     *websocket.PreparedMessage
	frames *playlists.PushFrames
	fan    *fanOut
}

// written marks f gone for the push it belongs to, if any.
func (f outFrame) written() {
	if f.push != nil {
		f.push.fan.written()
	}
}

// client is one device connection. The read pump owns the fields marked
// "read pump only"; mu guards the push bookkeeping shared with Push.
type client struct {
	hub      *Hub
	conn     *websocket.Conn
	screenID string

	send     chan outFrame
	done     chan struct{} // closed by kill: the connection is ending
	readDone chan struct{} // closed when the read pump returns
	once     sync.Once
	req      closeReq // written once before done is closed
	// writing is true while a writer goroutine runs (see kick); it stays
	// true once the writer has carried out the close, so none starts again.
	writing atomic.Bool

	mu             sync.Mutex
	welcomed       bool        // welcome queued; pushes may go straight out
	pendingVersion string      // latest push that arrived before the welcome
	pushedVersion  string      // last version pushed, for the push→ack histogram
	pushedAt       time.Time   // when pushedVersion was pushed (hub clock)
	pinger         *time.Timer // sends the next ping (startPings)

	// inline: the player's hello accepts manifests inside the push
	// (playlists.AcceptManifest). Set once, before the welcome.
	inline atomic.Bool
	// heard is when the identified player last sent a frame or a ping of
	// its own, in monoNow time: a connection heard from lately needs no
	// ping of ours (sendPing).
	heard atomic.Int64

	helloed    bool        // read pump only
	badFrames  []time.Time // read pump only: recent bad frames, oldest first
	pingTokens float64     // read pump only: pings allowed right now (a token bucket)
	pingAt     time.Time   // read pump only: when pingTokens was last refilled
}

func newClient(h *Hub, conn *websocket.Conn, screenID string) *client {
	return &client{
		hub:      h,
		conn:     conn,
		screenID: screenID,
		send:     make(chan outFrame, h.opts.SendBuffer),
		done:     make(chan struct{}),
		readDone: make(chan struct{}),
	}
}

// kill decides how the connection ends; only the first call counts and it
// reports whether it was the first. It never blocks: the writer sends the
// close frame, and a backstop timer closes the socket should the writer be
// stuck writing to a peer that stopped reading.
func (c *client) kill(req closeReq) bool {
	first := false
	c.once.Do(func() {
		first = true
		c.req = req
		close(c.done)
	})
	if !first {
		return false
	}
	if req.immediate {
		c.conn.Close()
	} else {
		time.AfterFunc(closeGrace+time.Second, func() { c.conn.Close() })
	}
	c.kick() // the writer carries out the close
	return true
}

// close ends the connection with a close frame carrying code and text.
func (c *client) close(code int, text string) {
	c.kill(closeFrame(code, text))
}

// closeNow ends a connection whose read pump and writer never started.
func (c *client) closeNow(req closeReq) {
	if !req.immediate {
		_ = c.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(req.code, req.text), time.Now().Add(closeGrace))
	}
	c.conn.Close()
}

// drop ends the connection for a reason counted in kiosk_hub_dropped_total.
func (c *client) drop(reason string, req closeReq) {
	if c.kill(req) {
		c.hub.metrics.dropped.WithLabelValues(reason).Inc()
		c.hub.log.Warn("dropping screen connection", "screen", c.screenID, "reason", reason, "detail", req.text)
	}
}

// trySend queues f without blocking. A full queue means the player is not
// keeping up; it is dropped rather than allowed to hold anyone else up, and
// resyncs from its welcome when it reconnects. The socket is closed at once,
// without a close frame: the writer is almost certainly stuck writing
// to a peer that stopped reading, so a close frame would only wait behind
// it while the connection's buffers stay pinned.
func (c *client) trySend(f outFrame) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- f:
		c.kick()
		return true
	default:
		c.drop(dropSlow, closeReq{text: "send queue full", immediate: true})
		return false
	}
}

// sendJSON queues a frame for this client only.
func (c *client) sendJSON(typ string, v any) bool {
	data, err := playlists.Encode(typ, v)
	if err != nil {
		c.hub.log.Error("encode frame", "screen", c.screenID, "type", typ, "error", err)
		return false
	}
	return c.trySend(outFrame{data: data})
}

// pushVersion queues a version frame, or parks it until the welcome has
// been queued so the player never sees a version before its welcome.
func (c *client) pushVersion(version string, f outFrame, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pushedVersion, c.pushedAt = version, now
	if !c.welcomed {
		// The welcome follows with a version notice for it (a proof
		// built for this batch would be as good, but the notice is
		// simpler and this race is rare).
		c.pendingVersion = version
		return false
	}
	return c.trySend(f)
}

// welcome queues the welcome and then any version pushed while Hello ran,
// so a publish racing with the handshake is not lost.
func (c *client) welcome(w playlists.Welcome) {
	data, err := playlists.Encode(playlists.MsgWelcome, w)
	if err != nil {
		c.hub.log.Error("encode welcome", "screen", c.screenID, "error", err)
		c.kill(closeFrame(closeInternalError, "internal error"))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.welcomed = true
	if !c.trySend(outFrame{data: data}) {
		return
	}
	pending := c.pendingVersion
	c.pendingVersion = ""
	if pending == "" || pending == w.Version {
		return
	}
	pm, err := prepare(playlists.MsgVersion, playlists.VersionNote{Version: pending})
	if err != nil {
		c.hub.log.Error("encode version frame", "screen", c.screenID, "error", err)
		return
	}
	if c.trySend(outFrame{push: &pushed{pm: pm}}) {
		c.hub.metrics.pushes.Inc()
	}
}

// ackLatency returns how long ago version was pushed to this client, once.
func (c *client) ackLatency(version string, now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version == "" || version != c.pushedVersion || c.pushedAt.IsZero() {
		return 0, false
	}
	d := max(now.Sub(c.pushedAt), 0)
	c.pushedVersion, c.pushedAt = "", time.Time{}
	return d, true
}

// kick makes sure a writer runs. An idle connection has none: a writer is
// started when a frame is queued or the connection is ending, and returns
// once the queue is empty, so ten thousand idle screens cost ten thousand
// goroutines (the read pumps), not twenty thousand.
func (c *client) kick() {
	if c.writing.CompareAndSwap(false, true) {
		go c.writeLoop()
	}
}

// writeLoop is the writer: at most one runs per connection, and only it
// writes data frames. It drains the queue, carries out the close once the
// connection is ending, and otherwise returns when the queue is empty.
func (c *client) writeLoop() {
	opts := &c.hub.opts
	for {
		select {
		case <-c.done:
			c.finish()
			c.endWrite()
			return // writing stays true: no writer starts again
		default:
		}
		select {
		case f := <-c.send:
			err := c.write(f, time.Now().Add(opts.WriteWait))
			f.written()
			if err != nil {
				c.writeFailed(err)
				c.endWrite()
				return
			}
			continue
		default:
		}
		c.writing.Store(false)
		// A frame queued (or a close decided) after the receive above but
		// before the store saw writing still true and started no writer:
		// look again, and carry on unless another writer has taken over.
		if len(c.send) == 0 && !c.ending() {
			return
		}
		if !c.writing.CompareAndSwap(false, true) {
			return
		}
	}
}

// endWrite is the writer's last act: the socket is closed and the
// connection no longer holds up Hub.Close.
func (c *client) endWrite() {
	c.conn.Close()
	c.hub.conns.Done()
}

func (c *client) ending() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// startPings arms the connection's ping timer. After a server restart
// every screen reconnects within seconds; a random first ping spreads
// their pings over the interval instead of firing thousands of writes in
// the same instant forever after. Pings go out as control frames from the
// timer's own short-lived goroutine (gorilla allows WriteControl next to a
// data writer), so an idle connection needs no goroutine waiting for them.
func (c *client) startPings() {
	interval := c.hub.opts.PingInterval
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pinger = time.AfterFunc(interval/2+rand.N(interval/2+1), c.sendPing)
}

// stopPings disarms the ping timer; a ping already being sent finds the
// connection ending and does not re-arm it.
func (c *client) stopPings() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pinger.Stop()
}

func (c *client) sendPing() {
	if c.ending() {
		return
	}
	opts := &c.hub.opts
	// A player heard from lately is alive and its read deadline already
	// extended. Players ping every 25 s and heartbeat every 30 s, so a
	// connection that behaves needs no ping of ours; at 10,000 screens
	// that halves the control frames, each a system call on both sides.
	// Ours waits until the player has been silent for halfway between
	// PingInterval and PongWait (42.5 s by default), which leaves its pong
	// half the usual margin before the deadline, and a player that pings
	// at our own interval is not raced.
	quiet := (opts.PingInterval + opts.PongWait) / 2
	if heard := c.heard.Load(); heard != 0 {
		if since := time.Duration(monoNow() - heard); since < quiet {
			c.mu.Lock()
			c.pinger.Reset(quiet - since)
			c.mu.Unlock()
			return
		}
	}
	if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(opts.WriteWait)); err != nil {
		if !c.ending() {
			c.writeFailed(err)
		}
		return
	}
	if !c.ending() {
		c.mu.Lock()
		c.pinger.Reset(opts.PingInterval)
		c.mu.Unlock()
	}
}

// pushBufs lend the buffer a pushed manifest's frame is assembled in, for
// as long as one write takes; buffers that grew beyond maxPooledPush (a
// rare large manifest) are left to the collector.
var pushBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

const maxPooledPush = 64 << 10

func (c *client) write(f outFrame, deadline time.Time) error {
	if err := c.conn.SetWriteDeadline(deadline); err != nil {
		return err
	}
	switch {
	case f.push == nil:
		return c.conn.WriteMessage(websocket.TextMessage, f.data)
	case f.push.frames != nil:
		bp := pushBufs.Get().(*[]byte)
		buf := f.push.frames.AppendFrame((*bp)[:0], f.idx)
		err := c.conn.WriteMessage(websocket.TextMessage, buf)
		if cap(buf) <= maxPooledPush {
			*bp = buf
			pushBufs.Put(bp)
		}
		return err
	}
	return c.conn.WritePreparedMessage(f.push.pm)
}

func (c *client) writeFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// The peer has not drained its socket for WriteWait.
		c.drop(dropSlow, closeReq{text: "write timeout", immediate: true})
		return
	}
	c.kill(closeReq{immediate: true})
}

// finish carries out the close decided by kill, bounded by closeGrace.
func (c *client) finish() {
	req := c.req
	if req.immediate {
		return
	}
	deadline := time.Now().Add(closeGrace)
	if req.flush {
	flush:
		for {
			select {
			case f := <-c.send:
				err := c.write(f, deadline)
				f.written()
				if err != nil {
					return
				}
			default:
				break flush
			}
		}
	}
	if err := c.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(req.code, req.text), deadline); err != nil {
		return
	}
	// Give the player a moment to answer the close, so its reply does not
	// hit a closed socket and reset the connection before it read why.
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
	}
}

// readPump reads and answers the player's frames until the connection ends.
func (c *client) readPump() {
	defer c.endRead()
	opts := &c.hub.opts
	c.conn.SetReadLimit(playlists.MaxMessageBytes)
	_ = c.conn.SetReadDeadline(time.Now().Add(opts.HelloWait))
	c.conn.SetPongHandler(func(string) error {
		// Before the hello only the hello may extend the deadline; a
		// player must not idle unidentified by sending pongs. A pong
		// answers our ping and spares none: a player that only answers
		// is pinged every PingInterval, as ever.
		if c.helloed {
			return c.conn.SetReadDeadline(time.Now().Add(opts.PongWait))
		}
		return nil
	})
	c.conn.SetPingHandler(c.ping)
	for {
		mt, data, err := c.conn.ReadMessage()
		if err != nil {
			c.readFailed(err)
			return
		}
		_ = c.heardFrom()
		if !c.handleFrame(mt, data) {
			return
		}
	}
}

// heardFrom notes a frame or a ping from the player: once it has said
// hello, that extends the read deadline by PongWait and spares our next
// ping (read pump only).
func (c *client) heardFrom() error {
	if !c.helloed {
		return nil
	}
	c.heard.Store(monoNow())
	return c.conn.SetReadDeadline(time.Now().Add(c.hub.opts.PongWait))
}

// monoBase and monoNow give a monotonic time as one integer, for fields
// read and written without a lock.
var monoBase = time.Now()

func monoNow() int64 { return int64(time.Since(monoBase)) }

// endRead runs when the read pump returns: the connection is over.
func (c *client) endRead() {
	c.kill(closeReq{immediate: true}) // no-op if the end was already decided
	c.stopPings()
	close(c.readDone)
	if c.hub.unregister(c) {
		c.hub.handler.Disconnected(c.screenID)
		c.hub.log.Info("screen disconnected", "screen", c.screenID)
	}
	c.hub.conns.Done()
}

func (c *client) readFailed(err error) {
	select {
	case <-c.done:
		return // we ended it; the read error is the echo of that
	default:
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		if !c.helloed {
			c.drop(dropProtocol, closeFrame(closePolicy,
				fmt.Sprintf("no hello within %s", c.hub.opts.HelloWait)))
		} else {
			c.drop(dropPingTimeout, closeFrame(closePolicy, "ping timeout"))
		}
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has already sent "message too big".
		c.drop(dropProtocol, closeReq{text: "frame too large", immediate: true})
	default:
		// The player closed or the network went away.
		c.hub.log.Debug("screen connection ended", "screen", c.screenID, "error", err)
	}
}

// ping answers a player's ping as gorilla's default handler does, unless
// the player pings faster than maxPingRate beyond a burst of pingBurst:
// every ping costs a pong write, so a flood is cut with 1008 and counted.
// The rate runs on the hub clock, like the bad-frame window.
func (c *client) ping(data string) error {
	now := c.hub.now()
	if c.pingAt.IsZero() {
		c.pingTokens = pingBurst
	} else {
		c.pingTokens = min(pingBurst, c.pingTokens+now.Sub(c.pingAt).Seconds()*maxPingRate)
	}
	c.pingAt = now
	if c.pingTokens < 1 {
		// Keep reading (without answering) so the player's reply to the
		// close frame is read and the close completes cleanly.
		c.drop(dropPingFlood, closeFrame(closePolicy,
			fmt.Sprintf("ping flood: more than %d pings a second", maxPingRate)))
		return nil
	}
	c.pingTokens--
	select {
	case <-c.done:
		return nil
	default:
	}
	_ = c.heardFrom()
	err := c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.hub.opts.WriteWait))
	var ne net.Error
	if errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) {
		return nil // as the default handler: the read pump notices a dead socket itself
	}
	return err
}
