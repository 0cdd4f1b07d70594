package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/player"
	"kiosk/playlists"
)

// mitm sits between a player and the server on loopback, as an attacker on
// the screen's network would: it passes everything through, remembers the
// manifests it saw (HTTP responses and manifests pushed on the socket),
// and on request replays an old one, tampers with one, or rewrites the
// websocket's version and manifest frames into notices of another version.
type mitm struct {
	t        *testing.T
	upstream *url.URL
	srv      *http.Server
	addr     string

	mu        sync.Mutex
	mode      string // "", "replay", "tamper", "frames"
	recorded  []recorded
	replay    recorded
	pushed    [][]byte // manifest frames seen on the socket
	replayWS  []byte   // the manifest frame "replay" sends instead
	bogus     string   // version announced in rewritten frames
	tampered  int
	rewritten int
}

type recorded struct {
	header http.Header
	body   []byte
}

func startMITM(t *testing.T, upstream string) *mitm {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mitm{t: t, upstream: u, addr: "http://" + ln.Addr().String()}
	m.srv = &http.Server{Handler: m, ReadHeaderTimeout: 5 * time.Second}
	go m.srv.Serve(ln)
	t.Cleanup(func() { m.srv.Close() })
	return m
}

func (m *mitm) set(mode string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mode = mode
}

