package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// The whole-process memory budget (issue 10): what the kernel counts for
// the real kiosk-server binary, not only the hub's share of the Go heap.
const (
	// maxBaseRSS is the resident size of a fresh server holding the
	// screens in its data dir, before any of them connects.
	maxBaseRSS = 60 << 20
	// maxRSSPerScreen is what one idle, welcomed screen connection may add.
	maxRSSPerScreen = 24 << 10
)

// Environment of the measurement. docs/memory-bench.sh sets them.
const (
	envMemScreens = "KIOSK_MEM_SCREENS" // screens stored and connected, default 2000
	envMemServer  = "KIOSK_MEM_SERVER"  // a kiosk-server binary to measure instead of building one
)

// TestServerMemoryPerIdleScreen builds kiosk-server, registers N screens
// through POST /screens/import, restarts the server fresh on that data dir,
// reads its RSS, connects N idle players (hello, then nothing but answering
// pings) and reads its RSS again. It fails above 60 MB before the first
// connection or above 24 KB per connection.
//
// The players run in this test process, the server in its own, so the
// server's RSS counts the server alone. RSS includes the file-backed pages
// of the binary and of the bbolt mmap that the process has touched; the
// anonymous part is logged too.
func TestServerMemoryPerIdleScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and holds thousands of sockets (about 30 s); skipped with -short")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the server's RSS")
	}
	n := 2000
	if v := os.Getenv(envMemScreens); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 || n > 20000 {
			t.Fatalf("%s=%q: want a number from 1 to 20000", envMemScreens, v)
		}
	}
	raiseFileLimit(t, n)

	bin := os.Getenv(envMemServer)
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "kiosk-server")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			t.Fatalf("go build: %v", err)
		}
	}
	data := t.TempDir()
	admin := randomToken(t)

	// First run: register the screens and connect each once, so that the
	// data dir holds what a server that has run keeps for its screens
	// (status, state history), then stop: the measured process starts
	// with all of it stored, like any restarted server.
	srv := startServer(t, bin, data, admin)
	tokens := importScreens(t, srv.url, admin, n)
	for _, c := range connectIdle(t, srv.url, tokens) {
		c.Close()
	}
	srv.stop(t)

	srv = startServer(t, bin, data, admin)
	defer srv.stop(t)
	select {
	case <-srv.released:
	case <-time.After(time.Minute):
		t.Fatal("the server did not log \"start-up memory released\" within a minute")
	}
	base := settledRSS(t, srv.pid)
	t.Logf("fresh server, %d screens stored, none connected: %s; %s", n, base, goMemory(t, srv.url, admin))

	clients := connectIdle(t, srv.url, tokens)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	if got := connectedScreens(t, srv.url, admin); got != n {
		t.Fatalf("kiosk_hub_connected_screens = %d, want %d", got, n)
	}
	after := settledRSS(t, srv.pid)
	t.Logf("%d idle screens connected: %s; %s", n, after, goMemory(t, srv.url, admin))
	per := (float64(after.rss) - float64(base.rss)) / float64(n)
	perAnon := (float64(after.anon) - float64(base.anon)) / float64(n)
	t.Logf("per idle screen: %.0f B RSS (%.0f B anonymous); base %.1f MB RSS (%.1f MB anonymous)",
		per, perAnon, mb(base.rss), mb(base.anon))
	if base.rss > maxBaseRSS {
		t.Errorf("RSS before any screen connected: %.1f MB, want at most %.0f MB", mb(base.rss), mb(maxBaseRSS))
	}
	if per > maxRSSPerScreen {
		t.Errorf("RSS per idle screen connection: %.0f B, want at most %d B", per, maxRSSPerScreen)
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

type serverProc struct {
	cmd  *exec.Cmd
	pid  int
	url  string // http://127.0.0.1:PORT
	done chan struct{}
	// released is closed when the server logs that it returned the
	// memory of its start-up passes (10 s after listening).
	released chan struct{}
}

var listeningRE = regexp.MustCompile(`msg="server listening" addr=(\S+)`)

// startServer starts bin on 127.0.0.1 with a free port and waits until it
// listens. Its log goes to the test's stderr only when it fails to start.
func startServer(t *testing.T, bin, data, admin string) *serverProc {
	t.Helper()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-data", data, "-review=false")
	cmd.Env = append(os.Environ(), "KIOSK_ADMIN_TOKEN="+admin)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serverProc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{}), released: make(chan struct{})}
	addr := make(chan string, 1)
	var logMu sync.Mutex
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if log.Len() < 64<<10 {
				log.WriteString(line + "\n")
			}
			logMu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
			if strings.Contains(line, `msg="start-up memory released"`) {
				close(s.released)
			}
		}
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.done:
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("kiosk-server exited before listening:\n%s", log.String())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("kiosk-server did not listen within a minute")
	}
	return s
}

// stop ends the server with SIGTERM, as an operator would, and waits for it.
func (s *serverProc) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Error("kiosk-server did not stop within 30 s of SIGTERM; killed")
	}
}

