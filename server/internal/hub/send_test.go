package hub

import (
	"testing"

	"kiosk/playlists"
)

func commandFrame(t *testing.T, id string) []byte {
	t.Helper()
	data, err := playlists.Encode(playlists.MsgCommand, playlists.Command{ID: id, Type: playlists.CmdIdentify})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func expectCommand(t *testing.T, env playlists.Envelope, wantID string) {
	t.Helper()
	var c playlists.Command
	if env.Type != playlists.MsgCommand || env.DecodeData(&c) != nil || c.ID != wantID {
		t.Fatalf("got frame %q %.80s, want command %q", env.Type, env.Data, wantID)
	}
}

func TestSendToConnectedScreenOnly(t *testing.T) {
	env := newTestEnv(t, Options{})
	a, _ := env.connect(t, "a")
	b, _ := env.connect(t, "b")
	if !env.hub.Send("a", commandFrame(t, "cmd_1")) {
		t.Fatal("Send to connected screen a: got false, want true")
	}
	if env.hub.Send("offline", commandFrame(t, "cmd_2")) {
		t.Error("Send to a screen that is not connected: got true, want false")
	}
	if env.hub.Send("a", nil) {
		t.Error("Send of an empty frame: got true, want false")
	}
	expectCommand(t, readFrame(t, a), "cmd_1")
	// b's next frame must be its probe reply: nothing was sent to it.
	timeProbe(t, b, 1)
}

// Nothing reaches a player before its welcome: a Send during Hello is
// refused (the sender keeps the frame), and what Welcomed sends follows
// the welcome, in order.
func TestSendWaitsForTheWelcome(t *testing.T) {
	env := newTestEnv(t, Options{})
	duringHello := make(chan bool, 1)
	env.handler.duringHello = func(id string) {
		duringHello <- env.hub.Send(id, commandFrame(t, "cmd_0"))
	}
	env.handler.onWelcomed = func(id string) {
		for _, c := range []string{"cmd_1", "cmd_2"} {
			if !env.hub.Send(id, commandFrame(t, c)) {
				t.Errorf("Send of %s from Welcomed: got false, want true", c)
			}
		}
	}
	conn, _ := env.connect(t, "a") // fails unless the welcome comes first
	if <-duringHello {
		t.Fatal("Send during hello: got true, want false (the welcome is not queued yet)")
	}
	expectCommand(t, readFrame(t, conn), "cmd_1")
	expectCommand(t, readFrame(t, conn), "cmd_2")
	timeProbe(t, conn, 1) // and cmd_0 never came
}

func TestCommandResultReachesHandler(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")
	send(t, conn, playlists.MsgCommandResult, playlists.CommandResult{ID: "cmd_1", OK: true, Result: "shown"})
	got := <-env.handler.results
	if got.ID != "cmd_1" || !got.OK || got.Result != "shown" {
		t.Errorf("CommandResult: got %+v, want cmd_1 ok shown", got)
	}
	send(t, conn, playlists.MsgCommandResult, playlists.CommandResult{OK: true})
	expectError(t, conn, "command_result: missing id")
	send(t, conn, playlists.MsgCommandResult, "not an object")
	expectError(t, conn, "decode command_result")
	timeProbe(t, conn, 1) // the connection survives bad results
	// Results are a frame type of their own, not "unknown" (which would
	// read as a player speaking a newer protocol).
	if v, _ := metricValue(t, env.reg, "kiosk_hub_frames_received_total", "type", playlists.MsgCommandResult); v != 3 {
		t.Errorf("frames_received{command_result}: got %v, want 3", v)
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_frames_received_total", "type", "unknown"); v != 0 {
		t.Errorf("frames_received{unknown} after only known frames: got %v, want 0", v)
	}
}
