// Command kiosk-demo runs a whole Kiosk system on loopback with one command:
// a server, one player, and demo content seeded through the real API.
//
//	go run ./cmd/kiosk-demo [-addr 127.0.0.1:8080] [-listen 127.0.0.1:8090] [-data DIR] [-browser auto|off|PATH]
//
// The admin token is KIOSK_ADMIN_TOKEN if set, else a random one per run.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "time/tzdata" // schedules use Asia/Shanghai even where the OS has no zoneinfo
)

func main() {
	fs := flag.NewFlagSet("kiosk-demo", flag.ContinueOnError)
	addr := fs.String("addr", DefaultAddr, "server listen address (JSON API, device websocket)")
	listen := fs.String("listen", DefaultListen, "player kiosk page address (open it in a browser)")
	data := fs.String("data", "", "data dir to keep between runs (default: a fresh temporary dir)")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	browser := fs.String("browser", "auto", "headless Chromium on the screen page, for the screenshot command: auto (if installed), off, or a path")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "kiosk-demo: -log-level: %v\n", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	token := strings.TrimSpace(os.Getenv("KIOSK_ADMIN_TOKEN"))
	if token == "" {
		// A fresh secret per run: the demo listens on loopback only, but
		// nothing else on the machine should guess its admin API.
		token = rand.Text()
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := run(ctx, Config{
		Addr:       *addr,
		Listen:     *listen,
		DataDir:    *data,
		AdminToken: token,
		Logger:     log,
		Out:        os.Stdout,
		Browser:    *browser,
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "kiosk-demo: %v\n", err)
		stop()
		os.Exit(1)
	}
}
