package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kiosk/player"
	"kiosk/server"
)

// Defaults for Config fields left empty.
const (
	DefaultAddr   = server.DefaultAddr
	DefaultListen = player.DefaultListen
	// DefaultStartTimeout bounds how long the server and the player may take
	// to come up before the demo gives up with an error.
	DefaultStartTimeout = 30 * time.Second
	// DefaultHeartbeat is shorter than the player's own default so that the
	// screen status the banner's curl example shows moves while you watch.
	DefaultHeartbeat = 10 * time.Second
)

// Config is everything run needs; main fills it from flags and environment.
type Config struct {
	Addr   string // server listen address
	Listen string // player's kiosk page address

	// DataDir keeps server data, the player cache and the demo screen's
	// token. Empty means a fresh temporary directory removed on exit.
	DataDir string

	AdminToken string // required: the bearer token for the admin API

	Logger *slog.Logger // server, player and demo logs
	Out    io.Writer    // where the banner goes; os.Stdout when nil

	StartTimeout time.Duration
	Heartbeat    time.Duration

	// Started, if set, is called once both parts run and the content is in
	// place; tests use it to find the addresses bound to port 0.
	Started func(Info)

	// Browser is -browser: "auto" starts a headless Chromium found on PATH
	// on the screen page and takes one screenshot through the player's
	// screenshot command; "off" or "" starts none; anything else names the
	// browser to start.
	Browser string
	// Screenshot, if set, is called once the demo's screenshot is saved
	// (file) or failed (err).
	Screenshot func(file string, err error)
}

// Info describes a running demo.
type Info struct {
	ScreenURL  string // the player's kiosk page
	APIBase    string // e.g. http://127.0.0.1:8080/api/v1
	ServerURL  string // e.g. http://127.0.0.1:8080
	AdminToken string
	ScreenID   string
	DataDir    string
	TempData   bool // DataDir is removed on exit
	Seeded     bool // this run created the content
	Items      int
	Users      []DemoUser // one account per role, with passwords
	Browser    string     // the headless Chromium started, "" for none
	BrowserOff bool       // -browser off: none was looked for
}