// importScreens registers n screens in one POST /screens/import and returns
// their device tokens.
func importScreens(t *testing.T, base, admin string, n int) []string {
	t.Helper()
	type row struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{Name: fmt.Sprintf("memory screen %05d", i), Tags: []string{fmt.Sprintf("floor-%d", i%8)}}
	}
	body, _ := json.Marshal(map[string]any{"screens": rows})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/screens/import", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %s: %s", resp.Status, raw)
	}
	var ans struct {
		Screens []struct {
			Token string `json:"token"`
		} `json:"screens"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || len(ans.Screens) != n {
		t.Fatalf("import answer: %d screens, err %v; want %d", len(ans.Screens), err, n)
	}
	tokens := make([]string, n)
	for i, s := range ans.Screens {
		tokens[i] = s.Token
	}
	return tokens
}

// connectIdle opens one device websocket per token, says hello and reads
// the welcome; afterwards each connection only reads, which answers the
// server's pings. It fails the test if any connection fails.
func connectIdle(t *testing.T, base string, tokens []string) []*websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/device/ws"
	hello, _ := playlists.Encode(playlists.MsgHello, playlists.Hello{PlayerVersion: "memory-test"})
	dialer := websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 512, WriteBufferSize: 512}
	conns := make([]*websocket.Conn, len(tokens))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	sem := make(chan struct{}, 64)
	for i, tok := range tokens {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := dialHello(ctx, dialer, url, tok, hello)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("screen %d: %w", i, err)
				}
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	if firstErr != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		t.Fatal(firstErr)
	}
	for _, c := range conns {
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	return conns
}

func dialHello(ctx context.Context, d websocket.Dialer, url, token string, hello []byte) (*websocket.Conn, error) {
	c, resp, err := d.DialContext(ctx, url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (%s)", err, resp.Status)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, hello); err != nil {
		c.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("welcome: %w", err)
	}
	if env, err := playlists.Decode(data); err != nil || env.Type != playlists.MsgWelcome {
		c.Close()
		return nil, fmt.Errorf("first frame is not a welcome: %.100s", data)
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, nil
}

// connectedScreens reads kiosk_hub_connected_screens from /metrics.
func connectedScreens(t *testing.T, base, admin string) int {
	t.Helper()
	v, ok := metrics(t, base, admin)["kiosk_hub_connected_screens"]
	if !ok {
		t.Fatal("metrics: no kiosk_hub_connected_screens")
	}
	return int(v)
}

// goMemory says how the Go runtime splits the server's memory, from the
// go_* series of /metrics: to tell heap from goroutine stacks in the log.
func goMemory(t *testing.T, base, admin string) string {
	t.Helper()
	m := metrics(t, base, admin)
	return fmt.Sprintf("Go heap in use %.1f MB, heap idle not returned %.1f MB, stacks %.1f MB, %.0f goroutines",
		m["go_memstats_heap_inuse_bytes"]/(1<<20),
		(m["go_memstats_heap_idle_bytes"]-m["go_memstats_heap_released_bytes"])/(1<<20),
		m["go_memstats_stack_inuse_bytes"]/(1<<20), m["go_goroutines"])
}

// metrics reads the server's unlabelled /metrics series.
func metrics(t *testing.T, base, admin string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = f
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return out
}

type rssSample struct{ rss, anon, file uint64 }

func (s rssSample) String() string {
	return fmt.Sprintf("RSS %.1f MB (anonymous %.1f MB, file-backed %.1f MB)", mb(s.rss), mb(s.anon), mb(s.file))
}

// settledRSS waits for the server to go quiet and returns the median of
// several samples of its memory, so a stray allocation burst (a GC cycle
// under way, a scheduled job) does not decide the figure on a loaded
// machine.
func settledRSS(t *testing.T, pid int) rssSample {
	t.Helper()
	time.Sleep(2 * time.Second)
	var samples []rssSample
	for range 7 {
		s, err := readStatus(pid)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, s)
		time.Sleep(500 * time.Millisecond)
	}
	slices.SortFunc(samples, func(a, b rssSample) int { return int(a.rss) - int(b.rss) })
	return samples[len(samples)/2]
}

func readStatus(pid int) (rssSample, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	raw, err := os.ReadFile(path)
	if err != nil {
		return rssSample{}, err
	}
	var s rssSample
	for _, line := range strings.Split(string(raw), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch key {
		case "VmRSS":
			dst = &s.rss
		case "RssAnon":
			dst = &s.anon
		case "RssFile":
			dst = &s.file
		default:
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return rssSample{}, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		*dst = kb << 10
	}
	if s.rss == 0 {
		return rssSample{}, fmt.Errorf("%s has no VmRSS", path)
	}
	return s, nil
}

// raiseFileLimit lifts this process's open-file limit to its hard limit
// (the players hold n sockets) and skips when that is still too few.
func raiseFileLimit(t *testing.T, n int) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if need := uint64(n) + 256; lim.Cur < need {
		t.Skipf("open-file limit %d is below the %d this test needs", lim.Cur, need)
	}
}

func randomToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "mem-" + hex.EncodeToString(b)
}
