package fastmedia

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSource serves one file for one token and hash.
type fakeSource struct {
	path, token, sha string
	size             int64
	served           atomic.Int64
}

func (s *fakeSource) Asset(token, sha string) (Asset, bool) {
	if token != s.token || sha != s.sha {
		return Asset{}, false
	}
	return Asset{MIME: "image/png", Size: s.size, ModTime: time.Unix(1_700_000_000, 0),
		Header: "Cache-Control: no-store\r\n", NotModifiedHeader: "Cache-Control: no-store\r\n"}, true
}

func (s *fakeSource) Open(string) (*os.File, error) { return os.Open(s.path) }

func (s *fakeSource) Served(int, time.Duration) { s.served.Add(1) }

// TestListenerUnderConcurrentClients: concurrent clients on kept-alive
// connections, each with one connection that only asks for media
// (whole and ranged: the fast path answers all of it) and one that also
// asks net/http's routes (handed over at its first such request, after
// which net/http answers the media too); every answer is right, and the
// listener shuts down cleanly.
func TestListenerUnderConcurrentClients(t *testing.T) {
	data := make([]byte, 200_000)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{path: path, token: "tok", sha: strings.Repeat("ab", 32), size: int64(len(data))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := Listen(ln, src, Options{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != AssetPath+src.sha:
			io.WriteString(w, "other")
		case r.Header.Get("Authorization") != "Bearer "+src.token:
			http.Error(w, "refused", http.StatusUnauthorized)
		default:
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
		}
	})}
	go srv.Serve(fl)

	base := "http://" + ln.Addr().String()
	const clients, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*clients)
	for i := range clients {
		for _, mixed := range []bool{false, true} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				defer c.CloseIdleConnections()
				for j := range rounds {
					if err := oneRound(c, base, src, data, i+j, mixed); err != nil {
						errs <- fmt.Errorf("client %d (mixed %v) round %d: %w", i, mixed, j, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The media-only connections' requests, and the two media requests
	// of each mixed connection's first round, before its first other one.
	if got, want := src.served.Load(), int64(clients*rounds*2+clients*2); got != want {
		t.Errorf("fast path answered %d, want %d", got, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("http shutdown: %v", err)
	}
	if err := fl.Shutdown(ctx); err != nil {
		t.Errorf("fast path shutdown: %v", err)
	}
}

// oneRound is a whole GET and a ranged GET of the media, then, when
// mixed, a GET of another route and one with a refused token.
func oneRound(c *http.Client, base string, src *fakeSource, data []byte, n int, mixed bool) error {
	off := n * 997 % (len(data) - 100)
	cases := []struct {
		path, token, rng string
		status           int
		want             []byte
	}{
		{AssetPath + src.sha, src.token, "", http.StatusOK, data},
		{AssetPath + src.sha, src.token, fmt.Sprintf("bytes=%d-%d", off, off+99), http.StatusPartialContent, data[off : off+100]},
		{"/other", "", "", http.StatusOK, []byte("other")},
		{AssetPath + src.sha, "wrong", "", http.StatusUnauthorized, []byte("refused\n")},
	}
	if !mixed {
		cases = cases[:2]
	}
	for _, tc := range cases {
		req, _ := http.NewRequest("GET", base+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != tc.status || !bytes.Equal(body, tc.want) {
			return fmt.Errorf("%s %q: %d, %d bytes; want %d, %d bytes", tc.path, tc.rng, resp.StatusCode, len(body), tc.status, len(tc.want))
		}
	}
	return nil
}

// TestShutdownLetsAnAnswerFinish: Shutdown waits for an answer being
// sent to a slow reader, which gets all of it, then its connection is
// closed; a connection waiting for a request is closed at once.
func TestShutdownLetsAnAnswerFinish(t *testing.T) {
	data := make([]byte, 16<<20) // more than the sockets' buffers hold
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{path: path, token: "tok", sha: strings.Repeat("cd", 32), size: int64(len(data))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := Listen(ln, src, Options{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	t.Cleanup(fl.CloseAll)
	go func() { // net/http's part: nothing here goes to it
		for {
			c, err := fl.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	head := "GET " + AssetPath + src.sha + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n\r\n"
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	idle := dial()
	io.WriteString(idle, head)
	idleBody := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(idleBody, nil); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	busy := dial()
	busy.(*net.TCPConn).SetReadBuffer(32 << 10) // the answer stays in flight
	io.WriteString(busy, head)
	br := bufio.NewReader(busy)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %v %v", resp, err)
	}

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- fl.Shutdown(ctx)
	}()
	// The idle connection is closed at once.
	idle.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := idleBody.ReadByte(); err != io.EOF {
		t.Errorf("idle connection after Shutdown: %v, want EOF", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) while an answer was being sent", err)
	case <-time.After(100 * time.Millisecond):
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("answer during shutdown: %d bytes, %v; want all %d", len(got), err, len(data))
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	busy.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("busy connection after its answer and Shutdown: %v, want EOF", err)
	}
}
