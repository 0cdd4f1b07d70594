package hub

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// Environment of the memory measurement. The players run in a child
// process (this test binary re-executed) so the parent's memory statistics
// count the server side only.
const (
	envMemConns = "KIOSK_HUB_MEM_CONNS" // connections to open, default 2000
	envLoadURL  = "KIOSK_HUB_LOAD_URL"  // set in the child: where to connect
	envLoadN    = "KIOSK_HUB_LOAD_N"
)

// The whole server may spend 24 KB of RSS per idle screen (issue 10; half
// of a tuned Centrifugo's ~48 KB), checked on the real process by
// TestServerMemoryPerIdleScreen in cmd/kiosk-server. The hub's own share,
// measured here as Go heap plus goroutine stacks, is about 8.5 KB; its
// budget leaves room for the rest of the server (the device registry's
// state, runtime overhead, heap headroom), which this test cannot see.
const maxBytesPerConn = 12 << 10

// maxGoroutinesPerConn: an idle connection has its read pump only; a
// writer runs while frames are queued and pings come from a timer.
const maxGoroutinesPerConn = 1.05

type nopHandler struct{}

func (nopHandler) Authenticate(token string) (string, error) { return token, nil }
func (nopHandler) Hello(id string, _ playlists.Hello) (playlists.Welcome, error) {
	return playlists.Welcome{Version: "v1"}, nil
}
func (nopHandler) Welcomed(string)                               {}
func (nopHandler) Applied(string, playlists.Applied)             {}
func (nopHandler) Heartbeat(string, playlists.Heartbeat)         {}
func (nopHandler) Disconnected(string)                           {}
func (nopHandler) CommandResult(string, playlists.CommandResult) {}

// TestMemoryPerIdleConnection measures the hub's Go heap and goroutine
// stacks per idle, welcomed connection, in process. It is the hub's share
// only: file-backed pages, GC headroom and the rest of the server are in
// the whole-process test (cmd/kiosk-server); kernel socket buffers are in
// neither, since the kernel does not count them in a process's RSS.
func TestMemoryPerIdleConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of sockets; skipped with -short")
	}
	n := 2000
	if v := os.Getenv(envMemConns); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number", envMemConns, v)
		}
	}

	h := New(Options{Handler: nopHandler{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()

	before := serverMemory()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLoadClients$", "-test.v")
	cmd.Env = append(os.Environ(),
		envLoadURL+"=ws"+strings.TrimPrefix(srv.URL, "http"),
		envLoadN+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child exits when its stdin closes
		_ = cmd.Wait()
	}()

	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); line == "ready" {
				ready <- nil
				_, _ = io.Copy(io.Discard, stdout)
				return
			} else if strings.HasPrefix(line, "error:") {
				ready <- fmt.Errorf("child: %s", line)
				return
			}
		}
		ready <- fmt.Errorf("child exited before it was ready")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("child did not connect in time")
	}
	if got := h.Connected(); got != n {
		t.Fatalf("Connected: got %d, want %d", got, n)
	}

	after := serverMemory()
	heap := float64(after.heap-before.heap) / float64(n)
	stack := float64(after.stack-before.stack) / float64(n)
	per := heap + stack
	goroutines := float64(after.goroutines-before.goroutines) / float64(n)
	t.Logf("%d idle connections: %.0f B/conn (heap %.0f + stacks %.0f), %.2f goroutines/conn, race=%v",
		n, per, heap, stack, goroutines, raceEnabled)
	if !raceEnabled && per > maxBytesPerConn {
		t.Errorf("hub memory per idle connection: got %.0f B, want at most %d B", per, maxBytesPerConn)
	}
	if goroutines > maxGoroutinesPerConn {
		t.Errorf("goroutines per idle connection: got %.2f, want at most %.2f (the read pump)", goroutines, maxGoroutinesPerConn)
	}
}

type memSample struct {
	heap, stack uint64
	goroutines  int
}

func serverMemory() memSample {
	// Two collections: the first frees, the second lets stacks shrink.
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSample{heap: m.HeapInuse, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

// TestHelperLoadClients is the child process of the memory test: it opens
// the connections, says hello, prints "ready" and holds them until its
// stdin closes.
func TestHelperLoadClients(t *testing.T) {
	url := os.Getenv(envLoadURL)
	if url == "" {
		t.Skip("helper process for TestMemoryPerIdleConnection")
	}
	n, _ := strconv.Atoi(os.Getenv(envLoadN))
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := helperConnect(url, fmt.Sprintf("mem-%d", i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			conns[i] = c
		})
	}
	wg.Wait()
	if firstErr != nil {
		fmt.Printf("error: %v\n", firstErr)
		return
	}
	for _, c := range conns {
		go func() { // answer pings
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

func helperConnect(url, token string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return nil, err
	}
	data, _ := playlists.Encode(playlists.MsgHello, playlists.Hello{PlayerVersion: "memtest"})
	if err := c.WriteMessage(websocket.TextMessage, data); err != nil {
		c.Close()
		return nil, err
	}
	if _, _, err := c.ReadMessage(); err != nil { // welcome
		c.Close()
		return nil, err
	}
	return c, nil
}
