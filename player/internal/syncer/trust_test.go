package syncer

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kiosk/playlists"
)

// signer signs as a server would, for the fake server's screen "scr-1".
type testSigner struct {
	key    ed25519.PrivateKey
	serial atomic.Uint64
	// override, if set, replaces the serial (a replayed old response).
	override atomic.Uint64
}

func newTestSigner(t *testing.T) *testSigner {
	t.Helper()
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &testSigner{key: k}
	s.serial.Store(100)
	return s
}

func (s *testSigner) pub() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

func (s *testSigner) headers(screen string) func([]byte) map[string]string {
	return func(body []byte) map[string]string {
		serial := s.serial.Add(1)
		if o := s.override.Load(); o != 0 {
			serial = o
		}
		sig := playlists.ManifestSignature{KeyID: playlists.KeyID(s.pub()), Serial: serial, IssuedAt: time.Now()}
		sig.Sig = ed25519.Sign(s.key, playlists.SignedMessage(screen, sig, body))
		h := sig.Headers()
		h[playlists.HeaderServerKey] = playlists.EncodeKey(s.pub())
		return h
	}
}

func TestSignedManifestsPinnedAndChecked(t *testing.T) {
	f := newFakeServer(t)
	good := newTestSigner(t)
	f.mu.Lock()
	f.sign = good.headers("scr-1")
	f.mu.Unlock()
	m1, d1 := content([]byte("one"))
	f.set(m1, d1)
	h := start(t, f, nil)
	if v := recv(t, h.onApply, "first manifest"); v != m1.Version {
		t.Fatalf("applied %s, want %s", v, m1.Version)
	}
	keys, _ := h.cache.TrustedKeys()
	if len(keys) != 1 || keys[0] != playlists.EncodeKey(good.pub()) {
		t.Fatalf("pinned keys %v, want the server's key (trust on first use)", keys)
	}
	applied := h.cache.AppliedSerial()
	if applied == 0 {
		t.Fatal("no serial stored with the applied manifest")
	}

	refused := func(name string, sign func([]byte) map[string]string, want string) {
		t.Helper()
		m, d := content([]byte(name))
		f.mu.Lock()
		f.sign = sign
		f.mu.Unlock()
		f.publish(m, d)
		eventually(t, name+" refused", func() bool { return strings.Contains(h.c.Rejected(), want) })
		hb := recv(t, f.heartbeats, "heartbeat")
		for hb.ManifestRejected == "" {
			hb = recv(t, f.heartbeats, "heartbeat")
		}
		if !strings.Contains(hb.ManifestRejected, want) {
			t.Errorf("%s: heartbeat says %q, want %q", name, hb.ManifestRejected, want)
		}
		if got := h.cache.AppliedVersion(); got != m1.Version {
			t.Fatalf("%s: applied %s, want the last good %s", name, got, m1.Version)
		}
	}
	// Another key (a man in the middle with its own key and header).
	refused("other key", newTestSigner(t).headers("scr-1"), "unknown key")
	// Signed for another screen.
	refused("other screen", good.headers("scr-2"), "bad signature")
	// Unsigned.
	refused("unsigned", nil, "not signed")
	// A replayed older response: a serial below the applied one.
	good.override.Store(applied - 1)
	refused("replay", good.headers("scr-1"), "not above the applied")

	// The genuine server again: applies, and the rejection clears.
	good.override.Store(0)
	m2, d2 := content([]byte("two"))
	f.mu.Lock()
	f.sign = good.headers("scr-1")
	f.mu.Unlock()
	f.publish(m2, d2)
	eventually(t, "genuine manifest applied", func() bool { return h.cache.AppliedVersion() == m2.Version })
	eventually(t, "rejection cleared", func() bool { return h.c.Rejected() == "" })
}

// A manifest whose title was changed and whose version hash was recomputed
// keeps a valid hash but fails the signature.
func TestTamperedManifestRefused(t *testing.T) {
	f := newFakeServer(t)
	good := newTestSigner(t)
	m1, d1 := content([]byte("one"))
	f.mu.Lock()
	f.sign = good.headers("scr-1")
	f.mu.Unlock()
	f.set(m1, d1)
	h := start(t, f, nil)
	recv(t, h.onApply, "first manifest")

	m2, d2 := content([]byte("two"))
	genuine, err := json.Marshal(m2)
	if err != nil {
		t.Fatal(err)
	}
	tampered := *m2
	tampered.Items = append([]playlists.Item(nil), m2.Items...)
	tampered.Items[0].Title = "被篡改的标题"
	tampered.Seal() // the version hash checks out again
	sign := good.headers("scr-1")
	f.mu.Lock()
	// What the server signed were the genuine bytes; the tampered copy is
	// served under that signature.
	f.sign = func([]byte) map[string]string { return sign(genuine) }
	f.mu.Unlock()
	f.publish(&tampered, d2)
	eventually(t, "tampered manifest refused", func() bool { return strings.Contains(h.c.Rejected(), "bad signature") })
	if got := h.cache.AppliedVersion(); got != m1.Version {
		t.Fatalf("applied %s, want the last good %s", got, m1.Version)
	}
}
