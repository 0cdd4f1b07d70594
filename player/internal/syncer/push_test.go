package syncer

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"kiosk/playlists"
)

// batchScreens are the screens of a test push batch; the fake server's
// screen is scr-1, so its proof has sibling steps on both sides.
var batchScreens = []string{"scr-0", "scr-1", "scr-2", "scr-3", "scr-4"}

// pushFrame returns a frame builder that signs a batch over batchScreens
// as the server would and gives the frame meant for screen. mod, if set,
// changes the push after signing (a forgery).
func (s *testSigner) pushFrame(t *testing.T, screen string, mod func(*playlists.ManifestPush)) func(string, []byte) []byte {
	return func(version string, body []byte) []byte {
		leaves := make([]playlists.Digest, len(batchScreens))
		for i, id := range batchScreens {
			leaves[i] = playlists.BatchLeaf(id, version)
		}
		tree := playlists.NewBatchTree(leaves)
		serial := s.serial.Add(1)
		if o := s.override.Load(); o != 0 {
			serial = o
		}
		sig := playlists.BatchSig{
			KeyID:     playlists.KeyID(s.pub()),
			Serial:    serial,
			IssuedAt:  time.Now(),
			ServerKey: playlists.EncodeKey(s.pub()),
		}
		sig.Sig = ed25519.Sign(s.key, playlists.BatchMessage(sig, tree.Root()))
		frames, err := playlists.NewPushFrames(tree, sig, version, body)
		if err != nil {
			t.Fatal(err)
		}
		frame := frames.AppendFrame(nil, slices.Index(batchScreens, screen))
		if mod == nil {
			return frame
		}
		env, err := playlists.Decode(frame)
		if err != nil {
			t.Fatal(err)
		}
		var p playlists.ManifestPush
		if err := env.DecodeData(&p); err != nil {
			t.Fatal(err)
		}
		mod(&p)
		frame, err = playlists.Encode(playlists.MsgManifest, p)
		if err != nil {
			t.Fatal(err)
		}
		return frame
	}
}

// A player that accepts pushes says so, pins the key the first pushed
// manifest offers, and applies pushed manifests without ever asking for
// the manifest over HTTP; only the assets come over HTTP.
func TestPushedManifestAppliedWithoutFetch(t *testing.T) {
	f := newFakeServer(t)
	good := newTestSigner(t)
	h := start(t, f, nil)
	if hello := recv(t, f.hellos, "hello"); !slices.Contains(hello.Accept, playlists.AcceptManifest) {
		t.Fatalf("hello accepts %v, want %q", hello.Accept, playlists.AcceptManifest)
	}
	eventually(t, "connected", h.c.Online)

	m1, d1 := content([]byte("pushed one"))
	f.push(m1, d1, good.pushFrame(t, "scr-1", nil))
	if got := recv(t, f.applied, "ack of the pushed manifest"); got != m1.Version {
		t.Fatalf("applied ack = %s, want %s", got, m1.Version)
	}
	keys, _ := h.cache.TrustedKeys()
	if len(keys) != 1 || keys[0] != playlists.EncodeKey(good.pub()) {
		t.Fatalf("pinned keys %v, want the push's server key (trust on first use)", keys)
	}
	if h.cache.AppliedSerial() != good.serial.Load() {
		t.Errorf("applied serial %d, want the batch's %d", h.cache.AppliedSerial(), good.serial.Load())
	}

	// Pinned now: the next push is checked against the pinned key. It is
	// larger than the basic frame limit: the player raised its read limit.
	m2, d2 := content([]byte("pushed one"), []byte("pushed two"))
	m2.Items[0].Title = strings.Repeat("很长的标题", 2000)
	m2.Seal()
	if b, _ := json.Marshal(m2); len(b) <= playlists.MaxMessageBytes {
		t.Fatalf("test setup: a manifest of %d bytes fits the basic frame limit", len(b))
	}
	f.push(m2, d2, good.pushFrame(t, "scr-1", nil))
	if got := recv(t, f.applied, "ack of the second push"); got != m2.Version {
		t.Fatalf("applied ack = %s, want %s", got, m2.Version)
	}
	if got := readAsset(t, h.cache, assetOf(m2, []byte("pushed two"))); !bytes.Equal(got, []byte("pushed two")) {
		t.Error("asset of the pushed manifest differs from what the server sent")
	}
	if n := f.manifestGets(); n != 0 {
		t.Errorf("%d GET /device/manifest, want none: both manifests came in the push", n)
	}
	if n := f.hits(assetOf(m2, []byte("pushed one"))); n != 1 {
		t.Errorf("shared asset fetched %d times, want once", n)
	}
	if h.c.Rejected() != "" || h.c.LastError() != "" {
		t.Errorf("rejected %q, last error %q; want neither", h.c.Rejected(), h.c.LastError())
	}
}

