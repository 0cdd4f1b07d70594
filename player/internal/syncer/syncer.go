// Package syncer keeps a screen in step with the server: one websocket for
// notices (or the new manifest itself, pushed and batch-signed),
// heartbeats and clock probes, plain HTTP for the assets and for the
// manifests the server only announces, every byte verified and committed
// to the local cache before the screen switches. It never makes the screen
// wait for the network: whatever fails, the applied version keeps playing
// and the client retries with jittered, capped backoff.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/player/internal/cache"
	"kiosk/playlists"
)

// Defaults for Config fields left zero.
const (
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultTimeSyncInterval  = 5 * time.Minute
	DefaultPingInterval      = 25 * time.Second
	DefaultBackoffMin        = 500 * time.Millisecond
	DefaultBackoffMax        = 30 * time.Second
	// DefaultIdleTimeout aborts an asset download that received no byte for
	// this long. A total timeout would kill big videos on slow links.
	DefaultIdleTimeout = 60 * time.Second
)

// Fixed limits. They are not configuration because nobody should need to
// tune them; they only bound how long a dead peer can hold us.
const (
	dialTimeout     = 15 * time.Second
	welcomeTimeout  = 15 * time.Second
	writeTimeout    = 10 * time.Second
	manifestTimeout = 60 * time.Second
	// maxManifestBytes bounds what a hostile or broken server can make the
	// player buffer. Real manifests are a few hundred KiB.
	maxManifestBytes = 32 << 20
)

// API paths on the server, relative to Config.Server.
const (
	pathWS       = "/api/v1/device/ws"
	pathManifest = "/api/v1/device/manifest"
	pathAssets   = "/api/v1/device/assets/"
)

// ErrUnauthorized means the server rejected the device token.
var ErrUnauthorized = errors.New("server rejected the device token (401); check -token / KIOSK_PLAYER_TOKEN")

// Config is what New needs. Server, Token and Cache are required.
type Config struct {
	Server        string // base URL, http:// or https://
	Token         string // device token
	Cache         *cache.Cache
	PlayerVersion string // reported in hello and heartbeats

	// OnApply is called after a new manifest is committed to the cache,
	// before the server is told; the display switches to it here.
	OnApply func(*playlists.Manifest)
	// Current and PageAlive feed heartbeats from the display; both may be nil.
	Current   func() (e playlists.Entry, since time.Time, ok bool)
	PageAlive func() bool
	// OnCommand executes a remote command and returns its result. It runs
	// on its own goroutine per command and should honour ctx; nil answers
	// every command with a failure (commands.go).
	OnCommand func(ctx context.Context, cmd playlists.Command) playlists.CommandResult
	// OnResultSent, if set, hears each command result once it was written
	// to the server (the player restarts only after saying so).
	OnResultSent func(playlists.CommandResult)
	// Player updates: OnUpdate hears a roll-out's offer (it must not
	// block), UpdateStatus goes into every heartbeat, and OnSynced is
	// called whenever the applied manifest is the one the server named
	// (a new player version's proof that it works). All may be nil.
	OnUpdate     func(playlists.UpdateOffer)
	UpdateStatus func() *playlists.UpdateStatus
	OnSynced     func()
	// OnRefused, if set, hears every connection the server refused for
	// the token (401), with how many in a row; a welcome resets the count.
	// The player uses it to drop a paired credential the server no longer
	// knows and show a pairing code again.
	OnRefused func(inARow int)

	HeartbeatInterval time.Duration
	TimeSyncInterval  time.Duration
	PingInterval      time.Duration
	BackoffMin        time.Duration
	BackoffMax        time.Duration
	IdleTimeout       time.Duration
	// PlayUploadInterval is how often recorded plays are uploaded;
	// DefaultPlayUploadInterval when zero (see plays.go).
	PlayUploadInterval time.Duration

	Logger *slog.Logger
	// Now is the screen's own clock; the measured offset is relative to it.
	Now func() time.Time
	// HTTPClient fetches manifests and assets; it must not have a total
	// Timeout (big assets take long). nil means a client with dial, TLS and
	// response-header timeouts only.
	HTTPClient *http.Client
}

// Client syncs one screen. Create it with New and start it with Run.
type Client struct {
	cfg    Config
	log    *slog.Logger
	base   string // server base URL without trailing slash
	wsURL  string
	http   *http.Client
	dialer *websocket.Dialer
	start  time.Time

	online   atomic.Bool
	offsetNS atomic.Int64
	measured atomic.Bool // a clock probe has answered at least once
	failures atomic.Int64

	wantSig    chan struct{} // the wanted version changed
	appliedSig chan struct{} // a version was applied; tell the server
	hbSig      chan struct{} // send a heartbeat now (SendHeartbeat)
	cmds       commandState  // remote commands; see commands.go
	plays      playState     // proof-of-play upload; see plays.go

	mu             sync.Mutex
	connErr        string
	syncErr        string
	rejected       string // why the last manifest was refused; see trust.go
	screenID       string
	screenName     string
	wanted         string
	pushed         *playlists.ManifestPush // the wanted version's pushed manifest, if the server sent it
	inflight       string
	inflightCancel context.CancelFunc
}

