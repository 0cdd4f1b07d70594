package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
)

// fakeHandler is the server side of the tests: tokens "tok-<id>" belong to
// screen <id>, and every call is recorded.
type fakeHandler struct {
	mu          sync.Mutex
	version     string
	authErr     error
	helloErr    error
	helloGate   chan struct{} // if set, Hello waits for it to close
	helloEnter  chan string   // if set, Hello reports entry here
	hellos      []playlists.Hello
	applied     chan playlists.Applied
	heartbeats  chan playlists.Heartbeat
	disconnects chan string
	results     chan playlists.CommandResult
	// duringHello, if set, runs inside Hello (as devices delivers queued
	// commands there).
	duringHello func(screenID string)
	// onAuth, if set, may refuse a token that is otherwise valid.
	onAuth func(token string) error
	// onWelcomed runs in Welcomed, after the welcome is queued.
	onWelcomed func(screenID string)
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{
		version:     "v1",
		applied:     make(chan playlists.Applied, 16),
		heartbeats:  make(chan playlists.Heartbeat, 16),
		disconnects: make(chan string, 64),
		results:     make(chan playlists.CommandResult, 16),
	}
}

func (f *fakeHandler) Authenticate(token string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.authErr != nil {
		return "", f.authErr
	}
	if f.onAuth != nil {
		if err := f.onAuth(token); err != nil {
			return "", err
		}
	}
	id, ok := strings.CutPrefix(token, "tok-")
	if !ok {
		return "", fmt.Errorf("token %q: %w", token, ErrUnauthorized)
	}
	return id, nil
}

func (f *fakeHandler) Hello(screenID string, h playlists.Hello) (playlists.Welcome, error) {
	if f.helloEnter != nil {
		f.helloEnter <- screenID
	}
	if f.helloGate != nil {
		<-f.helloGate
	}
	if f.duringHello != nil {
		f.duringHello(screenID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hellos = append(f.hellos, h)
	if f.helloErr != nil {
		return playlists.Welcome{}, f.helloErr
	}
	return playlists.Welcome{ScreenName: "Screen " + screenID, Version: f.version}, nil
}

func (f *fakeHandler) Welcomed(screenID string) {
	if f.onWelcomed != nil {
		f.onWelcomed(screenID)
	}
}

func (f *fakeHandler) Applied(_ string, a playlists.Applied)      { f.applied <- a }
func (f *fakeHandler) Heartbeat(_ string, hb playlists.Heartbeat) { f.heartbeats <- hb }
func (f *fakeHandler) Disconnected(screenID string)               { f.disconnects <- screenID }
func (f *fakeHandler) CommandResult(_ string, r playlists.CommandResult) {
	f.results <- r
}

// fakeClock is the hub's injected clock; socket deadlines stay on real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testEnv struct {
	hub     *Hub
	handler *fakeHandler
	clock   *fakeClock
	reg     *prometheus.Registry
	url     string // ws://127.0.0.1:port/api/v1/device/ws
	httpURL string
}

func newTestEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	env := &testEnv{
		handler: newFakeHandler(),
		clock:   &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)},
		reg:     prometheus.NewRegistry(),
	}
	if opts.Handler == nil {
		opts.Handler = env.handler
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	opts.Registerer = env.reg
	opts.Now = env.clock.Now
	env.hub = New(opts)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/device/ws", env.hub)
	srv := httptest.NewServer(mux) // binds 127.0.0.1:0
	t.Cleanup(func() {
		env.hub.Close()
		srv.Close()
	})
	env.httpURL = srv.URL + "/api/v1/device/ws"
	env.url = "ws" + strings.TrimPrefix(env.httpURL, "http")
	return env
}

