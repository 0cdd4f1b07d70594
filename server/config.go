// Package server runs the Kiosk content server: the store, the device hub,
// the JSON API and the admin UI, wired together by Run.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"kiosk/server/internal/alerts"
	"kiosk/server/internal/api"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/rollouts"
	"kiosk/server/internal/store"
)

// Defaults for Config fields left zero.
const (
	DefaultAddr           = "127.0.0.1:8080"
	DefaultMaxUploadBytes = 200 << 20
	DefaultUpdateDeadline = rollouts.DefaultDeadline
	DefaultOfflineAfter   = 90 * time.Second
	DefaultShutdownGrace  = 10 * time.Second

	// DefaultLastSeenEvery: a heartbeat that only moves a screen's
	// last-seen time is saved once the saved one is this old.
	DefaultLastSeenEvery = devices.DefaultLastSeenEvery

	// DefaultPlayRetention keeps proof of play for 13 months, so a report
	// over the last full year (the longest one allowed) is always complete.
	DefaultPlayRetention = 396 * 24 * time.Hour

	// DefaultAuditRetention keeps the audit trail for 400 days.
	DefaultAuditRetention = store.DefaultAuditRetention

	// Screen health and alerts; the packages that use them own the values.
	DefaultStaleAfter       = devices.DefaultStaleAfter     // applied version may lag the published one this long
	DefaultHealthEvalEvery  = devices.DefaultEvalEvery      // offline-by-silence and stale are noticed this often
	DefaultDiskLowBytes     = devices.DefaultDiskLowBytes   // less free disk on a player → degraded
	DefaultDiskLowPercent   = devices.DefaultDiskLowPercent // less free disk than this % of its size → degraded
	DefaultClockSkewMax     = devices.DefaultClockSkewMax   // player clock off by more → degraded
	DefaultAlertDebounce    = alerts.DefaultDebounce        // a state must hold this long before it alerts
	DefaultAlertGroupWindow = alerts.DefaultGroupWindow     // alerts maturing within this window...
	DefaultAlertGroupMin    = alerts.DefaultGroupMin        // ...at least this many → one grouped alert
	DefaultWebhookAttempts  = alerts.DefaultAttempts
	DefaultWebhookRetryBase = alerts.DefaultRetryBase // doubled after each failed attempt
	DefaultWebhookRetryMax  = alerts.DefaultRetryMax

	// Throttles; the API package owns the values.
	DefaultAuthFailLimit  = api.DefaultAuthFailures // failed token checks from one client...
	DefaultAuthFailWindow = api.DefaultAuthWindow   // ...within this window...
	DefaultAuthCooldown   = api.DefaultAuthCooldown // ...answer its tokens 429 this long

	DefaultSessionIdle = api.DefaultIdleTimeout
	DefaultSessionMax  = api.DefaultAbsoluteTimeout

	// Request bodies; the API package owns the values.
	DefaultBodyTimeout = api.DefaultBodyTimeout // an ordinary (JSON) body is complete within this
	DefaultBodyGrace   = api.DefaultBodyGrace   // every body starts within this and never pauses longer
	DefaultBodyMinRate = api.DefaultBodyMinRate // bytes a second, on average, after the grace
)

// Per-screen upload limits: one upload every so often, a burst saved up.
// Variables because the API package's are.
var (
	DefaultPlaysEvery      = api.DefaultPlaysRate.Every // 5 uploads a second
	DefaultPlaysBurst      = api.DefaultPlaysRate.Burst
	DefaultScreenshotEvery = api.DefaultScreenshotRate.Every // one every 10 s
	DefaultScreenshotBurst = api.DefaultScreenshotRate.Burst
)

