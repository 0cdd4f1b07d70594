// Command kiosk-player runs one screen: it syncs content from a kiosk-server,
// keeps it in a local cache and serves the full-screen page a kiosk browser
// shows at http://127.0.0.1:8090/.
//
//	kiosk-player -server https://kiosk.example.org
//
// Started without a token, it shows a pairing code on its page until a
// technician enters it in the admin page ("添加屏幕"), then keeps the
// credential in its cache file. For scripted installs the device token
// may be given with -token, KIOSK_PLAYER_TOKEN or the file named by
// KIOSK_PLAYER_TOKEN_FILE, which keeps it out of the process list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	// Screens often run minimal images without /usr/share/zoneinfo;
	// schedules must still evaluate in Asia/Shanghai.
	_ "time/tzdata"

	"kiosk/player"
	"kiosk/playlists"
)

func main() {
	// The launcher (deploy/kiosk-player-launch.sh) names a version's
	// directory after the first line: the bare version. The second says
	// commit and build date.
	if len(os.Args) == 2 && (os.Args[1] == "-version" || os.Args[1] == "--version") {
		fmt.Print(player.VersionText())
		return
	}
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// errUsage marks a command-line mistake: exit status 2, like flag's own.
var errUsage = errors.New("usage")

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, logLevel, err := parse(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "kiosk-player: %v\n", err)
		if errors.Is(err, errUsage) {
			fmt.Fprintln(stderr, "run 'kiosk-player -h' for the flags")
		}
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	slog.SetDefault(logger)
	cfg.Logger = logger

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := player.Run(ctx, cfg); err != nil {
		if errors.Is(err, player.ErrRestartRequested) {
			// Not a failure: the supervisor (systemd Restart=always, see
			// deploy/systemd/kiosk-player.service) starts a fresh player.
			logger.Info("exiting for a restart the server requested", "status", exitRestart)
			return exitRestart
		}
		logger.Error("player failed", "error", err)
		return 1
	}
	return 0
}

// exitRestart is the exit status after a "restart" remote command, distinct
// from a failure (1) and a usage error (2) so logs tell them apart.
const exitRestart = 3

