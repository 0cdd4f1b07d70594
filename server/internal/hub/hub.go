// Package hub owns the device websockets at /api/v1/device/ws: it
// authenticates players, keeps one connection per screen, answers their
// frames and fans new manifest versions out to them.
//
// It is shaped for ten thousand idle sockets on a small server: each
// connection has a 1 KiB read buffer, borrows a write buffer from a shared
// pool only while writing, and costs one goroutine (its read pump; a writer
// runs only while frames are queued, pings come from a timer); ServeHTTP
// returns right after the upgrade so net/http's per-request buffers are
// freed. A frame for
// many screens is encoded once (websocket.PreparedMessage) and queued to each
// client without blocking; a client whose queue is full is dropped and
// resyncs through its welcome when it reconnects. No lock is held while
// writing to a socket.
package hub

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
)

// Handler is implemented by the server; the hub calls it. Calls may come
// concurrently from many connections; implementations must be quick.
type Handler interface {
	// Authenticate maps a device token to a screen. Return ErrUnauthorized (or wrap it)
	// for a bad token: the hub answers 401 JSON {"error": "..."} and does not upgrade.
	Authenticate(token string) (screenID string, err error)
	// Hello is called on the player's first frame; the returned Welcome is
	// sent back. It must not send to the screen (Send refuses until the
	// welcome is queued): what should follow the welcome goes in Welcomed.
	Hello(screenID string, h playlists.Hello) (playlists.Welcome, error)
	// Welcomed is called once the welcome is queued: frames sent from here
	// on (pending commands, update offers) reach the player after it.
	Welcomed(screenID string)
	Applied(screenID string, a playlists.Applied)
	Heartbeat(screenID string, hb playlists.Heartbeat)
	// CommandResult reports how a remote command ended on the player.
	CommandResult(screenID string, r playlists.CommandResult)
	// Disconnected is called once when a connection of screenID ends.
	Disconnected(screenID string)
}

// ErrUnauthorized is returned (possibly wrapped) by Handler.Authenticate for
// an unknown or revoked token, and by Handler.Hello to refuse a screen.
var ErrUnauthorized = errors.New("unauthorized")

// Defaults for Options fields left zero.
const (
	DefaultSendBuffer   = 16
	DefaultPingInterval = 25 * time.Second
	DefaultPongWait     = 60 * time.Second
	DefaultWriteWait    = 10 * time.Second
	DefaultHelloWait    = 10 * time.Second
)

// Limits on misbehaving players.
const (
	// maxBadFrames bad frames within badFrameWindow are tolerated (each gets
	// an error frame, so a player with a bug can report it); one more closes
	// the connection.
	maxBadFrames   = 5
	badFrameWindow = time.Minute
	// A player pings every 25 s or so; each ping costs the server a pong
	// write. More than maxPingRate a second, beyond a burst of pingBurst,
	// is a flood and closes the connection (1008).
	maxPingRate = 10
	pingBurst   = 20
	// closeGrace bounds how long a close frame (and the frames queued before
	// it, such as the error note explaining it) may take to leave.
	closeGrace = 2 * time.Second
	// readBufferSize is small on purpose: frames are tiny JSON and an idle
	// connection keeps this buffer for its whole life.
	readBufferSize = 1024
	// writeBufferSize is the pooled buffer a write borrows; it only needs to
	// hold the largest common frame, bigger frames are written in pieces.
	writeBufferSize = 4096
)

// Options configure a Hub. Only Handler is required.
type Options struct {
	Handler      Handler
	Logger       *slog.Logger
	Registerer   prometheus.Registerer // may be nil: then metrics are not registered
	Now          func() time.Time      // nil → time.Now
	SendBuffer   int                   // per-client queue length, default 16
	PingInterval time.Duration         // default 25s
	PongWait     time.Duration         // default 60s
	WriteWait    time.Duration         // default 10s
	HelloWait    time.Duration         // default 10s: no hello in time → close
	HoldAcks     time.Duration         // default DefaultHoldAcks: longest wait of frames read during a push (fanout.go)
}

// Hub holds the connected screens. Its methods are safe for concurrent use.
type Hub struct {
	handler  Handler
	log      *slog.Logger
	now      func() time.Time
	opts     Options
	metrics  *metrics
	upgrader websocket.Upgrader

	fanOut  atomic.Pointer[fanOut] // the push leaving, if one is
	mu      sync.RWMutex
	clients map[string]*client // newest connection per screen
	closed  bool
	conns   sync.WaitGroup // every connection's goroutines, so Close can wait
}

