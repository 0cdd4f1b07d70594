package player

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/player/internal/display"
	"kiosk/player/internal/syncer"
	"kiosk/player/internal/update"
	"kiosk/playlists"
)

// shutdownTimeout bounds how long Run waits for the local page's requests
// to finish once ctx ends.
const shutdownTimeout = 5 * time.Second

// withDefaults fills the zero fields of cfg.
func (cfg Config) withDefaults() Config {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.CacheFile == "" {
		cfg.CacheFile = DefaultCacheFile
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Run plays on this screen until ctx ends: it opens the cache, shows the
// applied content at once (before the server is even tried, so a screen
// with no network still plays), serves the local kiosk page and keeps the
// content in sync with the server. It returns nil after a clean stop and an
// error only when the player cannot run at all (bad config, cache in use,
// listen address taken).
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if strings.TrimSpace(cfg.Server) == "" {
		return errors.New("player: no server URL")
	}
	dt, err := newDevTools(cfg.DevToolsURL)
	if err != nil {
		return fmt.Errorf("player: -devtools: %w", err)
	}

	c, err := cache.Open(cfg.CacheFile)
	if err != nil {
		return fmt.Errorf("player: %w", err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			log.Warn("closing cache", "error", err)
		}
	}()

	// -server-key first: it replaces a key pinned on first use, and
	// pairing then accepts only an adoption naming a pinned key.
	if cfg.ServerKey != "" {
		if err := c.PinServerKey(cfg.ServerKey); err != nil {
			return fmt.Errorf("player: %w", err)
		}
	}

	// The token given, else the one saved at pairing, else pair now
	// (pairing.go); ln is the kiosk page's listener if pairing opened it.
	token, ln, err := credentials(ctx, cfg, c, log)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting to be paired
		}
		return fmt.Errorf("player: %w", err)
	}

	// client and disp refer to each other through these closures; both are
	// assigned before anything calls them.
	var disp *display.Server
	var exec *executor      // remote commands; see commands.go
	var upd *update.Updater // player updates; see update.go
	forget := &unpairer{paired: cfg.Token == "", cache: c, log: log}
	client, err := syncer.New(syncer.Config{
		Server:             cfg.Server,
		Token:              token,
		Cache:              c,
		PlayerVersion:      Version,
		OnApply:            func(m *playlists.Manifest) { disp.SetManifest(m) },
		Current:            func() (playlists.Entry, time.Time, bool) { return disp.Current() },
		PageAlive:          func() bool { return disp.PageAlive() },
		OnCommand:          func(ctx context.Context, cmd playlists.Command) playlists.CommandResult { return exec.run(ctx, cmd) },
		OnResultSent:       func(r playlists.CommandResult) { exec.resultSent(r) },
		OnUpdate:           func(o playlists.UpdateOffer) { upd.Offer(o) },
		UpdateStatus:       func() *playlists.UpdateStatus { return upd.Status() },
		OnSynced:           func() { upd.Synced() },
		OnRefused:          func(n int) { forget.refused(n) },
		HeartbeatInterval:  cfg.HeartbeatInterval,
		BackoffMin:         cfg.BackoffMin,
		BackoffMax:         cfg.BackoffMax,
		PlayUploadInterval: cfg.PlayUploadInterval,
		Logger:             log.With("component", "sync"),
		Now:                cfg.Now,
	})
	if err != nil {
		return fmt.Errorf("player: %w", err)
	}
	// Schedules run on server time: the screen's own clock may be minutes
	// off after a power cut without RTC battery.
	now := func() time.Time { return cfg.Now().Add(client.ClockOffset()) }
	disp = display.New(display.Options{
		Media: c,
		Status: func() display.SyncStatus {
			id, name := client.Screen()
			return display.SyncStatus{
				Online:         client.Online(),
				AppliedVersion: c.AppliedVersion(),
				ClockOffset:    client.ClockOffset(),
				LastSyncError:  client.LastError(),
				CacheBytes:     c.Bytes(),
				ScreenID:       id,
				ScreenName:     name,
			}
		},
		Now:          now,
		Logger:       log,
		DistrictName: cfg.DistrictName,
		OnPlay:       func(p playlists.Play) { recordPlay(c, p, cfg.OnPlay, log) },
	})

	m, err := c.Applied()
	if err != nil {
		// Not fatal: the fallback screen shows and sync fetches afresh.
		log.Error("cached manifest unreadable; starting with the fallback screen", "error", err)
		m = nil
	}
	if m != nil {
		disp.SetManifest(m)
	}

	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Listen)
		if err != nil {
			return fmt.Errorf("player: listen for the kiosk page: %w", err)
		}
	}
	addr := ln.Addr().String()

	ctx, cancel := context.WithCancel(ctx)
	forget.setStop(cancel)
	defer cancel()
	exec = newExecutor(executorDeps{
		cache:    c,
		display:  disp,
		sync:     client,
		devtools: dt,
		pages:    pageURLs(addr),
		upload:   screenshotUploader(cfg.Server, token, Version),
		now:      now,
		log:      log.With("component", "commands"),
		restart:  cancel,
	})
	upd, err = newUpdater(cfg, c, token, client, cancel, log.With("component", "update"))
	if err != nil {
		ln.Close()
		return fmt.Errorf("player: %w", err)
	}
	srv := &http.Server{
		Handler:           hostGuard(disp.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		// Request contexts end with ctx, so the page's event stream and a
		// video being served let Shutdown finish.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	appliedVersion := ""
	if m != nil {
		appliedVersion = m.Version
	}
	log.Info("player starting", "version", Version, "server", cfg.Server, "cache", c.Path(),
		"page", "http://"+addr+"/", "applied_version", appliedVersion)

	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Add(4)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		disp.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		client.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		upd.Run(ctx)
	}()

	if cfg.Ready != nil {
		select {
		case cfg.Ready <- addr:
		case <-ctx.Done():
		}
	}

	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("kiosk page did not stop in time", "error", err)
		srv.Close()
	}
	scancel()
	wg.Wait()
	// The display recorded its last play as it stopped; hand the server
	// what it can take in a moment. Whatever is left stays in the cache.
	flushFinalPlays(client, log)
	log.Info("player stopped")

	select {
	case err := <-serveErr:
		return fmt.Errorf("player: serve kiosk page: %w", err)
	default:
		if exec.requested.Load() || upd.Restarting() || forget.done.Load() {
			return ErrRestartRequested
		}
		return nil
	}
}