// A pushed manifest that fails verification is refused with the reason in
// the heartbeats, exactly like a fetched one, and the retry asks over
// HTTP instead.
func TestBadPushRefusedThenFetched(t *testing.T) {
	f := newFakeServer(t)
	good := newTestSigner(t)
	f.mu.Lock()
	f.sign = good.headers("scr-1")
	f.mu.Unlock()
	m1, d1 := content([]byte("one"))
	f.set(m1, d1)
	h := start(t, f, nil)
	recv(t, f.applied, "first ack")
	applied := h.cache.AppliedSerial()

	cases := []struct {
		name  string
		frame func(string, []byte) []byte
		want  string
	}{
		{"bad proof", good.pushFrame(t, "scr-1", func(p *playlists.ManifestPush) {
			// Still well-formed, but another sibling.
			last := "0"
			if strings.HasSuffix(p.Proof[1], "0") {
				last = "1"
			}
			p.Proof[1] = p.Proof[1][:len(p.Proof[1])-1] + last
		}), "bad batch signature"},
		{"other screen's proof", good.pushFrame(t, "scr-2", nil), "bad batch signature"},
		{"unknown key", newTestSigner(t).pushFrame(t, "scr-1", nil), "unknown key"},
		{"replayed serial", func(v string, b []byte) []byte {
			good.override.Store(applied)
			defer good.override.Store(0)
			return good.pushFrame(t, "scr-1", nil)(v, b)
		}, "not above the applied"},
	}
	prev := m1
	for _, tc := range cases {
		m, d := content([]byte(tc.name))
		gets := f.manifestGets()
		// The server still serves the previous manifest over HTTP: the
		// fallback finds nothing new (304) until it is set below.
		f.sendPush(m, tc.frame)
		eventually(t, tc.name+" refused", func() bool { return strings.Contains(h.c.Rejected(), tc.want) })
		hb := recv(t, f.heartbeats, "heartbeat")
		for !strings.Contains(hb.ManifestRejected, tc.want) {
			hb = recv(t, f.heartbeats, "heartbeat")
		}
		if got := h.cache.AppliedVersion(); got != prev.Version {
			t.Fatalf("%s: applied %s, want the last good %s", tc.name, got, prev.Version)
		}
		eventually(t, tc.name+": retry over HTTP", func() bool { return f.manifestGets() > gets })

		// The server's HTTP answer has it, genuinely signed: the retry
		// applies it and the rejection clears.
		f.set(m, d)
		if got := recv(t, f.applied, tc.name+": ack after the fallback"); got != m.Version {
			t.Fatalf("%s: applied ack = %s, want %s", tc.name, got, m.Version)
		}
		eventually(t, tc.name+": rejection cleared", func() bool { return h.c.Rejected() == "" })
		prev = m
	}
	keys, _ := h.cache.TrustedKeys()
	if len(keys) != 1 || keys[0] != playlists.EncodeKey(good.pub()) {
		t.Errorf("trusted keys %v, want only the genuine key", keys)
	}
}

