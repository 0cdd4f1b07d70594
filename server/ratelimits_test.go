package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"kiosk/server/internal/api"
)

func TestRateLimitsWiring(t *testing.T) {
	cfg := Config{
		AuthFailLimit: 3, AuthFailWindow: 30 * time.Second, AuthCooldown: 5 * time.Minute,
		PlaysEvery: 2 * time.Second, PlaysBurst: 7,
		ScreenshotEvery: time.Minute, ScreenshotBurst: 2,
	}
	got := cfg.rateLimits()
	want := api.RateLimits{
		AuthFailures: 3, AuthWindow: 30 * time.Second, AuthCooldown: 5 * time.Minute,
		Plays:       api.Rate{Every: 2 * time.Second, Burst: 7},
		Screenshots: api.Rate{Every: time.Minute, Burst: 2},
	}
	// RateLimits holds a func (Now), so compare field by field.
	if got.AuthFailures != want.AuthFailures || got.AuthWindow != want.AuthWindow ||
		got.AuthCooldown != want.AuthCooldown || got.Plays != want.Plays ||
		got.Screenshots != want.Screenshots || got.MaxKeys != 0 || got.Now != nil {
		t.Errorf("rateLimits() = %+v; want %+v", got, want)
	}

	// A zero Config gets the defaults, which are the API's own.
	norm, err := Config{DataDir: t.TempDir()}.normalize()
	if err != nil {
		t.Fatalf("zero config: %v", err)
	}
	zero := norm.rateLimits()
	if zero.AuthFailures != api.DefaultAuthFailures || zero.AuthWindow != api.DefaultAuthWindow ||
		zero.AuthCooldown != api.DefaultAuthCooldown || zero.Plays != api.DefaultPlaysRate ||
		zero.Screenshots != api.DefaultScreenshotRate {
		t.Errorf("zero config: rateLimits() = %+v; want the API's defaults", zero)
	}
}

func TestRateLimitsRefuseNegative(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"auth fail limit", Config{AuthFailLimit: -1}, "auth fail limit is -1"},
		{"auth fail window", Config{AuthFailWindow: -time.Second}, "auth fail window is -1s"},
		{"auth cooldown", Config{AuthCooldown: -time.Second}, "auth cooldown is -1s"},
		{"plays every", Config{PlaysEvery: -time.Second}, "plays interval is -1s"},
		{"plays burst", Config{PlaysBurst: -1}, "plays burst is -1"},
		{"screenshot every", Config{ScreenshotEvery: -time.Second}, "screenshot interval is -1s"},
		{"screenshot burst", Config{ScreenshotBurst: -1}, "screenshot burst is -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.DataDir = t.TempDir()
			if _, err := tt.cfg.normalize(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("normalize() error = %v; want one containing %q", err, tt.want)
			}
		})
	}

	// Run refuses before touching the data directory.
	dir := t.TempDir() + "/never-created"
	err := Run(context.Background(), Config{DataDir: dir, PlaysBurst: -1})
	if err == nil || !strings.Contains(err.Error(), "plays burst is -1") {
		t.Errorf("Run with plays burst -1: error = %v; want one naming it", err)
	}
}

// TestRateLimitsReachAPI checks that Run hands the limits to the API: with
// AuthFailLimit 2 the third wrong admin token is already throttled.
func TestRateLimitsReachAPI(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{
			Listener: ln, DataDir: t.TempDir(), AdminToken: admin,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: ready,
			ShutdownGrace: 2 * time.Second,
			AuthFailLimit: 2, AuthCooldown: time.Hour,
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v, want nil after shutdown", err)
		}
	})
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready within 5s")
	}
	for i, want := range []int{401, 401, 429} {
		req, _ := http.NewRequest("GET", base+"/api/v1/screens", nil)
		req.Header.Set("Authorization", "Bearer wrong-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("attempt %d: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}
