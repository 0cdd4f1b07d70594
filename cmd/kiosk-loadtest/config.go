package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"kiosk/playlists"
)

// Defaults and hard bounds. The bounds keep a mistyped flag from exhausting
// the machine the server under test runs on.
const (
	DefaultServer       = "http://127.0.0.1:8080"
	DefaultHold         = time.Minute
	DefaultMaxDuration  = 15 * time.Minute
	DefaultDialRate     = 500
	DefaultPublishEvery = 2 * time.Second
	DefaultDrain        = 15 * time.Second
	DefaultSettle       = 5 * time.Second
	DefaultHTTPConns    = 256
	DefaultAssetShare   = 0.1
	DefaultAssetBytes   = 64 << 10

	// The player's own periods (player/internal/syncer).
	DefaultHeartbeat  = 30 * time.Second
	DefaultPlaysEvery = 10 * time.Second
	DefaultPingEvery  = 25 * time.Second
	DefaultTimeSync   = 5 * time.Minute
	DefaultBackoffMin = 500 * time.Millisecond
	DefaultBackoffMax = 30 * time.Second

	// MaxConns stays under the 20,000 open files a process may hold here:
	// each screen is one socket, plus the shared HTTP pool.
	MaxConns       = 19000
	MaxDuration    = time.Hour
	MaxDialRate    = 5000
	MaxPublishes   = 1000
	MaxHTTPConns   = 4096
	MaxAssetBytes  = 8 << 20
	minPeriod      = time.Second
	minPublishStep = 100 * time.Millisecond
)

// Config is one load-test run.
type Config struct {
	Server     string // http:// base URL of the server (loopback only)
	TokensFile string
	Create     int    // create this many screens (bulk import), write tokens, exit
	AdminToken string // break-glass or personal token, for Create and publishes
	Conns      int    // 0 = one per token
	DialRate   int

	// How the run ends: after Publishes (and Drain), after the outage of
	// Storm, or after Hold; never later than MaxDuration.
	Hold         time.Duration
	MaxDuration  time.Duration
	Publishes    int
	PublishEvery time.Duration
	Drain        time.Duration // after the last publish, wait this long at most for acks
	Settle       time.Duration // steady-state sampling before publishes and after a storm
	Storm        bool          // wait for the server to go away and come back, and time the return
	ReadyFile    string        // written once every screen is synced (scripts wait on it)

	AssetShare float64 // share of screens that download the assets of each new version
	AssetBytes int     // size of the PNG the setup uploads
	ItemS      int     // how long the publish notice stays on screen, seconds
	HTTPConns  int     // HTTP keep-alive connections shared by all screens

	Heartbeat     time.Duration
	PlaysEvery    time.Duration
	PingEvery     time.Duration
	TimeSyncEvery time.Duration
	BackoffMin    time.Duration
	BackoffMax    time.Duration

	VerifySignatures bool   // check each manifest's Ed25519 signature (costs the tool CPU)
	PlayerVersion    string // sent in hello and heartbeats

	// PushManifests makes the screens' hello accept manifests pushed in
	// the frame (playlists.AcceptManifest); false simulates older players,
	// which get a version notice and GET the manifest.
	PushManifests bool

	// ReceiveOnly: once every screen has synced, screens only read what
	// the server pushes (no applied acks, heartbeats, plays, clock probes,
	// manifest or asset downloads; pings go on), as the clients of a
	// pub/sub benchmark do. It times the server's fan-out on its own, to
	// compare with such systems' published figures; what a real fleet
	// costs is the default run.
	ReceiveOnly bool

	ServerPID     int    // sample this process's RSS and CPU
	ServerPIDFile string // or re-read the PID from this file at every sample (restarts)
	JSONPath      string // also write the report as JSON here ("-": JSON on stdout instead of text)

	// OnSynced, if set, is called once every screen is connected and
	// synced (tests use it to restart the server for a storm).
	OnSynced func()
}

func (c *Config) fillDefaults() {
	set := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	set(&c.MaxDuration, DefaultMaxDuration)
	set(&c.PublishEvery, DefaultPublishEvery)
	set(&c.Drain, DefaultDrain)
	set(&c.Settle, DefaultSettle)
	set(&c.Heartbeat, DefaultHeartbeat)
	set(&c.PlaysEvery, DefaultPlaysEvery)
	set(&c.PingEvery, DefaultPingEvery)
	set(&c.TimeSyncEvery, DefaultTimeSync)
	set(&c.BackoffMin, DefaultBackoffMin)
	set(&c.BackoffMax, DefaultBackoffMax)
	if c.Hold == 0 {
		c.Hold = DefaultHold
	}
	if c.DialRate == 0 {
		c.DialRate = DefaultDialRate
	}
	if c.HTTPConns == 0 {
		c.HTTPConns = DefaultHTTPConns
	}
	if c.ItemS == 0 {
		c.ItemS = playlists.DefaultDuration
	}
	if c.AssetBytes == 0 {
		c.AssetBytes = DefaultAssetBytes
	}
	if c.PlayerVersion == "" {
		c.PlayerVersion = "loadtest"
	}
}

