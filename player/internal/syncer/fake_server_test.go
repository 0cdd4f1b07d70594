package syncer

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/assets"
	"kiosk/playlists"
)

// fakeServer speaks the device side of the server's contract: the websocket,
// the manifest with ETag/304 and the assets. Tests change what it serves and
// watch what the player says.
type fakeServer struct {
	t     *testing.T
	srv   *httptest.Server
	token string
	skew  time.Duration // server clock minus real clock

	mu          sync.Mutex
	manifest    *playlists.Manifest
	rawOverride []byte                              // served instead of the manifest's JSON when set
	sign        func(body []byte) map[string]string // signature headers for a manifest body; nil: unsigned
	blobs       map[string][]byte                   // what the server sends per sha (may be wrong)
	gates       map[string]chan struct{}
	cutOnce     map[string]int  // send this many bytes, then drop the connection, once
	ranges      []string        // Range headers seen on asset requests
	noRange     map[string]bool // answer every Range request for this sha with 416
	conns       map[*fakeConn]bool
	assetHits   map[string]int
	manifestOK  int    // 200 answers
	manifestGet int    // every GET /device/manifest, 304s included
	refuseWith  string // error frame instead of welcome
	// combined: the welcome accepts the heartbeat inside the applied
	// frame; combinedSeen counts applied frames that carried one.
	combined     bool
	combinedSeen atomic.Int32

	connects atomic.Int32 // websocket upgrades
	attempts atomic.Int32 // websocket requests, refused ones included

	hellos     chan playlists.Hello
	applied    chan string
	heartbeats chan playlists.Heartbeat
	results    chan playlists.CommandResult
}

type fakeConn struct {
	ws *websocket.Conn
	mu sync.Mutex
}

func (c *fakeConn) send(t *testing.T, typ string, v any) {
	frame, err := playlists.Encode(typ, v)
	if err != nil {
		t.Error(err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
	c.ws.WriteMessage(websocket.TextMessage, frame)
}

// sendRaw writes a frame as given (a pushed manifest, built the way the
// server builds it).
func (c *fakeConn) sendRaw(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
	c.ws.WriteMessage(websocket.TextMessage, frame)
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{
		t:          t,
		token:      "good-token",
		blobs:      map[string][]byte{},
		gates:      map[string]chan struct{}{},
		cutOnce:    map[string]int{},
		noRange:    map[string]bool{},
		conns:      map[*fakeConn]bool{},
		assetHits:  map[string]int{},
		hellos:     make(chan playlists.Hello, 100),
		applied:    make(chan string, 100),
		heartbeats: make(chan playlists.Heartbeat, 1000),
		results:    make(chan playlists.CommandResult, 100),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/device/ws", f.handleWS)
	mux.HandleFunc("GET /api/v1/device/manifest", f.handleManifest)
	mux.HandleFunc("GET /api/v1/device/assets/{sha}", f.handleAsset)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.dropAll()
		f.srv.Close()
	})
	return f
}

func (f *fakeServer) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bearer "+f.token
}

func (f *fakeServer) handleWS(w http.ResponseWriter, r *http.Request) {
	f.attempts.Add(1)
	if !f.authorized(r) {
		http.Error(w, `{"error":"unknown device token"}`, http.StatusUnauthorized)
		return
	}
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.connects.Add(1)
	c := &fakeConn{ws: ws}
	defer func() {
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
		ws.Close()
	}()
	ws.SetReadLimit(playlists.MaxMessageBytes)
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return
	}
	env, err := playlists.Decode(msg)
	if err != nil || env.Type != playlists.MsgHello {
		f.t.Errorf("first frame = %q (%v), want hello", msg, err)
		return
	}
	var h playlists.Hello
	if err := env.DecodeData(&h); err != nil {
		f.t.Error(err)
		return
	}
	f.hellos <- h
	f.mu.Lock()
	refuse := f.refuseWith
	version := ""
	if f.manifest != nil {
		version = f.manifest.Version
	}
	f.conns[c] = true
	var accept []string
	if f.combined {
		accept = []string{playlists.AcceptAppliedHeartbeat}
	}
	f.mu.Unlock()
	if refuse != "" {
		c.send(f.t, playlists.MsgError, playlists.ErrorNote{Error: refuse})
		return
	}
	c.send(f.t, playlists.MsgWelcome, playlists.Welcome{ScreenID: "scr-1", ScreenName: "Lobby A", Version: version, ServerTime: f.now().UnixMilli(), Accept: accept})
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		env, err := playlists.Decode(msg)
		if err != nil {
			f.t.Errorf("bad frame from player: %v", err)
			return
		}
		switch env.Type {
		case playlists.MsgApplied:
			var a playlists.Applied
			env.DecodeData(&a)
			if a.Heartbeat != nil {
				if !f.combined {
					f.t.Errorf("a heartbeat inside the applied frame to a server that did not accept it")
				}
				f.combinedSeen.Add(1)
				select {
				case f.heartbeats <- *a.Heartbeat:
				default:
				}
			}
			f.applied <- a.Version
		case playlists.MsgHeartbeat:
			var hb playlists.Heartbeat
			env.DecodeData(&hb)
			select {
			case f.heartbeats <- hb:
			default:
			}
		case playlists.MsgTime:
			var ts playlists.TimeSync
			env.DecodeData(&ts)
			ts.Server = f.now().UnixMilli()
			c.send(f.t, playlists.MsgTime, ts)
		case playlists.MsgCommandResult:
			var r playlists.CommandResult
			env.DecodeData(&r)
			f.results <- r
		default:
			f.t.Errorf("unexpected frame type %q from player", env.Type)
		}
	}
}

