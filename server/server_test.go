package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

const admin = "e2e-admin"

type running struct {
	t      *testing.T
	base   string
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, dir string) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{
			Listener: ln, DataDir: dir, AdminToken: admin,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: ready,
			ShutdownGrace: 2 * time.Second,
		})
	}()
	select {
	case addr := <-ready:
		r := &running{t: t, base: "http://" + addr, cancel: cancel, done: done}
		t.Cleanup(r.stop)
		return r
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready within 5s")
	}
	return nil
}

func (r *running) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("Run returned %v, want nil after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		r.t.Error("Run did not return within 10s of cancel")
	}
}

func (r *running) call(method, path, token string, body any, want int) map[string]any {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		r.t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	out := map[string]any{}
	json.Unmarshal(raw, &out)
	return out
}

type player struct {
	t    *testing.T
	conn *websocket.Conn
}

func dial(t *testing.T, base, token string) (*player, playlists.Welcome) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/device/ws"
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, code)
	}
	t.Cleanup(func() { conn.Close() })
	p := &player{t: t, conn: conn}
	p.send(playlists.MsgHello, playlists.Hello{PlayerVersion: "test-1"})
	var w playlists.Welcome
	p.expect(playlists.MsgWelcome, &w)
	return p, w
}

func (p *player) send(typ string, v any) {
	p.t.Helper()
	b, err := playlists.Encode(typ, v)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *player) expect(typ string, v any) {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		_, b, err := p.conn.ReadMessage()
		if err != nil {
			p.t.Fatalf("waiting for %s: %v", typ, err)
		}
		env, err := playlists.Decode(b)
		if err != nil {
			p.t.Fatal(err)
		}
		if env.Type == typ {
			if err := env.DecodeData(v); err != nil {
				p.t.Fatal(err)
			}
			return
		}
	}
}

func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, dir)
	resp, err := http.Get(srv.base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	var health struct{ Status, Version string }
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || health.Status != "ok" || health.Version != Version {
		t.Errorf("healthz: %+v (%v), want status ok and version %q", health, err, Version)
	}

	item := srv.call("POST", "/api/v1/items", admin, map[string]any{"kind": "notice", "title": "停水通知", "duration_s": 2}, 201)["id"].(string)
	item2 := srv.call("POST", "/api/v1/items", admin, map[string]any{"kind": "psa", "title": "礼让斑马线", "duration_s": 2}, 201)["id"].(string)
	pl := srv.call("POST", "/api/v1/playlists", admin, map[string]any{"name": "日常", "items": []string{item}}, 201)["id"].(string)
	srv.call("POST", "/api/v1/schedules", admin, map[string]any{"playlist": pl, "target": map[string]any{"all": true}}, 201)
	a := srv.call("POST", "/api/v1/screens", admin, map[string]any{"name": "A"}, 201)
	b := srv.call("POST", "/api/v1/screens", admin, map[string]any{"name": "B"}, 201)
	idA, tokA := a["id"].(string), a["token"].(string)
	idB, tokB := b["id"].(string), b["token"].(string)

	// The device token is refused on the admin API.
	srv.call("GET", "/api/v1/items", tokA, nil, 403)

	pA, wA := dial(t, srv.base, tokA)
	pB, wB := dial(t, srv.base, tokB)
	if wA.ScreenID != idA || wA.Version == "" || wA.Version != wB.Version {
		t.Fatalf("welcome: got A %+v B %+v, want own ids and one shared version", wA, wB)
	}
	m := srv.call("GET", "/api/v1/device/manifest", tokA, nil, 200)
	if m["version"] != wA.Version {
		t.Errorf("manifest version %v, want welcome's %s", m["version"], wA.Version)
	}
	pA.send(playlists.MsgApplied, playlists.Applied{Version: wA.Version})
	pA.send(playlists.MsgHeartbeat, playlists.Heartbeat{CurrentItem: item, AppliedVersion: wA.Version, PlayerVersion: "test-1"})

	// Edit the playlist: both players hear of the new version within 2 s.
	edited := time.Now()
	srv.call("PUT", "/api/v1/playlists/"+pl, admin, map[string]any{"name": "日常", "items": []string{item, item2}}, 200)
	var nA, nB playlists.VersionNote
	pA.expect(playlists.MsgVersion, &nA)
	pB.expect(playlists.MsgVersion, &nB)
	if d := time.Since(edited); d > 2*time.Second {
		t.Errorf("push took %v, want under 2s", d)
	}
	if nA.Version == wA.Version || nA.Version != nB.Version {
		t.Errorf("pushed versions: A %s B %s (old %s), want one new version", nA.Version, nB.Version, wA.Version)
	}
	t.Logf("edit → push on both players: %v", time.Since(edited))

	waitFor(t, func() bool {
		st := srv.call("GET", "/api/v1/screens/"+idA, admin, nil, 200)
		return st["online"] == true && st["current_item"] == item && st["applied_version"] == wA.Version &&
			st["published_version"] == nA.Version && st["player_version"] == "test-1"
	}, "screen A status to show online, current item and versions")

	// Rotating B's token closes its socket and the old token stops working.
	srv.call("POST", "/api/v1/screens/"+idB+"/token", admin, nil, 200)
	pB.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		if _, _, err := pB.conn.ReadMessage(); err != nil {
			break
		}
	}
	srv.call("GET", "/api/v1/device/manifest", tokB, nil, 401)
	waitFor(t, func() bool {
		return srv.call("GET", "/api/v1/screens/"+idB, admin, nil, 200)["online"] == false
	}, "screen B offline after kick")

	// Graceful shutdown keeps acknowledged writes and the reported status.
	pA.send(playlists.MsgApplied, playlists.Applied{Version: nA.Version})
	waitFor(t, func() bool {
		return srv.call("GET", "/api/v1/screens/"+idA, admin, nil, 200)["applied_version"] == nA.Version
	}, "applied ack recorded")
	srv.stop()

	srv2 := start(t, dir)
	st := srv2.call("GET", "/api/v1/screens/"+idA, admin, nil, 200)
	if st["applied_version"] != nA.Version || st["current_item"] != item || st["online"] != false || st["published_version"] != nA.Version {
		t.Errorf("after restart: got %v, want applied %s, current item %s, offline, same published version", st, nA.Version, item)
	}
	srv2.call("GET", "/api/v1/device/manifest", tokA, nil, 200)
	if resp, err := http.Get(srv2.base + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, name := range []string{"kiosk_http_requests_total", "kiosk_publish_manifests", "go_goroutines"} {
			if !strings.Contains(string(body), name) {
				t.Errorf("metrics lack %s", name)
			}
		}
	}
}

func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	start(t, dir)
	err := Run(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("second server on the same data dir: got %v, want 'in use by another process'", err)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
