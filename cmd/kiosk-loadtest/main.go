// Command kiosk-loadtest simulates many screens against a Kiosk server on
// this machine, each doing what a real player does (hello, heartbeats,
// clock probes, pings, proof-of-play uploads, each new manifest taken from
// the socket frame that pushes it (or, with -push-manifests=false or a
// server that only announces, fetched on its version notice), asset downloads for a share of screens, applied acks,
// command results, reconnects with the player's backoff), and reports
// what the server did from the tool's own clock: publish → received and
// → acked percentiles, a reconnect storm's return, errors by kind, and
// the server process's RSS and CPU (and, for publishes, its CPU per
// publish and its own fan-out time, read from its /metrics).
//
// It only talks to loopback addresses and is bounded in connections and
// time, so it cannot be pointed at a production server by accident.
//
//	kiosk-loadtest -server http://127.0.0.1:8080 -tokens t.txt -create 2000       # import screens, write tokens
//	kiosk-loadtest -server http://127.0.0.1:8080 -tokens t.txt -publishes 30 -server-pid $PID
//	kiosk-loadtest -server http://127.0.0.1:8080 -tokens t.txt -storm -ready-file r -server-pidfile p
//	kiosk-loadtest -server http://127.0.0.1:8080 -tokens t.txt -hold 1m -server-pid $PID
//
// Creating screens and publishing need an admin token: KIOSK_ADMIN_TOKEN
// (the server's break-glass token) or -admin-token-file.
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
	"runtime/debug"
	"strings"
	"syscall"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kiosk-loadtest:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if os.Getenv("GOGC") == "" {
		// Thousands of simulated players in one heap make the collector
		// scan thousands of goroutine stacks each cycle, and at the
		// default pace its assists took a tenth of the tool's CPU, on
		// the cores the server being measured runs on. Memory is cheap
		// here; GOGC set in the environment still wins.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log, os.Stdout); err != nil {
		log.Error("load test failed", "error", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("kiosk-loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	var legacyURL, tokenFile string
	fs.StringVar(&cfg.Server, "server", DefaultServer, "server base URL (loopback only)")
	fs.StringVar(&legacyURL, "url", "", "device websocket URL ws://HOST:PORT/...; an older spelling of -server")
	fs.StringVar(&cfg.TokensFile, "tokens", "", "file with one device token per line (written by -create)")
	fs.IntVar(&cfg.Create, "create", 0, "import this many screens (POST /screens/import), write their tokens to -tokens and exit")
	fs.StringVar(&tokenFile, "admin-token-file", "", "file holding the admin API token (default: $KIOSK_ADMIN_TOKEN)")
	fs.IntVar(&cfg.Conns, "n", 0, "screens to simulate (default: one per token)")
	fs.IntVar(&cfg.DialRate, "rate", DefaultDialRate, "screens started per second")
	fs.DurationVar(&cfg.Hold, "hold", DefaultHold, "without -publishes or -storm: how long to hold the screens once synced")
	fs.DurationVar(&cfg.MaxDuration, "max-duration", DefaultMaxDuration, fmt.Sprintf("hard limit on the whole run (at most %s)", MaxDuration))
	fs.IntVar(&cfg.Publishes, "publishes", 0, "publishes to make and time (each edits the title of a notice all screens carry)")
	fs.DurationVar(&cfg.PublishEvery, "publish-every", DefaultPublishEvery, "interval between publishes")
	fs.DurationVar(&cfg.Drain, "drain", DefaultDrain, "after the last publish, wait at most this long for every ack")
	fs.DurationVar(&cfg.Settle, "settle", DefaultSettle, "steady time sampled before publishes and after a storm")
	fs.BoolVar(&cfg.Storm, "storm", false, "wait for the server to go away and come back (kill -9 and restart it), and time the return; with an admin token, screens get content first")
	fs.StringVar(&cfg.ReadyFile, "ready-file", "", "write this file once every screen is synced")
	fs.Float64Var(&cfg.AssetShare, "asset-share", DefaultAssetShare, "share of screens (0..1) that download the assets of each new version")
	fs.IntVar(&cfg.AssetBytes, "asset-bytes", DefaultAssetBytes, "size of the image the publish setup uploads")
	fs.IntVar(&cfg.ItemS, "item-seconds", 10, "how long the publish setup's notice stays on screen (one play each)")
	fs.IntVar(&cfg.HTTPConns, "http-conns", DefaultHTTPConns, "HTTP keep-alive connections shared by all screens for manifests, assets and plays (a real fleet holds one per screen; this bound keeps the tool and the server under 20,000 open files)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", DefaultHeartbeat, "heartbeat period (the player's is 30s)")
	fs.DurationVar(&cfg.PlaysEvery, "plays-every", DefaultPlaysEvery, "proof-of-play upload period (the player's is 10s)")
	fs.DurationVar(&cfg.PingEvery, "ping-every", DefaultPingEvery, "websocket ping period (the player's is 25s)")
	fs.DurationVar(&cfg.TimeSyncEvery, "time-sync-every", DefaultTimeSync, "clock probe period (the player's is 5m)")
	fs.DurationVar(&cfg.BackoffMin, "backoff-min", DefaultBackoffMin, "reconnect backoff floor (the player's is 500ms)")
	fs.DurationVar(&cfg.BackoffMax, "backoff-max", DefaultBackoffMax, "reconnect backoff cap (the player's is 30s)")
	fs.BoolVar(&cfg.ReceiveOnly, "receive-only", false, "once synced, screens only read pushes (no acks, heartbeats, plays, probes or downloads), as a pub/sub benchmark's clients do: the server's fan-out on its own, to compare with such systems; acked columns stay empty")
	fs.BoolVar(&cfg.PushManifests, "push-manifests", true, "screens accept manifests pushed in the socket frame (false: older players, a version notice then GET /device/manifest)")
	fs.BoolVar(&cfg.VerifySignatures, "verify-signatures", false, "verify every manifest's Ed25519 signature as the player does (CPU the server's cores then share)")
	fs.StringVar(&cfg.PlayerVersion, "player-version", "loadtest", "player version sent in hello and heartbeats")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "server process to sample RSS and CPU from (/proc/PID)")
	fs.StringVar(&cfg.ServerPIDFile, "server-pidfile", "", "file holding the server's PID, read at every sample (follows a restart)")
	fs.StringVar(&cfg.JSONPath, "json", "", `also write the report as JSON to this file ("-": JSON on stdout instead of text)`)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if legacyURL != "" {
		base, ok := strings.CutSuffix(legacyURL, pathWS)
		if !ok || !strings.HasPrefix(base, "ws://") {
			return Config{}, fmt.Errorf("-url %q: want ws://HOST:PORT%s (or use -server http://HOST:PORT)", legacyURL, pathWS)
		}
		cfg.Server = "http://" + strings.TrimPrefix(base, "ws://")
	}
	cfg.AdminToken = getenv("KIOSK_ADMIN_TOKEN")
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return Config{}, fmt.Errorf("-admin-token-file: %w", err)
		}
		cfg.AdminToken = strings.TrimSpace(string(b))
	}
	cfg.fillDefaults()
	return cfg, cfg.validate()
}
