package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// Fixed limits of the player's session (player/internal/syncer).
const (
	dialTimeout    = 15 * time.Second
	welcomeTimeout = 15 * time.Second
	writeTimeout   = 10 * time.Second
	// restartPause is how long a player restarted by a command is away:
	// systemd's RestartSec plus the process start.
	restartPause = time.Second
)

var errUnauthorized = errors.New("server rejected the device token (401)")

// errRestart ends a session after a restart command's result went out.
var errRestart = errors.New("restart command carried out")

// screen is one simulated player. Its goroutines mirror the player's: Run
// (sessions and reconnects), the session's reader, fetchLoop and playLoop.
type screen struct {
	r     *runner
	idx   int
	token string
	boot  string // the play log's boot id, as the player's cache keeps it
	began time.Time
	// firstDone tells the runner the first connection attempt ended.
	firstDone func()

	wantSig    chan struct{} // the wanted version changed
	appliedSig chan struct{} // a version was applied; tell the server
	resultSig  chan struct{} // a command result waits to be sent
	playSig    chan struct{} // upload plays now (after a reconnect)

	mu             sync.Mutex
	id             string // from the welcome
	welcomes       int
	online, synced bool
	serverVersion  string // the version the server last named
	acked          string // the version the server was last told is applied
	wanted         string
	pushed         *playlists.ManifestPush // the wanted version's manifest, pushed in the frame
	inflight       string
	inflightCancel context.CancelFunc
	applied        string
	appliedSerial  uint64
	appliedInfo    *manifestInfo
	pinnedKey      string
	syncErr        string
	rejected       string
	fetchFailures  int
	offsetMS       int64
	pending        []playlists.CommandResult
	executed       map[string]playlists.CommandResult
	running        int
	restarting     string // id of a restart command whose result is pending
	plays          playLog
}

func newScreen(r *runner, idx int, token string) *screen {
	var b [8]byte
	rand.Read(b[:])
	return &screen{
		r: r, idx: idx, token: token, boot: hex.EncodeToString(b[:]), began: time.Now(),
		wantSig:    make(chan struct{}, 1),
		appliedSig: make(chan struct{}, 1),
		resultSig:  make(chan struct{}, 1),
		playSig:    make(chan struct{}, 1),
		executed:   map[string]playlists.CommandResult{},
	}
}