func (e *testEnv) dial(t *testing.T, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(e.url, h)
	if conn != nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

// connect dials as screen id and completes the hello/welcome handshake.
func (e *testEnv) connect(t *testing.T, id string) (*websocket.Conn, playlists.Welcome) {
	t.Helper()
	conn, _, err := e.dial(t, "tok-"+id)
	if err != nil {
		t.Fatalf("dial as %s: %v", id, err)
	}
	send(t, conn, playlists.MsgHello, playlists.Hello{PlayerVersion: "test", AppliedVersion: ""})
	env := readFrame(t, conn)
	if env.Type != playlists.MsgWelcome {
		t.Fatalf("first frame to %s: got type %q, want %q", id, env.Type, playlists.MsgWelcome)
	}
	var w playlists.Welcome
	if err := env.DecodeData(&w); err != nil {
		t.Fatalf("welcome: %v", err)
	}
	return conn, w
}

func send(t *testing.T, conn *websocket.Conn, typ string, v any) {
	t.Helper()
	data, err := playlists.Encode(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	sendRaw(t, conn, data)
}

func sendRaw(t *testing.T, conn *websocket.Conn, data []byte) {
	t.Helper()
	_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, data); err != nil {
		t.Fatalf("write frame: %v", err)
	}
}

func readFrame(t *testing.T, conn *websocket.Conn) playlists.Envelope {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	env, err := playlists.Decode(data)
	if err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	return env
}

// expectError reads one frame and checks it is an error note.
func expectError(t *testing.T, conn *websocket.Conn, wantSubstr string) {
	t.Helper()
	env := readFrame(t, conn)
	if env.Type != playlists.MsgError {
		t.Fatalf("got frame %q %s, want an error frame", env.Type, env.Data)
	}
	var n playlists.ErrorNote
	if err := env.DecodeData(&n); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(n.Error, wantSubstr) {
		t.Fatalf("error note %q, want it to contain %q", n.Error, wantSubstr)
	}
}

// closeOf reads until the connection ends and returns its close frame.
func closeOf(conn *websocket.Conn) (*websocket.CloseError, error) {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			return nil, fmt.Errorf("connection ended with %v, not a close frame", err)
		}
		return ce, nil
	}
}

// checkClose is closeOf's verdict, usable from any goroutine.
func checkClose(conn *websocket.Conn, wantCode int, wantReason string) error {
	ce, err := closeOf(conn)
	if err != nil {
		return err
	}
	if ce.Code != wantCode || !strings.Contains(ce.Text, wantReason) {
		return fmt.Errorf("close: got %d %q, want %d containing %q", ce.Code, ce.Text, wantCode, wantReason)
	}
	return nil
}

func expectClose(t *testing.T, conn *websocket.Conn, wantCode int, wantReason string) {
	t.Helper()
	if err := checkClose(conn, wantCode, wantReason); err != nil {
		t.Fatal(err)
	}
}