// run starts the server, seeds it through the API, starts one player, and
// blocks until ctx ends or a part fails. It stops the player before the
// server so that the player does not spend its last moments reconnecting.
func run(ctx context.Context, cfg Config) (err error) {
	if cfg.AdminToken == "" {
		return errors.New("an admin token is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	log := cfg.Logger

	info := Info{AdminToken: cfg.AdminToken, DataDir: cfg.DataDir}
	if info.DataDir == "" {
		dir, err := os.MkdirTemp("", "kiosk-demo-")
		if err != nil {
			return fmt.Errorf("create temporary data dir: %w", err)
		}
		info.DataDir, info.TempData = dir, true
		defer func() {
			if rmErr := os.RemoveAll(dir); rmErr != nil {
				log.Warn("could not remove temporary data dir", "dir", dir, "error", rmErr)
			}
		}()
	} else if err := os.MkdirAll(info.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}

	// Bind both ports before starting anything, so a busy port fails fast
	// with advice instead of after the server has started.
	srvLn, err := listen(cfg.Addr, "addr")
	if err != nil {
		return err
	}
	plLn, err := listen(cfg.Listen, "listen")
	if err != nil {
		srvLn.Close()
		return err
	}
	info.ServerURL = "http://" + srvLn.Addr().String()
	info.APIBase = info.ServerURL + "/api/v1"
	info.ScreenURL = "http://" + plLn.Addr().String() + "/"

	// Both parts get their own context, detached from ctx, so shutdown can
	// stop them in order.
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSrv()
	srvReady := make(chan string, 1)
	srvDone := make(chan error, 1)
	go func() {
		defer srvLn.Close() // in case Run failed before serving
		srvDone <- server.Run(srvCtx, server.Config{
			Listener:   srvLn,
			DataDir:    filepath.Join(info.DataDir, "server"),
			AdminToken: cfg.AdminToken,
			Logger:     log.With("part", "server"),
			Ready:      srvReady,
		})
	}()
	srvRunning := true
	stopServer := func() error {
		if !srvRunning {
			return nil
		}
		srvRunning = false
		stopSrv()
		return <-srvDone
	}
	defer func() {
		if e := stopServer(); e != nil && err == nil {
			err = fmt.Errorf("server: %w", e)
		}
	}()
	if err := waitReady(ctx, "server", srvReady, srvDone, &srvRunning, cfg.StartTimeout); err != nil {
		plLn.Close()
		return err
	}

	seedCtx, cancelSeed := context.WithTimeout(ctx, cfg.StartTimeout)
	res, err := seed(seedCtx, newAPIClient(info.ServerURL, cfg.AdminToken), info.DataDir, log)
	cancelSeed()
	if err != nil {
		plLn.Close()
		return fmt.Errorf("seed demo content: %w", err)
	}
	info.ScreenID, info.Seeded, info.Items = res.ScreenID, res.Seeded, res.Items
	if info.Users, err = ensureUsers(ctx, newAPIClient(info.ServerURL, cfg.AdminToken), info.DataDir); err != nil {
		plLn.Close()
		return fmt.Errorf("create demo accounts: %w", err)
	}

	if err := os.MkdirAll(filepath.Join(info.DataDir, "player"), 0o700); err != nil {
		plLn.Close()
		return fmt.Errorf("create player cache dir: %w", err)
	}
	browserPath, err := findBrowser(cfg.Browser)
	if err != nil {
		plLn.Close()
		return err
	}
	info.BrowserOff = strings.TrimSpace(cfg.Browser) == "" || cfg.Browser == "off" || cfg.Browser == "none"
	devtoolsURL, devtoolsPort := "", 0
	if browserPath != "" {
		if devtoolsPort, err = freeLoopbackPort(); err != nil {
			plLn.Close()
			return fmt.Errorf("find a port for the browser's DevTools: %w", err)
		}
		devtoolsURL = "http://127.0.0.1:" + strconv.Itoa(devtoolsPort)
	}

	plCtx, stopPl := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPl()
	plReady := make(chan string, 1)
	plDone := make(chan error, 1)
	go func() {
		defer plLn.Close()
		plDone <- player.Run(plCtx, player.Config{
			Server:            info.ServerURL,
			Token:             res.Token,
			CacheFile:         filepath.Join(info.DataDir, "player", "cache.db"),
			Listener:          plLn,
			HeartbeatInterval: cfg.Heartbeat,
			DistrictName:      demoDistrictName,
			DevToolsURL:       devtoolsURL,
			Logger:            log.With("part", "player"),
			Ready:             plReady,
		})
	}()
	plRunning := true
	stopPlayer := func() error {
		if !plRunning {
			return nil
		}
		plRunning = false
		stopPl()
		return <-plDone
	}
	defer func() {
		// Deferred calls run last-in first-out: the player stops before the
		// server.
		if e := stopPlayer(); e != nil && err == nil {
			err = fmt.Errorf("player: %w", e)
		}
	}()
	if err := waitReady(ctx, "player", plReady, plDone, &plRunning, cfg.StartTimeout); err != nil {
		return err
	}

	var browser *headlessBrowser
	if browserPath != "" {
		browser, err = startHeadless(browserPath, info.ScreenURL, devtoolsPort, filepath.Join(info.DataDir, "browser"), io.Discard)
		if err != nil {
			log.Warn("could not start the headless browser; the demo runs without it", "error", err)
		} else {
			info.Browser = browserPath
			// Deferred after the player's stop, so it runs first.
			defer browser.stop()
		}
	}

	printBanner(cfg.Out, info)
	if cfg.Started != nil {
		cfg.Started(info)
	}
	if browser != nil {
		shotCtx, cancelShot := context.WithTimeout(ctx, 90*time.Second)
		shotDone := make(chan struct{})
		defer func() {
			cancelShot()
			<-shotDone
		}()
		go func() {
			defer close(shotDone)
			file := ""
			err := waitForPage(shotCtx, info.ScreenURL, browser)
			if err == nil {
				file, err = takeScreenshot(shotCtx, newAPIClient(info.ServerURL, cfg.AdminToken), info.ScreenID, filepath.Join(info.DataDir, "screenshot"))
			}
			if err != nil {
				if ctx.Err() == nil { // not when the demo is stopping
					fmt.Fprintf(cfg.Out, "\nScreenshot: not taken: %v\n", err)
				}
			} else {
				fmt.Fprintf(cfg.Out, "\nScreenshot of the screen, taken through the player's screenshot command:\n  %s\n  (also on the admin page: the screen's detail, 截图 Screenshot)\n", file)
			}
			if cfg.Screenshot != nil {
				cfg.Screenshot(file, err)
			}
		}()
	}

	select {
	case <-ctx.Done():
		fmt.Fprintln(cfg.Out, "\nStopping…")
		return nil
	case e := <-srvDone:
		srvRunning = false
		return fmt.Errorf("server stopped unexpectedly: %v", orStopped(e))
	case e := <-plDone:
		plRunning = false
		return fmt.Errorf("player stopped unexpectedly: %v", orStopped(e))
	}
}

// waitReady waits for a part to report its address. If the part's Run
// returns first, *running is cleared so shutdown does not wait on it again.
func waitReady(ctx context.Context, part string, ready <-chan string, done <-chan error, running *bool, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ready:
		return nil
	case e := <-done:
		*running = false
		return fmt.Errorf("%s failed to start: %v", part, orStopped(e))
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%s did not start within %s", part, timeout)
	}
}

func orStopped(err error) error {
	if err == nil {
		return errors.New("it returned without an error")
	}
	return err
}

// listen binds addr and turns "address already in use" into advice naming
// the flag to change.
func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is already in use (is another kiosk-demo or kiosk-server running?); pick a free one, e.g. -%s %s", addr, flag, nextPort(addr))
	}
	return nil, fmt.Errorf("listen on %s (-%s): %w", addr, flag, err)
}

