package hub

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestPlayerPingsSpareServerPings: a player that pings on its own, as the
// player does every 25 s, is not pinged by the server and stays online on
// its pings alone for several PongWaits; a player that only answers is
// pinged every interval as before, and one that stops answering is
// dropped.
func TestPlayerPingsSpareServerPings(t *testing.T) {
	const interval, pongWait = 40 * time.Millisecond, 200 * time.Millisecond
	env := newTestEnv(t, Options{PingInterval: interval, PongWait: pongWait})
	pinger, _ := env.connect(t, "pinger")
	answerer, _ := env.connect(t, "answerer")
	// The connections' first ping timer may fire before the first ping
	// of the player below has arrived; count from here.
	var toPinger, toAnswerer atomic.Int32
	var pingerMute atomic.Bool // the pinger no longer answers
	count := func(conn *websocket.Conn, n *atomic.Int32, mute *atomic.Bool) {
		conn.SetPingHandler(func(data string) error {
			n.Add(1)
			if mute != nil && mute.Load() {
				return nil
			}
			return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		go func() {
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	count(pinger, &toPinger, &pingerMute)
	count(answerer, &toAnswerer, nil)

	ping := func() {
		if err := pinger.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
			t.Fatalf("player ping: %v", err)
		}
		// The ping-flood limit runs on the hub clock: a second a ping.
		env.clock.Advance(time.Second)
	}
	ping()
	time.Sleep(interval) // any ping timer armed before the first ping has fired
	toPinger.Store(0)
	toAnswerer.Store(0)
	end := time.Now().Add(3 * pongWait)
	for time.Now().Before(end) {
		ping()
		time.Sleep(interval / 2)
	}
	if n := toPinger.Load(); n != 0 {
		t.Errorf("the server pinged a player that pings on its own %d times in %s; want none", n, 3*pongWait)
	}
	// Every 40 ms for 600 ms is 15; a loaded machine's timers run late.
	if n := toAnswerer.Load(); n < 5 {
		t.Errorf("the server pinged a player that only answers %d times in %s; want one every %s", n, 3*pongWait, interval)
	}
	if !env.hub.Online("pinger") || !env.hub.Online("answerer") {
		t.Fatalf("online: pinger %v, answerer %v; want both kept", env.hub.Online("pinger"), env.hub.Online("answerer"))
	}

	// A player that stops pinging and answering is dropped within PongWait
	// of the last thing heard, though its pings had spared ours.
	pingerMute.Store(true)
	waitFor(t, "the silent pinger dropped", func() bool { return !env.hub.Online("pinger") })
	if !env.hub.Online("answerer") {
		t.Error("the answering player was dropped")
	}
}
