package api

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/pairing"
	"kiosk/server/internal/store"
)

// pairProofSkew is how far a poll's signed time may be from the server's.
// Players correct their clock from the Date header of every answer, so a
// screen without a real-time clock still gets in.
const pairProofSkew = 2 * time.Minute

// pairState is the API's side of enrolment by pairing code: the table of
// pending requests and the throttles in front of it.
type pairState struct {
	table   *pairing.Table
	guesses *pairing.Limiter // wrong codes, per client address and in total
	starts  *pairing.Limiter // code requests per client address
	now     func() time.Time
	events  *prometheus.CounterVec
}

func newPairState(o pairing.Options, reg prometheus.Registerer) pairState {
	o = o.WithDefaults()
	ps := pairState{
		table:   pairing.New(o),
		guesses: pairing.GuessLimiter(o),
		starts:  pairing.StartLimiter(o),
		now:     o.Now,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_pairing_total",
			Help: "Pairing events: started (a player asked for a code), adopted (a person paired it), delivered (the player collected its token), unknown_code (a wrong or expired code was entered).",
		}, []string{"event"}),
	}
	reg.MustRegister(ps.events)
	return ps
}

// startPairing is POST /device/pair: a player without credentials asks
// for a code. No credential; throttled per client address, and the table
// is bounded.
func (h *handler) startPairing(c echo.Context) error {
	key := clientKey(c)
	if wait, blocked := h.pair.starts.Wait(key); blocked {
		h.limits.refused.WithLabelValues("pair_start").Inc()
		secs := retryAfter(c, wait)
		return errCode(http.StatusTooManyRequests, "too_many_requests",
			fmt.Sprintf("too many pairing requests from this address; retry in %d s", secs))
	}
	var req playlists.PairStart
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	h.pair.starts.Hit(key)
	tk, err := h.pair.table.StartFor(req.PublicKey, pairClient(c))
	switch {
	case errors.Is(err, pairing.ErrClientFull):
		h.limits.refused.WithLabelValues("pair_full").Inc()
		retryAfter(c, time.Minute)
		return errCode(http.StatusTooManyRequests, "pairing_full", "too many screens from this address are waiting to be paired; adopt or let some codes expire")
	case errors.Is(err, pairing.ErrBadKey):
		return playlists.FieldError{Field: "public_key", Problem: "must be a base64 Ed25519 public key"}
	case errors.Is(err, pairing.ErrFull):
		// 429 rather than 503: it is a throttle, and a flood of these
		// must not flood the error log either.
		h.limits.refused.WithLabelValues("pair_full").Inc()
		retryAfter(c, time.Minute)
		return errCode(http.StatusTooManyRequests, "pairing_full", "too many screens are waiting to be paired; retry in a minute")
	case err != nil:
		return err
	}
	h.pair.events.WithLabelValues("started").Inc()
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, playlists.PairTicket{
		Code: tk.Code, Poll: tk.Poll, ExpiresAt: tk.ExpiresAt.UTC(),
		PollEveryS: int(h.pair.table.PollEvery() / time.Second),
	})
}

// pollPairing is GET /device/pair/:poll: 202 while the code waits, 200
// with the credential exactly once after adoption, 410 when the request
// is gone (expired, delivered, replaced, never known). The player proves
// it holds the key it asked with.
func (h *handler) pollPairing(c echo.Context) error {
	poll := c.Param("poll")
	verify := func(pub ed25519.PublicKey) error { return h.checkPairProof(c, poll, pub) }
	st, a, err := h.pair.table.Poll(poll, verify)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	switch st {
	case pairing.Pending:
		return c.JSON(http.StatusAccepted, playlists.PairPending{State: playlists.PairStatePending})
	case pairing.Adopted:
		h.pair.events.WithLabelValues("delivered").Inc()
		h.log.Info("paired player collected its token", "screen", a.ScreenID)
		return c.JSON(http.StatusOK, a)
	}
	return errCode(http.StatusGone, "pairing_gone", "this pairing request expired or was used; ask for a new code")
}

// checkPairProof checks the poll's signature by the device key over the
// poll id and a recent time.
func (h *handler) checkPairProof(c echo.Context, poll string, pub ed25519.PublicKey) error {
	hdr := c.Request().Header
	ts, err := strconv.ParseInt(hdr.Get(playlists.HeaderPairTime), 10, 64)
	sig, err2 := base64.StdEncoding.DecodeString(hdr.Get(playlists.HeaderPairSignature))
	if err != nil || err2 != nil || len(sig) != ed25519.SignatureSize {
		return errCode(http.StatusUnauthorized, "pair_proof",
			fmt.Sprintf("send %s (unix seconds) and %s (base64 Ed25519 signature of the poll id and that time)",
				playlists.HeaderPairTime, playlists.HeaderPairSignature))
	}
	if d := h.pair.now().Sub(time.Unix(ts, 0)); d > pairProofSkew || d < -pairProofSkew {
		return errCode(http.StatusUnauthorized, "pair_time_skew",
			"the signed time is more than 2 minutes from the server's; correct the clock from the Date header and retry")
	}
	if !ed25519.Verify(pub, playlists.PairProofMessage(poll, ts), sig) {
		return errCode(http.StatusUnauthorized, "pair_proof", "the signature does not match the key this pairing request was made with")
	}
	return nil
}