// nextPort suggests the address one port up.
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1:0"
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p >= 65535 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(p+1))
}

// printBanner tells the person at the terminal where everything is.
func printBanner(w io.Writer, in Info) {
	content := fmt.Sprintf("seeded %d demo items", in.Items)
	if !in.Seeded {
		content = fmt.Sprintf("reused the %d items already in the data dir", in.Items)
	}
	data := in.DataDir
	if in.TempData {
		data += " (temporary, removed on exit; keep one with -data DIR)"
	}
	auth := shellQuote("Authorization: Bearer " + in.AdminToken)
	var accounts strings.Builder
	for _, u := range in.Users {
		fmt.Fprintf(&accounts, "    %-11s %-11s password %s\n", u.Username, u.Role, u.Password)
	}
	fmt.Fprintf(w, `
Kiosk demo is running: one server, one screen (%s), %s.

  Screen:       %s   <- open in a browser, F11 for full screen
  Screen state: %sstate
  Admin page:   %s   <- sign in with an account below
  API base:     %s
  Break-glass:  %s   (admin token for scripts: publishes without review)
  Data dir:     %s
  Browser:      %s

  Accounts (one per role; an editor's changes reach the screen once the
  reviewer, or the admin, approves them in 变更/审核 Review):
`+accounts.String()+`
Try the API:
  curl -H %s %s/items
  curl -H %s %s/screens/%s

Press Ctrl+C to stop.
`, demoScreenName, content, in.ScreenURL, in.ScreenURL,
		in.ServerURL+"/admin/", in.APIBase, in.AdminToken, data, browserLine(in),
		auth, in.APIBase, auth, in.APIBase, in.ScreenID)
}

// shellQuote quotes s for a POSIX shell, so a token from the environment
// pastes safely whatever it contains.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// browserLine says which headless browser shows the screen, or how to get
// one.
func browserLine(in Info) string {
	switch {
	case in.Browser != "":
		return "headless Chromium (" + in.Browser + ") on the screen page, started as deploy/kiosk-browser.sh does; a screenshot follows"
	case in.BrowserOff:
		return "none (-browser off)"
	default:
		return "no Chromium found: install it (apt install chromium) to see the screenshot command, or name one with -browser PATH"
	}
}
