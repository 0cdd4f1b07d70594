// Package pairing is the player's side of enrolment by pairing code: with
// no device token, it asks the server for a code, has it shown, and polls
// until a technician adopts the code, then returns the credential. It
// asks for a new code whenever one expires, and waits with jittered,
// capped backoff while the server is out of reach, so a whole compound
// switched on at once does not hammer the server.
package pairing

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"kiosk/playlists"
)

// Defaults for Config fields left zero.
const (
	DefaultBackoffMin = time.Second
	DefaultBackoffMax = time.Minute
	// DefaultPollEvery is used when the server names no interval.
	DefaultPollEvery = 3 * time.Second
)

// maxAnswerBytes bounds what the player reads of a pairing answer.
const maxAnswerBytes = 64 << 10

// Code is a pairing code to show.
type Code struct {
	Code      string    // 8 characters as the server gave them
	ExpiresAt time.Time // on the server's clock
}

// Config is what Run needs. Server and Key are required.
type Config struct {
	Server string             // base URL, http:// or https://
	Key    ed25519.PrivateKey // the device key; the server binds the screen to its public half
	// OnCode is told every new code to show; the zero Code when the last
	// one is no longer valid and no new one is known yet.
	OnCode func(Code)
	// PollEvery overrides the server's poll interval (tests); zero: the
	// server's, else DefaultPollEvery.
	PollEvery  time.Duration
	BackoffMin time.Duration
	BackoffMax time.Duration
	HTTPClient *http.Client // nil: one with dial and header timeouts
	Logger     *slog.Logger
	Now        func() time.Time // the screen's own clock
}

// errGone: the request expired, was used or was replaced; ask again.
var errGone = errors.New("pairing request gone")

// Run waits until the screen is paired and returns the credential, or
// returns ctx's error once it ends.
func Run(ctx context.Context, cfg Config) (playlists.PairAdopted, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return playlists.PairAdopted{}, errors.New("pairing: no device key")
	}
	p := &pairer{cfg: cfg, base: strings.TrimRight(strings.TrimSpace(cfg.Server), "/")}
	if p.cfg.BackoffMin <= 0 {
		p.cfg.BackoffMin = DefaultBackoffMin
	}
	if p.cfg.BackoffMax < p.cfg.BackoffMin {
		p.cfg.BackoffMax = max(DefaultBackoffMax, p.cfg.BackoffMin)
	}
	if p.cfg.HTTPClient == nil {
		p.cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 20 * time.Second,
		}}
	}
	if p.cfg.Logger == nil {
		p.cfg.Logger = slog.Default()
	}
	if p.cfg.Now == nil {
		p.cfg.Now = time.Now
	}
	if p.cfg.OnCode == nil {
		p.cfg.OnCode = func(Code) {}
	}
	return p.run(ctx)
}

type pairer struct {
	cfg      Config
	base     string
	offset   atomic.Int64 // server clock minus ours, from Date headers, ns
	failures int          // consecutive failed requests, for backoff
}

func (p *pairer) run(ctx context.Context) (playlists.PairAdopted, error) {
	log := p.cfg.Logger
	pub := p.cfg.Key.Public().(ed25519.PublicKey)
	for {
		tk, err := p.start(ctx, pub)
		if err != nil {
			if ctx.Err() != nil {
				return playlists.PairAdopted{}, ctx.Err()
			}
			wait := p.backoff()
			log.Warn("cannot get a pairing code; retrying", "error", err, "retry_in", wait.Round(time.Millisecond))
			if err := sleep(ctx, wait); err != nil {
				return playlists.PairAdopted{}, err
			}
			continue
		}
		log.Info("showing pairing code; enter it in the admin page (添加屏幕)", "code", tk.Code, "expires_at", tk.ExpiresAt)
		p.cfg.OnCode(Code{Code: tk.Code, ExpiresAt: tk.ExpiresAt})
		a, err := p.wait(ctx, tk)
		switch {
		case err == nil:
			return a, nil
		case ctx.Err() != nil:
			return playlists.PairAdopted{}, ctx.Err()
		case errors.Is(err, errGone):
			log.Info("pairing code expired; asking for a new one")
			p.cfg.OnCode(Code{})
		default:
			return playlists.PairAdopted{}, err
		}
	}
}

