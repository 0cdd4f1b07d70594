package hub

import (
	"testing"
	"time"

	"kiosk/playlists"
)

// A frame read while a push is leaving waits until the push's frames are
// all written, then is handled: none is lost.
func TestAnswersWaitWhilePushLeaves(t *testing.T) {
	env := newTestEnv(t, Options{HoldAcks: time.Hour})
	conn, _ := env.connect(t, "a")

	fan := env.hub.beginFanOut()
	// A time probe is answered during the hold: the player's clock
	// measurement must not carry the push's length.
	if ts := timeProbe(t, conn, 42); ts.T0 != 42 {
		t.Fatalf("time answer: got %+v", ts)
	}
	send(t, conn, playlists.MsgApplied, playlists.Applied{Version: "v1"})
	send(t, conn, playlists.MsgHeartbeat, playlists.Heartbeat{UptimeS: 1})
	select {
	case got := <-env.handler.applied:
		t.Fatalf("applied %+v handled while the push was leaving", got)
	case got := <-env.handler.heartbeats:
		t.Fatalf("heartbeat %+v handled while the push was leaving", got)
	case <-time.After(100 * time.Millisecond):
	}
	fan.written() // the push's last frame
	select {
	case got := <-env.handler.applied:
		if got.Version != "v1" {
			t.Fatalf("Applied: got %+v, want v1", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("applied never handled after the push left")
	}
	select {
	case got := <-env.handler.heartbeats:
		if got.UptimeS != 1 {
			t.Fatalf("Heartbeat: got %+v", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("heartbeat never handled after the push left")
	}
	if env.hub.fanOut.Load() != nil {
		t.Error("the finished push is still held")
	}
}

// A push whose frames never all leave (a stuck socket) holds answers for
// HoldAcks at most.
func TestHoldOnAnswersIsCapped(t *testing.T) {
	env := newTestEnv(t, Options{HoldAcks: 50 * time.Millisecond})
	conn, _ := env.connect(t, "a")

	fan := env.hub.beginFanOut()
	fan.add() // a frame that is never written
	send(t, conn, playlists.MsgApplied, playlists.Applied{Version: "v1"})
	select {
	case <-env.handler.applied:
	case <-time.After(3 * time.Second):
		t.Fatal("applied still held long after the cap")
	}
	if count, _ := metricValue(t, env.reg, "kiosk_hub_push_fanout_seconds"); count != 1 {
		t.Errorf("push_fanout_seconds count: got %v, want 1", count)
	}
}

// A real push ends its hold once every listed screen's frame is written,
// not at the cap, and the screens' answers are handled after it.
func TestPushEndsItsHoldWhenWritten(t *testing.T) {
	env := newTestEnv(t, Options{HoldAcks: time.Hour})
	a, _ := env.connect(t, "a")
	b, _ := env.connect(t, "b")

	env.hub.Push("v2", []string{"a", "b", "not-connected"})
	expectVersion(t, a, "v2")
	expectVersion(t, b, "v2")
	waitFor(t, "the push's hold to end", func() bool { return env.hub.fanOut.Load() == nil })
	count, sum := metricValue(t, env.reg, "kiosk_hub_push_fanout_seconds")
	if count != 1 || sum >= time.Hour.Seconds() {
		t.Errorf("push_fanout_seconds: got count %v sum %v, want one push ended by its frames", count, sum)
	}
	send(t, a, playlists.MsgApplied, playlists.Applied{Version: "v2"})
	select {
	case <-env.handler.applied:
	case <-time.After(3 * time.Second):
		t.Fatal("applied never handled")
	}
}