// New returns a Hub that calls opts.Handler. It panics if Handler is nil,
// since a hub that cannot authenticate is a programming error.
func New(opts Options) *Hub {
	if opts.Handler == nil {
		panic("hub: Options.Handler is nil")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SendBuffer <= 0 {
		opts.SendBuffer = DefaultSendBuffer
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.PongWait <= 0 {
		opts.PongWait = DefaultPongWait
	}
	if opts.WriteWait <= 0 {
		opts.WriteWait = DefaultWriteWait
	}
	if opts.HelloWait <= 0 {
		opts.HelloWait = DefaultHelloWait
	}
	if opts.HoldAcks <= 0 {
		opts.HoldAcks = DefaultHoldAcks
	}
	log := opts.Logger
	if opts.PingInterval >= opts.PongWait {
		// Pongs answer pings; if pings come less often than the read
		// deadline allows, every quiet player would time out.
		fixed := opts.PongWait * 9 / 10
		log.Warn("hub ping interval must be shorter than the pong wait; shortened",
			"ping_interval", opts.PingInterval, "pong_wait", opts.PongWait, "using", fixed)
		opts.PingInterval = fixed
	}
	return &Hub{
		handler: opts.Handler,
		log:     log,
		now:     opts.Now,
		opts:    opts,
		metrics: newMetrics(opts.Registerer, log),
		upgrader: websocket.Upgrader{
			HandshakeTimeout: opts.WriteWait,
			ReadBufferSize:   readBufferSize,
			WriteBufferSize:  writeBufferSize,
			WriteBufferPool:  &sync.Pool{},
			// Compression would cost a flate state per connection for
			// frames of a few dozen bytes.
			EnableCompression: false,
			// CheckOrigin stays the default (same origin or no Origin):
			// players send none, and a browser page must not be able to
			// ride on a token it cannot set on a websocket anyway.
			Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
				writeJSONError(w, status, reason.Error())
			},
		},
		clients: make(map[string]*client),
	}
}

// Push tells the given screens that version is their new manifest version:
// one "version" frame, encoded once, queued to every listed screen that is
// connected. Screens not connected are skipped; they learn the version from
// their Welcome. Push never blocks on a socket.
func (h *Hub) Push(version string, screenIDs []string) {
	h.PushManifest(version, screenIDs, nil)
}

// PushManifest is Push for a manifest that may travel inside the push:
// screens whose player accepts it (Hello.Accept) get the frame of leaf i of
// the batch frames returns, i being their index in screenIDs; the others,
// and all of them when frames is nil or returns nil, get the version
// notice. frames is called at most once, and only if some listed screen
// accepts pushed manifests, so a fleet of older players costs no
// signature.
func (h *Hub) PushManifest(version string, screenIDs []string, frames func() *playlists.PushFrames) {
	if version == "" || len(screenIDs) == 0 {
		return
	}
	type target struct {
		c   *client
		idx int
	}
	targets := make([]target, 0, len(screenIDs))
	inline := false
	h.mu.RLock()
	for i, id := range screenIDs {
		if c, ok := h.clients[id]; ok {
			targets = append(targets, target{c, i})
			inline = inline || c.inline.Load()
		}
	}
	h.mu.RUnlock()
	if len(targets) == 0 {
		return
	}

	var pf *playlists.PushFrames
	if inline && frames != nil {
		pf = frames()
	}
	now := h.now()
	queued, inlined := 0, 0
	fan := h.beginFanOut()
	defer fan.written() // the one for queueing
	withManifest := &pushed{frames: pf, fan: fan}
	var notice *pushed // encoded once when first needed
	for _, t := range targets {
		f := outFrame{push: withManifest, idx: t.idx}
		if pf == nil || !t.c.inline.Load() {
			if notice == nil {
				pm, err := prepare(playlists.MsgVersion, playlists.VersionNote{Version: version})
				if err != nil {
					h.log.Error("push: encode version frame", "version", version, "error", err)
					return
				}
				notice = &pushed{pm: pm, fan: fan}
			}
			f = outFrame{push: notice}
		}
		fan.add()
		if !t.c.pushVersion(version, f, now) {
			fan.written() // parked for the welcome, or the player dropped
			continue
		}
		queued++
		if f.push == withManifest {
			inlined++
		}
	}
	h.metrics.pushes.Add(float64(queued))
	h.metrics.inlined.Add(float64(inlined))
	h.log.Debug("pushed version", "version", version, "listed", len(screenIDs), "queued", queued, "with_manifest", inlined)
}

// Online reports whether screenID has an open connection (from the upgrade
// on; the hello may still be pending).
func (h *Hub) Online(screenID string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.clients[screenID]
	return ok
}

// Connected is the number of screens with an open connection.
func (h *Hub) Connected() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// Kick closes screenID's connection, e.g. after its token was revoked. The
// player is told why in the close frame.
func (h *Hub) Kick(screenID string) {
	h.mu.RLock()
	c := h.clients[screenID]
	h.mu.RUnlock()
	if c != nil {
		c.close(closePolicy, "disconnected by the server")
	}
}

// Close closes every connection with "going away", refuses new ones, and
// waits until all connection goroutines (and their Disconnected calls) have
// finished, so the caller may close the store afterwards. It is idempotent.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	all := make([]*client, 0, len(h.clients))
	for _, c := range h.clients {
		all = append(all, c)
	}
	h.mu.Unlock()
	for _, c := range all {
		c.close(closeGoingAway, "server shutting down")
	}
	// Connections still before registration (mid-upgrade) see closed and
	// end on their own; every step below is bounded by a deadline.
	h.conns.Wait()
}

// register makes c the screen's connection and returns the one it replaces.
// It fails once the hub is closed; then c's goroutines must not start.
func (h *Hub) register(c *client) (old *client, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	old = h.clients[c.screenID]
	h.clients[c.screenID] = c
	h.conns.Add(2) // the read pump, and the writer that carries out the close
	h.metrics.connected.Set(float64(len(h.clients)))
	return old, true
}

// unregister removes c if it is still the screen's connection and reports
// whether the screen is now offline. A connection replaced by a newer one
// is no longer in the map, so its end does not mark the screen offline.
func (h *Hub) unregister(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients[c.screenID] != c {
		return false
	}
	delete(h.clients, c.screenID)
	h.metrics.connected.Set(float64(len(h.clients)))
	return true
}

// prepare encodes one frame for sending to any number of connections.
func prepare(typ string, v any) (*websocket.PreparedMessage, error) {
	data, err := playlists.Encode(typ, v)
	if err != nil {
		return nil, err
	}
	return websocket.NewPreparedMessage(websocket.TextMessage, data)
}
