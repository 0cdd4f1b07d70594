package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"kiosk/server"
)

// parseRateLimits parses args as kiosk-server does: the flags, then the
// throttle flags' own conversion, then the one check of every setting
// (server.Config.Check).
func parseRateLimits(args ...string) (server.Config, error) {
	fs := flag.NewFlagSet("kiosk-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := server.Config{DataDir: "d"}
	apply := rateLimitFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if err := apply(); err != nil {
		return cfg, err
	}
	return cfg, cfg.Check()
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

// TestRateLimitFlagsZeroTakesDefault: an explicit 0 is accepted and left
// as 0, which server.Config takes as the default (TestNormalizeOneRule),
// as for every numeric setting; it is not "off".
func TestRateLimitFlagsZeroTakesDefault(t *testing.T) {
	for _, name := range []string{"auth-fail-limit", "auth-fail-window", "auth-cooldown", "plays-rate", "plays-burst", "screenshot-every", "screenshot-burst"} {
		t.Run(name, func(t *testing.T) {
			cfg, err := parseRateLimits("-"+name, "0")
			if err != nil {
				t.Fatalf("-%s 0: %v, want it taken as the default", name, err)
			}
			want := limitsOf(server.Config{
				AuthFailLimit: server.DefaultAuthFailLimit, AuthFailWindow: server.DefaultAuthFailWindow, AuthCooldown: server.DefaultAuthCooldown,
				PlaysEvery: server.DefaultPlaysEvery, PlaysBurst: server.DefaultPlaysBurst,
				ScreenshotEvery: server.DefaultScreenshotEvery, ScreenshotBurst: server.DefaultScreenshotBurst,
			})
			got := limitsOf(cfg)
			// The one flag set to 0 is 0 in the Config (normalize's
			// default), the others keep their flag defaults.
			switch name {
			case "auth-fail-limit":
				want.authLimit = 0
			case "auth-fail-window":
				want.authWindow = 0
			case "auth-cooldown":
				want.authCooldown = 0
			case "plays-rate":
				want.playsEvery = 0
			case "plays-burst":
				want.playsBurst = 0
			case "screenshot-every":
				want.screenshotEvery = 0
			case "screenshot-burst":
				want.screenshotBurst = 0
			}
			if got != want {
				t.Errorf("-%s 0: got %+v, want %+v", name, got, want)
			}
		})
	}
	fs := flag.NewFlagSet("kiosk-server", flag.ContinueOnError)
	rateLimitFlags(fs, &server.Config{})
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(f.Usage, "0: the default") {
			t.Errorf("-%s's help %q does not say what 0 means", f.Name, f.Usage)
		}
	})
}

// TestRateLimitFlagsRefused: negative values are refused naming the
// setting, as every setting's are; a plays rate that makes no interval
// is refused by the flag itself.
func TestRateLimitFlagsRefused(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-auth-fail-limit", "-1"}, "auth fail limit is -1, want positive (0 takes the default)"},
		{[]string{"-plays-burst", "-3"}, "plays burst is -3"},
		{[]string{"-screenshot-burst", "-2"}, "screenshot burst is -2"},
		{[]string{"-auth-fail-window", "-1s"}, "auth fail window is -1s"},
		{[]string{"-auth-cooldown", "-1m"}, "auth cooldown is -1m0s"},
		{[]string{"-screenshot-every", "-5s"}, "screenshot interval is -5s"},
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
