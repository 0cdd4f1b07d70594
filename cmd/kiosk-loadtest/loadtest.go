package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// Defaults and hard bounds. The bounds keep a mistyped flag from exhausting
// the machine the server under test runs on.
const (
	DefaultURL      = "ws://127.0.0.1:8080/api/v1/device/ws"
	DefaultHold     = time.Minute
	DefaultDialRate = 500
	MaxConns        = 20000
	MaxHold         = time.Hour
	MaxDialRate     = 5000

	dialConcurrency = 64
	statusEvery     = 5 * time.Second
)

// Config is one load-test run.
type Config struct {
	URL        string
	TokensFile string
	Create     int    // screens to create first (admin API), 0 = none
	AdminToken string // for Create
	Conns      int    // 0 = one per token
	Hold       time.Duration
	DialRate   int
	Heartbeat  time.Duration
	Ack        bool
	ServerPID  int
}

func (c *Config) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("-url %q: %w", c.URL, err)
	}
	if u.Scheme != "ws" {
		return fmt.Errorf("-url %q: want a ws:// URL", c.URL)
	}
	if !isLoopback(u.Hostname()) {
		return fmt.Errorf("-url %q: only loopback hosts (127.0.0.1, ::1, localhost) may be load-tested", c.URL)
	}
	if c.TokensFile == "" {
		return errors.New("-tokens is required")
	}
	if c.Create < 0 || c.Create > MaxConns {
		return fmt.Errorf("-create %d: want 0..%d", c.Create, MaxConns)
	}
	if c.Create > 0 && c.AdminToken == "" {
		return errors.New("-create needs KIOSK_ADMIN_TOKEN")
	}
	if c.Conns < 0 || c.Conns > MaxConns {
		return fmt.Errorf("-n %d: want 0..%d", c.Conns, MaxConns)
	}
	if c.Hold <= 0 || c.Hold > MaxHold {
		return fmt.Errorf("-hold %s: want more than 0 and at most %s", c.Hold, MaxHold)
	}
	if c.DialRate <= 0 || c.DialRate > MaxDialRate {
		return fmt.Errorf("-rate %d: want 1..%d", c.DialRate, MaxDialRate)
	}
	if c.Heartbeat < 0 || (c.Heartbeat > 0 && c.Heartbeat < time.Second) {
		return fmt.Errorf("-heartbeat %s: want 0 (off) or at least 1s", c.Heartbeat)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// stats are updated by every connection and read by the status line.
type stats struct {
	open, failed, closed, versions, acks, heartbeats, errorsRecv atomic.Int64
}

func (s *stats) attrs() []any {
	return []any{
		"open", s.open.Load(), "failed", s.failed.Load(), "closed_by_server", s.closed.Load(),
		"versions", s.versions.Load(), "acks", s.acks.Load(),
		"heartbeats", s.heartbeats.Load(), "error_frames", s.errorsRecv.Load(),
	}
}

func run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if cfg.Create > 0 {
		if err := createScreens(ctx, cfg, log); err != nil {
			return err
		}
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

	rssBefore, rssErr := readRSS(cfg.ServerPID)
	if cfg.ServerPID > 0 && rssErr != nil {
		return rssErr
	}

	var st stats
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				log.Info("status", st.attrs()...)
			}
		}
	}()

	log.Info("connecting", "url", cfg.URL, "connections", n, "rate_per_s", cfg.DialRate)
	start := time.Now()
	var conns sync.WaitGroup
	sem := make(chan struct{}, dialConcurrency)
	pace := time.NewTicker(time.Second / time.Duration(cfg.DialRate))
	var dialing sync.WaitGroup
dial:
	for _, tok := range tokens {
		select {
		case <-ctx.Done():
			break dial
		case <-pace.C:
		}
		select {
		case <-ctx.Done():
			break dial
		case sem <- struct{}{}:
		}
		dialing.Add(1)
		go func() {
			defer dialing.Done() // after conns.Go, so conns.Wait cannot miss it
			c, err := connect(ctx, cfg.URL, tok)
			<-sem
			if err != nil {
				st.failed.Add(1)
				log.Debug("connect failed", "error", err)
				return
			}
			st.open.Add(1)
			conns.Go(func() { hold(ctx, cfg, c, &st) })
		}()
	}
	pace.Stop()
	dialing.Wait()
	log.Info("connected", append(st.attrs(), "took", time.Since(start).Round(time.Millisecond))...)

	if cfg.ServerPID > 0 && ctx.Err() == nil {
		time.Sleep(time.Second) // let the server finish answering hellos
		if rssAfter, err := readRSS(cfg.ServerPID); err != nil {
			log.Warn("read server RSS", "error", err)
		} else if open := st.open.Load(); open > 0 {
			log.Info("server memory", "rss_before_kib", rssBefore>>10, "rss_after_kib", rssAfter>>10,
				"bytes_per_conn", (int64(rssAfter)-int64(rssBefore))/open)
		}
	}

	select {
	case <-ctx.Done():
	case <-time.After(cfg.Hold):
	}
	cancel()
	conns.Wait()
	<-statusDone
	log.Info("done", st.attrs()...)
	if st.open.Load() == 0 && n > 0 {
		return errors.New("no connection could be opened")
	}
	return nil
}

