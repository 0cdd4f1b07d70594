package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"kiosk/server"
)

// TestSafeModeCommand drives a real server through the CLI.
func TestSafeModeCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		done <- server.Run(ctx, server.Config{Listener: ln, DataDir: t.TempDir(), AdminToken: "cli-token",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: ready})
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	url := "http://" + ln.Addr().String()
	env := func(k string) string {
		if k == "KIOSK_ADMIN_TOKEN" {
			return "cli-token"
		}
		return ""
	}
	var out, errb strings.Builder
	if code := runSafeMode([]string{"on", "-server", url, "-all"}, env, &out, &errb); code != 0 {
		t.Fatalf("on: exit %d: %s", code, errb.String())
	}
	id := strings.Fields(out.String())[2]
	out.Reset()
	if code := runSafeMode([]string{"list", "-server", url}, env, &out, &errb); code != 0 || !strings.Contains(out.String(), id+"  ON") {
		t.Fatalf("list: exit %d: %q", code, out.String())
	}
	if code := runSafeMode([]string{"off", "-server", url, "-id", id}, env, &out, &errb); code != 0 {
		t.Fatalf("off: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := runSafeMode([]string{"off", "-server", url, "-id", "safe_nope"}, env, &out, &errb); code != 1 || !strings.Contains(errb.String(), "not found") {
		t.Errorf("off unknown: exit %d: %q", code, errb.String())
	}
	if code := runSafeMode([]string{"on", "-server", url, "-all"}, func(string) string { return "" }, &out, &errb); code != 2 {
		t.Errorf("no token: exit %d, want 2", code)
	}
}
