// Package servertest runs a real Kiosk server on a loopback port for the
// tests of the commands that talk to one (kioskctl, kiosk-server's own
// subcommands, the load tools), so each does not start and stop server.Run
// by hand. Tests that restart a server on the same data dir (e2e, the
// reconnect storm) keep their own harness.
package servertest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"kiosk/server"
)

// Start runs server.Run with cfg on 127.0.0.1:0 and returns its base URL
// ("http://127.0.0.1:PORT") once it answers. Listener and Ready are set
// here; a nil Logger discards the logs and an empty DataDir is a temporary
// directory. The server stops, and its error is checked, when the test ends.
func Start(t testing.TB, cfg server.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ready := make(chan string, 1)
	cfg.Listener, cfg.Ready = ln, ready
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server.Run returned before ready: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("server not ready after 10s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("server.Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop within 15s")
		}
	})
	return "http://" + ln.Addr().String()
}
