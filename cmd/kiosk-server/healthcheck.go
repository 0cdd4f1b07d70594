package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// runHealthcheck is "kiosk-server healthcheck [-url URL] [-timeout D]": it
// asks a running server's /healthz and exits 0 when the answer is 200, else
// 1 with the reason on stderr. The container image uses it as its
// HEALTHCHECK (deploy/Containerfile): a distroless image has no curl.
//
// A bad command line exits 1 too, not 2: Docker and Podman reserve 2 in a
// healthcheck, and either way the container is not known to be healthy.
func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kiosk-server healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "http://127.0.0.1:8080/healthz", "the server's health URL")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiosk-server healthcheck [-url http://127.0.0.1:8080/healthz] [-timeout 5s]")
		fmt.Fprintln(stderr, "exit status 0: the server answered 200; 1: anything else")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kiosk-server healthcheck: unexpected arguments %q\n", fs.Args())
		return 1
	}
	if err := healthcheck(*target, *timeout, stdout); err != nil {
		fmt.Fprintf(stderr, "kiosk-server healthcheck: %v\n", err)
		return 1
	}
	return 0
}

// healthcheck GETs target and wants a 200; it prints the answer's body
// (a line of JSON) either way, and in the error the status and body.
func healthcheck(target string, timeout time.Duration, stdout io.Writer) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-url %q: want http://HOST:PORT/healthz", target)
	}
	if timeout <= 0 {
		return fmt.Errorf("-timeout %s: want a positive duration", timeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kiosk-server-healthcheck")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	// /healthz answers a line of JSON; more than this is not our server.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	text := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", u.Redacted(), resp.Status, text)
	}
	fmt.Fprintln(stdout, text)
	return nil
}
