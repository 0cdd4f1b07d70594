package hub

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// A text frame that is not UTF-8 fails the connection with 1007 (RFC 6455
// §8.1), before the hello and after it; JSON decoding would otherwise turn
// the bytes into U+FFFD and pass them on.
func TestInvalidUTF8Closes1007(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hello bool
		frame []byte
	}{
		{"before hello", false, []byte("{\"type\":\"hello\",\"data\":{\"player_version\":\"\xff\"}}")},
		{"in a heartbeat", true, []byte("{\"type\":\"heartbeat\",\"data\":{\"current_item\":\"\xc3\x28\"}}")},
		{"not even JSON", true, []byte{0xff, 0xfe}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, Options{})
			var conn *websocket.Conn
			if tc.hello {
				conn, _ = env.connect(t, "a")
			} else {
				var err error
				if conn, _, err = env.dial(t, "tok-a"); err != nil {
					t.Fatal(err)
				}
			}
			sendRaw(t, conn, tc.frame)
			expectClose(t, conn, websocket.CloseInvalidFramePayloadData, "UTF-8")
			waitFor(t, "screen offline", func() bool { return !env.hub.Online("a") })
			if v, _ := metricValue(t, env.reg, "kiosk_hub_dropped_total", "reason", "invalid_utf8"); v != 1 {
				t.Errorf("dropped{invalid_utf8}: got %v, want 1", v)
			}
			select {
			case hb := <-env.handler.heartbeats:
				t.Errorf("heartbeat %+v reached the handler, want the frame refused", hb)
			default:
			}
		})
	}
}

// 20,000 pings at once (the hub clock stands still) are cut with 1008 after
// the burst, and counted.
func TestPingFloodClosed(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")
	var pongs int
	conn.SetPongHandler(func(string) error { pongs++; return nil })
	go func() {
		for range 20000 {
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(2*time.Second)); err != nil {
				return // the hub closed the connection
			}
		}
	}()
	expectClose(t, conn, websocket.ClosePolicyViolation, "ping flood")
	waitFor(t, "screen offline", func() bool { return !env.hub.Online("a") })
	if v, _ := metricValue(t, env.reg, "kiosk_hub_dropped_total", "reason", "ping_flood"); v != 1 {
		t.Errorf("dropped{ping_flood}: got %v, want 1", v)
	}
	if pongs > pingBurst {
		t.Errorf("got %d pongs, want at most the burst of %d", pongs, pingBurst)
	}
}

// A player pinging at a sane rate, even five times a second, is answered
// and kept.
func TestPingsAtASaneRateKept(t *testing.T) {
	env := newTestEnv(t, Options{})
	conn, _ := env.connect(t, "a")
	pong := make(chan struct{}, 1)
	conn.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	for i := range 3 * pingBurst {
		if err := conn.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(2*time.Second)); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
		select {
		case <-pong:
		case err := <-readErr:
			t.Fatalf("connection ended after %d pings: %v", i, err)
		case <-time.After(3 * time.Second):
			t.Fatalf("no pong to ping %d", i)
		}
		env.clock.Advance(200 * time.Millisecond)
	}
	if !env.hub.Online("a") {
		t.Fatal("a player pinging five times a second was dropped")
	}
	if v, _ := metricValue(t, env.reg, "kiosk_hub_dropped_total", "reason", "ping_flood"); v != 0 {
		t.Errorf("dropped{ping_flood}: got %v, want 0", v)
	}
	// The connection still carries frames.
	send(t, conn, playlists.MsgHeartbeat, playlists.Heartbeat{CurrentItem: "itm_1"})
	select {
	case hb := <-env.handler.heartbeats:
		if hb.CurrentItem != "itm_1" {
			t.Errorf("heartbeat current_item %q, want itm_1", hb.CurrentItem)
		}
	case err := <-readErr:
		t.Fatalf("connection ended: %v", err)
	case <-time.After(3 * time.Second):
		t.Fatal("heartbeat did not reach the handler")
	}
}