// run connects, keeps in sync and reconnects with the player's backoff
// until ctx ends. firstDone is called once, when the first connection
// attempt was welcomed or failed.
func (s *screen) run(ctx context.Context, firstDone func()) {
	s.firstDone = sync.OnceFunc(firstDone)
	defer s.firstDone()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.fetchLoop(ctx) }()
	go func() { defer wg.Done(); s.playLoop(ctx) }()
	defer wg.Wait()

	attempt := 0
	for {
		began := time.Now()
		welcomed, err := s.session(ctx)
		s.setOnline(false)
		s.firstDone()
		if ctx.Err() != nil {
			return
		}
		if welcomed && !errors.Is(err, errRestart) {
			s.r.rec.count(cDisconnects) // read or write failed: the server went away
		}
		// The player's rule: a connection that outlived the longest
		// backoff means the server is not flapping; start again from the
		// shortest wait.
		if welcomed && time.Since(began) >= s.r.cfg.BackoffMax {
			attempt = 0
		}
		delay := backoff(s.r.cfg.BackoffMin, s.r.cfg.BackoffMax, attempt, randFloat)
		attempt++
		if errors.Is(err, errRestart) {
			// The supervisor starts the player again: a new process with
			// a fresh backoff.
			attempt, delay = 0, restartPause
		}
		if err != nil && !errors.Is(err, errRestart) {
			s.r.log.Debug("session ended", "screen", s.idx, "error", err, "retry_in", delay)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// session runs one websocket connection until it fails or ctx ends.
func (s *screen) session(ctx context.Context) (welcomed bool, err error) {
	rec := s.r.rec
	rec.count(cDials)
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+s.token)
	hdr.Set("User-Agent", "kiosk-player/"+s.r.cfg.PlayerVersion)
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, resp, err := s.r.dialer.DialContext(dctx, s.r.ws, hdr)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		rec.count(cDialFailures)
		if resp != nil {
			if resp.StatusCode == http.StatusUnauthorized {
				err = errUnauthorized
			}
			rec.fail(fmt.Sprintf("dial: HTTP %d", resp.StatusCode))
			return false, err
		}
		rec.fail(errorKind("dial: ", err))
		return false, err
	}
	defer conn.Close()
	var accept []string
	if s.r.cfg.PushManifests {
		// Pushed manifests make frames up to this size.
		conn.SetReadLimit(playlists.MaxPushFrameBytes)
		accept = []string{playlists.AcceptManifest}
	} else {
		conn.SetReadLimit(playlists.MaxMessageBytes)
	}
	stop := context.AfterFunc(ctx, func() {
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "player stopping")
		conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		conn.Close()
	})
	defer stop()

	// Anything applied before this hello is reported in it.
	select {
	case <-s.appliedSig:
	default:
	}
	s.mu.Lock()
	applied, appliedInfo := s.applied, s.appliedInfo
	s.mu.Unlock()
	if err := s.write(conn, playlists.MsgHello, playlists.Hello{PlayerVersion: s.r.cfg.PlayerVersion, AppliedVersion: applied, Accept: accept}); err != nil {
		rec.fail("hello: write")
		return false, err
	}
	w, err := awaitWelcome(conn)
	if err != nil {
		if ctx.Err() == nil {
			rec.fail(errorKind("welcome: ", err))
		}
		return false, err
	}
	combined := slices.Contains(w.Accept, playlists.AcceptAppliedHeartbeat)
	now := time.Now()
	rec.count(cWelcomes)
	s.mu.Lock()
	s.id = w.ScreenID
	s.welcomes++
	if s.welcomes > 1 {
		rec.count(cReconnects)
	}
	s.acked = applied // the hello said so
	if w.Version != "" {
		s.serverVersion = w.Version
	}
	s.mu.Unlock()
	if appliedInfo != nil && applied != "" {
		rec.acked(s.idx, applied, appliedInfo.publish, now)
	}
	s.setOnline(true)
	s.firstDone()
	if w.Version != "" {
		rec.notice(s.idx, w.Version, now)
		if w.Version != applied {
			s.want(w.Version)
		}
	}
	poke(s.playSig) // back online: the play backlog goes up soon

	cfg := s.r.cfg
	readTimeout := 2*cfg.PingEvery + 10*time.Second
	frames := make(chan playlists.Envelope, 8)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go s.readPump(conn, readTimeout, frames, readErr, done)

	// The first heartbeat goes at once, as the player's; the periodic ones
	// start at a random phase so the fleet does not beat in lockstep.
	hb := time.NewTimer(jitter(cfg.Heartbeat))
	defer hb.Stop()
	probe := time.NewTimer(jitter(cfg.TimeSyncEvery))
	defer probe.Stop()
	ping := time.NewTimer(jitter(cfg.PingEvery))
	defer ping.Stop()
	if err := s.sendProbe(conn); err != nil {
		return true, err
	}
	if err := s.sendHeartbeat(conn); err != nil {
		return true, err
	}
	if err := s.flushResults(conn); err != nil {
		return true, err
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return true, nil
		case err := <-readErr:
			if ctx.Err() != nil {
				return true, nil
			}
			return true, fmt.Errorf("connection lost: %w", err)
		case env := <-frames:
			s.dispatch(ctx, env)
		case <-s.resultSig:
			err = s.flushResults(conn)
			if err == nil && s.restartDue() {
				rec.count(cRestarts)
				return true, errRestart
			}
		case <-hb.C:
			hb.Reset(cfg.Heartbeat)
			if !s.r.quiet.Load() {
				err = s.sendHeartbeat(conn)
			}
		case <-probe.C:
			probe.Reset(cfg.TimeSyncEvery)
			if !s.r.quiet.Load() {
				err = s.sendProbe(conn)
			}
		case <-ping.C:
			ping.Reset(cfg.PingEvery)
			err = conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout))
			if err == nil {
				rec.count(cPings)
			}
		case <-s.appliedSig:
			err = s.sendApplied(conn, combined)
			if err == nil && !combined {
				err = s.sendHeartbeat(conn)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return true, nil
			}
			rec.fail("write: " + errorKind("", err))
			return true, err
		}
	}
}

// awaitWelcome reads until the welcome; an error frame instead is the
// server's reason for refusing.
func awaitWelcome(conn *websocket.Conn) (playlists.Welcome, error) {
	var w playlists.Welcome
	conn.SetReadDeadline(time.Now().Add(welcomeTimeout))
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return w, fmt.Errorf("waiting for welcome: %w", err)
		}
		env, err := playlists.Decode(msg)
		if err != nil {
			return w, kinded("bad frame", "waiting for welcome: %w", err)
		}
		switch env.Type {
		case playlists.MsgWelcome:
			if err := env.DecodeData(&w); err != nil {
				return w, kinded("bad frame", "%w", err)
			}
			return w, nil
		case playlists.MsgError:
			var n playlists.ErrorNote
			env.DecodeData(&n)
			return w, kinded("refused: "+n.Error, "server refused the connection: %s", n.Error)
		}
	}
}

