package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// session runs one websocket connection until it fails or ctx ends.
// welcomed reports whether the server accepted the hello.
func (c *Client) session(ctx context.Context) (welcomed bool, err error) {
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+c.cfg.Token)
	hdr.Set("User-Agent", "kiosk-player/"+c.cfg.PlayerVersion)
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, resp, err := c.dialer.DialContext(dctx, c.wsURL, hdr)
	cancel()
	if err != nil {
		if resp != nil {
			if resp.StatusCode == http.StatusUnauthorized {
				return false, ErrUnauthorized
			}
			return false, fmt.Errorf("websocket handshake with %s: %s", c.wsURL, resp.Status)
		}
		return false, fmt.Errorf("connect %s: %w", c.wsURL, err)
	}
	defer conn.Close()
	// Manifests arrive pushed in the frame (Accept below), up to this size.
	conn.SetReadLimit(playlists.MaxPushFrameBytes)

	// Ending ctx must unblock the reader; say goodbye politely first so the
	// server marks the screen offline at once instead of at its next ping.
	stop := context.AfterFunc(ctx, func() {
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "player stopping")
		conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		conn.Close()
	})
	defer stop()

	// Anything applied before this hello is reported in it.
	select {
	case <-c.appliedSig:
	default:
	}
	if err := c.write(conn, playlists.MsgHello, playlists.Hello{
		PlayerVersion:  c.cfg.PlayerVersion,
		AppliedVersion: c.cfg.Cache.AppliedVersion(),
		Accept:         []string{playlists.AcceptManifest},
	}); err != nil {
		return false, err
	}

	w, err := c.awaitWelcome(conn)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	c.screenID, c.screenName = w.ScreenID, w.ScreenName
	c.mu.Unlock()
	if err := c.cfg.Cache.SetScreen(w.ScreenID, w.ScreenName); err != nil {
		c.log.Warn("remembering the screen identity failed", "error", err)
	}
	c.setConnErr(nil)
	c.online.Store(true)
	c.log.Info("connected to server", "screen", w.ScreenID, "name", w.ScreenName,
		"server_version", w.Version, "applied_version", c.cfg.Cache.AppliedVersion())
	if w.Version != "" {
		c.want(w.Version)
	}
	combined := slices.Contains(w.Accept, playlists.AcceptAppliedHeartbeat)

	readTimeout := 2*c.cfg.PingInterval + 10*time.Second
	frames := make(chan playlists.Envelope, 8)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go c.readPump(conn, readTimeout, frames, readErr, done)

	hb := time.NewTicker(c.cfg.HeartbeatInterval)
	defer hb.Stop()
	probe := time.NewTicker(c.cfg.TimeSyncInterval)
	defer probe.Stop()
	ping := time.NewTicker(c.cfg.PingInterval)
	defer ping.Stop()

	// Measure the clock and report in at once rather than a period later:
	// the status page should not show a fresh screen as blank for 30 s.
	if err := c.sendProbe(conn); err != nil {
		return true, err
	}
	if err := c.write(conn, playlists.MsgHeartbeat, c.heartbeat()); err != nil {
		return true, err
	}
	// Results of commands that finished while the connection was down.
	if err := c.flushResults(conn); err != nil {
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
			c.dispatch(ctx, env)
		case <-c.cmds.sig:
			err = c.flushResults(conn)
		case <-hb.C:
			err = c.write(conn, playlists.MsgHeartbeat, c.heartbeat())
		case <-c.hbSig:
			err = c.write(conn, playlists.MsgHeartbeat, c.heartbeat())
		case <-probe.C:
			err = c.sendProbe(conn)
		case <-ping.C:
			err = conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout))
		case <-c.appliedSig:
			// The health report follows every apply: in the same frame
			// where the server takes it, else as a frame of its own.
			a := playlists.Applied{Version: c.cfg.Cache.AppliedVersion()}
			hb := c.heartbeat()
			if combined {
				a.Heartbeat = &hb
			}
			err = c.write(conn, playlists.MsgApplied, a)
			if err == nil && !combined {
				err = c.write(conn, playlists.MsgHeartbeat, hb)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return true, nil
			}
			return true, err
		}
	}
}

// awaitWelcome reads until the welcome. An error frame instead is the
// server's reason for refusing us.
func (c *Client) awaitWelcome(conn *websocket.Conn) (playlists.Welcome, error) {
	var w playlists.Welcome
	conn.SetReadDeadline(time.Now().Add(welcomeTimeout))
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return w, fmt.Errorf("waiting for welcome: %w", err)
		}
		env, err := playlists.Decode(msg)
		if err != nil {
			return w, fmt.Errorf("waiting for welcome: %w", err)
		}
		switch env.Type {
		case playlists.MsgWelcome:
			if err := env.DecodeData(&w); err != nil {
				return w, err
			}
			return w, nil
		case playlists.MsgError:
			var n playlists.ErrorNote
			env.DecodeData(&n)
			return w, fmt.Errorf("server refused the connection: %s", n.Error)
		default:
			// A notice that races the welcome carries nothing the welcome
			// will not repeat.
			c.log.Debug("frame before welcome ignored", "type", env.Type)
		}
	}
}

