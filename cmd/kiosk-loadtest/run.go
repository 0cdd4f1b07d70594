package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Phases the server's figures are reported by.
const (
	phaseIdle       = "before connecting"
	phaseConnect    = "connect and first sync"
	phaseSteady     = "steady (all synced, idle)"
	phasePublishes  = "publishes"
	phaseStorm      = "storm (outage until all synced)"
	phaseAfterStorm = "after the storm"
	phaseHold       = "hold"
)

const (
	statusEvery = 5 * time.Second
	pollEvery   = 20 * time.Millisecond
	// idleSample is how long the server is sampled before any screen
	// connects.
	idleSample = 2 * time.Second
	stopWait   = 15 * time.Second
)

// runner is what the screens share.
type runner struct {
	cfg       Config
	log       *slog.Logger
	runID     string
	base, ws  string
	http      *http.Client // device requests, a bounded keep-alive pool
	adminHTTP *http.Client
	dialer    *websocket.Dialer
	rec       *recorder
	manifests *manifestCache
	item      itemBody // the notice publishes edit
	// quiet is set once every screen has synced in a -receive-only run:
	// from then on screens only read.
	quiet atomic.Bool

	connectTook, syncTook time.Duration
	fanOut                *FanOutStats // the server's own timing of the publishes' pushes
	welcomedFirst         int64
	syncedAtStart         int64
	stormDialFailures     int64
	stormNotBack          int64 // when the tool stopped waiting for the storm's end
	stormNotSynced        int64
}

func (r *runner) mode() string {
	switch {
	case r.cfg.Publishes > 0:
		return "publishes"
	case r.cfg.Storm:
		return "storm"
	}
	return "hold"
}

func (r *runner) newRequest(ctx context.Context, method, path, token string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "kiosk-player/"+r.cfg.PlayerVersion)
	return req, nil
}

func newRunner(cfg Config, log *slog.Logger) (*runner, error) {
	base, err := loopbackBase(cfg.Server)
	if err != nil {
		return nil, err
	}
	var id [3]byte
	rand.Read(id[:])
	runID := hex.EncodeToString(id[:])
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          cfg.HTTPConns,
		MaxIdleConnsPerHost:   cfg.HTTPConns,
		MaxConnsPerHost:       cfg.HTTPConns,
	}
	return &runner{
		cfg: cfg, log: log, runID: runID, base: base, ws: wsURL(base),
		http:      &http.Client{Transport: tr},
		adminHTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}},
		dialer: &websocket.Dialer{
			HandshakeTimeout: dialTimeout,
			// The player's buffer sizes, so frames go out as the player's do.
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
		},
		manifests: newManifestCache(runID),
	}, nil
}

