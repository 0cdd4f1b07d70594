// Command kiosk-server runs the Kiosk content server: the JSON API, the
// device endpoints and websocket hub, backed by a bbolt store in -data.
//
//	kiosk-server -addr 127.0.0.1:8080 -data ./data
//
// People sign in with accounts made by "kiosk-server user add" (the first
// admin) or in the admin page. An optional break-glass token comes from
// KIOSK_ADMIN_TOKEN or the file named by KIOSK_ADMIN_TOKEN_FILE.
// "kiosk-server user" manages the people who sign in (see user.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"kiosk/server"
	"kiosk/server/usercmd"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "user" {
		os.Exit(runUser(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "audit" {
		os.Exit(usercmd.RunAudit(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "safe-mode" {
		os.Exit(runSafeMode(os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "backup" {
		os.Exit(usercmd.RunBackup(os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "restore" {
		os.Exit(usercmd.RunRestore(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "key" {
		os.Exit(usercmd.RunKey(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(runHealthcheck(os.Args[2:], os.Stdout, os.Stderr))
	}
	cfg := server.Config{}
	flag.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "listen address (HOST:PORT)")
	flag.StringVar(&cfg.DataDir, "data", "./data", "data directory (bbolt file and media); created if missing")
	flag.Int64Var(&cfg.MaxUploadBytes, "max-upload", server.DefaultMaxUploadBytes, "largest accepted media upload, in bytes")
	flag.DurationVar(&cfg.PlayRetention, "play-retention", server.DefaultPlayRetention, "proof-of-play records older than this are deleted")
	flag.DurationVar(&cfg.AuditRetention, "audit-retention", server.DefaultAuditRetention, "audit entries older than this are deleted (the hash chain stays verifiable)")
	flag.DurationVar(&cfg.OfflineAfter, "offline-after", server.DefaultOfflineAfter, "a screen not heard from for this long counts as offline")
	flag.DurationVar(&cfg.LastSeenEvery, "last-seen-every", server.DefaultLastSeenEvery, "a heartbeat that only moves a screen's last-seen time is written to disk once the saved one is this old; larger means fewer writes, and after a crash a last-seen up to this old (0: the default)")
	flag.DurationVar(&cfg.StaleAfter, "stale-after", server.DefaultStaleAfter, "a screen whose applied version lags the published one this long counts as stale")
	flag.Int64Var(&cfg.DiskLowBytes, "disk-low", server.DefaultDiskLowBytes, "a player with less free disk than this many bytes counts as degraded")
	flag.Float64Var(&cfg.DiskLowPercent, "disk-low-percent", server.DefaultDiskLowPercent, "a player with less free disk than this percentage of its size counts as degraded (negative: off)")
	flag.DurationVar(&cfg.ClockSkewMax, "clock-skew-max", server.DefaultClockSkewMax, "a player whose clock is off by more than this counts as degraded")
	flag.DurationVar(&cfg.AlertDebounce, "alert-debounce", server.DefaultAlertDebounce, "a screen state must hold this long before it alerts (no flapping storms)")
	flag.DurationVar(&cfg.AlertGroupWindow, "alert-group-window", server.DefaultAlertGroupWindow, "alerts maturing within this window may be grouped")
	flag.IntVar(&cfg.AlertGroupMin, "alert-group-min", server.DefaultAlertGroupMin, "this many alerts within the group window become one grouped alert (1 disables grouping)")
	flag.IntVar(&cfg.WebhookAttempts, "webhook-attempts", server.DefaultWebhookAttempts, "delivery attempts per alert and webhook before giving up")
	review := flag.Bool("review", true, "content changes need a second person's approval before screens show them; false publishes at once (a single-admin install; the admin page says so)")
	fastMedia := flag.Bool("fast-media", true, "answer players' media GETs on a fast path outside net/http (same answers, about nginx's speed); false serves them through net/http like everything else")
	flag.BoolVar(&cfg.RequireMFA, "require-mfa", false, "admins and reviewers must set up a TOTP second factor before they can do anything else")
	flag.DurationVar(&cfg.SessionIdle, "session-idle", server.DefaultSessionIdle, "an admin-page session ends after this long without a request")
	flag.DurationVar(&cfg.SessionMax, "session-max", server.DefaultSessionMax, "an admin-page session ends this long after sign-in, active or not")
	flag.Func("trusted-proxy", "a reverse proxy's address or CIDR whose X-Forwarded-For / X-Real-IP / X-Forwarded-Proto are believed (repeatable; default: none, the socket address counts)", func(v string) error {
		n, err := parseCIDR(v)
		if err != nil {
			return err
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, n)
		return nil
	})
	applyRateLimits := rateLimitFlags(flag.CommandLine, &cfg)
	flag.Func("release-key", "file with the public release key player builds are signed with (kiosk-release keygen's release.pub); without it build uploads are refused", func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cfg.ReleaseKey = strings.TrimSpace(string(b))
		return nil
	})
	flag.StringVar(&cfg.BackupDir, "backup-dir", "", "write scheduled backups into this folder (with -backup-every)")
	flag.DurationVar(&cfg.BackupEvery, "backup-every", 0, "how often to write a scheduled backup, e.g. 24h (0: never)")
	flag.IntVar(&cfg.BackupKeep, "backup-keep", server.DefaultBackupKeep, "how many scheduled backups to keep in -backup-dir")
	flag.DurationVar(&cfg.UpdateDeadline, "update-deadline", server.DefaultUpdateDeadline, "a screen that downloaded a player build must report the new version within this, or it counts as failed")
	logFormat := flag.String("log-format", "text", "log format: text or json")
	debug := flag.Bool("debug", false, "log every request")
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprintf(out, "Usage of %s:\n", os.Args[0])
		flag.PrintDefaults()
		fmt.Fprintln(out, "\n"+numbersRule)
	}
	version := flag.Bool("version", false, "print the version (first line), commit and build date, and exit")
	flag.Parse()
	if *version {
		fmt.Print(server.VersionText())
		return
	}
	cfg.ReviewOff = !*review
	cfg.FastMediaOff = !*fastMedia
	if err := applyRateLimits(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		flag.Usage()
		os.Exit(2)
	}
	// Every setting is checked in one place (server.Config.Check, the
	// same rules Run applies), before anything starts.
	if err := cfg.Check(); err != nil {
		fmt.Fprintln(os.Stderr, "kiosk-server:", err)
		os.Exit(2)
	}

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
	if token != "" {
		log.Warn("break-glass token configured (KIOSK_ADMIN_TOKEN): it has the admin role and publishes without review; every use is audited")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Run(ctx, cfg); err != nil {
		log.Error("server failed", "error", err)
		os.Exit(1)
	}
}

// numbersRule ends the help: what 0 and a negative value mean for every
// numeric flag (server.Config.normalize's one rule).
const numbersRule = `Every number and duration: 0 takes the default shown, a negative value is refused.
Exceptions, said with the flag: -disk-low-percent below 0 turns that rule off,
-backup-every 0 means no scheduled backups, -alert-group-min 1 turns grouping off.
The throttles (-auth-*, -plays-*, -screenshot-*) cannot be turned off: set a large value instead.`

// rateLimitFlags registers the throttle flags on fs; the returned function,
// called after parsing, turns -plays-rate into cfg.PlaysEvery. The flags
// follow the one rule of every numeric setting (server.Config.normalize,
// which cfg.Check applies before anything starts): 0 takes the default, a
// negative value is refused naming it. There is no "off": the auth
// throttle is what slows down guessing the admin token, and a screen has
// no reason to upload faster than the limits allow. An operator who wants
// a throttle out of the way sets a large value.
func rateLimitFlags(fs *flag.FlagSet, cfg *server.Config) func() error {
	fs.IntVar(&cfg.AuthFailLimit, "auth-fail-limit", server.DefaultAuthFailLimit, "this many failed token checks from one client within -auth-fail-window start a cool-down (0: the default; cannot be turned off)")
	fs.DurationVar(&cfg.AuthFailWindow, "auth-fail-window", server.DefaultAuthFailWindow, "window in which failed token checks are counted (0: the default)")
	fs.DurationVar(&cfg.AuthCooldown, "auth-cooldown", server.DefaultAuthCooldown, "a client over -auth-fail-limit gets 429 for its tokens this long (0: the default)")
	playsRate := fs.Float64("plays-rate", float64(time.Second)/float64(server.DefaultPlaysEvery), "proof-of-play uploads a second allowed per screen, fractions allowed (0: the default)")
	fs.IntVar(&cfg.PlaysBurst, "plays-burst", server.DefaultPlaysBurst, "proof-of-play uploads a screen may make at once before -plays-rate applies (0: the default)")
	fs.DurationVar(&cfg.ScreenshotEvery, "screenshot-every", server.DefaultScreenshotEvery, "one screenshot upload per screen this often (0: the default)")
	fs.IntVar(&cfg.ScreenshotBurst, "screenshot-burst", server.DefaultScreenshotBurst, "screenshot uploads a screen may make at once before -screenshot-every applies (0: the default)")
	return func() error {
		if *playsRate == 0 {
			cfg.PlaysEvery = 0 // the default, as for every setting
			return nil
		}
		// The interval must come out as at least a nanosecond and fit a
		// Duration (float64(MaxInt64) is 2^63, one past it, hence <); NaN
		// fails both comparisons and is refused too.
		every := float64(time.Second) / *playsRate
		if !(every >= 1 && every < math.MaxInt64) {
			return fmt.Errorf("-plays-rate is %g; want a positive number of uploads a second, at most 1e9 (0 takes the default)", *playsRate)
		}
		cfg.PlaysEvery = time.Duration(every)
		return nil
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

// parseCIDR reads "10.0.0.0/8" or a single address ("10.0.0.5", "::1").
func parseCIDR(v string) (*net.IPNet, error) {
	if !strings.Contains(v, "/") {
		ip := net.ParseIP(v)
		if ip == nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", v)
		}
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
	}
	_, n, err := net.ParseCIDR(v)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IP address or CIDR", v)
	}
	return n, nil
}