// wait polls for tk until it is adopted or gone.
func (p *pairer) wait(ctx context.Context, tk playlists.PairTicket) (playlists.PairAdopted, error) {
	every := p.cfg.PollEvery
	if every <= 0 {
		every = time.Duration(tk.PollEveryS) * time.Second
	}
	if every <= 0 {
		every = DefaultPollEvery
	}
	delay := every
	for {
		// A little jitter, so screens switched on together spread out.
		if err := sleep(ctx, delay+time.Duration(rand.Float64()*float64(every)/4)); err != nil {
			return playlists.PairAdopted{}, err
		}
		a, pending, err := p.poll(ctx, tk.Poll)
		switch {
		case err == nil && !pending:
			return a, nil
		case err == nil:
			delay = every
		case errors.Is(err, errGone) || ctx.Err() != nil:
			return playlists.PairAdopted{}, err
		default:
			// The server is out of reach or refused the proof (the clock
			// correction from its Date header is applied by now).
			delay = max(every, p.backoff())
			p.cfg.Logger.Warn("pairing poll failed; retrying", "error", err, "retry_in", delay.Round(time.Millisecond))
		}
		// Past expiry (on the server's clock) the code is no use; the
		// server would say 410, which wait turns into a new code anyway.
		if !p.serverNow().Before(tk.ExpiresAt) {
			return playlists.PairAdopted{}, errGone
		}
	}
}

func (p *pairer) start(ctx context.Context, pub ed25519.PublicKey) (playlists.PairTicket, error) {
	body, _ := json.Marshal(playlists.PairStart{PublicKey: playlists.EncodeKey(pub)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+playlists.PathDevicePair, bytes.NewReader(body))
	if err != nil {
		return playlists.PairTicket{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	var tk playlists.PairTicket
	status, err := p.do(req, &tk)
	if err != nil {
		return tk, err
	}
	if status != http.StatusCreated || tk.Code == "" || tk.Poll == "" {
		return tk, fmt.Errorf("pairing: unexpected answer %d to the code request", status)
	}
	return tk, nil
}

// poll asks once; pending is true while the code waits for adoption.
func (p *pairer) poll(ctx context.Context, poll string) (playlists.PairAdopted, bool, error) {
	var a playlists.PairAdopted
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+playlists.PathDevicePair+"/"+poll, nil)
	if err != nil {
		return a, false, err
	}
	ts := p.serverNow().Unix()
	req.Header.Set(playlists.HeaderPairTime, strconv.FormatInt(ts, 10))
	req.Header.Set(playlists.HeaderPairSignature, base64.StdEncoding.EncodeToString(ed25519.Sign(p.cfg.Key, playlists.PairProofMessage(poll, ts))))
	status, err := p.do(req, &a)
	switch {
	case err != nil:
		return a, false, err
	case status == http.StatusAccepted:
		return a, true, nil
	case status == http.StatusOK && a.Token != "" && a.ScreenID != "":
		return a, false, nil
	case status == http.StatusGone:
		return a, false, errGone
	}
	return a, false, fmt.Errorf("pairing: unexpected answer %d to a poll", status)
}

// do sends req and decodes a 2xx JSON answer into out. It learns the
// server's clock from the Date header of every answer: a screen without
// a battery-backed clock may think it is 1970, and the poll's signed
// time must be close to the server's.
func (p *pairer) do(req *http.Request, out any) (int, error) {
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		p.failures++
		return 0, err
	}
	defer resp.Body.Close()
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		p.offset.Store(int64(d.Sub(p.cfg.Now())))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		p.failures++
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		if resp.StatusCode != http.StatusGone {
			p.failures++
			var e struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(raw, &e)
			return resp.StatusCode, fmt.Errorf("server answered %d: %s", resp.StatusCode, e.Error)
		}
		return resp.StatusCode, nil
	}
	p.failures = 0
	if err := json.Unmarshal(raw, out); err != nil {
		return resp.StatusCode, fmt.Errorf("pairing: decode answer: %w", err)
	}
	return resp.StatusCode, nil
}

func (p *pairer) serverNow() time.Time {
	return p.cfg.Now().Add(time.Duration(p.offset.Load()))
}

// backoff is uniformly random between min and min·2^failures, capped.
func (p *pairer) backoff() time.Duration {
	lo, hi := p.cfg.BackoffMin, p.cfg.BackoffMax
	ceil := hi
	if n := p.failures; n < 32 {
		if c := lo << n; c > 0 && c < hi {
			ceil = c
		}
	}
	if ceil <= lo {
		return lo
	}
	return lo + time.Duration(rand.Float64()*float64(ceil-lo))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
