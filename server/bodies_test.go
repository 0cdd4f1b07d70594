package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// runWith starts Run with cfg on a loopback listener and returns its
// address; the server stops when the test ends.
func runWith(t *testing.T, cfg Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg.Listener, cfg.Ready = ln, ready
	cfg.DataDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.ShutdownGrace = 2 * time.Second
	go func() { done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v, want nil after shutdown", err)
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready within 5s")
	}
	return ""
}

// The finding, through Run: an unauthenticated client sending a 100 KB body
// a byte at a time is cut (Config.BodyGrace, shrunk here) instead of
// holding its connection for minutes.
func TestSlowBodyCutByRun(t *testing.T) {
	addr := runWith(t, Config{AdminToken: admin, BodyGrace: 500 * time.Millisecond, BodyTimeout: time.Second})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 100_000
	fmt.Fprintf(conn, "POST /api/v1/session HTTP/1.1\r\nHost: kiosk.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size)
	go func() {
		for range size {
			if _, err := conn.Write([]byte{' '}); err != nil {
				return // cut
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatal("no answer and no close within 10s: the server is still waiting for the body")
	case err == nil:
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("status %d, want 408", resp.StatusCode)
		}
	}
}