func (m *mitm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		m.proxyWS(w, r)
		return
	}
	m.mu.Lock()
	mode, replay := m.mode, m.replay
	m.mu.Unlock()
	isManifest := r.URL.Path == "/api/v1/device/manifest"
	if isManifest && mode == "replay" {
		for k, v := range replay.header {
			w.Header()[k] = v
		}
		w.WriteHeader(http.StatusOK)
		w.Write(replay.body)
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, m.upstream.String()+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if isManifest && resp.StatusCode == http.StatusOK {
		m.mu.Lock()
		m.recorded = append(m.recorded, recorded{header: resp.Header.Clone(), body: body})
		m.mu.Unlock()
		if mode == "tamper" {
			body = m.tamper(body)
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// tamper changes one title and seals the manifest again, so the version
// hash checks out and only the signature can tell.
func (m *mitm) tamper(body []byte) []byte {
	var man playlists.Manifest
	if err := json.Unmarshal(body, &man); err != nil || len(man.Items) == 0 {
		return body
	}
	man.Items[0].Title = "中奖通知：请扫码领取"
	man.Seal()
	out, err := json.Marshal(man)
	if err != nil {
		return body
	}
	if _, err := playlists.VerifyManifest(out); err != nil {
		m.t.Errorf("tampered manifest does not verify as a hash: %v", err)
	}
	m.mu.Lock()
	m.tampered++
	m.mu.Unlock()
	return out
}

var wsUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// tamperPush does to a pushed manifest what tamper does to a fetched one,
// naming the recomputed version in the frame: only the batch proof and
// signature can tell.
func (m *mitm) tamperPush(frame []byte) []byte {
	env, err := playlists.Decode(frame)
	if err != nil {
		return frame
	}
	var p playlists.ManifestPush
	if env.DecodeData(&p) != nil {
		return frame
	}
	body := m.tamper(p.Body)
	v, err := playlists.VerifyManifest(body)
	if err != nil {
		return frame
	}
	p.Body, p.Version = body, v
	out, err := playlists.Encode(playlists.MsgManifest, p)
	if err != nil {
		return frame
	}
	return out
}

// proxyWS relays the websocket frame by frame. Manifest frames are
// recorded; "replay" sends the recorded m.replayWS instead of each,
// "tamper" changes their manifests, and "frames" rewrites every version
// and manifest frame into a notice announcing m.bogus.
func (m *mitm) proxyWS(w http.ResponseWriter, r *http.Request) {
	relayWS(w, r, m.upstream.Host, func(msg []byte) []byte {
		m.mu.Lock()
		mode, bogus, replayWS := m.mode, m.bogus, m.replayWS
		isPush := bytes.Contains(msg, []byte(`"type":"`+playlists.MsgManifest+`"`))
		if isPush {
			m.pushed = append(m.pushed, msg)
		}
		m.mu.Unlock()
		switch {
		case isPush && mode == "replay" && replayWS != nil:
			msg = replayWS
		case isPush && mode == "tamper":
			msg = m.tamperPush(msg)
		}
		if mode == "frames" && (isPush || bytes.Contains(msg, []byte(`"type":"version"`))) {
			if f, err := playlists.Encode(playlists.MsgVersion, playlists.VersionNote{Version: bogus}); err == nil {
				msg = f
				m.mu.Lock()
				m.rewritten++
				m.mu.Unlock()
			}
		}
		return msg
	})
}

// relayWS relays a device websocket to upstreamHost frame by frame, the
// player's frames untouched and each of the server's passed through
// serverFrame first.
func relayWS(w http.ResponseWriter, r *http.Request, upstreamHost string, serverFrame func([]byte) []byte) {
	target := "ws://" + upstreamHost + r.URL.RequestURI()
	hdr := http.Header{}
	if a := r.Header.Get("Authorization"); a != "" {
		hdr.Set("Authorization", a)
	}
	up, resp, err := websocket.DefaultDialer.Dial(target, hdr)
	if err != nil {
		status := http.StatusBadGateway
		if resp != nil {
			status = resp.StatusCode
		}
		http.Error(w, err.Error(), status)
		return
	}
	defer up.Close()
	down, err := wsUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer down.Close()
	done := make(chan struct{}, 2)
	go func() { // player → server, untouched
		defer func() { done <- struct{}{} }()
		for {
			typ, msg, err := down.ReadMessage()
			if err != nil || up.WriteMessage(typ, msg) != nil {
				return
			}
		}
	}()
	go func() { // server → player
		defer func() { done <- struct{}{} }()
		for {
			typ, msg, err := up.ReadMessage()
			if err != nil {
				return
			}
			if down.WriteMessage(typ, serverFrame(msg)) != nil {
				return
			}
		}
	}()
	<-done
}

// TestManInTheMiddleRefused: a replayed older signed manifest, a manifest
// with a changed title and a recomputed hash (each both as pushed on the
// socket and as fetched over HTTP, which the player falls back to after
// refusing a push), and rewritten websocket frames are all refused by a
// real player behind a man in the middle; the last good content stays on
// screen and the server sees why.
func TestManInTheMiddleRefused(t *testing.T) {
	srv := startServer(t)
	item := srv.item("notice", "第一版标题", "正文", "", 2)
	pl := srv.playlist("日常", item)
	srv.scheduleAll(pl, 1)
	scr := srv.screen("大堂屏", "")
	mid := startMITM(t, srv.url())
	p := startPlayer(t, mid.addr, scr.Token, cachePath(t, "mitm"))

	edit := func(title string) string {
		t.Helper()
		prev := srv.status(scr.ID).PublishedVersion
		srv.must("PUT", "/items/"+item, map[string]any{"kind": "notice", "title": title, "body": "正文", "duration_s": 2}, nil)
		var v string
		waitFor(t, 10*time.Second, "the server to publish "+title, func() bool {
			v = srv.status(scr.ID).PublishedVersion
			return v != "" && v != prev
		})
		return v
	}
	waitFor(t, 20*time.Second, "the first version applied", func() bool {
		st := p.state()
		return st.AppliedVersion != "" && st.AppliedVersion == srv.status(scr.ID).PublishedVersion
	})
	first := p.state().AppliedVersion
	mid.mu.Lock()
	mid.replay = mid.recorded[len(mid.recorded)-1] // the first version, as it was signed
	mid.mu.Unlock()
	v1b := edit("第二版标题")
	waitFor(t, 10*time.Second, "the second version applied", func() bool { return p.state().AppliedVersion == v1b })
	mid.mu.Lock()
	if len(mid.pushed) == 0 {
		mid.mu.Unlock()
		t.Fatal("the server pushed no manifest frame to a player that accepts them")
	}
	mid.replayWS = mid.pushed[len(mid.pushed)-1] // the second version, as it was pushed and signed
	mid.mu.Unlock()
	v2 := edit("第二版标题（续）")
	waitFor(t, 10*time.Second, "the next version applied", func() bool { return p.state().AppliedVersion == v2 })

	rejected := func(what, reason string) {
		t.Helper()
		waitFor(t, 15*time.Second, what+": the server sees the screen degraded with manifest_rejected", func() bool {
			var st struct {
				ManifestRejected string   `json:"manifest_rejected"`
				StateReasons     []string `json:"state_reasons"`
			}
			srv.must("GET", "/screens/"+scr.ID, nil, &st)
			return strings.Contains(st.ManifestRejected, reason) &&
				len(st.StateReasons) > 0 && strings.Contains(strings.Join(st.StateReasons, " "), "manifest_rejected")
		})
		if got := p.state().AppliedVersion; got != v2 {
			t.Fatalf("%s: the player applied %s, want the last good %s", what, short(got), short(v2))
		}
	}

	// (a) Replay the second version's pushed frame and the first version's
	// fetched response: serials too old.
	mid.set("replay")
	edit("第三版标题")
	rejected("replay", "not above the applied")
	if first == v2 {
		t.Fatal("test setup: versions did not change")
	}

	// (b) Change a title and recompute the hash: the signature fails.
	mid.set("tamper")
	edit("第四版标题")
	rejected("tamper", "signature")
	mid.mu.Lock()
	tampered := mid.tampered
	mid.mu.Unlock()
	if tampered == 0 {
		t.Fatal("the man in the middle tampered with nothing")
	}

	// Back to honest: the screen catches up and the reason clears.
	mid.set("")
	v5 := edit("第五版标题")
	waitFor(t, 15*time.Second, "the genuine version applied", func() bool { return p.state().AppliedVersion == v5 })
	waitFor(t, 15*time.Second, "the rejection cleared on the server", func() bool {
		var st struct {
			ManifestRejected string `json:"manifest_rejected"`
		}
		srv.must("GET", "/screens/"+scr.ID, nil, &st)
		return st.ManifestRejected == ""
	})

	// (c) Rewrite the websocket's version frames to announce an older
	// version: the player fetches, finds the signed manifest is another
	// version, applies nothing, and says so in its heartbeat.
	mid.mu.Lock()
	mid.mode, mid.bogus = "frames", first
	mid.mu.Unlock()
	edit("第六版标题")
	waitFor(t, 15*time.Second, "the server sees the frame mismatch", func() bool {
		var st struct {
			LastSyncError string `json:"last_sync_error"`
		}
		srv.must("GET", "/screens/"+scr.ID, nil, &st)
		return strings.Contains(st.LastSyncError, "announced "+first)
	})
	if got := p.state().AppliedVersion; got != v5 {
		t.Fatalf("rewritten frames: the player applied %s, want the last good %s", short(got), short(v5))
	}
	mid.mu.Lock()
	rewritten := mid.rewritten
	mid.mu.Unlock()
	if rewritten == 0 {
		t.Fatal("no version frame was rewritten")
	}
}

// TestPinnedServerKey: a player given the server's key with -server-key
// plays; one given another key refuses every manifest and the server
// shows why.
func TestPinnedServerKey(t *testing.T) {
	srv := startServer(t)
	item := srv.item("notice", "通知", "正文", "", 2)
	srv.scheduleAll(srv.playlist("日常", item), 1)
	good, bad := srv.screen("甲", ""), srv.screen("乙", "")

	req, _ := http.NewRequest("GET", srv.url()+"/api/v1/device/manifest", nil)
	req.Header.Set("Authorization", "Bearer "+good.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	serverKey := resp.Header.Get(playlists.HeaderServerKey)
	if _, err := playlists.DecodeKey(serverKey); err != nil {
		t.Fatalf("server key header %q: %v", serverKey, err)
	}
	other := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

	pg := startPlayerWith(t, srv.url(), good.Token, cachePath(t, "good"), func(c *player.Config) { c.ServerKey = serverKey })
	pb := startPlayerWith(t, srv.url(), bad.Token, cachePath(t, "bad"), func(c *player.Config) { c.ServerKey = other })
	waitFor(t, 20*time.Second, "the player with the right key plays", func() bool { return pg.state().CurrentItem == item })
	waitFor(t, 20*time.Second, "the server sees the wrong-key player refuse", func() bool {
		var st struct {
			ManifestRejected string `json:"manifest_rejected"`
		}
		srv.must("GET", "/screens/"+bad.ID, nil, &st)
		return strings.Contains(st.ManifestRejected, "unknown key")
	})
	if st := pb.state(); st.AppliedVersion != "" {
		t.Errorf("the wrong-key player applied %s", short(st.AppliedVersion))
	}
}
