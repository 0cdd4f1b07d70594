package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"kiosk/server"
)

func parseRateLimits(args ...string) (server.Config, error) {
	fs := flag.NewFlagSet("kiosk-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg server.Config
	apply := rateLimitFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, apply()
}

func TestRateLimitFlagsDefaults(t *testing.T) {
	cfg, err := parseRateLimits()
	if err != nil {
		t.Fatalf("no flags: %v", err)
	}
	want := server.Config{
		AuthFailLimit:   server.DefaultAuthFailLimit,
		AuthFailWindow:  server.DefaultAuthFailWindow,
		AuthCooldown:    server.DefaultAuthCooldown,
		PlaysEvery:      server.DefaultPlaysEvery,
		PlaysBurst:      server.DefaultPlaysBurst,
		ScreenshotEvery: server.DefaultScreenshotEvery,
		ScreenshotBurst: server.DefaultScreenshotBurst,
	}
	if got := limitsOf(cfg); got != limitsOf(want) {
		t.Errorf("defaults: got %+v, want %+v", got, limitsOf(want))
	}
}

func TestRateLimitFlagsReachConfig(t *testing.T) {
	cfg, err := parseRateLimits(
		"-auth-fail-limit", "3", "-auth-fail-window", "30s", "-auth-cooldown", "5m",
		"-plays-rate", "0.5", "-plays-burst", "7",
		"-screenshot-every", "1m", "-screenshot-burst", "2",
	)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := server.Config{
		AuthFailLimit: 3, AuthFailWindow: 30 * time.Second, AuthCooldown: 5 * time.Minute,
		PlaysEvery: 2 * time.Second, PlaysBurst: 7,
		ScreenshotEvery: time.Minute, ScreenshotBurst: 2,
	}
	if got := limitsOf(cfg); got != limitsOf(want) {
		t.Errorf("got %+v, want %+v", got, limitsOf(want))
	}
}

func TestRateLimitFlagsRefused(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-auth-fail-limit", "0"}, "-auth-fail-limit is 0"},
		{[]string{"-auth-fail-limit", "-1"}, "-auth-fail-limit is -1"},
		{[]string{"-plays-burst", "0"}, "-plays-burst is 0"},
		{[]string{"-screenshot-burst", "-2"}, "-screenshot-burst is -2"},
		{[]string{"-auth-fail-window", "0s"}, "-auth-fail-window is 0s"},
		{[]string{"-auth-cooldown", "-1m"}, "-auth-cooldown is -1m0s"},
		{[]string{"-screenshot-every", "0"}, "-screenshot-every is 0s"},
		{[]string{"-plays-rate", "0"}, "-plays-rate is 0"},
		{[]string{"-plays-rate", "-5"}, "-plays-rate is -5"},
		{[]string{"-plays-rate", "NaN"}, "-plays-rate is NaN"},
		{[]string{"-plays-rate", "2e9"}, "-plays-rate is 2e+09"},
		{[]string{"-plays-rate", "1e-300"}, "-plays-rate is 1e-300"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseRateLimits(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v; want one containing %q", err, tt.want)
			}
		})
	}
}

type limits struct {
	authLimit                int
	authWindow, authCooldown time.Duration
	playsEvery               time.Duration
	playsBurst               int
	screenshotEvery          time.Duration
	screenshotBurst          int
}

func limitsOf(c server.Config) limits {
	return limits{c.AuthFailLimit, c.AuthFailWindow, c.AuthCooldown, c.PlaysEvery, c.PlaysBurst, c.ScreenshotEvery, c.ScreenshotBurst}
}
