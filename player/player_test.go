package player

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/playlists"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// seedCache writes an applied manifest with one text item, as an earlier
// run would have left it.
func seedCache(t *testing.T, path string) *playlists.Manifest {
	t.Helper()
	c, err := cache.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := &playlists.Manifest{
		Timezone:  playlists.DefaultTimezone,
		Schedules: []playlists.Schedule{{ID: "sc-1", Playlist: "pl-1", Target: playlists.Target{All: true}}},
		Playlists: []playlists.Playlist{{ID: "pl-1", Name: "main", Items: []string{"it-1"}}},
		Items:     []playlists.Item{{ID: "it-1", Kind: playlists.KindNotice, Title: "法律援助 周三 9:00-17:00", DurationS: 30}},
		Assets:    []playlists.AssetRef{},
	}
	m.Seal()
	if err := c.Apply(m); err != nil {
		t.Fatal(err)
	}
	if err := c.SetScreen("scr-7", "西门"); err != nil {
		t.Fatal(err)
	}
	return m
}

type runHandle struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func startRun(t *testing.T, cfg Config) *runHandle {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	cfg.Listener = ln
	cfg.Ready = ready
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &runHandle{cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- Run(ctx, cfg) }()
	select {
	case h.addr = <-ready:
	case err := <-h.done:
		cancel()
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("Run not ready within 5s")
	}
	return h
}

func (h *runHandle) stop(t *testing.T) {
	t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop within 10s of cancel")
	}
}

type state struct {
	Online         bool   `json:"online"`
	AppliedVersion string `json:"applied_version"`
	CurrentItem    string `json:"current_item"`
	LastSyncError  string `json:"last_sync_error"`
	ScreenID       string `json:"screen_id"`
}

func getState(t *testing.T, addr string) state {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/state")
	if err != nil {
		t.Fatalf("GET /state: %v", err)
	}
	defer resp.Body.Close()
	var s state
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decode /state: %v", err)
	}
	return s
}

func TestRunPlaysFromCacheWithoutServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	m := seedCache(t, path)
	h := startRun(t, Config{
		Server:     "http://" + closedAddr(t),
		Token:      "tok",
		CacheFile:  path,
		BackoffMin: 10 * time.Millisecond,
		BackoffMax: 50 * time.Millisecond,
	})

	var s state
	deadline := time.Now().Add(5 * time.Second)
	for {
		s = getState(t, h.addr)
		if s.CurrentItem != "" && s.LastSyncError != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.Online {
		t.Error("/state online = true with no server")
	}
	if s.AppliedVersion != m.Version {
		t.Errorf("/state applied_version = %q, want the cached %s", s.AppliedVersion, m.Version)
	}
	if s.CurrentItem != "it-1" {
		t.Errorf("/state current_item = %q, want it-1 from the cache", s.CurrentItem)
	}
	if s.ScreenID != "scr-7" {
		t.Errorf("/state screen_id = %q, want scr-7 remembered from an earlier run", s.ScreenID)
	}
	if !strings.Contains(s.LastSyncError, "connect") {
		t.Errorf("/state last_sync_error = %q, want the connection failure", s.LastSyncError)
	}
	h.stop(t)

	// Stopped cleanly: the cache is released and still holds the version.
	c, err := cache.Open(path)
	if err != nil {
		t.Fatalf("reopen cache after Run: %v", err)
	}
	defer c.Close()
	if c.AppliedVersion() != m.Version {
		t.Errorf("applied version after Run = %q, want %s", c.AppliedVersion(), m.Version)
	}
}

func TestRunRefusesCacheInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	cfg := Config{Server: "http://" + closedAddr(t), Token: "tok", CacheFile: path,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := startRun(t, cfg)
	defer h.stop(t)

	cfg.Listen = "127.0.0.1:0"
	err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Run on the same cache = %v, want an error saying the cache is in use", err)
	}
}

func TestRunRejectsMissingConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no server", Config{Token: "t"}, "no server"},
		{"no token, bad scheme", Config{Server: "ws://127.0.0.1:1", CacheFile: filepath.Join(t.TempDir(), "c.db")}, "http or https"},
		{"bad scheme", Config{Server: "ws://127.0.0.1:1", Token: "t", CacheFile: filepath.Join(t.TempDir(), "c.db")}, "http or https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
