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

func TestSendDuringHelloFollowsWelcome(t *testing.T) {
	env := newTestEnv(t, Options{})
	sent := make(chan bool, 2)
	env.handler.duringHello = func(id string) {
		sent <- env.hub.Send(id, commandFrame(t, "cmd_1"))
		sent <- env.hub.Send(id, commandFrame(t, "cmd_2"))
	}
	conn, _ := env.connect(t, "a") // fails unless the welcome comes first
	for i := 0; i < 2; i++ {
		if !<-sent {
			t.Fatalf("Send #%d during hello: got false, want true (parked)", i+1)
		}
	}
	expectCommand(t, readFrame(t, conn), "cmd_1")
	expectCommand(t, readFrame(t, conn), "cmd_2")
}

func TestSendDuringHelloIsBounded(t *testing.T) {
	env := newTestEnv(t, Options{SendBuffer: 8})
	accepted := make(chan int, 1)
	env.handler.duringHello = func(id string) {
		n := 0
		for i := 0; i < 20; i++ {
			if env.hub.Send(id, commandFrame(t, "cmd")) {
				n++
			}
		}
		accepted <- n
	}
	conn, _ := env.connect(t, "a")
	if n := <-accepted; n != 4 {
		t.Fatalf("frames parked before the welcome with a send buffer of 8: got %d, want 4", n)
	}
	for i := 0; i < 4; i++ {
		expectCommand(t, readFrame(t, conn), "cmd")
	}
	// Still connected and answering: parking did not get it dropped.
	timeProbe(t, conn, 1)
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