// parse turns flags and environment into a player.Config.
func parse(args []string, getenv func(string) string, stderr io.Writer) (player.Config, slog.Level, error) {
	var cfg player.Config
	var level slog.Level
	fs := flag.NewFlagSet("kiosk-player", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Server, "server", getenv("KIOSK_PLAYER_SERVER"), "server base URL, e.g. https://kiosk.example.org (env KIOSK_PLAYER_SERVER)")
	fs.StringVar(&cfg.Token, "token", "", "device token (or env KIOSK_PLAYER_TOKEN, or a file named by KIOSK_PLAYER_TOKEN_FILE); none: pair by code")
	fs.StringVar(&cfg.CacheFile, "cache", player.DefaultCacheFile, "cache file (created if missing)")
	fs.StringVar(&cfg.Listen, "listen", player.DefaultListen, "address of the local kiosk page; keep it on loopback")
	fs.StringVar(&cfg.DistrictName, "district", getenv("KIOSK_PLAYER_DISTRICT"), "district name on the fallback screen (env KIOSK_PLAYER_DISTRICT)")
	fs.StringVar(&cfg.DevToolsURL, "devtools", getenv("KIOSK_PLAYER_DEVTOOLS"), "local Chromium DevTools URL for screenshot commands, e.g. http://127.0.0.1:9222 (env KIOSK_PLAYER_DEVTOOLS; loopback only)")
	serverKey := fs.String("server-key", getenv("KIOSK_PLAYER_SERVER_KEY_FILE"), "file with the server's manifest key (kiosk-server key show): pinned, so only manifests it signed apply (env KIOSK_PLAYER_SERVER_KEY_FILE; default: pinned at pairing or on first use)")
	fs.StringVar(&cfg.InstallDir, "install-dir", getenv("KIOSK_PLAYER_INSTALL_DIR"), "directory the launcher runs the player from (DIR/kiosk-player → DIR/versions/<version>/kiosk-player), where updates are installed; kiosk-player-launch.sh sets it (env KIOSK_PLAYER_INSTALL_DIR)")
	releaseKey := fs.String("release-key", getenv("KIOSK_PLAYER_RELEASE_KEY_FILE"), "file with the public release key player builds must be signed with (kiosk-release keygen's release.pub; env KIOSK_PLAYER_RELEASE_KEY_FILE; without it updates are refused)")
	fs.StringVar(&cfg.Platform, "platform", getenv("KIOSK_PLAYER_PLATFORM"), "build platform to install updates for (default: this binary's, e.g. linux/arm/v7; env KIOSK_PLAYER_PLATFORM)")
	fs.DurationVar(&cfg.UpdateTrial, "update-trial", player.DefaultUpdateTrial, "a new player version must apply the current manifest within this, or the launcher rolls it back")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat", player.DefaultHeartbeatInterval, "heartbeat interval")
	fs.DurationVar(&cfg.BackoffMin, "backoff-min", player.DefaultBackoffMin, "shortest wait before reconnecting")
	fs.DurationVar(&cfg.BackoffMax, "backoff-max", player.DefaultBackoffMax, "longest wait before reconnecting")
	fs.TextVar(&level, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiosk-player -server URL [-token TOKEN] [-cache FILE] [-listen HOST:PORT]")
		fmt.Fprintln(stderr, "without a token the player shows a pairing code on its page until a technician adds the screen")
		fmt.Fprintln(stderr, "kiosk-player -version prints the version, then commit and build date")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, level, err
		}
		// flag has already printed the problem and the usage.
		return cfg, level, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return cfg, level, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}

	if cfg.Token == "" {
		token, err := tokenFromEnv(getenv)
		if err != nil {
			return cfg, level, err
		}
		cfg.Token = token
	}
	if *serverKey != "" {
		raw, err := os.ReadFile(*serverKey)
		if err != nil {
			return cfg, level, fmt.Errorf("%w: -server-key: %v", errUsage, err)
		}
		key := strings.TrimSpace(string(raw))
		if _, err := playlists.DecodeKey(key); err != nil {
			return cfg, level, fmt.Errorf("%w: -server-key %s: %v (use the line kiosk-server key show prints)", errUsage, *serverKey, err)
		}
		cfg.ServerKey = key
	}
	if *releaseKey != "" {
		raw, err := os.ReadFile(*releaseKey)
		if err != nil {
			return cfg, level, fmt.Errorf("%w: -release-key: %v", errUsage, err)
		}
		key := strings.TrimSpace(string(raw))
		if _, err := playlists.DecodeKey(key); err != nil {
			return cfg, level, fmt.Errorf("%w: -release-key %s: %v (use release.pub from kiosk-release keygen)", errUsage, *releaseKey, err)
		}
		cfg.ReleaseKey = key
	}
	// No token is fine: the player uses the credentials it saved when it
	// was paired, or shows a pairing code on its page.
	if strings.TrimSpace(cfg.Server) == "" {
		return cfg, level, fmt.Errorf("%w: missing -server URL", errUsage)
	}
	if !strings.HasPrefix(cfg.Server, "http://") && !strings.HasPrefix(cfg.Server, "https://") {
		return cfg, level, fmt.Errorf("%w: -server %q must start with http:// or https://", errUsage, cfg.Server)
	}
	return cfg, level, nil
}

func tokenFromEnv(getenv func(string) string) (string, error) {
	if t := strings.TrimSpace(getenv("KIOSK_PLAYER_TOKEN")); t != "" {
		return t, nil
	}
	path := getenv("KIOSK_PLAYER_TOKEN_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: KIOSK_PLAYER_TOKEN_FILE: %v", errUsage, err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("%w: KIOSK_PLAYER_TOKEN_FILE %s is empty", errUsage, path)
	}
	return t, nil
}