func (c *Config) validate() error {
	if _, err := loopbackBase(c.Server); err != nil {
		return err
	}
	if c.TokensFile == "" {
		return errors.New("-tokens is required")
	}
	switch {
	case c.Create < 0 || c.Create > MaxConns:
		return fmt.Errorf("-create %d: want 0..%d", c.Create, MaxConns)
	case c.Create > 0 && c.AdminToken == "":
		return errors.New("-create needs an admin token (-admin-token-file or KIOSK_ADMIN_TOKEN)")
	case c.Conns < 0 || c.Conns > MaxConns:
		return fmt.Errorf("-n %d: want 0..%d", c.Conns, MaxConns)
	case c.DialRate <= 0 || c.DialRate > MaxDialRate:
		return fmt.Errorf("-rate %d: want 1..%d", c.DialRate, MaxDialRate)
	case c.MaxDuration <= 0 || c.MaxDuration > MaxDuration:
		return fmt.Errorf("-max-duration %s: want more than 0 and at most %s", c.MaxDuration, MaxDuration)
	case c.Hold <= 0 || (c.Publishes == 0 && !c.Storm && c.Hold > c.MaxDuration):
		return fmt.Errorf("-hold %s: want more than 0 and at most -max-duration (%s)", c.Hold, c.MaxDuration)
	case c.Publishes < 0 || c.Publishes > MaxPublishes:
		return fmt.Errorf("-publishes %d: want 0..%d", c.Publishes, MaxPublishes)
	case c.Publishes > 0 && c.AdminToken == "":
		return errors.New("-publishes needs an admin token (-admin-token-file or KIOSK_ADMIN_TOKEN)")
	case c.Publishes > 0 && c.Storm:
		return errors.New("-publishes and -storm are separate runs; pick one")
	case c.ReceiveOnly && (c.Publishes == 0 || !c.PushManifests):
		return errors.New("-receive-only times publishes pushed in the frame: it needs -publishes and -push-manifests")
	case c.PublishEvery < minPublishStep:
		return fmt.Errorf("-publish-every %s: want at least %s", c.PublishEvery, minPublishStep)
	case c.Drain < 0 || c.Settle < 0:
		return errors.New("-drain and -settle must not be negative")
	case c.AssetShare < 0 || c.AssetShare > 1:
		return fmt.Errorf("-asset-share %g: want 0..1", c.AssetShare)
	case c.AssetBytes < 1024 || c.AssetBytes > MaxAssetBytes:
		return fmt.Errorf("-asset-bytes %d: want 1024..%d", c.AssetBytes, MaxAssetBytes)
	case c.ItemS < 1 || c.ItemS > playlists.MaxDurationS:
		return fmt.Errorf("-item-seconds %d: want 1..%d", c.ItemS, playlists.MaxDurationS)
	case c.HTTPConns < 1 || c.HTTPConns > MaxHTTPConns:
		return fmt.Errorf("-http-conns %d: want 1..%d", c.HTTPConns, MaxHTTPConns)
	case c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("-backoff-min %s / -backoff-max %s: want 0 < min <= max", c.BackoffMin, c.BackoffMax)
	case c.ServerPID < 0:
		return fmt.Errorf("-server-pid %d: want a process id", c.ServerPID)
	}
	for name, d := range map[string]time.Duration{
		"-heartbeat": c.Heartbeat, "-plays-every": c.PlaysEvery, "-ping-every": c.PingEvery, "-time-sync-every": c.TimeSyncEvery,
	} {
		if d < minPeriod {
			return fmt.Errorf("%s %s: want at least %s (a flood is not what players do)", name, d, minPeriod)
		}
	}
	return nil
}

// loopbackBase checks that raw is an http:// URL of a loopback host
// (127.0.0.0/8, ::1, or localhost resolving only to those) and returns it
// without a trailing slash, query or fragment.
func loopbackBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("-server %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("-server %q: want an http:// URL (the tool speaks plain HTTP and ws:// on loopback)", raw)
	}
	if u.Host == "" || u.User != nil {
		return "", fmt.Errorf("-server %q: want http://HOST:PORT", raw)
	}
	if !isLoopback(u.Hostname()) {
		return "", fmt.Errorf("-server %q: only loopback hosts (127.0.0.0/8, ::1, localhost) may be load-tested", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	return u.String(), nil
}

// lookupHost resolves a host name; a variable so tests can fake the resolver.
var lookupHost = net.LookupHost

// isLoopback accepts an IP literal in 127.0.0.0/8 or ::1, and "localhost"
// only when every address it resolves to is one of those (an /etc/hosts
// entry could point it elsewhere).
func isLoopback(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	if !strings.EqualFold(host, "localhost") {
		return false
	}
	addrs, err := lookupHost(host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// wsURL turns the server base into the device websocket URL.
func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + pathWS
}

// API paths, as the player uses them (player/internal/syncer).
const (
	pathWS       = "/api/v1/device/ws"
	pathManifest = "/api/v1/device/manifest"
	pathAssets   = "/api/v1/device/assets/"
	pathPlays    = "/api/v1/device/plays"
)