// New checks cfg and fills defaults.
func New(cfg Config) (*Client, error) {
	if cfg.Cache == nil {
		return nil, errors.New("syncer: no cache")
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("syncer: no device token")
	}
	u, err := url.Parse(strings.TrimSpace(cfg.Server))
	if err != nil {
		return nil, fmt.Errorf("syncer: server URL %q: %w", cfg.Server, err)
	}
	var wsScheme string
	switch u.Scheme {
	case "http":
		wsScheme = "ws"
	case "https":
		wsScheme = "wss"
	default:
		return nil, fmt.Errorf("syncer: server URL %q: scheme must be http or https", cfg.Server)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("syncer: server URL %q: no host", cfg.Server)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	base := u.String()
	u.Scheme = wsScheme
	wsURL := u.String() + pathWS

	setDefault(&cfg.HeartbeatInterval, DefaultHeartbeatInterval)
	setDefault(&cfg.TimeSyncInterval, DefaultTimeSyncInterval)
	setDefault(&cfg.PingInterval, DefaultPingInterval)
	setDefault(&cfg.BackoffMin, DefaultBackoffMin)
	setDefault(&cfg.BackoffMax, DefaultBackoffMax)
	setDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	setDefault(&cfg.PlayUploadInterval, DefaultPlayUploadInterval)
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = cfg.BackoffMin
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = newHTTPClient()
	}
	return &Client{
		cfg:   cfg,
		log:   cfg.Logger,
		base:  base,
		wsURL: wsURL,
		http:  cfg.HTTPClient,
		dialer: &websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: dialTimeout,
			// Frames are small JSON; big buffers would only cost memory.
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
		},
		start:      time.Now(),
		wantSig:    make(chan struct{}, 1),
		appliedSig: make(chan struct{}, 1),
		hbSig:      make(chan struct{}, 1),
		cmds:       newCommandState(),
		plays:      playState{sig: make(chan struct{}, 1)},
	}, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4,
		ForceAttemptHTTP2:     true,
	}}
}

// SendHeartbeat sends a heartbeat now rather than at the next tick, if
// connected: an update's progress should reach the server before the
// player exits for it.
func (c *Client) SendHeartbeat() { signal(c.hbSig) }

// Online reports whether the websocket is connected and welcomed.
func (c *Client) Online() bool { return c.online.Load() }

// ClockOffset is server time minus this screen's clock, as last measured.
func (c *Client) ClockOffset() time.Duration { return time.Duration(c.offsetNS.Load()) }

// DownloadFailures counts failed update attempts since the last success.
func (c *Client) DownloadFailures() int { return int(c.failures.Load()) }

// LastError is the most relevant current problem: a failing update first,
// then a failing connection; "" when all is well.
func (c *Client) LastError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.syncErr != "" {
		return c.syncErr
	}
	return c.connErr
}

// Screen is the screen id and name from the last welcome; before the first
// welcome of this run, what the cache remembers from an earlier one.
func (c *Client) Screen() (id, name string) {
	c.mu.Lock()
	id, name = c.screenID, c.screenName
	c.mu.Unlock()
	if id == "" {
		return c.cfg.Cache.Screen()
	}
	return id, name
}

func (c *Client) setConnErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.connErr = ""
		return
	}
	c.connErr = err.Error()
}

func (c *Client) setSyncErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.syncErr = ""
		return
	}
	c.syncErr = err.Error()
}

// Run connects, keeps the screen in sync and reconnects until ctx ends. It
// returns nil once ctx is done; it never gives up on its own, because a
// screen has nothing better to do than try again.
func (c *Client) Run(ctx context.Context) error {
	// Commands still running end with ctx; wait so none outlives Run.
	defer c.cmds.wg.Wait()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.fetchLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		c.playLoop(ctx)
	}()
	defer wg.Wait()

	attempt := 0
	refused := 0
	lastLogged := ""
	for {
		began := time.Now()
		welcomed, err := c.session(ctx)
		c.online.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case welcomed:
			refused = 0
		case errors.Is(err, ErrUnauthorized):
			refused++
			if c.cfg.OnRefused != nil {
				c.cfg.OnRefused(refused)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		// A connection that outlived the longest backoff means the server is
		// not flapping: start again from the shortest wait. A server that
		// accepts and drops at once keeps growing the wait.
		if welcomed && time.Since(began) >= c.cfg.BackoffMax {
			attempt = 0
		}
		delay := backoff(c.cfg.BackoffMin, c.cfg.BackoffMax, attempt, randFloat)
		attempt++
		if err != nil {
			c.setConnErr(err)
			level := slog.LevelWarn
			if errors.Is(err, ErrUnauthorized) {
				level = slog.LevelError
			}
			// During a long outage the same failure repeats every BackoffMax;
			// on an SD card that is worth saying only now and then.
			if err.Error() == lastLogged && attempt%10 != 1 {
				level = slog.LevelDebug
			}
			lastLogged = err.Error()
			c.log.Log(ctx, level, "sync connection failed; playing from cache", "error", err, "attempt", attempt, "retry_in", delay.Round(time.Millisecond))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// backoff is the reconnect and retry wait (playlists.Backoff, which the
// load tool's simulated players share).
var backoff = playlists.Backoff

// randFloat is the jitter source; math/rand/v2's top-level functions are
// safe for concurrent use.
var randFloat = rand.Float64

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