// timeProbe sends a time frame and returns the reply; since frames to one
// client are ordered, it also proves nothing else was queued before it.
func timeProbe(t *testing.T, conn *websocket.Conn, t0 int64) playlists.TimeSync {
	t.Helper()
	send(t, conn, playlists.MsgTime, playlists.TimeSync{T0: t0})
	env := readFrame(t, conn)
	if env.Type != playlists.MsgTime {
		t.Fatalf("got frame %q %s, want the time reply", env.Type, env.Data)
	}
	var ts playlists.TimeSync
	if err := env.DecodeData(&ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

func expectVersion(t *testing.T, conn *websocket.Conn, want string) {
	t.Helper()
	env := readFrame(t, conn)
	var n playlists.VersionNote
	if env.Type != playlists.MsgVersion || env.DecodeData(&n) != nil || n.Version != want {
		t.Fatalf("got frame %q %.80s, want version %q", env.Type, env.Data, want)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricValue returns a counter or gauge value, or a histogram's sample
// count and sum, for the series with the given labels.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (value, sum float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), 0
			case m.Gauge != nil:
				return m.Gauge.GetValue(), 0
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), m.Histogram.GetSampleSum()
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0, 0
}

func TestAuthRefused(t *testing.T) {
	env := newTestEnv(t, Options{})
	tests := []struct {
		name       string
		header     string
		authErr    error
		wantStatus int
		wantError  string
	}{
		{"no header", "", nil, http.StatusUnauthorized, "missing device token"},
		{"wrong scheme", "Basic dG9rLWE6", nil, http.StatusUnauthorized, "missing device token"},
		{"empty bearer", "Bearer   ", nil, http.StatusUnauthorized, "missing device token"},
		{"unknown token", "Bearer nope", nil, http.StatusUnauthorized, "invalid device token"},
		{"store failure", "Bearer tok-a", errors.New("disk on fire"), http.StatusInternalServerError, "device authentication failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.handler.mu.Lock()
			env.handler.authErr = tc.authErr
			env.handler.mu.Unlock()
			h := http.Header{}
			if tc.header != "" {
				h.Set("Authorization", tc.header)
			}
			d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
			conn, resp, err := d.Dial(env.url, h)
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded, want the upgrade refused")
			}
			if resp == nil {
				t.Fatalf("dial error %v without a response", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type: got %q, want application/json", ct)
			}
			var body struct{ Error string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("decode body: %v", err)
			}
			if !strings.Contains(body.Error, tc.wantError) {
				t.Errorf("error: got %q, want it to contain %q", body.Error, tc.wantError)
			}
		})
	}
	if n := env.hub.Connected(); n != 0 {
		t.Errorf("Connected after refused dials: got %d, want 0", n)
	}
}

func TestTokenInQueryIsIgnored(t *testing.T) {
	env := newTestEnv(t, Options{})
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(env.url+"?token=tok-a", nil)
	if err == nil {
		conn.Close()
		t.Fatal("dial with ?token= succeeded, want 401: tokens belong in the header only")
	}
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("got %v, want a 401 response", err)
	}
	resp.Body.Close()
}

func TestPlainHTTPRequestGetsJSONError(t *testing.T) {
	env := newTestEnv(t, Options{})
	req, _ := http.NewRequest(http.MethodGet, env.httpURL, nil)
	req.Header.Set("Authorization", "Bearer tok-a")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Error string }
	if resp.StatusCode != http.StatusBadRequest || json.NewDecoder(resp.Body).Decode(&body) != nil || body.Error == "" {
		t.Fatalf("got %d %q, want 400 with a JSON error", resp.StatusCode, body.Error)
	}
}

func TestHelloWelcome(t *testing.T) {
	env := newTestEnv(t, Options{})
	env.handler.version = "v7"
	conn, w := env.connect(t, "lobby-3")
	want := playlists.Welcome{
		ScreenID:   "lobby-3",
		ScreenName: "Screen lobby-3",
		Version:    "v7",
		ServerTime: env.clock.Now().UnixMilli(),
		Accept:     []string{playlists.AcceptAppliedHeartbeat},
	}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("welcome: got %+v, want %+v", w, want)
	}
	if !env.hub.Online("lobby-3") || env.hub.Connected() != 1 {
		t.Errorf("Online=%v Connected=%d, want true and 1", env.hub.Online("lobby-3"), env.hub.Connected())
	}
	if g, _ := metricValue(t, env.reg, "kiosk_hub_connected_screens"); g != 1 {
		t.Errorf("connected gauge: got %v, want 1", g)
	}
	send(t, conn, playlists.MsgHeartbeat, playlists.Heartbeat{CurrentItem: "item-1", UptimeS: 42})
	select {
	case hb := <-env.handler.heartbeats:
		if hb.CurrentItem != "item-1" || hb.UptimeS != 42 {
			t.Errorf("heartbeat: got %+v", hb)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("heartbeat never reached the handler")
	}
	conn.Close()
	select {
	case id := <-env.handler.disconnects:
		if id != "lobby-3" {
			t.Errorf("Disconnected(%q), want lobby-3", id)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Disconnected not called after the player closed")
	}
	waitFor(t, "screen offline", func() bool { return !env.hub.Online("lobby-3") })
}

func TestHelloRefusedByHandler(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantNote  string
		wantCode  int
		wantClose string
	}{
		{"unauthorized", fmt.Errorf("screen retired: %w", ErrUnauthorized), "unauthorized", websocket.ClosePolicyViolation, "unauthorized"},
		{"internal", errors.New("store closed"), "internal error", websocket.CloseInternalServerErr, "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, Options{})
			env.handler.helloErr = tc.err
			conn, _, err := env.dial(t, "tok-a")
			if err != nil {
				t.Fatal(err)
			}
			send(t, conn, playlists.MsgHello, playlists.Hello{})
			expectError(t, conn, tc.wantNote)
			expectClose(t, conn, tc.wantCode, tc.wantClose)
		})
	}
}

