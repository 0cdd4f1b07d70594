package devices

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/hub"
	"kiosk/server/internal/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRegistry(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	st, err := store.Open(dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	scr, tok, err := st.CreateScreen(store.Screen{Name: "大堂"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Store: st, Now: clk.now, OfflineAfter: 90 * time.Second,
		Version: func(id string) string { return "v-" + id }})
	if err != nil {
		t.Fatal(err)
	}

	// Tokens loaded from the store authenticate; others do not.
	if id, err := r.Authenticate(tok); err != nil || id != scr.ID {
		t.Fatalf("Authenticate(valid): got %q, %v; want %q", id, err, scr.ID)
	}
	for _, bad := range []string{"", "kdt_nope"} {
		if _, err := r.Authenticate(bad); !errors.Is(err, hub.ErrUnauthorized) {
			t.Errorf("Authenticate(%q): got %v, want ErrUnauthorized", bad, err)
		}
	}

	w, err := r.Hello(scr.ID, playlists.Hello{PlayerVersion: "1.0", AppliedVersion: "v0"})
	if err != nil || w.ScreenID != scr.ID || w.ScreenName != "大堂" || w.Version != "v-"+scr.ID || w.ServerTime != clk.now().UnixMilli() {
		t.Fatalf("Hello: got %+v, %v", w, err)
	}
	r.Heartbeat(scr.ID, playlists.Heartbeat{CurrentItem: "itm_1", CacheBytes: 42})
	got, online := r.Status(scr.ID)
	if !online || got.CurrentItem != "itm_1" || got.AppliedVersion != "v0" || got.PlayerVersion != "1.0" {
		t.Errorf("Status: got %+v online=%v", got, online)
	}

	// Heartbeats are not written until a flush.
	if saved, _ := st.Statuses(); len(saved) != 0 {
		t.Errorf("status saved before flush: %v", saved)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if saved, _ := st.Statuses(); saved[scr.ID].CurrentItem != "itm_1" {
		t.Errorf("after flush: got %+v, want current item saved", saved)
	}

	// Silent past OfflineAfter → offline even if the socket lingers.
	clk.add(2 * time.Minute)
	if _, online := r.Status(scr.ID); online {
		t.Errorf("online after 2 minutes of silence, want offline")
	}
	r.Applied(scr.ID, playlists.Applied{Version: "v1"})
	if got, online := r.Status(scr.ID); !online || got.AppliedVersion != "v1" {
		t.Errorf("after applied: got %+v online=%v", got, online)
	}
	r.Disconnected(scr.ID)
	if got, online := r.Status(scr.ID); online || got.LastSeen.IsZero() {
		t.Errorf("after disconnect: online=%v last_seen=%v, want offline with last_seen kept", online, got.LastSeen)
	}

	// Rotation replaces the token; Forget removes it.
	newTok, err := st.RotateScreenToken(scr.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.SetToken(scr.ID, newTok)
	if _, err := r.Authenticate(tok); err == nil {
		t.Errorf("old token still accepted after SetToken")
	}
	if id, err := r.Authenticate(newTok); err != nil || id != scr.ID {
		t.Errorf("new token: got %q, %v", id, err)
	}
	r.Forget(scr.ID)
	if _, err := r.Authenticate(newTok); err == nil {
		t.Errorf("token accepted after Forget")
	}
	r.Heartbeat(scr.ID, playlists.Heartbeat{CurrentItem: "ghost"})
	if got, _ := r.Status(scr.ID); got.CurrentItem != "" {
		t.Errorf("a forgotten screen's heartbeat was recorded: %+v", got)
	}
	st.Close()

	// Saved status survives a restart.
	st, err = store.Open(dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r2, err := New(Options{Store: st, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if got, online := r2.Status(scr.ID); got.CurrentItem != "itm_1" || online {
		t.Errorf("after restart: got %+v online=%v, want saved item and offline", got, online)
	}
}

func TestHelloForDeletedScreen(t *testing.T) {
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Hello("scr_gone", playlists.Hello{}); !errors.Is(err, hub.ErrUnauthorized) {
		t.Errorf("Hello for unknown screen: got %v, want ErrUnauthorized", err)
	}
}

// TestHeartbeatKeepsPlayLog checks that the player's play-log counts reach
// the screen status (and so GET /screens/{id}), survive a restart, and
// follow the latest report rather than accumulating.
func TestHeartbeatKeepsPlayLog(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	st, err := store.Open(dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	scr, _, err := st.CreateScreen(store.Screen{Name: "大堂"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Store: st, Now: clk.now, Version: func(string) string { return "v1" }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Hello(scr.ID, playlists.Hello{PlayerVersion: "1.0"}); err != nil {
		t.Fatal(err)
	}

	r.Heartbeat(scr.ID, playlists.Heartbeat{PlaysPending: 200_000, PlaysDropped: 1234})
	got, _ := r.Status(scr.ID)
	if got.PlaysPending != 200_000 || got.PlaysDropped != 1234 {
		t.Errorf("status plays pending, dropped = %d, %d; want 200000, 1234", got.PlaysPending, got.PlaysDropped)
	}
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"plays_pending":200000`, `"plays_dropped":1234`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("status JSON %s; want it to contain %s", raw, key)
		}
	}

	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = store.Open(dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err = New(Options{Store: st, Now: clk.now, Version: func(string) string { return "v1" }})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Status(scr.ID); got.PlaysPending != 200_000 || got.PlaysDropped != 1234 {
		t.Errorf("after restart: plays pending, dropped = %d, %d; want 200000, 1234", got.PlaysPending, got.PlaysDropped)
	}

	// Each heartbeat is the player's current view: an uploaded log reads 0
	// pending; negative counts from a broken player are stored as 0.
	if _, err := r.Hello(scr.ID, playlists.Hello{PlayerVersion: "1.0"}); err != nil {
		t.Fatal(err)
	}
	r.Heartbeat(scr.ID, playlists.Heartbeat{PlaysPending: -5, PlaysDropped: -1})
	if got, _ := r.Status(scr.ID); got.PlaysPending != 0 || got.PlaysDropped != 0 {
		t.Errorf("after negative report: plays pending, dropped = %d, %d; want 0, 0", got.PlaysPending, got.PlaysDropped)
	}
}
