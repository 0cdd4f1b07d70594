// Command kiosk-server runs the Kiosk content server: the JSON API, the
// device endpoints and websocket hub, backed by a bbolt store in -data.
//
//	kiosk-server -addr 127.0.0.1:8080 -data ./data
//
// The admin token comes from KIOSK_ADMIN_TOKEN or the file named by
// KIOSK_ADMIN_TOKEN_FILE; without one the admin API refuses every call.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"kiosk/server"
)

func main() {
	cfg := server.Config{}
	flag.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "listen address (HOST:PORT)")
	flag.StringVar(&cfg.DataDir, "data", "./data", "data directory (bbolt file and media); created if missing")
	flag.Int64Var(&cfg.MaxUploadBytes, "max-upload", server.DefaultMaxUploadBytes, "largest accepted media upload, in bytes")
	flag.DurationVar(&cfg.PlayRetention, "play-retention", server.DefaultPlayRetention, "proof-of-play records older than this are deleted")
	flag.DurationVar(&cfg.OfflineAfter, "offline-after", server.DefaultOfflineAfter, "a screen not heard from for this long counts as offline")
	flag.DurationVar(&cfg.StaleAfter, "stale-after", server.DefaultStaleAfter, "a screen whose applied version lags the published one this long counts as stale")
	flag.Int64Var(&cfg.DiskLowBytes, "disk-low", server.DefaultDiskLowBytes, "a player with less free disk than this many bytes counts as degraded")
	flag.Float64Var(&cfg.DiskLowPercent, "disk-low-percent", server.DefaultDiskLowPercent, "a player with less free disk than this percentage of its size counts as degraded (negative: off)")
	flag.DurationVar(&cfg.ClockSkewMax, "clock-skew-max", server.DefaultClockSkewMax, "a player whose clock is off by more than this counts as degraded")
	flag.DurationVar(&cfg.AlertDebounce, "alert-debounce", server.DefaultAlertDebounce, "a screen state must hold this long before it alerts (no flapping storms)")
	flag.DurationVar(&cfg.AlertGroupWindow, "alert-group-window", server.DefaultAlertGroupWindow, "alerts maturing within this window may be grouped")
	flag.IntVar(&cfg.AlertGroupMin, "alert-group-min", server.DefaultAlertGroupMin, "this many alerts within the group window become one grouped alert (1 disables grouping)")
	flag.IntVar(&cfg.WebhookAttempts, "webhook-attempts", server.DefaultWebhookAttempts, "delivery attempts per alert and webhook before giving up")
	logFormat := flag.String("log-format", "text", "log format: text or json")
	debug := flag.Bool("debug", false, "log every request")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(os.Stderr, hopts)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(os.Stderr, hopts)
	}
	log := slog.New(handler)
	slog.SetDefault(log)
	cfg.Logger = log

	token, err := adminToken()
	if err != nil {
		log.Error("read admin token", "error", err)
		os.Exit(2)
	}
	cfg.AdminToken = token
	if token == "" {
		log.Warn("NO ADMIN TOKEN CONFIGURED: the admin API is locked and every admin call will get 401; set KIOSK_ADMIN_TOKEN or KIOSK_ADMIN_TOKEN_FILE")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Run(ctx, cfg); err != nil {
		log.Error("server failed", "error", err)
		os.Exit(1)
	}
}

// adminToken reads KIOSK_ADMIN_TOKEN, else the file KIOSK_ADMIN_TOKEN_FILE
// (so the secret need not sit in the environment of every child process).
func adminToken() (string, error) {
	if t := strings.TrimSpace(os.Getenv("KIOSK_ADMIN_TOKEN")); t != "" {
		return t, nil
	}
	path := os.Getenv("KIOSK_ADMIN_TOKEN_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("KIOSK_ADMIN_TOKEN_FILE: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("KIOSK_ADMIN_TOKEN_FILE %s is empty", path)
	}
	return t, nil
}
