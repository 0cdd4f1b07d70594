package server

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// fetchManifest is GET /device/manifest as a player does it: bytes and
// signature headers.
func fetchManifest(t *testing.T, base, token string) ([]byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/device/manifest", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("manifest: %s %s", resp.Status, body)
	}
	return body, resp.Header
}

// A publish reaches players that accept it with the manifest itself, the
// same bytes the HTTP endpoint serves, signed in one batch whose proof
// verifies for each screen and for no other, under a serial above the one
// the screen had; an older player still gets the version notice.
func TestPublishPushesSignedManifests(t *testing.T) {
	srv := start(t, t.TempDir())
	item := srv.call("POST", "/api/v1/items", admin, map[string]any{"kind": "notice", "title": "停水通知", "duration_s": 5}, 201)["id"].(string)
	pl := srv.call("POST", "/api/v1/playlists", admin, map[string]any{"name": "日常", "items": []string{item}}, 201)["id"].(string)
	srv.call("POST", "/api/v1/schedules", admin, map[string]any{"playlist": pl, "target": map[string]any{"all": true}}, 201)
	type scr struct{ id, token string }
	var screens []scr
	for _, name := range []string{"A", "B", "C"} {
		s := srv.call("POST", "/api/v1/screens", admin, map[string]any{"name": name}, 201)
		screens = append(screens, scr{s["id"].(string), s["token"].(string)})
	}
	_, hdr := fetchManifest(t, srv.base, screens[0].token)
	key, err := playlists.DecodeKey(hdr.Get(playlists.HeaderServerKey))
	if err != nil {
		t.Fatal(err)
	}
	fetchedSerial, _ := strconv.ParseUint(hdr.Get(playlists.HeaderManifestSerial), 10, 64)

	url := "ws" + strings.TrimPrefix(srv.base, "http") + "/api/v1/device/ws"
	conns := make([]*player, len(screens))
	for i, s := range screens {
		conn, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + s.token}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		p := &player{t: t, conn: conn}
		hello := playlists.Hello{PlayerVersion: "test-2", Accept: []string{playlists.AcceptManifest}}
		if i == 2 {
			hello.Accept = nil // a player from before pushed manifests
		}
		p.send(playlists.MsgHello, hello)
		var w playlists.Welcome
		p.expect(playlists.MsgWelcome, &w)
		conns[i] = p
	}

	srv.call("PUT", "/api/v1/items/"+item, admin, map[string]any{"kind": "notice", "title": "停水通知（已更新）", "duration_s": 5}, 200)
	var pushes []playlists.ManifestPush
	for i := range 2 {
		var p playlists.ManifestPush
		conns[i].expect(playlists.MsgManifest, &p)
		pushes = append(pushes, p)
		body, _ := fetchManifest(t, srv.base, screens[i].token)
		if !bytes.Equal(p.Body, body) {
			t.Fatalf("screen %d: pushed bytes differ from the served ones", i)
		}
		if v, err := playlists.VerifyManifest(p.Body); err != nil || v != p.Version {
			t.Fatalf("screen %d: bytes hash to %s (%v), push says %s", i, v, err, p.Version)
		}
		if err := playlists.VerifyPush([]ed25519.PublicKey{key}, screens[i].id, p); err != nil {
			t.Fatalf("screen %d: %v", i, err)
		}
		if err := playlists.VerifyPush([]ed25519.PublicKey{key}, screens[1-i].id, p); err == nil {
			t.Fatalf("screen %d's proof verifies for another screen", i)
		}
		if p.Sig.Serial <= fetchedSerial {
			t.Fatalf("batch serial %d not above the earlier %d", p.Sig.Serial, fetchedSerial)
		}
	}
	if pushes[0].Sig.Serial != pushes[1].Sig.Serial || !bytes.Equal(pushes[0].Sig.Sig, pushes[1].Sig.Sig) {
		t.Error("one publish signed more than once")
	}
	var n playlists.VersionNote
	conns[2].expect(playlists.MsgVersion, &n)
	if n.Version != pushes[0].Version {
		t.Errorf("older player told %s, want %s", n.Version, pushes[0].Version)
	}
}