// pairRequest is POST /screens/pair. With Screen, the device is adopted
// onto that existing screen (new hardware, a wiped card) and the other
// fields stay out: the screen is changed with PUT /screens/{id}.
type pairRequest struct {
	Code        string   `json:"code"`
	Screen      string   `json:"screen"`
	Name        string   `json:"name"`
	Group       string   `json:"group"`
	Tags        []string `json:"tags"`
	Orientation string   `json:"orientation"`
	Timezone    string   `json:"timezone"`
}

// pairScreen adopts a pairing code: it creates the screen (or gives an
// existing one a new token), binds it to the device's key, and leaves the
// token for the device's next poll. The token never appears in this
// answer: only the device that shows the code receives it.
func (h *handler) pairScreen(c echo.Context) error {
	var req pairRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Code) == "" {
		return playlists.FieldError{Field: "code", Problem: "is required: the code the screen shows"}
	}
	p := principalOf(c)
	if req.Screen != "" {
		for field, set := range map[string]bool{
			"name": req.Name != "", "group": req.Group != "", "tags": len(req.Tags) > 0,
			"orientation": req.Orientation != "", "timezone": req.Timezone != "",
		} {
			if set {
				return playlists.FieldError{Field: field, Problem: fmt.Sprintf("leave it out when re-pairing screen %q; change the screen with PUT /screens/{id}", req.Screen)}
			}
		}
		if err := h.checkScreenVisible(p, req.Screen); err != nil {
			return err
		}
		if _, err := h.store.GetScreen(req.Screen); err != nil {
			return err
		}
	} else if err := p.checkPlacement("group", req.Group); err != nil {
		return err
	}

	key := clientKey(c)
	if wait, blocked := h.pair.guesses.Wait(key); blocked {
		h.limits.refused.WithLabelValues("pair_guess").Inc()
		secs := retryAfter(c, wait)
		return errCode(http.StatusTooManyRequests, "too_many_attempts",
			fmt.Sprintf("too many wrong pairing codes; retry in %d s", secs))
	}

	var scr store.Screen
	var dev pairing.Device
	_, err := h.pair.table.Adopt(req.Code, func(d pairing.Device) (pairing.Adoption, error) {
		dev = d
		pd := store.PairedDevice{Key: playlists.EncodeKey(d.Key), KeyID: d.KeyID, PairedAt: h.opts.Now().UTC()}
		sc := store.Screen{Name: req.Name, Group: req.Group, Tags: req.Tags, Orientation: req.Orientation, Timezone: req.Timezone}
		var token string
		var err error
		if scr, token, err = h.screens.Pair(req.Screen, sc, pd); err != nil {
			return pairing.Adoption{}, err
		}
		a := pairing.Adoption{ScreenID: scr.ID, ScreenName: scr.Name, Token: token}
		if h.opts.Signer != nil {
			// Pinned by the player: from now on only manifests this key
			// signed apply there.
			a.ServerKey = playlists.EncodeKey(h.opts.Signer.Public())
		}
		return a, nil
	})
	if errors.Is(err, pairing.ErrUnknown) {
		h.pair.guesses.Hit(key)
		h.pair.events.WithLabelValues("unknown_code").Inc()
		if _, blocked := h.pair.guesses.Wait(key); blocked {
			h.log.Warn("too many wrong pairing codes; client must wait", "client", key, "user", p.name())
		}
		return errCode(http.StatusNotFound, "pairing_code_unknown",
			"no screen is waiting with this pairing code (codes expire after 10 minutes); check the code on the screen")
	}
	if err != nil {
		return err
	}
	h.pair.events.WithLabelValues("adopted").Inc()
	c.Set(ctxAuditTarget, scr.ID)
	what := "paired a new screen"
	if req.Screen != "" {
		what = "re-paired the screen (new device; the old token stopped working)"
	}
	c.Set(ctxAuditDetail, fmt.Sprintf("%s with device key %s", what, dev.KeyID))
	h.log.Info("screen paired", "screen", scr.ID, "device_key", dev.KeyID, "repair", req.Screen != "", "by", p.name())
	return c.JSON(http.StatusCreated, withFields(h.view(scr), map[string]any{"repaired": req.Screen != ""}))
}

// pairClient names the client for the pairing table's per-client bound:
// the address, an IPv6 client by its /48 (a site's usual allocation, so one
// site cannot step through /64s to fill the table).
func pairClient(c echo.Context) string {
	ip := net.ParseIP(c.RealIP())
	if ip == nil || ip.To4() != nil {
		return clientKey(c)
	}
	return ip.Mask(net.CIDRMask(48, 128)).String() + "/48"
}