func TestFirstFrameMustBeHello(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _, err := env.dial(t, "tok-a")
	if err != nil {
		t.Fatal(err)
	}
	send(t, conn, playlists.MsgHeartbeat, playlists.Heartbeat{})
	expectError(t, conn, "first frame must be hello")
	expectClose(t, conn, websocket.ClosePolicyViolation, "first frame must be hello")
	if v, _ := metricValue(t, env.reg, "kiosk_hub_dropped_total", "reason", "protocol"); v != 1 {
		t.Errorf("dropped{protocol}: got %v, want 1", v)
	}
}

func TestHelloTimeout(t *testing.T) {
	env := newTestEnv(t, Options{HelloWait: 150 * time.Millisecond})
	conn, _, err := env.dial(t, "tok-a")
	if err != nil {
		t.Fatal(err)
	}
	// Pongs must not keep an unidentified connection alive.
	_ = conn.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
	expectClose(t, conn, websocket.ClosePolicyViolation, "no hello within")
	waitFor(t, "screen offline", func() bool { return !env.hub.Online("a") })
}

func TestTimeReply(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")
	env.clock.Advance(90 * time.Second)
	got := timeProbe(t, conn, 1234567)
	want := playlists.TimeSync{T0: 1234567, Server: env.clock.Now().UnixMilli()}
	if got != want {
		t.Errorf("time reply: got %+v, want %+v", got, want)
	}
}

func TestPushReachesOnlyListedScreens(t *testing.T) {
	env := newTestEnv(t, Options{})
	a, _ := env.connect(t, "a")
	b, _ := env.connect(t, "b")
	c, _ := env.connect(t, "c")

	env.hub.Push("v2", []string{"a", "c", "not-connected"})
	expectVersion(t, a, "v2")
	expectVersion(t, c, "v2")
	// b's next frame must be the reply to its probe, not a version.
	timeProbe(t, b, 1)
	if v, _ := metricValue(t, env.reg, "kiosk_hub_pushes_total"); v != 2 {
		t.Errorf("pushes_total: got %v, want 2", v)
	}

	env.hub.Push("v3", []string{"b"})
	expectVersion(t, b, "v3")
	timeProbe(t, a, 1)
	timeProbe(t, c, 1)
}

func TestPushDuringHelloArrivesAfterWelcome(t *testing.T) {
	env := newTestEnv(t, Options{})
	env.handler.helloGate = make(chan struct{})
	env.handler.helloEnter = make(chan string, 1)
	conn, _, err := env.dial(t, "tok-a")
	if err != nil {
		t.Fatal(err)
	}
	send(t, conn, playlists.MsgHello, playlists.Hello{})
	<-env.handler.helloEnter
	// Published while the server is still composing the welcome (v1).
	env.hub.Push("v2", []string{"a"})
	close(env.handler.helloGate)

	if env := readFrame(t, conn); env.Type != playlists.MsgWelcome {
		t.Fatalf("first frame: got %q, want welcome", env.Type)
	}
	expectVersion(t, conn, "v2")
}

