package player

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/playlists"
)

type fakeDisplay struct {
	reloads    atomic.Int32
	identifies atomic.Int32
	identifyD  atomic.Int64
	alive      bool
	gate       chan struct{} // if set, Identify waits for it
}

func (f *fakeDisplay) Reload() { f.reloads.Add(1) }
func (f *fakeDisplay) Identify(d time.Duration) time.Time {
	if f.gate != nil {
		<-f.gate
	}
	f.identifies.Add(1)
	f.identifyD.Store(int64(d))
	return time.Unix(0, 0).Add(d)
}
func (f *fakeDisplay) PageAlive() bool { return f.alive }

type fakeRefetch struct {
	calls atomic.Int32
	err   error
}

func (f *fakeRefetch) Refetch(context.Context) error { f.calls.Add(1); return f.err }

func newTestExecutor(t *testing.T, disp *fakeDisplay) (*executor, *cache.Cache, *fakeRefetch) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := cache.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rf := &fakeRefetch{}
	e := newExecutor(executorDeps{
		cache:   c,
		display: disp,
		sync:    rf,
		now:     time.Now,
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return e, c, rf
}

func TestCommandExecutedOnceAcrossRedelivery(t *testing.T) {
	disp := &fakeDisplay{alive: true}
	e, c, _ := newTestExecutor(t, disp)
	cmd := playlists.Command{ID: "cmd_1", Type: playlists.CmdIdentify}
	first := e.run(context.Background(), cmd)
	if !first.OK || first.ID != "cmd_1" {
		t.Fatalf("first run: got %+v, want ok for cmd_1", first)
	}
	second := e.run(context.Background(), cmd)
	if second != first {
		t.Errorf("second delivery: got %+v, want the remembered %+v", second, first)
	}
	if n := disp.identifies.Load(); n != 1 {
		t.Errorf("identify executed %d times, want 1", n)
	}
	// The memory survives a restart: a new executor on the same cache
	// file answers from it.
	path := c.Path()
	c.Close()
	c2, err := cache.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	e2 := newExecutor(executorDeps{cache: c2, display: disp, now: time.Now, log: e.log})
	if third := e2.run(context.Background(), cmd); third != first {
		t.Errorf("after a restart: got %+v, want the remembered %+v", third, first)
	}
	if n := disp.identifies.Load(); n != 1 {
		t.Errorf("identify executed %d times after restart, want 1", n)
	}
}

func TestCommandDeliveredTwiceWhileRunning(t *testing.T) {
	disp := &fakeDisplay{gate: make(chan struct{})}
	e, _, _ := newTestExecutor(t, disp)
	cmd := playlists.Command{ID: "cmd_slow", Type: playlists.CmdIdentify}
	var wg sync.WaitGroup
	results := make([]playlists.CommandResult, 2)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = e.run(context.Background(), cmd) }()
	}
	time.Sleep(50 * time.Millisecond) // both are in run, one waits on the other
	close(disp.gate)
	wg.Wait()
	if n := disp.identifies.Load(); n != 1 {
		t.Fatalf("identify executed %d times for two concurrent deliveries, want 1", n)
	}
	if results[0] != results[1] || !results[0].OK {
		t.Errorf("results: got %+v and %+v, want the same ok result twice", results[0], results[1])
	}
}

func TestCommandResults(t *testing.T) {
	tests := []struct {
		name       string
		cmd        playlists.Command
		wantOK     bool
		wantResult string
		wantError  string
	}{
		{"reload", playlists.Command{Type: playlists.CmdReload}, true, "reload", ""},
		{"identify default", playlists.Command{Type: playlists.CmdIdentify}, true, "for 30s", ""},
		{"identify with duration", playlists.Command{Type: playlists.CmdIdentify, Args: json.RawMessage(`{"duration_s":5}`)}, true, "for 5s", ""},
		{"identify bad duration", playlists.Command{Type: playlists.CmdIdentify, Args: json.RawMessage(`{"duration_s":0}`)}, false, "", "duration_s must be between"},
		// 18446744075 s is 1.29 s once multiplied into a wrapped Duration.
		{"identify overflowing duration", playlists.Command{Type: playlists.CmdIdentify, Args: json.RawMessage(`{"duration_s":18446744075}`)}, false, "", "duration_s must be between"},
		{"identify bad args", playlists.Command{Type: playlists.CmdIdentify, Args: json.RawMessage(`[1]`)}, false, "", "identify args"},
		{"screenshot without devtools", playlists.Command{Type: playlists.CmdScreenshot}, false, "", "screenshot needs -devtools"},
		{"resync", playlists.Command{Type: playlists.CmdResync}, true, "verified 0 assets", ""},
		{"clear-cache", playlists.Command{Type: playlists.CmdClearCache}, true, "dropped 0 assets", ""},
		{"unknown", playlists.Command{Type: "format-disk"}, false, "", `unknown command type "format-disk"`},
		{"expired", playlists.Command{Type: playlists.CmdReload, ExpiresAt: time.Now().Add(-time.Second).UnixMilli()}, false, "", "expired at"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := newTestExecutor(t, &fakeDisplay{alive: true})
			tc.cmd.ID = "cmd_" + string(rune('a'+i))
			r := e.run(context.Background(), tc.cmd)
			if r.OK != tc.wantOK || !strings.Contains(r.Result, tc.wantResult) || !strings.Contains(r.Error, tc.wantError) {
				t.Errorf("got %+v, want ok=%v result~%q error~%q", r, tc.wantOK, tc.wantResult, tc.wantError)
			}
		})
	}
}

func TestRestartWaitsForResultAndHappensOnce(t *testing.T) {
	e, _, _ := newTestExecutor(t, &fakeDisplay{})
	var restarts atomic.Int32
	e.restart = func() { restarts.Add(1) }
	cmd := playlists.Command{ID: "cmd_restart", Type: playlists.CmdRestart}
	r := e.run(context.Background(), cmd)
	if !r.OK {
		t.Fatalf("restart: got %+v, want ok", r)
	}
	if n := restarts.Load(); n != 0 {
		t.Fatalf("restarted %d times before the result was sent, want 0", n)
	}
	e.resultSent(playlists.CommandResult{ID: "other"})
	if n := restarts.Load(); n != 0 {
		t.Fatalf("restarted after another command's result, want not")
	}
	e.resultSent(r)
	e.resultSent(r)
	if n := restarts.Load(); n != 1 || !e.requested.Load() {
		t.Fatalf("restarts after the result was sent: got %d (requested %v), want 1", n, e.requested.Load())
	}

	// After the restart the server redelivers it: answered from memory,
	// and sending that answer must not restart again.
	e2 := newExecutor(executorDeps{cache: e.cache, display: &fakeDisplay{}, now: time.Now, log: e.log,
		restart: func() { t.Error("restarted again for a redelivered restart command") }})
	r2 := e2.run(context.Background(), cmd)
	e2.resultSent(r2)
	if r2 != r {
		t.Errorf("redelivered restart: got %+v, want the remembered %+v", r2, r)
	}
}

func TestPageURLs(t *testing.T) {
	for addr, want := range map[string][]string{
		"127.0.0.1:8090": {"http://127.0.0.1:8090/", "http://localhost:8090/"},
		"0.0.0.0:8090":   {"http://0.0.0.0:8090/", "http://localhost:8090/", "http://127.0.0.1:8090/"},
		"10.0.0.5:8090":  {"http://10.0.0.5:8090/"},
	} {
		if got := pageURLs(addr); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("pageURLs(%q): got %v, want %v", addr, got, want)
		}
	}
}