// run is one load test; the report goes to out (text, or JSON with
// -json -).
func run(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) error {
	r, err := newRunner(cfg, log)
	if err != nil {
		return err
	}
	if cfg.Create > 0 {
		return r.createScreens(ctx)
	}
	tokens, err := readTokens(cfg.TokensFile)
	if err != nil {
		return err
	}
	n := cfg.Conns
	if n == 0 {
		n = min(len(tokens), MaxConns)
	}
	if n > len(tokens) {
		return fmt.Errorf("-n %d: %s holds only %d tokens, and each connection needs its own (a second one replaces the first)",
			n, cfg.TokensFile, len(tokens))
	}
	tokens = tokens[:n]
	r.rec = newRecorder(n, cfg.Publishes)

	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	defer cancel()
	started := time.Now()
	toolCPU0, _ := readProc(os.Getpid())

	var smp *sampler
	stopSampling := make(chan struct{})
	samplingDone := make(chan struct{})
	src := pidSource{pid: cfg.ServerPID, file: cfg.ServerPIDFile}
	if src.enabled() {
		if _, err := src.current(); err != nil {
			return err
		}
		smp = newSampler(src)
		smp.begin(phaseIdle)
		go func() { defer close(samplingDone); smp.run(stopSampling) }()
		sleep(ctx, idleSample)
	} else {
		close(samplingDone)
	}
	stopStatus := r.statusLoop(ctx)
	defer stopStatus()

	// Publishes need their notice; a storm is more honest with content on
	// the screens too (plays pile up during the outage).
	if cfg.Publishes > 0 || (cfg.Storm && cfg.AdminToken != "") {
		if err := r.setupContent(ctx); err != nil {
			close(stopSampling)
			return err
		}
	}

	// Connect: screens start at -rate, each then lives on its own.
	smp.begin(phaseConnect)
	log.Info("connecting", "server", r.base, "screens", n, "rate_per_s", cfg.DialRate, "run", r.runID)
	sctx, stopScreens := context.WithCancel(ctx)
	defer stopScreens()
	var screens sync.WaitGroup
	firstDone := make(chan struct{}, n)
	connectStart := time.Now()
	pace := time.NewTicker(time.Second / time.Duration(cfg.DialRate))
	launched := 0
launch:
	for i, tok := range tokens {
		select {
		case <-ctx.Done():
			break launch
		case <-pace.C:
		}
		s := newScreen(r, i, tok)
		screens.Go(func() { s.run(sctx, func() { firstDone <- struct{}{} }) })
		launched++
	}
	pace.Stop()
	for range launched {
		select {
		case <-firstDone:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	r.connectTook = time.Since(connectStart)
	r.welcomedFirst = r.rec.get(cWelcomes)
	log.Info("connected", "online", r.rec.online.Load(), "failed_first_try", int64(launched)-r.welcomedFirst,
		"took", r.connectTook.Round(time.Millisecond))

	syncWait := 2*time.Minute + time.Duration(n/cfg.DialRate)*time.Second
	if waitFor(ctx, syncWait, func() bool { return r.rec.synced.Load() == int64(n) }) {
		r.syncTook = time.Since(connectStart)
	}
	r.syncedAtStart = r.rec.synced.Load()
	log.Info("synced", "screens", r.syncedAtStart, "of", n, "took", r.syncTook.Round(time.Millisecond))
	// The steady phase is sampled as the publishes will run: quiet screens
	// in a -receive-only run.
	r.quiet.Store(cfg.ReceiveOnly)
	smp.begin(phaseSteady)
	if cfg.ReadyFile != "" {
		if err := os.WriteFile(cfg.ReadyFile, []byte(r.runID+"\n"), 0o644); err != nil {
			log.Warn("ready file", "error", err)
		}
	}
	if cfg.OnSynced != nil {
		cfg.OnSynced()
	}

	switch r.mode() {
	case "publishes":
		sleep(ctx, cfg.Settle)
		r.publishes(ctx, smp)
	case "storm":
		r.storm(ctx, smp)
	default:
		smp.begin(phaseHold)
		sleep(ctx, cfg.Hold)
	}

	stopScreens()
	stopped := make(chan struct{})
	go func() { screens.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopWait):
		log.Warn("some screens did not stop in time")
	}
	var phases []PhaseStats
	var sampleFails int
	close(stopSampling)
	<-samplingDone
	if smp != nil {
		phases, sampleFails = smp.finish()
	}
	toolCPU := 0.0
	if toolCPU1, err := readProc(os.Getpid()); err == nil {
		toolCPU = round(100*float64(toolCPU1.cpuTicks-toolCPU0.cpuTicks)/clockTicks/time.Since(started).Seconds(), 1)
	}
	rep := r.report(started, phases, sampleFails, toolCPU)
	if err := r.writeReport(rep, out); err != nil {
		return err
	}
	if r.rec.get(cWelcomes) == 0 && n > 0 {
		return errors.New("no screen could connect")
	}
	return nil
}

// publishes makes cfg.Publishes writes, one every PublishEvery (open loop:
// a slow publish does not delay the next), then waits up to Drain for
// every screen to ack the last.
func (r *runner) publishes(ctx context.Context, smp *sampler) {
	cfg := r.cfg
	smp.begin(phasePublishes)
	before, ferr := r.readFanOut(ctx)
	began := time.Now()
	var writes sync.WaitGroup
	for k := range cfg.Publishes {
		if !sleep(ctx, time.Until(began.Add(time.Duration(k)*cfg.PublishEvery))) {
			break
		}
		writes.Go(func() { r.publish(ctx, k) })
	}
	writes.Wait()
	last := r.rec.pubs[cfg.Publishes-1]
	if last.err == "" && last.t0.Load() != 0 {
		done := r.rec.allAcked
		if cfg.ReceiveOnly {
			done = r.rec.allReceived
		}
		waitFor(ctx, cfg.Drain, func() bool { return done(cfg.Publishes - 1) })
	}
	r.log.Info("publishes done", "publishes", cfg.Publishes, "took", time.Since(began).Round(time.Millisecond))
	if ferr == nil {
		var after histogram
		if after, ferr = r.readFanOut(ctx); ferr == nil {
			st := after.since(before).stats()
			r.fanOut = &st
		}
	}
	if ferr != nil {
		r.log.Warn("the server's fan-out times are not in the report", "error", ferr)
	}
}

// storm waits for the server to go away (the first disconnect), then for
// every screen to be back and synced, then samples the settled server.
func (r *runner) storm(ctx context.Context, smp *sampler) {
	rec := r.rec
	rec.stormArmed.Store(true)
	r.log.Info("waiting for the outage (kill the server now)")
	if !waitFor(ctx, r.cfg.MaxDuration, func() bool { return rec.stormStart.Load() != 0 }) {
		return
	}
	smp.begin(phaseStorm)
	dials := rec.get(cDialFailures)
	r.log.Info("outage: screens are reconnecting")
	waitFor(ctx, r.cfg.MaxDuration, func() bool { return rec.allSync.Load() != 0 })
	r.stormDialFailures = rec.get(cDialFailures) - dials
	r.stormNotBack = int64(rec.n) - rec.online.Load()
	r.stormNotSynced = int64(rec.n) - rec.synced.Load()
	smp.begin(phaseAfterStorm)
	r.log.Info("storm over", "all_synced_after", time.Duration(rec.allSync.Load()-rec.stormStart.Load()).Round(time.Millisecond))
	sleep(ctx, r.cfg.Settle)
}

func (r *runner) writeReport(rep Report, out io.Writer) error {
	if r.cfg.JSONPath == "-" {
		return rep.writeJSON(out)
	}
	rep.writeText(out)
	if r.cfg.JSONPath == "" {
		return nil
	}
	f, err := os.Create(r.cfg.JSONPath)
	if err != nil {
		return fmt.Errorf("-json: %w", err)
	}
	if err := rep.writeJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("-json: %w", err)
	}
	return f.Close()
}