// Bytes that do not hash to the version the frame names are not applied;
// the retry fetches over HTTP.
func TestPushedBytesMustMatchVersion(t *testing.T) {
	f := newFakeServer(t)
	good := newTestSigner(t)
	f.mu.Lock()
	f.sign = good.headers("scr-1")
	f.mu.Unlock()
	h := start(t, f, nil)
	eventually(t, "connected", h.c.Online)

	m1, d1 := content([]byte("genuine"))
	other, _ := content([]byte("something else"))
	f.push(m1, d1, func(v string, body []byte) []byte {
		// A frame for m1's version, signed, carrying another manifest.
		wrong, _ := playlists.Decode(good.pushFrame(t, "scr-1", nil)(v, body))
		var p playlists.ManifestPush
		wrong.DecodeData(&p)
		p.Body, _ = json.Marshal(other)
		frame, _ := playlists.Encode(playlists.MsgManifest, p)
		return frame
	})
	if got := recv(t, f.applied, "ack after the fallback"); got != m1.Version {
		t.Fatalf("applied ack = %s, want %s", got, m1.Version)
	}
	if f.manifestGets() == 0 {
		t.Error("no GET /device/manifest: the mismatched push was applied")
	}
}

// A newer push cancels the download of an older one, as a newer notice
// does; the older is never applied.
func TestNewerPushDuringDownloadWins(t *testing.T) {
	f := newFakeServer(t)
	good := newTestSigner(t)
	h := start(t, f, nil)
	eventually(t, "connected", h.c.Online)

	slow := bytes.Repeat([]byte{7}, 100_000)
	m2, d2 := content([]byte("base"), slow)
	gate := make(chan struct{})
	f.mu.Lock()
	f.gates[assetOf(m2, slow)] = gate
	f.mu.Unlock()
	f.push(m2, d2, good.pushFrame(t, "scr-1", nil))
	eventually(t, "slow download started", func() bool { return f.hits(assetOf(m2, slow)) >= 1 })

	m3, d3 := content([]byte("base"), []byte("newest"))
	f.push(m3, d3, good.pushFrame(t, "scr-1", nil))
	if got := recv(t, f.applied, "ack of the newest"); got != m3.Version {
		t.Fatalf("applied ack = %s, want the newest %s", got, m3.Version)
	}
	close(gate)
	time.Sleep(200 * time.Millisecond)
	if got := h.cache.AppliedVersion(); got != m3.Version {
		t.Errorf("applied version = %s, want %s", got, m3.Version)
	}
	select {
	case v := <-f.applied:
		t.Errorf("extra ack %s after the newest", v)
	default:
	}
	if n := f.manifestGets(); n != 0 {
		t.Errorf("%d GET /device/manifest, want none", n)
	}
	if h.c.DownloadFailures() != 0 {
		t.Errorf("DownloadFailures() = %d, want 0", h.c.DownloadFailures())
	}
}

// To a server whose welcome accepts it, the heartbeat that follows an
// apply travels inside the applied frame, naming the version just applied.
func TestHeartbeatInsideAppliedFrame(t *testing.T) {
	f := newFakeServer(t)
	f.combined = true
	good := newTestSigner(t)
	h := start(t, f, nil)
	recv(t, f.hellos, "hello")
	eventually(t, "connected", h.c.Online)
	for len(f.heartbeats) > 0 {
		<-f.heartbeats
	}
	m1, d1 := content([]byte("pushed one"))
	f.push(m1, d1, good.pushFrame(t, "scr-1", nil))
	if got := recv(t, f.applied, "ack of the pushed manifest"); got != m1.Version {
		t.Fatalf("applied ack = %s, want %s", got, m1.Version)
	}
	if f.combinedSeen.Load() != 1 {
		t.Fatalf("applied frames carrying a heartbeat: %d, want 1", f.combinedSeen.Load())
	}
	if hb := recv(t, f.heartbeats, "the heartbeat inside the ack"); hb.AppliedVersion != m1.Version {
		t.Errorf("heartbeat inside the ack names %s, want %s", hb.AppliedVersion, m1.Version)
	}
}