// Config is everything Run needs; cmd/kiosk-server fills it from flags and
// the environment.
type Config struct {
	Addr     string       // listen address, used when Listener is nil
	Listener net.Listener // optional: tests and the demo pass one bound to 127.0.0.1:0
	DataDir  string       // bbolt file and asset blobs; created if missing

	// AdminToken, if set, is the break-glass token: accepted as
	// "Authorization: Bearer <token>" with the admin role, its content
	// changes publish without review, and every use is audited.
	AdminToken string

	// ReleaseKey is the public half of the release key player builds are
	// signed with (base64 Ed25519, kiosk-release keygen's release.pub);
	// empty: build uploads are refused. UpdateDeadline is how long a screen
	// that downloaded a build has to report the new version before it
	// counts as failed; zero: DefaultUpdateDeadline.
	ReleaseKey     string
	UpdateDeadline time.Duration

	// ReviewOff publishes everyone's content changes at once, for a
	// single-admin install; the admin page says so on every screen.
	ReviewOff bool
	// RequireMFA makes a TOTP second factor mandatory for admins and
	// reviewers.
	RequireMFA bool
	// FastMediaOff serves players' media through net/http like every
	// other request instead of the fast path (server/internal/fastmedia).
	FastMediaOff bool
	// SessionIdle and SessionMax end admin-page sessions after this long
	// without a request, and this long after sign-in; zero: the defaults.
	SessionIdle time.Duration
	SessionMax  time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For,
	// X-Real-IP and X-Forwarded-Proto headers are believed.
	TrustedProxies []*net.IPNet

	MaxUploadBytes int64         // largest accepted asset
	OfflineAfter   time.Duration // no heartbeat for this long → offline
	// LastSeenEvery: a heartbeat whose only news is a later last-seen time
	// is written to disk once the saved last-seen is this old. Larger
	// means fewer status writes at 10,000 screens heartbeating; after a
	// crash, a screen's last-seen may be up to this much older than the
	// last heartbeat heard (any other change is saved at the next flush).
	LastSeenEvery  time.Duration
	ShutdownGrace  time.Duration
	PlayRetention  time.Duration // proof-of-play records older than this are deleted
	AuditRetention time.Duration // audit entries older than this are deleted (at least 400 days by default)

	// Scheduled backups: every BackupEvery an archive (as GET
	// /api/v1/backup) goes into BackupDir, and the newest BackupKeep are
	// kept. Set both or neither (normalize refuses one alone, which would
	// otherwise quietly back up nothing).
	BackupDir   string
	BackupEvery time.Duration
	BackupKeep  int

	// Request bodies. The HTTP server has no overall read timeout, since
	// an upload over a slow link may take hours; instead every body must
	// start within BodyGrace, then average BodyMinRate bytes a second and
	// never pause longer than BodyGrace, and ordinary bodies (JSON) must
	// be complete within BodyTimeout. Uploads (assets, screenshots, play
	// batches) keep only the rate rule once their sender authenticated.
	// A client too slow gets 408 and the connection is closed. Zero
	// fields take the defaults above.
	BodyTimeout time.Duration
	BodyGrace   time.Duration
	BodyMinRate int64 // bytes a second

	// Screen health and alerts; zero fields take the defaults above.
	StaleAfter       time.Duration
	HealthEvalEvery  time.Duration
	DiskLowBytes     int64
	DiskLowPercent   float64 // negative turns the percentage rule off; must be below 100
	ClockSkewMax     time.Duration
	AlertDebounce    time.Duration
	AlertGroupWindow time.Duration
	AlertGroupMin    int
	WebhookAttempts  int
	WebhookRetryBase time.Duration
	WebhookRetryMax  time.Duration

	// Throttles; zero fields take the defaults above, negative ones are
	// refused, as with kiosk-server's flags (they cannot be turned off:
	// the auth throttle is what slows down guessing the admin token).
	AuthFailLimit   int           // this many failed token checks from one client...
	AuthFailWindow  time.Duration // ...within this window...
	AuthCooldown    time.Duration // ...answer its tokens 429 for this long
	PlaysEvery      time.Duration // per screen: one proof-of-play upload this often...
	PlaysBurst      int           // ...with this many saved up
	ScreenshotEvery time.Duration // per screen: one screenshot upload this often...
	ScreenshotBurst int           // ...with this many saved up

	Logger *slog.Logger
	Now    func() time.Time // injected clock; time.Now when nil

	// Ready, if set, receives the bound address once the server listens.
	Ready chan<- string
}

