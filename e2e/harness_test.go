// Package e2e holds the end-to-end tests: a real server and real players on
// loopback sockets, driven the way an administrator and a screen would.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kiosk/player"
	"kiosk/server"
)

const adminToken = "e2e-admin-token"

// quietLogger keeps test output readable; set KIOSK_E2E_LOG=1 to see logs.
func quietLogger(t *testing.T, name string) *slog.Logger {
	if os.Getenv("KIOSK_E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("part", name)
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testServer is a real kiosk server on a loopback port that can be stopped
// and started again on the same address and data directory.
type testServer struct {
	t       *testing.T
	tune    func(*server.Config) // applied at every start
	addr    string
	dataDir string
	cancel  context.CancelFunc
	done    chan error
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerWith(t, nil)
}

// startServerWith is startServer with tune applied to the configuration
// at every start (short health and alert timings, say).
func startServerWith(t *testing.T, tune func(*server.Config)) *testServer {
	t.Helper()
	s := &testServer{t: t, dataDir: t.TempDir(), tune: tune}
	s.start("127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) start(addr string) {
	s.t.Helper()
	var ln net.Listener
	var err error
	// Rebinding the same port right after a stop can briefly fail.
	for i := 0; i < 50; i++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen %s: %v", addr, err)
	}
	s.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan error, 1)
	ready := make(chan string, 1)
	cfg := server.Config{
		Listener:   ln,
		DataDir:    s.dataDir,
		AdminToken: adminToken,
		Logger:     quietLogger(s.t, "server"),
		Ready:      ready,
	}
	if s.tune != nil {
		s.tune(&cfg)
	}
	go func() { s.done <- server.Run(ctx, cfg) }()
	select {
	case <-ready:
	case err := <-s.done:
		s.t.Fatalf("server.Run returned before ready: %v", err)
	case <-time.After(10 * time.Second):
		s.t.Fatal("server not ready after 10s")
	}
}

// stop shuts the server down and waits for Run to return.
func (s *testServer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			s.t.Errorf("server.Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		s.t.Error("server did not stop within 15s")
	}
}

func (s *testServer) restart() {
	s.t.Helper()
	s.stop()
	s.start(s.addr)
}

func (s *testServer) url() string { return "http://" + s.addr }

// call performs an admin API request and decodes a JSON answer into out
// (when out is non-nil). It returns the status code.
func (s *testServer) call(method, path string, body any, out any) int {
	s.t.Helper()
	return callAPI(s.t, method, s.url()+"/api/v1"+path, "Bearer "+adminToken, body, out)
}

// must is call that fails the test unless the status is 2xx.
func (s *testServer) must(method, path string, body any, out any) {
	s.t.Helper()
	var raw json.RawMessage
	code := s.call(method, path, body, &raw)
	if code < 200 || code > 299 {
		s.t.Fatalf("%s %s: status %d: %s", method, path, code, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

func callAPI(t *testing.T, method, url, auth string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: status %d, decode %q: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// uploadPNG uploads a generated w×h PNG of colour c and returns its sha256.
func (s *testServer) uploadPNG(c color.RGBA) string {
	s.t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 180))
	for y := 0; y < 180; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		s.t.Fatal(err)
	}
	return s.upload("pic.png", buf.Bytes())
}

func (s *testServer) upload(name string, data []byte) string {
	s.t.Helper()
	var out struct {
		SHA256 string `json:"sha256"`
	}
	code, raw := uploadRaw(s.t, s.url(), "Bearer "+adminToken, name, data)
	if code != http.StatusOK && code != http.StatusCreated {
		s.t.Fatalf("upload %s: status %d: %s", name, code, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.SHA256 == "" {
		s.t.Fatalf("upload %s: answer %s: %v", name, raw, err)
	}
	return out.SHA256
}

func uploadRaw(t *testing.T, base, auth, name string, data []byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/assets", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (s *testServer) item(kind, title, body, asset string, durationS int) string {
	s.t.Helper()
	var out struct{ ID string }
	s.must(http.MethodPost, "/items", map[string]any{
		"kind": kind, "title": title, "body": body, "asset": asset, "duration_s": durationS,
	}, &out)
	return out.ID
}

func (s *testServer) playlist(name string, items ...string) string {
	s.t.Helper()
	var out struct{ ID string }
	s.must(http.MethodPost, "/playlists", map[string]any{"name": name, "items": items}, &out)
	return out.ID
}

func (s *testServer) scheduleAll(playlist string, priority int) string {
	s.t.Helper()
	var out struct{ ID string }
	s.must(http.MethodPost, "/schedules", map[string]any{
		"playlist": playlist, "target": map[string]any{"all": true}, "priority": priority,
	}, &out)
	return out.ID
}

type screenCreds struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func (s *testServer) screen(name, group string) screenCreds {
	s.t.Helper()
	var out screenCreds
	body := map[string]any{"name": name}
	if group != "" {
		body["group"] = group
	}
	s.must(http.MethodPost, "/screens", body, &out)
	if out.ID == "" || out.Token == "" {
		s.t.Fatalf("POST /screens gave id %q token %q", out.ID, out.Token)
	}
	return out
}

// screenStatus is the server's view of a screen.
type screenStatus struct {
	Online           bool   `json:"online"`
	LastSeen         any    `json:"last_seen"`
	AppliedVersion   string `json:"applied_version"`
	PublishedVersion string `json:"published_version"`
	CurrentItem      string `json:"current_item"`
}

func (s *testServer) status(id string) screenStatus {
	s.t.Helper()
	var st screenStatus
	s.must(http.MethodGet, "/screens/"+id, nil, &st)
	return st
}

// testPlayer is a real player with its own cache file and kiosk page.
type testPlayer struct {
	t      *testing.T
	page   string
	cancel context.CancelFunc
	done   chan error
}

func startPlayer(t *testing.T, serverURL, token, cacheFile string) *testPlayer {
	t.Helper()
	return startPlayerWith(t, serverURL, token, cacheFile, nil)
}

// startPlayerWith is startPlayer with tune applied to the configuration
// (a skewed clock, a DevTools endpoint, faster uploads...).
func startPlayerWith(t *testing.T, serverURL, token, cacheFile string, tune func(*player.Config)) *testPlayer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPlayer{t: t, page: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	cfg := player.Config{
		Server:            serverURL,
		Token:             token,
		CacheFile:         cacheFile,
		Listener:          ln,
		HeartbeatInterval: 500 * time.Millisecond,
		BackoffMin:        100 * time.Millisecond,
		BackoffMax:        time.Second,
		Logger:            quietLogger(t, "player"),
	}
	if tune != nil {
		tune(&cfg)
	}
	go func() { p.done <- player.Run(ctx, cfg) }()
	t.Cleanup(p.stop)
	return p
}

func (p *testPlayer) stop() {
	if p.cancel == nil {
		return
	}
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			p.t.Errorf("player.Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		p.t.Error("player did not stop within 15s")
	}
}

// playerState is the player's local /state.
type playerState struct {
	Online         bool   `json:"online"`
	AppliedVersion string `json:"applied_version"`
	CurrentItem    string `json:"current_item"`
	LastSyncError  string `json:"last_sync_error"`
}

func (p *testPlayer) state() playerState {
	p.t.Helper()
	var st playerState
	resp, err := http.Get(p.page + "/state")
	if err != nil {
		return st // not listening yet
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		p.t.Fatalf("decode /state: %v", err)
	}
	return st
}

// waitFor polls cond until it holds or the deadline passes. Deadlines are
// generous: they catch a broken promise, not a slow CI machine.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func cachePath(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name+".db")
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}