func (f *fakeServer) now() time.Time { return time.Now().Add(f.skew) }

func (f *fakeServer) handleManifest(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"unknown device token"}`))
		return
	}
	f.mu.Lock()
	m, raw := f.manifest, f.rawOverride
	f.manifestGet++
	f.mu.Unlock()
	if m == nil {
		http.Error(w, `{"error":"no manifest"}`, http.StatusNotFound)
		return
	}
	etag := `"` + m.Version + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if raw == nil {
		raw, _ = json.Marshal(m)
	}
	f.mu.Lock()
	f.manifestOK++
	sign := f.sign
	f.mu.Unlock()
	if sign != nil {
		for k, v := range sign(raw) {
			w.Header().Set(k, v)
		}
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
}

func (f *fakeServer) handleAsset(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	sha := r.PathValue("sha")
	f.mu.Lock()
	b, ok := f.blobs[sha]
	gate := f.gates[sha]
	f.assetHits[sha]++
	cut, cutting := f.cutOnce[sha]
	delete(f.cutOnce, sha)
	rg := r.Header.Get("Range")
	if rg != "" {
		f.ranges = append(f.ranges, rg)
	}
	refuse := rg != "" && f.noRange[sha]
	f.mu.Unlock()
	if refuse {
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return
	}
	if !ok {
		http.Error(w, `{"error":"no such asset"}`, http.StatusNotFound)
		return
	}
	if gate != nil {
		// Send half, then hold until the test opens the gate or the
		// player gives up on this download.
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		w.Write(b[len(b)/2:])
		return
	}
	if cutting {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the link drops mid-file
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// publish makes m current, serves its assets from data, and pushes a
// version notice to every connected player.
func (f *fakeServer) publish(m *playlists.Manifest, data map[string][]byte) {
	f.set(m, data)
	f.notify(m.Version)
}

// set makes m current and serves data, without telling anyone.
func (f *fakeServer) set(m *playlists.Manifest, data map[string][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.manifest = m
	f.rawOverride = nil
	for sha, b := range data {
		f.blobs[sha] = b
	}
}

// notify pushes a version notice to every connected player.
func (f *fakeServer) notify(version string) {
	f.mu.Lock()
	conns := make([]*fakeConn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, c := range conns {
		c.send(f.t, playlists.MsgVersion, playlists.VersionNote{Version: version})
	}
}

// push makes m current (so a fallback GET finds it), serves data, and
// sends every connected player the "manifest" frame frame builds from m's
// exact bytes.
func (f *fakeServer) push(m *playlists.Manifest, data map[string][]byte, frame func(version string, body []byte) []byte) {
	f.set(m, data)
	f.sendPush(m, frame)
}

// sendPush sends m in a "manifest" frame without making it current: a
// fallback GET then finds what the server had before.
func (f *fakeServer) sendPush(m *playlists.Manifest, frame func(version string, body []byte) []byte) {
	body, err := json.Marshal(m)
	if err != nil {
		f.t.Fatal(err)
	}
	b := frame(m.Version, body)
	f.mu.Lock()
	conns := make([]*fakeConn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, c := range conns {
		c.sendRaw(b)
	}
}

func (f *fakeServer) manifestGets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.manifestGet
}

// dropAll closes every player connection, as a server restart would.
func (f *fakeServer) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.ws.Close()
	}
}

func (f *fakeServer) hits(sha string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.assetHits[sha]
}

// content builds a sealed manifest with one image item per blob.
func content(blobs ...[]byte) (*playlists.Manifest, map[string][]byte) {
	m := &playlists.Manifest{Timezone: playlists.DefaultTimezone, Schedules: []playlists.Schedule{}, Playlists: []playlists.Playlist{}, Items: []playlists.Item{}, Assets: []playlists.AssetRef{}}
	data := map[string][]byte{}
	pl := playlists.Playlist{ID: "pl-1", Name: "main", Items: []string{}}
	for i, b := range blobs {
		sha := assets.Sum(b)
		id := "item-" + strconv.Itoa(i)
		m.Items = append(m.Items, playlists.Item{ID: id, Kind: playlists.KindPSA, Title: "防诈骗 " + id, Asset: sha, DurationS: 5})
		m.Assets = append(m.Assets, playlists.AssetRef{SHA256: sha, Size: int64(len(b)), MIME: assets.MIMEPNG})
		pl.Items = append(pl.Items, id)
		data[sha] = b
	}
	m.Playlists = append(m.Playlists, pl)
	m.Schedules = append(m.Schedules, playlists.Schedule{ID: "sc-1", Playlist: "pl-1", Target: playlists.Target{All: true}})
	m.Seal()
	return m, data
}
