package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"kiosk/playlists"
	"kiosk/server/internal/alerts"
	"kiosk/server/internal/api"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/fastmedia"
	"kiosk/server/internal/hub"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/rollouts"
	"kiosk/server/internal/signing"
	"kiosk/server/internal/store"
)

// Timeouts for the HTTP server. There is no WriteTimeout: asset downloads
// to slow screens may legitimately take long, and websockets are hijacked.
// Nor a ReadTimeout, for uploads over slow links: the API bounds each
// request body by its progress instead (Config.Body…).
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
)

// Run serves until ctx ends, then shuts down gracefully: it stops accepting,
// closes every device socket, lets in-flight requests finish within
// ShutdownGrace, saves screen status and closes the store. Every API write
// is a committed transaction before its 2xx, so nothing acknowledged is lost.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.normalize()
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	log := cfg.Logger
	log.Info("kiosk-server", "version", Version, "commit", orUnknown(Commit), "build_date", orUnknown(BuildDate))
	limits := cfg.rateLimits()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("server: create data dir: %w", err)
	}
	st, err := store.Open(cfg.DataDir, cfg.Now)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	defer st.Close()
	// Every manifest a screen fetches is signed with this key (created in
	// the data dir at first start); players pin it and refuse anything else.
	signer, err := signing.Open(cfg.DataDir, st, cfg.Now)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	log.Info("manifest signing key", "key_id", signer.KeyID())
	var releaseKey ed25519.PublicKey
	if cfg.ReleaseKey != "" {
		if releaseKey, err = playlists.DecodeKey(cfg.ReleaseKey); err != nil {
			return fmt.Errorf("server: release key: %w", err)
		}
		log.Info("player release key", "key_id", playlists.KeyID(releaseKey))
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfoCollector())

	// The hub needs the registry (its Handler), the registry needs the
	// publisher (for Welcome's version), and the publisher pushes through
	// the hub; the closure breaks that cycle.
	var h *hub.Hub
	var devs *devices.Registry
	var pub *publish.Publisher
	pub = publish.New(publish.Options{
		Store: st,
		Push: func(v string, ids []string) {
			// Players that accept it get the manifest in the push, all
			// of ids signed at once (playlists/push.go), instead of each
			// fetching it; the others get the version notice.
			h.PushManifest(v, ids, func() *playlists.PushFrames {
				m, ok := pub.Manifest(ids[0])
				if !ok || m.Manifest.Version != v {
					return nil
				}
				pf, err := signer.PushFrames(v, ids, m.JSON)
				if err != nil {
					log.Error("sign pushed manifests; sending version notices", "version", v, "error", err)
					return nil
				}
				return pf
			})
			// The live fleet shows the screens' new published version (and
			// that they are not up to date yet) at once.
			devs.Touch(ids...)
		},
		Now:        cfg.Now,
		Logger:     log.With("component", "publish"),
		Registerer: reg,
	})
	// Commands reach screens through the hub, created just below; like
	// Push above, the closure only runs once h is set.
	cmds := devices.NewCommands(devices.CommandOptions{
		Store:      st,
		Send:       func(id string, frame []byte) bool { return h.Send(id, frame) },
		Now:        cfg.Now,
		Logger:     log.With("component", "commands"),
		Registerer: reg,
	})
	// Alerts hear state transitions from the registry; Observe only
	// queues, so heartbeats never wait on webhooks or the store.
	// Player roll-outs offer builds through the hub and read what screens
	// report from the registry; both closures run only once h and devs
	// are set, like Push above.
	updates, err := rollouts.New(rollouts.Options{
		Store:      st,
		ReleaseKey: releaseKey,
		Send:       func(id string, frame []byte) bool { return h.Send(id, frame) },
		Status:     func(id string) (store.ScreenStatus, bool) { return devs.Status(id) },
		Deadline:   cfg.UpdateDeadline,
		Now:        cfg.Now,
		Logger:     log.With("component", "rollouts"),
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	alertEngine := alerts.New(alerts.Options{
		Store:       st,
		Now:         cfg.Now,
		Logger:      log.With("component", "alerts"),
		Debounce:    cfg.AlertDebounce,
		GroupWindow: cfg.AlertGroupWindow,
		GroupMin:    cfg.AlertGroupMin,
		Retry:       alerts.Retry{Attempts: cfg.WebhookAttempts, Base: cfg.WebhookRetryBase, Max: cfg.WebhookRetryMax},
		Registerer:  reg,
	})
	devs, err = devices.New(devices.Options{
		Published: pub.Version,
		Thresholds: devices.Thresholds{
			StaleAfter:     cfg.StaleAfter,
			DiskLowBytes:   cfg.DiskLowBytes,
			DiskLowPercent: cfg.DiskLowPercent,
			ClockSkewMax:   cfg.ClockSkewMax,
		},
		EvalEvery:     cfg.HealthEvalEvery,
		OnTransition:  alertEngine.Observe,
		Registerer:    reg,
		Commands:      cmds,
		Updates:       updates,
		Store:         st,
		Version:       pub.EnsureVersion,
		Now:           cfg.Now,
		Logger:        log.With("component", "devices"),
		OfflineAfter:  cfg.OfflineAfter,
		LastSeenEvery: cfg.LastSeenEvery,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	h = hub.New(hub.Options{
		Handler:    devs,
		Logger:     log.With("component", "hub"),
		Registerer: reg,
		Now:        cfg.Now,
	})
	// The admin side of a screen's lifecycle: one commit per operation,
	// then the registry, then the hub (a replaced token's socket closed).
	screens := devices.NewScreens(st, devs, h)
	if err := pub.Publish(); err != nil {
		return fmt.Errorf("server: initial publish: %w", err)
	}

	// Streams (the live fleet) end when shutdown begins; Shutdown would
	// otherwise wait for them until its grace ran out.
	streamsDone := make(chan struct{})
	e, media := api.NewWithMedia(api.Options{
		Version:         Version,
		Done:            streamsDone,
		Commands:        cmds,
		Rollouts:        updates,
		Store:           st,
		Devices:         devs,
		Screens:         screens,
		Publisher:       pub,
		Hub:             h,
		AdminToken:      cfg.AdminToken,
		Signer:          signer,
		ReviewOff:       cfg.ReviewOff,
		RequireMFA:      cfg.RequireMFA,
		IdleTimeout:     cfg.SessionIdle,
		AbsoluteTimeout: cfg.SessionMax,
		TrustedProxies:  cfg.TrustedProxies,
		Announce:        alertEngine.Announce,
		Urgent: func(n store.UrgentNotice, by string) {
			alertEngine.Announce(store.Alert{Kind: alerts.KindUrgentSent, CreatedAt: cfg.Now().UTC(),
				Summary: fmt.Sprintf("urgent notice %q (%s) sent by %s without review, until %s",
					n.Title, n.ID, by, n.ExpiresAt.Format(time.RFC3339))})
		},
		MaxUploadBytes: cfg.MaxUploadBytes,
		BodyTimeout:    cfg.BodyTimeout,
		BodyGrace:      cfg.BodyGrace,
		BodyMinRate:    cfg.BodyMinRate,
		RateLimits:     limits,
		Logger:         log.With("component", "api"),
		Now:            cfg.Now,
		Metrics:        reg,
	})

	ln := cfg.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("server: listen on %s: %w", cfg.Addr, err)
		}
	}
	// Players' media requests are answered outside net/http (fastmedia);
	// every other request, and every connection from its first other
	// request on, is net/http's, with the same timeouts. FastMediaOff
	// leaves everything to net/http.
	var fast *fastmedia.Listener
	serveLn := ln
	if !cfg.FastMediaOff {
		fast = fastmedia.Listen(ln, media, fastmedia.Options{
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			Logger:            log.With("component", "fastmedia"),
		})
		serveLn = fast
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(streamsDone) })

	bgCtx, stopBg := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	for _, job := range []func(context.Context){
		pub.Run,
		devs.Run,
		alertEngine.Run,
		cmds.Run,
		updates.Run,
		func(ctx context.Context) { prunePlays(ctx, st, cfg, log) },
		func(ctx context.Context) { pruneAudit(ctx, st, cfg, log) },
		func(ctx context.Context) { pruneSessions(ctx, st, cfg, log) },
		func(ctx context.Context) { scheduledBackups(ctx, st, cfg, log) },
		func(ctx context.Context) { releaseStartupMemory(ctx, st, log) },
	} {
		bg.Add(1)
		go func() { defer bg.Done(); job(bgCtx) }()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(serveLn) }()
	addr := ln.Addr().String()
	log.Info("server listening", "addr", addr, "data", cfg.DataDir, "break_glass_token", cfg.AdminToken != "", "review", !cfg.ReviewOff)
	if cfg.ReviewOff {
		log.Warn("REVIEW IS OFF: every content change publishes at once without a second person's approval (-review=false)")
	}
	if cfg.Ready != nil {
		cfg.Ready <- addr
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("server: serve: %w", err)
	}

	log.Info("server shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	// Shutdown closes the listener first; hijacked websockets are not
	// tracked by net/http, so the hub closes them itself. The fast media
	// path ends its own connections alike.
	shutDone := make(chan error, 2)
	go func() { shutDone <- srv.Shutdown(shutCtx) }()
	go func() {
		if fast != nil {
			shutDone <- fast.Shutdown(shutCtx)
			return
		}
		shutDone <- nil
	}()
	h.Close()
	if err := errors.Join(<-shutDone, <-shutDone); err != nil {
		log.Warn("http shutdown incomplete", "error", err)
		srv.Close()
		if fast != nil {
			fast.CloseAll()
		}
	}
	stopBg()
	bg.Wait()
	if err := devs.Flush(); err != nil {
		log.Error("save screen status", "error", err)
	}
	log.Info("server stopped")
	return runErr
}

// rateLimits turns the throttle fields (checked and defaulted by
// normalize) into the API's RateLimits.
func (cfg Config) rateLimits() api.RateLimits {
	return api.RateLimits{
		AuthFailures: cfg.AuthFailLimit,
		AuthWindow:   cfg.AuthFailWindow,
		AuthCooldown: cfg.AuthCooldown,
		Plays:        api.Rate{Every: cfg.PlaysEvery, Burst: cfg.PlaysBurst},
		Screenshots:  api.Rate{Every: cfg.ScreenshotEvery, Burst: cfg.ScreenshotBurst},
	}
}

// playPruneEvery is how often old proof-of-play records are deleted.
const playPruneEvery = 6 * time.Hour

// prunePlays deletes plays older than cfg.PlayRetention at start and then
// every playPruneEvery until ctx ends.
func prunePlays(ctx context.Context, st *store.Store, cfg Config, log *slog.Logger) {
	t := time.NewTicker(playPruneEvery)
	defer t.Stop()
	for {
		cutoff := cfg.Now().Add(-cfg.PlayRetention)
		if n, err := st.PrunePlays(cutoff); err != nil {
			log.Error("prune proof-of-play records", "error", err)
		} else if n > 0 {
			log.Info("pruned proof-of-play records", "plays", n, "before", cutoff.Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneAudit deletes audit entries older than cfg.AuditRetention at start
// and then daily. The chain stays verifiable: the store keeps the last
// pruned entry's hash as the anchor.
func pruneAudit(ctx context.Context, st *store.Store, cfg Config, log *slog.Logger) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		cutoff := cfg.Now().Add(-cfg.AuditRetention)
		if n, err := st.PruneAudit(cutoff); err != nil {
			log.Error("prune audit entries", "error", err)
		} else if n > 0 {
			log.Info("pruned audit entries", "entries", n, "before", cutoff.Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneSessions deletes sessions past their idle or absolute timeout every
// ten minutes. A request on one is refused anyway; this keeps browsers that
// never came back from accumulating.
func pruneSessions(ctx context.Context, st *store.Store, cfg Config, log *slog.Logger) {
	idle, max := cfg.SessionIdle, cfg.SessionMax // defaulted by normalize
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		now := cfg.Now()
		gone, err := st.DeleteSessions(func(se store.Session) bool {
			return now.Sub(se.LastSeen) > idle || now.Sub(se.CreatedAt) > max
		})
		if err != nil {
			log.Error("prune sessions", "error", err)
		} else if len(gone) > 0 {
			log.Debug("pruned expired sessions", "sessions", len(gone))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startupSettle is how long after it starts listening the server returns
// the memory its start-up passes used (releaseStartupMemory).
const startupSettle = 10 * time.Second

// releaseStartupMemory runs once, startupSettle after start: by then the one-off
// start-up work is over (loading every screen's record, token, status and
// last state, the first publish, the first pruning passes over history,
// plays, audit and sessions). That work leaves two things counted in the
// process's RSS that a running server does not need: the Go heap it grew
// into and that is now free (returned with debug.FreeOSMemory), and the
// bbolt file pages it read, which stay mapped (dropped from the mapping
// with Store.ReleaseMapped; they remain in the page cache). At 10,000
// screens that is most of a fresh server's resident memory.
func releaseStartupMemory(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTimer(startupSettle)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	if err := st.ReleaseMapped(); err != nil {
		log.Warn("release start-up memory", "error", err)
	}
	debug.FreeOSMemory()
	log.Info("start-up memory released")
}