// readPump is the connection's only reader. It extends the read deadline on
// every frame, ping and pong, so a half-open TCP connection (power cut at
// the router) is noticed within readTimeout instead of hours later.
func (c *Client) readPump(conn *websocket.Conn, readTimeout time.Duration, frames chan<- playlists.Envelope, readErr chan<- error, done <-chan struct{}) {
	extend := func() { conn.SetReadDeadline(time.Now().Add(readTimeout)) }
	extend()
	conn.SetPongHandler(func(string) error { extend(); return nil })
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		// Same tolerance as gorilla's default handler.
		var ne net.Error
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil
		}
		return err
	})
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			readErr <- err
			return
		}
		extend()
		env, err := playlists.Decode(msg)
		if err != nil {
			c.log.Warn("bad frame from server ignored", "error", err)
			continue
		}
		select {
		case frames <- env:
		case <-done:
			return
		}
	}
}

func (c *Client) handle(env playlists.Envelope) {
	switch env.Type {
	case playlists.MsgVersion, playlists.MsgResync:
		var n playlists.VersionNote
		if err := env.DecodeData(&n); err != nil {
			c.log.Warn("bad version notice ignored", "error", err)
			return
		}
		c.log.Info("server announced a version", "type", env.Type, "version", n.Version)
		if n.Version != "" {
			c.want(n.Version)
		}
	case playlists.MsgManifest:
		p := new(playlists.ManifestPush)
		if err := env.DecodeData(p); err != nil || p.Version == "" {
			c.log.Warn("bad manifest frame ignored", "error", err)
			return
		}
		c.log.Info("server pushed a version", "version", p.Version, "bytes", len(p.Body), "serial", p.Sig.Serial)
		c.wantPushed(p)
	case playlists.MsgTime:
		var ts playlists.TimeSync
		if err := env.DecodeData(&ts); err != nil {
			c.log.Warn("bad time answer ignored", "error", err)
			return
		}
		c.clockAnswer(ts, c.cfg.Now().UnixMilli())
	case playlists.MsgError:
		var n playlists.ErrorNote
		env.DecodeData(&n)
		c.log.Warn("server reported an error", "reason", n.Error)
		c.setConnErr(fmt.Errorf("server: %s", n.Error))
	case playlists.MsgUpdate:
		var o playlists.UpdateOffer
		if err := env.DecodeData(&o); err != nil {
			c.log.Warn("bad update offer ignored", "error", err)
			return
		}
		c.log.Info("server offers a player update", "rollout", o.Rollout, "version", o.Version, "builds", len(o.Builds))
		if c.cfg.OnUpdate != nil {
			c.cfg.OnUpdate(o)
		}
	case playlists.MsgWelcome:
		// A repeated welcome changes nothing we act on.
	default:
		c.log.Debug("unknown frame ignored", "type", env.Type)
	}
}

// maxProbeRTT discards clock answers that took so long that their midpoint
// says little.
const maxProbeRTT = 10 * time.Second

// clockAnswer turns a probe answer into the offset, using the midpoint of
// the round trip as the instant the server read its clock.
func (c *Client) clockAnswer(ts playlists.TimeSync, t1 int64) {
	rtt := time.Duration(t1-ts.T0) * time.Millisecond
	if ts.Server == 0 || rtt < 0 || rtt > maxProbeRTT {
		c.log.Debug("clock answer discarded", "rtt", rtt)
		return
	}
	offset := time.Duration(ts.Server-(ts.T0+t1)/2) * time.Millisecond
	prev := c.ClockOffset()
	c.offsetNS.Store(int64(offset))
	first := !c.measured.Swap(true)
	if d := offset - prev; first || d > time.Second || d < -time.Second {
		level := slog.LevelInfo
		if offset > time.Minute || offset < -time.Minute {
			// Schedules would be visibly off without the correction.
			level = slog.LevelWarn
		}
		c.log.Log(context.Background(), level, "clock offset measured", "offset", offset, "rtt", rtt)
	}
}

func (c *Client) sendProbe(conn *websocket.Conn) error {
	return c.write(conn, playlists.MsgTime, playlists.TimeSync{T0: c.cfg.Now().UnixMilli()})
}

// write sends one frame; only the session goroutine calls it, so there is a
// single writer per connection as gorilla requires.
func (c *Client) write(conn *websocket.Conn, typ string, v any) error {
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

func (c *Client) heartbeat() playlists.Heartbeat {
	hb := playlists.Heartbeat{
		AppliedVersion:   c.cfg.Cache.AppliedVersion(),
		UptimeS:          int64(time.Since(c.start) / time.Second),
		CacheBytes:       c.cfg.Cache.Bytes(),
		PlayerVersion:    c.cfg.PlayerVersion,
		ClockOffsetMS:    c.ClockOffset().Milliseconds(),
		DownloadFailures: c.DownloadFailures(),
	}
	hb.DiskFreeBytes, hb.DiskTotalBytes = diskSpace(filepath.Dir(c.cfg.Cache.Path()))
	plays := c.cfg.Cache.PlayStats()
	hb.PlaysPending = int64(plays.Pending)
	hb.PlaysDropped = int64(min(plays.Dropped, math.MaxInt64))
	c.mu.Lock()
	hb.LastSyncError = c.syncErr
	hb.ManifestRejected = c.rejected
	c.mu.Unlock()
	if c.cfg.Current != nil {
		if e, since, ok := c.cfg.Current(); ok {
			hb.CurrentItem = e.Item.ID
			hb.CurrentSince = since.UnixMilli()
		}
	}
	if c.cfg.PageAlive != nil {
		hb.PageAlive = c.cfg.PageAlive()
	}
	if c.cfg.UpdateStatus != nil {
		hb.Update = c.cfg.UpdateStatus()
	}
	return hb
}
