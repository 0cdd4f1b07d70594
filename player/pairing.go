package player

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/player/internal/display"
	"kiosk/player/internal/pairing"
)

// credentials decides what the player authenticates with: the token it was
// given (scripted installs), else the credentials it saved when it was
// paired, else it pairs now: the kiosk page shows a code until a technician
// adopts it in the admin page. It returns the device token and the
// listener the kiosk page is to be served on (nil: the caller listens).
func credentials(ctx context.Context, cfg Config, c *cache.Cache, log *slog.Logger) (string, net.Listener, error) {
	if cfg.Token != "" {
		return cfg.Token, cfg.Listener, nil
	}
	cr, ok, err := c.Credentials()
	if err != nil {
		// Unreadable credentials are as good as none: pairing again is
		// what a technician would do by hand anyway.
		log.Error("saved credentials unreadable; pairing again", "error", err)
	}
	if ok {
		if cr.Server != "" && cr.Server != cfg.Server {
			log.Warn("using the credentials saved when this screen was paired with another server address",
				"paired_with", cr.Server, "server", cfg.Server)
		}
		log.Info("using the credentials saved at pairing", "screen", cr.ScreenID, "paired_at", cr.PairedAt)
		return cr.Token, cfg.Listener, nil
	}

	if u, err := url.Parse(cfg.Server); err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return "", nil, fmt.Errorf("server URL %q: scheme must be http or https, with a host", cfg.Server)
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return "", nil, fmt.Errorf("listen for the kiosk page: %w", err)
		}
	}
	shared := shareListener(ln)
	cr, err = pair(ctx, cfg, c, shared.view(false), log)
	if err != nil {
		shared.Close()
		return "", nil, err
	}
	// The page reconnects its event stream by itself and lands on the
	// player's own page, which no longer shows the code.
	return cr.Token, shared.view(true), nil
}

// pair serves the kiosk page with the pairing code on ln until the screen
// is adopted, then saves and returns the credentials.
func pair(ctx context.Context, cfg Config, c *cache.Cache, ln net.Listener, log *slog.Logger) (cache.Credentials, error) {
	key, err := c.DeviceKey()
	if err != nil {
		return cache.Credentials{}, err
	}
	disp := display.New(display.Options{Media: c, Now: cfg.Now, Logger: log, DistrictName: cfg.DistrictName})
	pctx, stop := context.WithCancel(ctx)
	srv := &http.Server{
		Handler:           hostGuard(disp.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return pctx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); disp.Run(pctx) }()
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve the pairing page", "error", err)
		}
	}()
	log.Info("no device token: pairing; the kiosk page shows the code", "server", cfg.Server, "page", "http://"+ln.Addr().String()+"/")
	a, err := pairing.Run(ctx, pairing.Config{
		Server: cfg.Server,
		Key:    key,
		OnCode: func(code pairing.Code) {
			if code.Code == "" {
				disp.SetPairing(nil)
				return
			}
			disp.SetPairing(&display.Pairing{Code: code.Code, ExpiresAt: code.ExpiresAt, Server: cfg.Server})
		},
		PollEvery:  cfg.PairPollInterval,
		BackoffMin: cfg.BackoffMin,
		BackoffMax: cfg.BackoffMax,
		Logger:     log.With("component", "pairing"),
		Now:        cfg.Now,
	})
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	if serr := srv.Shutdown(sctx); serr != nil {
		srv.Close()
	}
	cancel()
	wg.Wait()
	if err != nil {
		return cache.Credentials{}, err
	}
	if err := checkAdoptionKey(c, a.ServerKey); err != nil {
		return cache.Credentials{}, err
	}
	cr := cache.Credentials{
		Token: a.Token, ScreenID: a.ScreenID, ScreenName: a.ScreenName, Server: cfg.Server,
		ServerKey: a.ServerKey, DeviceKey: key, PairedAt: cfg.Now().UTC(),
	}
	if err := c.SaveCredentials(cr); err != nil {
		return cache.Credentials{}, err
	}
	if a.ServerKey != "" {
		// From now on only manifests this key signed apply here.
		if err := c.Trust(a.ServerKey); err != nil {
			return cache.Credentials{}, err
		}
	}
	log.Info("paired", "screen", a.ScreenID, "name", a.ScreenName, "server_key", a.ServerKey != "")
	return cr, nil
}

// sharedListener lets the pairing page and then the player's own page be
// served on one listener in turn: each gets a view whose Close ends only
// its own http.Server; the last view's Close closes the listener. The
// address the kiosk browser loads never changes.
type sharedListener struct {
	net.Listener
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	err    error // Accept's error, once closed is closed by it
}

func shareListener(ln net.Listener) *sharedListener {
	s := &sharedListener{Listener: ln, conns: make(chan net.Conn), closed: make(chan struct{})}
	go s.accept()
	return s
}

func (s *sharedListener) accept() {
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			s.once.Do(func() { s.err = err; close(s.closed) })
			return
		}
		select {
		case s.conns <- c:
		case <-s.closed:
			c.Close()
			return
		}
	}
}

// Close closes the listener itself.
func (s *sharedListener) Close() error {
	err := s.Listener.Close()
	s.once.Do(func() { s.err = net.ErrClosed; close(s.closed) })
	return err
}

func (s *sharedListener) view(last bool) net.Listener {
	return &listenerView{s: s, last: last, done: make(chan struct{})}
}

type listenerView struct {
	s    *sharedListener
	last bool
	done chan struct{}
	once sync.Once
}

func (v *listenerView) Accept() (net.Conn, error) {
	select {
	case <-v.done:
		return nil, net.ErrClosed
	default:
	}
	select {
	case c := <-v.s.conns:
		return c, nil
	case <-v.done:
		return nil, net.ErrClosed
	case <-v.s.closed:
		return nil, v.s.err
	}
}

func (v *listenerView) Close() error {
	v.once.Do(func() { close(v.done) })
	if v.last {
		return v.s.Close()
	}
	return nil
}

func (v *listenerView) Addr() net.Addr { return v.s.Addr() }

// checkAdoptionKey: a player that trusted a server key before (it was
// paired, then forgot its credential) accepts an adoption only from that
// server. A man in the middle who made it forget, by refusing its token
// over plain HTTP, must not get to pin his own key with a forged answer.
func checkAdoptionKey(c *cache.Cache, key string) error {
	pinned, err := c.TrustedKeys()
	if err != nil {
		return err
	}
	if len(pinned) > 0 && !slices.Contains(pinned, key) {
		return fmt.Errorf("refusing the pairing answer: it names a server key this player does not trust (%d pinned before); pass -server-key to pin a new server deliberately", len(pinned))
	}
	return nil
}
