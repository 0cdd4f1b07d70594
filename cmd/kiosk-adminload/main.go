// Command kiosk-adminload puts the read load of an office's open admin
// pages on a Kiosk server on this machine: screens lists a page at a time,
// searches, state filters, the fleet summary, items, schedules and one
// screen's detail, at a fixed rate (open loop), and reports latency
// percentiles per kind measured from when each request was due.
//
//	KIOSK_ADMIN_TOKEN=... kiosk-adminload -url http://127.0.0.1:8080 -rate 200 -duration 60s -server-pid $(pidof kiosk-server)
//
// It talks to loopback servers only and is bounded in rate, duration and
// requests in flight. Exit status: 0 when every request succeeded, 1 when
// some failed, 2 for bad flags.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

func main() {
	cfg, asJSON, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kiosk-adminload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, cfg)
	if err != nil && res.Requests == 0 {
		fmt.Fprintln(os.Stderr, "kiosk-adminload:", err)
		os.Exit(1)
	}
	if asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(res)
	} else {
		report(os.Stdout, cfg, res)
	}
	if res.Errors > 0 {
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, bool, error) {
	fs := flag.NewFlagSet("kiosk-adminload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := Config{Token: getenv("KIOSK_ADMIN_TOKEN")}
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "the server's base URL (loopback only)")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "admin API token (default $KIOSK_ADMIN_TOKEN)")
	fs.IntVar(&cfg.Rate, "rate", 200, fmt.Sprintf("requests per second, open loop (at most %d)", MaxRate))
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, fmt.Sprintf("how long (at most %s)", MaxDuration))
	fs.IntVar(&cfg.InFlight, "inflight", 128, "most requests outstanding at once")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "server process to sample RSS and CPU from (/proc)")
	seed := fs.Uint64("seed", 1, "random seed of the mix")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return Config{}, false, err
	}
	if fs.NArg() > 0 {
		return Config{}, false, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Seed = *seed
	return cfg, *asJSON, cfg.validate()
}

func report(w io.Writer, cfg Config, r Result) {
	fmt.Fprintf(w, "%d requests in %.1f s (%.0f/s achieved, %d/s asked), %d errors\n", r.Requests, r.Seconds, r.Rate, cfg.Rate, r.Errors)
	for _, e := range r.ErrorSamples {
		fmt.Fprintln(w, "  error:", e)
	}
	fmt.Fprintf(w, "%-15s %7s %7s %9s %9s %9s %9s\n", "kind", "count", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms")
	kinds := make([]string, 0, len(r.ByKind))
	for k := range r.ByKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		s := r.ByKind[k]
		fmt.Fprintf(w, "%-15s %7d %7d %9.1f %9.1f %9.1f %9.1f\n", k, s.Count, s.Errors, s.P50, s.P90, s.P99, s.Max)
	}
	o := r.Overall
	fmt.Fprintf(w, "%-15s %7d %7d %9.1f %9.1f %9.1f %9.1f\n", "all", r.Requests, r.Errors, o.P50, o.P90, o.P99, o.Max)
	if cfg.ServerPID > 0 {
		fmt.Fprintf(w, "server: peak RSS %.0f MB, CPU %.2f cores over the run\n", r.ServerRSSMB, r.ServerCPU)
	}
}
