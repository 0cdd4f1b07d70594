// Command kiosk-loadtest opens many device websockets to a Kiosk server on
// this machine and holds them, to measure what idle screens cost the server
// (memory per connection, push fan-out, reconnect storms).
//
// It only connects to loopback addresses and is bounded in connections and
// time, so it cannot be pointed at a production server by accident.
//
//	kiosk-loadtest -url ws://127.0.0.1:8080/api/v1/device/ws -tokens tokens.txt -hold 2m -server-pid $(pidof kiosk-server)
//
// With -create N it first creates N screens through the admin API (needs
// KIOSK_ADMIN_TOKEN) and writes their device tokens to the -tokens file.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kiosk-loadtest:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("load test failed", "error", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("kiosk-loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.URL, "url", DefaultURL, "device websocket URL (loopback only)")
	fs.StringVar(&cfg.TokensFile, "tokens", "", "file with one device token per line (written by -create)")
	fs.IntVar(&cfg.Create, "create", 0, "first create this many screens via the admin API and write their tokens to -tokens")
	fs.IntVar(&cfg.Conns, "n", 0, "connections to open (default: one per token)")
	fs.DurationVar(&cfg.Hold, "hold", DefaultHold, fmt.Sprintf("how long to hold the connections once open (at most %s)", MaxHold))
	fs.IntVar(&cfg.DialRate, "rate", DefaultDialRate, "new connections per second")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 0, "send a heartbeat this often on every connection (0: never)")
	fs.BoolVar(&cfg.Ack, "ack", true, "answer version pushes with an applied ack")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "server process to sample RSS from (/proc/PID/status) before and after connecting")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.AdminToken = getenv("KIOSK_ADMIN_TOKEN")
	return cfg, cfg.validate()
}