func TestAppliedObservesPushAckLatency(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")

	// An ack for a version that was never pushed is passed on but not timed.
	send(t, conn, playlists.MsgApplied, playlists.Applied{Version: "v1"})
	if got := <-env.handler.applied; got.Version != "v1" {
		t.Fatalf("Applied: got %+v, want v1", got)
	}

	env.hub.Push("v2", []string{"a"})
	expectVersion(t, conn, "v2")
	env.clock.Advance(1500 * time.Millisecond)
	send(t, conn, playlists.MsgApplied, playlists.Applied{Version: "v2"})
	select {
	case got := <-env.handler.applied:
		if got.Version != "v2" {
			t.Fatalf("Applied: got %+v, want v2", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("applied never reached the handler")
	}
	count, sum := metricValue(t, env.reg, "kiosk_hub_push_ack_seconds")
	if count != 1 || sum != 1.5 {
		t.Errorf("push_ack_seconds: got count %v sum %v, want 1 and 1.5", count, sum)
	}
	// A repeated ack is not timed twice.
	send(t, conn, playlists.MsgApplied, playlists.Applied{Version: "v2"})
	<-env.handler.applied
	if count, _ := metricValue(t, env.reg, "kiosk_hub_push_ack_seconds"); count != 1 {
		t.Errorf("push_ack_seconds count after a repeated ack: got %v, want 1", count)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_frames_received_total", "type", "applied"); v != 3 {
		t.Errorf("frames_received{applied}: got %v, want 3", v)
	}
}

func TestReplacementConnection(t *testing.T) {
	env := newTestEnv(t, Options{})
	old, _ := env.connect(t, "a")
	newer, _ := env.connect(t, "a")

	expectClose(t, old, websocket.CloseNormalClosure, "replaced")
	if !env.hub.Online("a") || env.hub.Connected() != 1 {
		t.Fatalf("after replacement: Online=%v Connected=%d, want true and 1", env.hub.Online("a"), env.hub.Connected())
	}
	select {
	case id := <-env.handler.disconnects:
		t.Fatalf("Disconnected(%q) when only the replaced connection ended", id)
	case <-time.After(200 * time.Millisecond):
	}
	env.hub.Push("v2", []string{"a"})
	expectVersion(t, newer, "v2")

	newer.Close()
	select {
	case id := <-env.handler.disconnects:
		if id != "a" {
			t.Fatalf("Disconnected(%q), want a", id)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Disconnected not called when the last connection ended")
	}
	select {
	case id := <-env.handler.disconnects:
		t.Fatalf("second Disconnected(%q)", id)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSlowClientDroppedOthersUnaffected(t *testing.T) {
	env := newTestEnv(t, Options{SendBuffer: 2})
	slow, _ := env.connect(t, "slow")
	fast, _ := env.connect(t, "fast")
	_ = slow // never read again: its socket buffers fill, then its queue

	// Big version strings fill the kernel buffers in a few hundred pushes.
	pad := strings.Repeat("x", 64<<10)
	var worst time.Duration
	i := 0
	for ; env.hub.Online("slow"); i++ {
		if i == 20000 {
			t.Fatal("slow client still connected after 20000 pushes")
		}
		v := fmt.Sprintf("v%d-%s", i, pad)
		start := time.Now()
		env.hub.Push(v, []string{"slow", "fast"})
		expectVersion(t, fast, v)
		worst = max(worst, time.Since(start))
	}
	t.Logf("slow client dropped after %d pushes; slowest push to the fast client %v", i, worst)
	if worst > time.Second {
		t.Errorf("slowest push to the fast client took %v, want well under 1s", worst)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_dropped_total", "reason", "slow"); v != 1 {
		t.Errorf("dropped{slow}: got %v, want 1", v)
	}
	env.hub.Push("after", []string{"slow", "fast"})
	expectVersion(t, fast, "after")
	select {
	case id := <-env.handler.disconnects:
		if id != "slow" {
			t.Errorf("Disconnected(%q), want slow", id)
		}
	case <-time.After(5 * time.Second):
		t.Error("Disconnected not called for the dropped client")
	}
}

func TestBadFrames(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")
	bad := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"not json", []byte("{nope"), "malformed frame"},
		{"missing type", []byte(`{"data":{}}`), "malformed frame"},
		{"unknown type", []byte(`{"type":"reboot","data":{}}`), `unknown frame type "reboot"`},
		{"applied without version", []byte(`{"type":"applied","data":{}}`), "missing version"},
		{"heartbeat without data", []byte(`{"type":"heartbeat"}`), "missing data"},
	}
	for _, b := range bad {
		sendRaw(t, conn, b.frame)
		expectError(t, conn, b.want)
	}
	// Five strikes are tolerated: the connection still answers.
	timeProbe(t, conn, 1)
	if !env.hub.Online("a") {
		t.Fatal("screen dropped after 5 bad frames, want it kept")
	}
	if err := conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	expectError(t, conn, "JSON text")
	expectClose(t, conn, websocket.ClosePolicyViolation, "bad frames")
	if v, _ := metricValue(t, env.reg, "kiosk_hub_dropped_total", "reason", "protocol"); v != 1 {
		t.Errorf("dropped{protocol}: got %v, want 1", v)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_frames_received_total", "type", "malformed"); v != 3 {
		t.Errorf("frames_received{malformed}: got %v, want 3", v)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_frames_received_total", "type", "unknown"); v != 1 {
		t.Errorf("frames_received{unknown}: got %v, want 1", v)
	}
}

func TestBadFramesForgottenAfterAMinute(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")
	for round := range 3 {
		for range maxBadFrames {
			sendRaw(t, conn, []byte(`{"type":"bogus"}`))
			expectError(t, conn, "unknown frame type")
		}
		env.clock.Advance(badFrameWindow)
		timeProbe(t, conn, int64(round))
	}
}

func TestOversizedFrameCloses(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")
	big := fmt.Sprintf(`{"type":"heartbeat","data":{"current_item":%q}}`, strings.Repeat("x", playlists.MaxMessageBytes))
	sendRaw(t, conn, []byte(big))
	// gorilla sends "message too big" and the hub closes the socket with the
	// rest of the frame unread, so the kernel may reset the connection before
	// the player reads the close frame; either ending is correct.
	if ce, err := closeOf(conn); err == nil && ce.Code != websocket.CloseMessageTooBig {
		t.Errorf("close code: got %d, want %d", ce.Code, websocket.CloseMessageTooBig)
	}
	waitFor(t, "screen offline", func() bool { return !env.hub.Online("a") })
	if v, _ := metricValue(t, env.reg, "kiosk_hub_dropped_total", "reason", "protocol"); v != 1 {
		t.Errorf("dropped{protocol}: got %v, want 1", v)
	}
}

func TestPingTimeoutDropsSilentPlayer(t *testing.T) {
	env := newTestEnv(t, Options{PingInterval: 30 * time.Millisecond, PongWait: 200 * time.Millisecond})
	silent, _ := env.connect(t, "silent")
	alive, _ := env.connect(t, "alive")
	_ = silent // never reads, so never answers a ping

	// alive keeps reading, and gorilla answers pings while it reads.
	go func() {
		for {
			if _, _, err := alive.ReadMessage(); err != nil {
				return
			}
		}
	}()
	waitFor(t, "silent screen dropped", func() bool { return !env.hub.Online("silent") })
	time.Sleep(400 * time.Millisecond) // two more PongWaits
	if !env.hub.Online("alive") {
		t.Error("a player answering pings was dropped")
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_dropped_total", "reason", "ping_timeout"); v != 1 {
		t.Errorf("dropped{ping_timeout}: got %v, want 1", v)
	}
}

func TestKick(t *testing.T) {
	env := newTestEnv(t, Options{})
	a, _ := env.connect(t, "a")
	b, _ := env.connect(t, "b")
	env.hub.Kick("a")
	env.hub.Kick("nobody")
	expectClose(t, a, websocket.ClosePolicyViolation, "disconnected by the server")
	waitFor(t, "a offline", func() bool { return !env.hub.Online("a") })
	timeProbe(t, b, 1)
}

// A token rotated after ServeHTTP checked it but before the connection was
// registered escapes the Kick that follows the rotation; the hub must
// notice the revocation itself rather than keep the session.
func TestTokenRevokedDuringUpgrade(t *testing.T) {
	env := newTestEnv(t, Options{})
	calls := 0
	env.handler.mu.Lock()
	env.handler.onAuth = func(token string) error {
		if token != "tok-r" {
			return nil
		}
		calls++ // under the handler's mutex
		if calls > 1 {
			return fmt.Errorf("rotated: %w", ErrUnauthorized)
		}
		return nil
	}
	env.handler.mu.Unlock()
	conn, _, err := env.dial(t, "tok-r")
	if err != nil {
		t.Fatalf("dial: got %v, want the upgrade to succeed", err)
	}
	expectClose(t, conn, websocket.ClosePolicyViolation, "device token revoked")
	waitFor(t, "r offline", func() bool { return !env.hub.Online("r") })
	// A token that stays valid keeps its connection.
	b, _ := env.connect(t, "b")
	timeProbe(t, b, 1)
}

func TestCloseClosesAll(t *testing.T) {
	env := newTestEnv(t, Options{})
	ids := []string{"a", "b", "c"}
	conns := make([]*websocket.Conn, len(ids))
	for i, id := range ids {
		conns[i], _ = env.connect(t, id)
	}
	// A connection that has not said hello yet is closed too.
	pending, _, err := env.dial(t, "tok-d")
	if err != nil {
		t.Fatal(err)
	}
	// The 101 response goes out just before registration.
	waitFor(t, "d registered", func() bool { return env.hub.Online("d") })

	// Players answer the close while Close waits for them.
	var wg sync.WaitGroup
	for _, c := range append(conns, pending) {
		wg.Go(func() {
			if err := checkClose(c, websocket.CloseGoingAway, "shutting down"); err != nil {
				t.Error(err)
			}
		})
	}
	env.hub.Close()
	wg.Wait()
	env.hub.Close() // idempotent

	if n := env.hub.Connected(); n != 0 {
		t.Errorf("Connected after Close: got %d, want 0", n)
	}
	got := map[string]bool{}
	for range 4 {
		select {
		case id := <-env.handler.disconnects:
			got[id] = true
		case <-time.After(time.Second):
			t.Fatalf("Disconnected calls: got %v, want a, b, c and d", got)
		}
	}
	_, resp, err := env.dial(t, "tok-a")
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Close: got %v, want 503", err)
	}
	resp.Body.Close()
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"  Bearer   abc  ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"", "", false},
		{"abc", "", false},
	}
	for _, tc := range tests {
		got, ok := bearerToken(tc.header)
		if got != tc.want || ok != tc.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		name         string
		in           Options
		wantPing     time.Duration
		wantPongWait time.Duration
		wantSendBuf  int
	}{
		{"zero", Options{}, DefaultPingInterval, DefaultPongWait, DefaultSendBuffer},
		{"ping not shorter than pong wait", Options{PingInterval: time.Minute, PongWait: 30 * time.Second}, 27 * time.Second, 30 * time.Second, DefaultSendBuffer},
		{"explicit", Options{PingInterval: time.Second, PongWait: 3 * time.Second, SendBuffer: 2}, time.Second, 3 * time.Second, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Handler = nopHandler{}
			tc.in.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			h := New(tc.in)
			if h.opts.PingInterval != tc.wantPing || h.opts.PongWait != tc.wantPongWait || h.opts.SendBuffer != tc.wantSendBuf {
				t.Errorf("got ping %v, pong wait %v, send buffer %d; want %v, %v, %d",
					h.opts.PingInterval, h.opts.PongWait, h.opts.SendBuffer, tc.wantPing, tc.wantPongWait, tc.wantSendBuf)
			}
		})
	}
}

func TestMetricsShareRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Options{Handler: nopHandler{}, Registerer: reg, Logger: quiet})
	b := New(Options{Handler: nopHandler{}, Registerer: reg, Logger: quiet}) // must not panic
	a.metrics.pushes.Inc()
	b.metrics.pushes.Inc()
	if v, _ := metricValue(t, reg, "kiosk_hub_pushes_total"); v != 2 {
		t.Errorf("pushes_total shared by two hubs: got %v, want 2", v)
	}
	if v, _ := metricValue(t, reg, "kiosk_hub_dropped_total", "reason", "ping_timeout"); v != 0 {
		t.Errorf("dropped{ping_timeout} before any drop: got %v, want a zero series", v)
	}
}
