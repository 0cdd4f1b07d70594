package hub

import (
	"bytes"
	"testing"
	"time"

	"kiosk/playlists"
)

// Applied and heartbeat frames reach the handler the same whether they
// come in the player's plain shape (read without encoding/json,
// playlists.DecodeAcked) or in any other valid JSON (read with it), and
// both are counted under their type.
func TestAckedFramesSameOnBothPaths(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")
	hb := playlists.Heartbeat{CurrentItem: "it-1", AppliedVersion: "v1", UptimeS: 7, PlayerVersion: "1.2.3", PageAlive: true, PlaysPending: 2}
	plain, err := playlists.Encode(playlists.MsgApplied, playlists.Applied{Version: "v1", Heartbeat: &hb})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := playlists.DecodeAcked(plain); !ok {
		t.Fatal("the plain frame does not take the fast path")
	}
	// Same content, key case the fast path leaves to encoding/json.
	other := bytes.Replace(plain, []byte(`"version"`), []byte(`"Version"`), 1)
	if _, _, _, ok := playlists.DecodeAcked(other); ok {
		t.Fatal("the other frame takes the fast path")
	}
	for _, frame := range [][]byte{plain, other} {
		sendRaw(t, conn, frame)
		select {
		case got := <-env.handler.applied:
			if got.Version != "v1" || got.Heartbeat == nil || *got.Heartbeat != hb {
				t.Fatalf("Applied from %s: got %+v", frame, got)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("applied %s never reached the handler", frame)
		}
		select {
		case got := <-env.handler.heartbeats:
			if got != hb {
				t.Fatalf("Heartbeat from %s: got %+v, want %+v", frame, got, hb)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("the heartbeat in %s never reached the handler", frame)
		}
	}
	send(t, conn, playlists.MsgHeartbeat, hb)
	if got := <-env.handler.heartbeats; got != hb {
		t.Fatalf("Heartbeat: got %+v, want %+v", got, hb)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_frames_received_total", "type", "applied"); v != 2 {
		t.Errorf("frames_received{applied}: got %v, want 2", v)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_frames_received_total", "type", "heartbeat"); v != 1 {
		t.Errorf("frames_received{heartbeat}: got %v, want 1", v)
	}
}
