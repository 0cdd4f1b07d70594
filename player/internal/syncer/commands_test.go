package syncer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"kiosk/playlists"
)

// conn returns the fake server's current connection to the player.
func (f *fakeServer) conn(t *testing.T) *fakeConn {
	t.Helper()
	var c *fakeConn
	eventually(t, "a player connection", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for k := range f.conns {
			c = k
		}
		return c != nil
	})
	return c
}

func TestCommandRunsOffTheReadLoopAndItsResultIsSent(t *testing.T) {
	f := newFakeServer(t)
	m, data := content([]byte("one"))
	f.publish(m, data)
	gate := make(chan struct{})
	got := make(chan playlists.Command, 4)
	start(t, f, nil, func(c *Config) {
		c.OnCommand = func(ctx context.Context, cmd playlists.Command) playlists.CommandResult {
			got <- cmd
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return playlists.CommandResult{OK: true, Result: "took a while"}
		}
	})
	recv(t, f.applied, "applied ack")
	conn := f.conn(t)
	conn.send(t, playlists.MsgCommand, playlists.Command{ID: "cmd_1", Type: playlists.CmdScreenshot})
	if cmd := recv(t, got, "OnCommand"); cmd.ID != "cmd_1" || cmd.Type != playlists.CmdScreenshot {
		t.Fatalf("OnCommand got %+v, want cmd_1 screenshot", cmd)
	}
	// While the command runs, the session keeps talking: heartbeats flow.
	for len(f.heartbeats) > 0 {
		<-f.heartbeats
	}
	recv(t, f.heartbeats, "heartbeat while a command runs")
	select {
	case r := <-f.results:
		t.Fatalf("result %+v before the command finished", r)
	default:
	}
	close(gate)
	r := recv(t, f.results, "command result")
	if r.ID != "cmd_1" || !r.OK || r.Result != "took a while" {
		t.Errorf("result: got %+v, want cmd_1 ok \"took a while\"", r)
	}
	// A malformed command frame is ignored, the session survives.
	conn.send(t, playlists.MsgCommand, "garbage")
	recv(t, f.heartbeats, "heartbeat after a bad command frame")
}

func TestCommandWithoutHandlerFails(t *testing.T) {
	f := newFakeServer(t)
	m, data := content([]byte("one"))
	f.publish(m, data)
	start(t, f, nil)
	recv(t, f.applied, "applied ack")
	f.conn(t).send(t, playlists.MsgCommand, playlists.Command{ID: "cmd_x", Type: playlists.CmdReload})
	r := recv(t, f.results, "command result")
	if r.ID != "cmd_x" || r.OK || r.Error == "" {
		t.Errorf("result without a handler: got %+v, want a failure with a reason", r)
	}
}

func TestRefetchRestoresDroppedAssets(t *testing.T) {
	f := newFakeServer(t)
	m, data := content([]byte("image one"), []byte("image two"))
	f.publish(m, data)
	h := start(t, f, nil)
	recv(t, f.applied, "applied ack")
	before := f.hits(m.Assets[0].SHA256)
	if _, err := h.cache.DropAssets(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := h.c.Refetch(ctx); err != nil {
		t.Fatalf("Refetch: %v", err)
	}
	for _, a := range m.Assets {
		if !h.cache.Has(a.SHA256) {
			t.Errorf("asset %s missing after Refetch", a.SHA256[:8])
		}
	}
	if after := f.hits(m.Assets[0].SHA256); after != before+1 {
		t.Errorf("downloads of a dropped asset: got %d more, want 1", after-before)
	}
	if v := h.cache.AppliedVersion(); v != m.Version {
		t.Errorf("applied version after Refetch: got %s, want %s", v, m.Version)
	}
	// Nothing missing: a refetch only re-checks with the server.
	if err := h.c.Refetch(ctx); err != nil {
		t.Fatalf("second Refetch: %v", err)
	}
	if after := f.hits(m.Assets[0].SHA256); after != before+1 {
		t.Errorf("a refetch with nothing missing downloaded again (%d)", after-before)
	}
}

func TestCommandFloodIsBounded(t *testing.T) {
	f := newFakeServer(t)
	m, data := content([]byte("one"))
	f.publish(m, data)
	gate := make(chan struct{})
	started := make(chan string, 2*maxRunningCommands)
	start(t, f, nil, func(c *Config) {
		c.OnCommand = func(ctx context.Context, cmd playlists.Command) playlists.CommandResult {
			started <- cmd.ID
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return playlists.CommandResult{OK: true}
		}
	})
	recv(t, f.applied, "applied ack")
	conn := f.conn(t)
	for i := range maxRunningCommands {
		conn.send(t, playlists.MsgCommand, playlists.Command{ID: fmt.Sprintf("cmd_%d", i), Type: playlists.CmdReload})
		recv(t, started, "a command within the bound starting")
	}
	conn.send(t, playlists.MsgCommand, playlists.Command{ID: "cmd_extra", Type: playlists.CmdReload})
	r := recv(t, f.results, "the refused command's result")
	if r.ID != "cmd_extra" || r.OK || !strings.Contains(r.Error, "busy") {
		t.Fatalf("result of a command over the bound: got %+v, want cmd_extra failed as busy", r)
	}
	close(gate)
	for range maxRunningCommands {
		if r := recv(t, f.results, "results of the running commands"); !r.OK {
			t.Errorf("running command result %+v, want ok", r)
		}
	}
}