// readPump is the connection's only reader; every frame, ping and pong
// extends the read deadline, as in the player. A new version, announced or
// pushed, is booked as received when its frame was read off the socket,
// and handed to fetchLoop from here: no hop through the session goroutine
// (with ten thousand screens per publish, the tool's CPU is the server's
// loss). Other frames go to the session.
func (s *screen) readPump(conn *websocket.Conn, readTimeout time.Duration, frames chan<- playlists.Envelope, readErr chan<- error, done <-chan struct{}) {
	extend := func() { conn.SetReadDeadline(time.Now().Add(readTimeout)) }
	extend()
	conn.SetPongHandler(func(string) error { extend(); return nil })
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if err == nil || errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	for {
		buf, err := readFrame(conn)
		if err != nil {
			readErr <- err
			return
		}
		now := time.Now()
		extend()
		if p, ok := splitPushFrame(buf.Bytes()); ok {
			s.r.manifests.own(p)
			releaseFrame(buf)
			s.pushReceived(p, now)
			continue
		}
		env, err := playlists.Decode(buf.Bytes()) // copies what it keeps
		releaseFrame(buf)
		if err != nil {
			s.r.rec.fail("frame: undecodable")
			continue
		}
		switch env.Type {
		case playlists.MsgVersion, playlists.MsgResync:
			var n playlists.VersionNote
			if env.DecodeData(&n) != nil || n.Version == "" {
				s.r.rec.fail("frame: bad version notice")
				continue
			}
			s.r.rec.count(cVersions)
			s.noticed(n.Version, now)
			s.want(n.Version)
			continue
		case playlists.MsgManifest:
			// Encoded otherwise than splitPushFrame expects: the slow way.
			p := new(playlists.ManifestPush)
			if env.DecodeData(p) != nil || p.Version == "" {
				s.r.rec.fail("frame: bad manifest frame")
				continue
			}
			s.pushReceived(p, now)
			continue
		}
		select {
		case frames <- env:
		case <-done:
			return
		}
	}
}

// dispatch acts on one frame from the server.
func (s *screen) dispatch(ctx context.Context, env playlists.Envelope) {
	rec := s.r.rec
	switch env.Type {
	case playlists.MsgTime:
		var ts playlists.TimeSync
		if env.DecodeData(&ts) != nil || ts.Server == 0 {
			rec.fail("frame: bad time answer")
			return
		}
		rec.count(cTimeAnswers)
		t1 := time.Now().UnixMilli()
		s.mu.Lock()
		s.offsetMS = ts.Server - (ts.T0+t1)/2
		s.mu.Unlock()
	case playlists.MsgCommand:
		var cmd playlists.Command
		if env.DecodeData(&cmd) != nil || cmd.ID == "" {
			rec.fail("frame: bad command")
			return
		}
		rec.count(cCommands)
		s.command(ctx, cmd)
	case playlists.MsgUpdate:
		rec.count(cUpdateOffers)
	case playlists.MsgError:
		var n playlists.ErrorNote
		env.DecodeData(&n)
		rec.count(cErrorFrames)
		rec.fail("server error frame: " + truncate(n.Error, 60))
	}
}

// pushReceived takes a manifest pushed in a frame read at t: booked as
// received, and the wanted version with its bytes for fetchLoop.
func (s *screen) pushReceived(p *playlists.ManifestPush, t time.Time) {
	s.r.rec.count(cPushes)
	if s.r.quiet.Load() {
		s.readOnly(p, t)
		return
	}
	s.noticed(p.Version, t)
	s.mu.Lock()
	s.pushed = p
	s.mu.Unlock()
	s.want(p.Version)
}

// readOnly books a push read at t in a -receive-only run: the manifest's
// hash is checked (once per version, shared by every screen: the cache)
// so the publish it carries is known, and nothing is fetched, applied or
// acked.
func (s *screen) readOnly(p *playlists.ManifestPush, t time.Time) {
	s.noticed(p.Version, t)
	info, err := s.r.manifests.open(p.Body, p.Version)
	if err != nil {
		s.r.rec.fail(errorKind("pushed manifest: ", err))
		return
	}
	s.r.rec.received(s.idx, info.publish)
}

