package hub

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"kiosk/playlists"
)

func TestPushManifestInlineOnlyToPlayersThatAccept(t *testing.T) {
	env := newTestEnv(t, Options{})
	old, _ := env.connect(t, "old")
	conn, _, err := env.dial(t, "tok-new")
	if err != nil {
		t.Fatal(err)
	}
	send(t, conn, playlists.MsgHello, playlists.Hello{PlayerVersion: "test", Accept: []string{"something-else", playlists.AcceptManifest}})
	if f := readFrame(t, conn); f.Type != playlists.MsgWelcome {
		t.Fatalf("first frame %q", f.Type)
	}

	pub, priv, _ := ed25519.GenerateKey(nil)
	body := []byte(`{"items":[{"id":"i1","title":"停水通知"}]}`)
	sum := sha256.Sum256(body)
	version := hex.EncodeToString(sum[:])
	ids := []string{"gone", "new", "old"}
	var built atomic.Int32
	frames := func() *playlists.PushFrames {
		built.Add(1)
		leaves := make([]playlists.Digest, len(ids))
		for i, id := range ids {
			leaves[i] = playlists.BatchLeaf(id, version)
		}
		tree := playlists.NewBatchTree(leaves)
		sig := playlists.BatchSig{KeyID: playlists.KeyID(pub), Serial: 7, IssuedAt: time.Now().UTC()}
		sig.Sig = ed25519.Sign(priv, playlists.BatchMessage(sig, tree.Root()))
		pf, err := playlists.NewPushFrames(tree, sig, version, body)
		if err != nil {
			t.Error(err)
		}
		return pf
	}
	env.hub.PushManifest(version, ids, frames)

	f := readFrame(t, conn)
	if f.Type != playlists.MsgManifest {
		t.Fatalf("accepting player got %q, want a manifest frame", f.Type)
	}
	var p playlists.ManifestPush
	if err := f.DecodeData(&p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Body, body) || p.Version != version {
		t.Fatalf("pushed %s %s", p.Version, p.Body)
	}
	if err := playlists.VerifyPush([]ed25519.PublicKey{pub}, "new", p); err != nil {
		t.Fatalf("the proof is not this screen's: %v", err)
	}
	expectVersion(t, old, version)
	if n := built.Load(); n != 1 {
		t.Errorf("frames built %d times, want once", n)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_pushes_with_manifest_total"); v != 1 {
		t.Errorf("pushes_with_manifest_total %v, want 1", v)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_pushes_total"); v != 2 {
		t.Errorf("pushes_total %v, want 2", v)
	}

	// Only older players listed: no batch is signed at all.
	env.hub.PushManifest("v9", []string{"old"}, frames)
	expectVersion(t, old, "v9")
	if n := built.Load(); n != 1 {
		t.Errorf("frames built for a push with no accepting player")
	}
	// No frames (a manifest too large to push inline): the notice.
	env.hub.PushManifest("v10", []string{"new"}, func() *playlists.PushFrames { return nil })
	expectVersion(t, conn, "v10")
}

// The welcome says the hub takes a heartbeat inside the applied frame, and
// one that comes so reaches the handler as a heartbeat after the ack.
func TestHeartbeatInsideApplied(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, w := env.connect(t, "a")
	if !slices.Contains(w.Accept, playlists.AcceptAppliedHeartbeat) {
		t.Fatalf("welcome accepts %v, want %q", w.Accept, playlists.AcceptAppliedHeartbeat)
	}
	send(t, conn, playlists.MsgApplied, playlists.Applied{Version: "v1", Heartbeat: &playlists.Heartbeat{AppliedVersion: "v1", CurrentItem: "itm_1"}})
	if a := <-env.handler.applied; a.Version != "v1" {
		t.Fatalf("applied %+v", a)
	}
	select {
	case hb := <-env.handler.heartbeats:
		if hb.CurrentItem != "itm_1" || hb.AppliedVersion != "v1" {
			t.Fatalf("heartbeat %+v", hb)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the heartbeat inside the applied frame did not reach the handler")
	}
	send(t, conn, playlists.MsgApplied, playlists.Applied{Version: "v2"})
	<-env.handler.applied
	timeProbe(t, conn, 1)
	if len(env.handler.heartbeats) != 0 {
		t.Error("an applied frame without a heartbeat made one")
	}
}