// connect dials one device connection and completes hello/welcome.
func connect(ctx context.Context, wsURL, token string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	c, resp, err := d.DialContext(ctx, wsURL, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	c.SetReadLimit(playlists.MaxMessageBytes)
	if err := writeFrame(c, nil, playlists.MsgHello, playlists.Hello{PlayerVersion: "kiosk-loadtest"}); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read welcome: %w", err)
	}
	if env, err := playlists.Decode(data); err != nil || env.Type != playlists.MsgWelcome {
		c.Close()
		return nil, fmt.Errorf("first frame %.100q: want a welcome", data)
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, nil
}

// hold keeps one connection open until ctx ends: it reads (which answers
// the server's pings), acks versions and optionally sends heartbeats.
func hold(ctx context.Context, cfg Config, c *websocket.Conn, st *stats) {
	var wmu sync.Mutex // one writer at a time: reader acks, ticker heartbeats
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				if ctx.Err() == nil {
					st.closed.Add(1)
					st.open.Add(-1)
				}
				return
			}
			env, err := playlists.Decode(data)
			if err != nil {
				continue
			}
			switch env.Type {
			case playlists.MsgVersion:
				st.versions.Add(1)
				var n playlists.VersionNote
				if cfg.Ack && env.DecodeData(&n) == nil {
					if writeFrame(c, &wmu, playlists.MsgApplied, playlists.Applied{Version: n.Version}) == nil {
						st.acks.Add(1)
					}
				}
			case playlists.MsgError:
				st.errorsRecv.Add(1)
			}
		}
	}()

	var beat <-chan time.Time
	if cfg.Heartbeat > 0 {
		t := time.NewTicker(cfg.Heartbeat)
		defer t.Stop()
		beat = t.C
	}
	began := time.Now()
	for {
		select {
		case <-readDone:
			c.Close()
			return
		case <-beat:
			hb := playlists.Heartbeat{PlayerVersion: "kiosk-loadtest", UptimeS: int64(time.Since(began).Seconds()), PageAlive: true}
			if writeFrame(c, &wmu, playlists.MsgHeartbeat, hb) == nil {
				st.heartbeats.Add(1)
			}
		case <-ctx.Done():
			wmu.Lock()
			_ = c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "load test over"), time.Now().Add(time.Second))
			wmu.Unlock()
			select {
			case <-readDone:
			case <-time.After(2 * time.Second):
			}
			c.Close()
			return
		}
	}
}

func writeFrame(c *websocket.Conn, mu *sync.Mutex, typ string, v any) error {
	data, err := playlists.Encode(typ, v)
	if err != nil {
		return err
	}
	if mu != nil {
		mu.Lock()
		defer mu.Unlock()
	}
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, data); err != nil {
		return fmt.Errorf("write %s: %w", typ, err)
	}
	return nil
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

// createScreens makes cfg.Create screens through the admin API and writes
// their device tokens to cfg.TokensFile.
func createScreens(ctx context.Context, cfg Config, log *slog.Logger) error {
	u, _ := url.Parse(cfg.URL) // validated
	api := (&url.URL{Scheme: "http", Host: u.Host, Path: "/api/v1/screens"}).String()
	stamp := time.Now().Format("20060102-150405")
	client := &http.Client{Timeout: 10 * time.Second}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# %d device tokens created by kiosk-loadtest at %s\n", cfg.Create, stamp)
	for i := range cfg.Create {
		body, _ := json.Marshal(map[string]any{
			"name": fmt.Sprintf("loadtest-%s-%05d", stamp, i),
			"tags": []string{"loadtest"},
		})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, api, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+cfg.AdminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("create screen %d: %w", i, err)
		}
		var got struct{ ID, Token, Error string }
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("create screen %d: HTTP %d: %s", i, resp.StatusCode, got.Error)
		}
		if err != nil || got.Token == "" {
			return fmt.Errorf("create screen %d: response without a token", i)
		}
		out.WriteString(got.Token + "\n")
	}
	if err := os.WriteFile(cfg.TokensFile, out.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	log.Info("screens created", "count", cfg.Create, "tokens", cfg.TokensFile)
	return nil
}

// readRSS returns the resident set size of pid from /proc, or 0 if pid is 0.
func readRSS(pid int) (uint64, error) {
	if pid <= 0 {
		return 0, nil
	}
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("server RSS: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("server RSS: %s: parse %q: %w", path, line, err)
		}
		return kib << 10, nil
	}
	return 0, fmt.Errorf("server RSS: %s has no VmRSS line", path)
}