// statusLoop logs progress every statusEvery until the returned stop.
func (r *runner) statusLoop(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				rec := r.rec
				r.log.Info("status", "online", rec.online.Load(), "synced", rec.synced.Load(),
					"notices", rec.get(cVersions), "applied", rec.get(cApplied), "heartbeats", rec.get(cHeartbeats),
					"plays", rec.get(cPlaysPosted), "dial_failures", rec.get(cDialFailures), "reconnects", rec.get(cReconnects))
			}
		}
	}()
	return func() { cancel(); <-done }
}

// waitFor polls cond until it holds (true), or d passes or ctx ends (false).
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || !sleep(ctx, pollEvery) {
			return false
		}
	}
	return true
}

// sleep waits d unless ctx ends first (false).
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// readTokens reads one token per line; blank lines and # comments are skipped.
func readTokens(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer f.Close()
	var tokens []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		tok := strings.TrimSpace(sc.Text())
		if tok == "" || strings.HasPrefix(tok, "#") {
			continue
		}
		if seen[tok] {
			return nil, fmt.Errorf("tokens: %s:%d: duplicate token (a second connection replaces the first)", path, line)
		}
		seen[tok] = true
		tokens = append(tokens, tok)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens: %s: %w", path, err)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("tokens: %s holds no tokens", path)
	}
	return tokens, nil
}