// normalize is the one place the server's settings get their defaults and
// are checked, so a setting means the same whether it came from a flag, a
// test or the demo. The rule: a zero field takes its default; a negative
// one is refused, naming it, since whoever set it meant something the
// setting does not offer (most often "off"). The exceptions are said
// where the field is declared: DiskLowPercent below zero turns that rule
// off and must stay below 100, BackupEvery zero means no scheduled
// backups, AlertGroupMin 1 turns grouping off.
func (cfg Config) normalize() (Config, error) {
	if cfg.DataDir == "" {
		return cfg, errors.New("data dir is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"update deadline", &cfg.UpdateDeadline, DefaultUpdateDeadline},
		{"session idle", &cfg.SessionIdle, DefaultSessionIdle},
		{"session max", &cfg.SessionMax, DefaultSessionMax},
		{"offline after", &cfg.OfflineAfter, DefaultOfflineAfter},
		{"last seen every", &cfg.LastSeenEvery, DefaultLastSeenEvery},
		{"shutdown grace", &cfg.ShutdownGrace, DefaultShutdownGrace},
		{"play retention", &cfg.PlayRetention, DefaultPlayRetention},
		{"audit retention", &cfg.AuditRetention, DefaultAuditRetention},
		{"body timeout", &cfg.BodyTimeout, DefaultBodyTimeout},
		{"body grace", &cfg.BodyGrace, DefaultBodyGrace},
		{"stale after", &cfg.StaleAfter, DefaultStaleAfter},
		{"health eval every", &cfg.HealthEvalEvery, DefaultHealthEvalEvery},
		{"clock skew max", &cfg.ClockSkewMax, DefaultClockSkewMax},
		{"alert debounce", &cfg.AlertDebounce, DefaultAlertDebounce},
		{"alert group window", &cfg.AlertGroupWindow, DefaultAlertGroupWindow},
		{"webhook retry base", &cfg.WebhookRetryBase, DefaultWebhookRetryBase},
		{"webhook retry max", &cfg.WebhookRetryMax, DefaultWebhookRetryMax},
		{"auth fail window", &cfg.AuthFailWindow, DefaultAuthFailWindow},
		{"auth cooldown", &cfg.AuthCooldown, DefaultAuthCooldown},
		{"plays interval", &cfg.PlaysEvery, DefaultPlaysEvery},
		{"screenshot interval", &cfg.ScreenshotEvery, DefaultScreenshotEvery},
		{"backup interval", &cfg.BackupEvery, 0}, // 0: no scheduled backups
	}
	for _, f := range durations {
		if *f.v < 0 {
			return cfg, fmt.Errorf("%s is %s, want positive (0 takes the default)", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	ints := []struct {
		name string
		v    *int64
		def  int64
	}{
		{"max upload bytes", &cfg.MaxUploadBytes, DefaultMaxUploadBytes},
		{"body min rate", &cfg.BodyMinRate, DefaultBodyMinRate},
		{"disk low bytes", &cfg.DiskLowBytes, DefaultDiskLowBytes},
	}
	for _, f := range ints {
		if *f.v < 0 {
			return cfg, fmt.Errorf("%s is %d, want positive (0 takes the default)", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	counts := []struct {
		name string
		v    *int
		def  int
	}{
		{"alert group min", &cfg.AlertGroupMin, DefaultAlertGroupMin},
		{"webhook attempts", &cfg.WebhookAttempts, DefaultWebhookAttempts},
		{"auth fail limit", &cfg.AuthFailLimit, DefaultAuthFailLimit},
		{"plays burst", &cfg.PlaysBurst, DefaultPlaysBurst},
		{"screenshot burst", &cfg.ScreenshotBurst, DefaultScreenshotBurst},
		{"backup keep", &cfg.BackupKeep, DefaultBackupKeep},
	}
	for _, f := range counts {
		if *f.v < 0 {
			return cfg, fmt.Errorf("%s is %d, want positive (0 takes the default)", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	// At 100 % or more every screen with a measured disk would read as
	// degraded, which is never what an operator meant.
	switch {
	case cfg.DiskLowPercent >= 100:
		return cfg, fmt.Errorf("disk low percent is %g, want below 100 (negative turns the rule off)", cfg.DiskLowPercent)
	case cfg.DiskLowPercent == 0:
		cfg.DiskLowPercent = DefaultDiskLowPercent
	}
	if cfg.WebhookRetryMax < cfg.WebhookRetryBase {
		return cfg, fmt.Errorf("webhook retry max %s is below webhook retry base %s", cfg.WebhookRetryMax, cfg.WebhookRetryBase)
	}
	if (cfg.BackupDir == "") != (cfg.BackupEvery == 0) {
		return cfg, errors.New("scheduled backups need both a backup dir and a backup interval")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}

// Check reports what Run would refuse in cfg (see normalize), so a command
// can say so before it starts anything.
func (cfg Config) Check() error {
	_, err := cfg.normalize()
	return err
}
