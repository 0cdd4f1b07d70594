// Package api is the server's HTTP surface: the admin JSON API under
// /api/v1, the device endpoints players fetch manifests and media from,
// health and metrics. Every route is listed in routes.go; every error goes
// through one handler (errors.go) that turns typed errors into a status and
// {"error": "..."}.
package api

import (
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/server/internal/devices"
	"kiosk/server/internal/pairing"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/rollouts"
	"kiosk/server/internal/signing"
	"kiosk/server/internal/store"
)

// Hub is the part of the websocket hub the API needs.
type Hub interface {
	http.Handler
	// Kick closes a screen's connection, e.g. after its token was rotated.
	Kick(screenID string)
}

// Options are the API's dependencies.
type Options struct {
	// Version is the server's build version, reported by /healthz.
	Version string

	Store     *store.Store
	Devices   *devices.Registry
	Publisher *publish.Publisher
	Hub       Hub
	// Screens owns a screen's lifecycle (create, import, update, token,
	// pairing, delete): each handler calls it once. Nil: one over Store
	// and Devices that kicks through Hub.
	Screens *devices.Screens

	// AdminToken is the break-glass bearer token: the admin role, and its
	// content changes publish at once without review. Empty: none.
	AdminToken string
	// Signer signs every manifest a device fetches; nil serves them
	// unsigned (tests of other parts).
	Signer *signing.Signer
	// ReviewOff publishes everyone's content changes at once (a
	// single-admin install); the page says so on every screen of it.
	ReviewOff bool
	// RequireMFA makes TOTP mandatory for admins and reviewers.
	RequireMFA bool
	// IdleTimeout and AbsoluteTimeout end sessions; zero: the defaults.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// TrustedProxies are the only peers whose X-Forwarded-For, X-Real-IP
	// and X-Forwarded-Proto are believed.
	TrustedProxies []*net.IPNet
	// Urgent is told of every urgent notice sent, so a second person
	// hears of it (webhooks); nil: nobody.
	Urgent func(n store.UrgentNotice, by string)
	// Announce raises a one-off event (safe mode on and off) to the alert
	// list and every webhook; nil: nobody.
	Announce func(store.Alert)

	MaxUploadBytes int64

	// Request bodies (body_deadline.go): each starts within BodyGrace, then
	// averages BodyMinRate bytes a second and never pauses longer than
	// BodyGrace; ordinary ones are also complete within BodyTimeout.
	// Zero or negative: the Default… values.
	BodyTimeout time.Duration
	BodyGrace   time.Duration
	BodyMinRate int64

	// Commands queues remote commands (command_handlers.go); nil answers
	// 503 on the command routes.
	Commands *devices.Commands
	// MaxScreenshotBytes bounds a device's screenshot upload; 0 means
	// store.DefaultMaxScreenshotBytes.
	MaxScreenshotBytes int64

	// RateLimits tunes the failed-sign-in throttle and the per-screen
	// upload limits (ratelimit.go); the zero value means the defaults.
	RateLimits RateLimits
	// Pairing tunes enrolment by pairing code: expiry, table size and the
	// throttles on guessing (pairing_handlers.go); zero: the defaults.
	Pairing pairing.Options
	// Rollouts keeps signed player builds and runs roll-outs
	// (rollout_handlers.go); nil answers 503 on those routes.
	Rollouts *rollouts.Manager
	// WebhookClient sends webhook test events (POST /webhooks/{id}/test);
	// nil: alerts.NewClient(alerts.TestTimeout), no redirects.
	WebhookClient *http.Client

	// Done, once closed, ends the long-lived streams (GET /fleet/events):
	// net/http's Shutdown waits for running requests, so the server
	// closes it when shutting down. Nil: never.
	Done <-chan struct{}
	// StreamKeepAlive is how often a stream sends a keep-alive comment and
	// checks the session again; zero: DefaultStreamKeepAlive.
	StreamKeepAlive time.Duration

	Logger  *slog.Logger
	Now     func() time.Time
	Metrics *prometheus.Registry // registered into and served at /metrics; nil = a private one
}

// maxJSONBody bounds admin JSON bodies; the largest legitimate one, an item
// with a 5000-character body, is far smaller.
const maxJSONBody = 1 << 20

type handler struct {
	opts      Options
	store     *store.Store
	devices   *devices.Registry
	screens   *devices.Screens
	pub       *publish.Publisher
	hub       Hub
	log       *slog.Logger
	adminHash [32]byte
	limits    *limits
	signins   signInThrottles
	table     routeTable
	pair      pairState  // pairing_handlers.go
	media     *fastMedia // asset_fast.go
}

// New builds the echo instance with every route. It does not listen.
func New(opts Options) *echo.Echo {
	_, e := build(opts)
	return e
}

// build is New, also returning the handler (tests read its route table).
func build(opts Options) (*handler, *echo.Echo) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = prometheus.NewRegistry()
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = DefaultBodyTimeout
	}
	if opts.BodyGrace <= 0 {
		opts.BodyGrace = DefaultBodyGrace
	}
	if opts.BodyMinRate <= 0 {
		opts.BodyMinRate = DefaultBodyMinRate
	}
	h := &handler{
		opts:    opts,
		store:   opts.Store,
		devices: opts.Devices,
		screens: opts.Screens,
		pub:     opts.Publisher,
		hub:     opts.Hub,
		log:     opts.Logger,
		limits:  newLimits(opts.RateLimits, opts.Metrics),
		signins: newSignInThrottles(opts.RateLimits),
		table:   routeTable{},
		pair:    newPairState(opts.Pairing, opts.Metrics),
	}
	if h.screens == nil && opts.Devices != nil {
		var kick devices.Kicker
		if opts.Hub != nil {
			kick = opts.Hub
		}
		h.screens = devices.NewScreens(opts.Store, opts.Devices, kick)
	}
	if opts.AdminToken != "" {
		h.adminHash = sha256.Sum256([]byte(opts.AdminToken))
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// The socket address, never X-Forwarded-For, unless the peer is a
	// configured proxy: anyone can forge that header, and audit entries
	// and throttles must name the real client.
	e.IPExtractor = ipExtractor(opts.TrustedProxies)
	e.HTTPErrorHandler = h.handleError
	registerStoreMetrics(opts.Metrics, opts.Store)
	metrics := newHTTPMetrics(opts.Metrics)
	h.routes(e, metrics)
	h.media = newFastMedia(h, metrics)
	return h, e
}