// noticed books version v, named by a frame read at t, as the server's.
func (s *screen) noticed(v string, t time.Time) {
	s.r.rec.notice(s.idx, v, t)
	s.mu.Lock()
	s.serverVersion = v
	s.mu.Unlock()
	s.updateSynced()
}

// want records v as the version to run; a download of another version is
// cancelled so the newest wins (the player's rule), and a pushed manifest
// of another version is dropped.
func (s *screen) want(v string) {
	s.mu.Lock()
	s.wanted = v
	if s.pushed != nil && s.pushed.Version != v {
		s.pushed = nil
	}
	if s.inflight != "" && s.inflight != v && s.inflightCancel != nil {
		s.inflightCancel()
	}
	s.mu.Unlock()
	poke(s.wantSig)
}

func (s *screen) setOnline(on bool) {
	s.mu.Lock()
	changed := s.online != on
	s.online = on
	s.mu.Unlock()
	if changed {
		s.r.rec.setOnline(on, time.Now())
	}
	s.updateSynced()
}

// updateSynced keeps the screen's "online and acked the version the server
// names" state and the fleet-wide count in step.
func (s *screen) updateSynced() {
	s.mu.Lock()
	now := s.online && s.serverVersion != "" && s.acked == s.serverVersion
	changed := s.synced != now
	s.synced = now
	s.mu.Unlock()
	if changed {
		s.r.rec.setSynced(now, time.Now())
	}
}

func (s *screen) write(conn *websocket.Conn, typ string, v any) error {
	frame, err := playlists.Encode(typ, v)
	if err != nil {
		return err
	}
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
		return fmt.Errorf("send %s: %w", typ, err)
	}
	return nil
}

// sendApplied acks the applied version and sends the heartbeat that
// follows, inside the ack where the server's welcome accepts it (combined),
// as the player does.
func (s *screen) sendApplied(conn *websocket.Conn, combined bool) error {
	s.mu.Lock()
	v, info := s.applied, s.appliedInfo
	s.mu.Unlock()
	a := playlists.Applied{Version: v}
	if combined {
		hb := s.heartbeat()
		a.Heartbeat = &hb
	}
	if err := s.write(conn, playlists.MsgApplied, a); err != nil {
		return err
	}
	if combined {
		s.r.rec.count(cHeartbeats)
	}
	now := time.Now()
	s.r.rec.count(cApplied)
	if info != nil {
		s.r.rec.acked(s.idx, v, info.publish, now)
	}
	s.mu.Lock()
	s.acked = v
	s.mu.Unlock()
	s.updateSynced()
	return nil
}

func (s *screen) sendProbe(conn *websocket.Conn) error {
	err := s.write(conn, playlists.MsgTime, playlists.TimeSync{T0: time.Now().UnixMilli()})
	if err == nil {
		s.r.rec.count(cTimeProbes)
	}
	return err
}

// Disk figures a player on a 32 GB SD card reports.
const (
	diskTotal = 32 << 30
	diskFree  = 21 << 30
)

func (s *screen) sendHeartbeat(conn *websocket.Conn) error {
	err := s.write(conn, playlists.MsgHeartbeat, s.heartbeat())
	if err == nil {
		s.r.rec.count(cHeartbeats)
	}
	return err
}

// heartbeat is the screen's health report as the player builds it.
func (s *screen) heartbeat() playlists.Heartbeat {
	now := time.Now()
	s.mu.Lock()
	s.r.rec.add(cPlaysDropped, s.plays.advance(s.boot, now)) // the display moved on meanwhile
	hb := playlists.Heartbeat{
		AppliedVersion:   s.applied,
		UptimeS:          int64(now.Sub(s.began) / time.Second),
		DiskFreeBytes:    diskFree,
		DiskTotalBytes:   diskTotal,
		PlayerVersion:    s.r.cfg.PlayerVersion,
		ClockOffsetMS:    s.offsetMS,
		PageAlive:        true,
		LastSyncError:    s.syncErr,
		ManifestRejected: s.rejected,
		DownloadFailures: s.fetchFailures,
		PlaysPending:     int64(len(s.plays.pending)),
		PlaysDropped:     s.plays.dropped,
	}
	if s.appliedInfo != nil {
		hb.CacheBytes = int64(s.appliedInfo.bytes)
		for _, a := range s.appliedInfo.assets {
			hb.CacheBytes += a.Size
		}
	}
	if e, since, ok := s.plays.current(); ok {
		hb.CurrentItem, hb.CurrentSince = e.Item.ID, since.UnixMilli()
	}
	s.mu.Unlock()
	return hb
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
