package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/people"
	"kiosk/server/internal/store"
)

// Sign-in throttles (OWASP "device cookies"): failures count per client
// address and, for browsers without a device cookie, per account; a browser
// that signed in to the account before carries a signed device cookie and
// is throttled only on its own failures, so nobody else's guessing can keep
// its owner out.
const (
	DefaultSignInFailures  = 10 // per address, and per device cookie
	DefaultAccountFailures = 20 // per account, from browsers without its device cookie
	DefaultSignInWindow    = 15 * time.Minute
	DefaultSignInCooldown  = 15 * time.Minute
	deviceCookieMaxAge     = 365 * 24 * time.Hour
)

const (
	deviceCookie       = "kiosk_device"
	deviceCookieSecure = "__Host-kiosk_device"
)

type signInThrottles struct {
	addr, account, device *authThrottle
}

func newSignInThrottles(rl RateLimits) signInThrottles {
	rl = rl.withDefaults()
	return signInThrottles{
		addr:    newAuthThrottle(DefaultSignInFailures, DefaultSignInWindow, DefaultSignInCooldown, rl.MaxKeys, rl.Now),
		account: newAuthThrottle(DefaultAccountFailures, DefaultSignInWindow, DefaultSignInCooldown, rl.MaxKeys, rl.Now),
		device:  newAuthThrottle(DefaultSignInFailures, DefaultSignInWindow, DefaultSignInCooldown, rl.MaxKeys, rl.Now),
	}
}

var errBadTOTP = errors.New("wrong TOTP code")

type signInRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

// userView is a user as the API shows it: never a secret.
type userView struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"`
	Role        store.Role `json:"role"`
	Groups      []string   `json:"groups"`
	Urgent      bool       `json:"urgent"`
	Disabled    bool       `json:"disabled"`
	TOTPEnabled bool       `json:"totp_enabled"`
	CreatedAt   time.Time  `json:"created_at,omitzero"`
	LastSignIn  time.Time  `json:"last_sign_in,omitzero"`
}

func viewUser(u store.User) userView {
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return userView{ID: u.ID, Username: u.Username, Role: u.Role, Groups: groups, Urgent: u.Urgent,
		Disabled: u.Disabled, TOTPEnabled: u.TOTPEnabled, CreatedAt: u.CreatedAt, LastSignIn: u.LastSignIn}
}

type sessionView struct {
	User        userView `json:"user"`
	Via         string   `json:"via"`
	CSRF        string   `json:"csrf,omitempty"`
	Can         []string `json:"can"`
	Review      bool     `json:"review"` // false: content changes publish at once
	BreakGlass  bool     `json:"breakglass"`
	MFARequired bool     `json:"mfa_setup_required"`
	IdleTimeout int      `json:"idle_timeout_s"`
}

func (h *handler) viewSession(p *principal) sessionView {
	v := sessionView{
		User: viewUser(p.User), Via: p.Via, CSRF: p.csrf, Can: p.capabilities(),
		Review: !h.opts.ReviewOff, BreakGlass: p.Via == viaBreakGlass,
		MFARequired: h.mfaPending(p), IdleTimeout: int(h.idleTimeout() / time.Second),
	}
	if p.Via == viaBreakGlass {
		v.User = userView{Username: "break-glass", Role: store.RoleAdmin, Groups: []string{}}
		v.Review = false
	}
	if v.Can == nil {
		v.Can = []string{}
	}
	return v
}

func (h *handler) getSession(c echo.Context) error {
	return c.JSON(http.StatusOK, h.viewSession(principalOf(c)))
}

// signIn checks a username, password and (when enabled) TOTP code, and
// starts a session. Every refusal reads the same whether the account
// exists or not, and costs the same time.
func (h *handler) signIn(c echo.Context) error {
	var req signInRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Username = strings.TrimSpace(req.Username)
	if req.Username == "" || req.Password == "" {
		return errCode(http.StatusBadRequest, "invalid_field", "username and password are required")
	}
	addr := clientKey(c)
	device := h.deviceCookieNonce(c, req.Username)
	account := strings.ToLower(req.Username)
	if device != "" {
		if wait, blocked := h.signins.device.blocked(device); blocked {
			return h.signInThrottled(c, wait)
		}
	} else {
		if wait, blocked := h.signins.addr.blocked(addr); blocked {
			return h.signInThrottled(c, wait)
		}
		if wait, blocked := h.signins.account.blocked(account); blocked {
			return h.signInThrottled(c, wait)
		}
	}
	// fail charges a failure to the throttles and the audit trail.
	fail := func(reason string) {
		if device != "" {
			h.failedAuth(h.signins.device, "sign-in device", device)
		} else {
			h.failedAuth(h.signins.addr, "sign-in", addr)
			h.failedAuth(h.signins.account, "sign-in account", account)
		}
		h.auditEvent(c, nil, store.AuditEntry{Actor: req.Username, Action: "sign-in failed", Target: req.Username,
			Status: http.StatusUnauthorized, Detail: reason})
	}
	badCredentials := errCode(http.StatusUnauthorized, "bad_credentials", "wrong username or password")

	u, err := h.store.GetUserByName(req.Username)
	if errors.Is(err, store.ErrNotFound) {
		people.DummyVerify(req.Password)
		fail("no such user")
		return badCredentials
	}
	if err != nil {
		return err
	}
	ok, err := people.VerifyPassword(u.PasswordHash, req.Password)
	if err != nil {
		return err
	}
	if !ok {
		fail("wrong password")
		return badCredentials
	}
	if u.Disabled {
		h.auditEvent(c, nil, store.AuditEntry{Actor: u.Username, UserID: u.ID, Action: "sign-in refused", Target: u.ID,
			Status: http.StatusForbidden, Detail: "account disabled"})
		return errCode(http.StatusForbidden, "account_disabled", "this account is disabled; ask an administrator")
	}
	now := h.opts.Now().UTC()
	if u.TOTPEnabled {
		code := strings.ReplaceAll(strings.TrimSpace(req.TOTP), " ", "")
		if code == "" {
			return errCode(http.StatusUnauthorized, "totp_required", "enter the 6-digit code from your authenticator app")
		}
		// Checked and consumed in one transaction, so two requests with
		// the same code cannot both pass.
		_, err := h.store.UpdateUser(u.ID, func(u *store.User) error {
			step, ok := people.CheckTOTP(u.TOTPSecret, code, now, u.TOTPLastStep)
			if !ok {
				return errBadTOTP
			}
			u.TOTPLastStep = step
			return nil
		})
		if errors.Is(err, errBadTOTP) {
			fail("wrong or reused TOTP code")
			return errCode(http.StatusUnauthorized, "totp_required", "wrong or already used code; enter the current one")
		}
		if err != nil {
			return err
		}
	}

	u, err = h.store.UpdateUser(u.ID, func(u *store.User) error {
		u.LastSignIn = now
		if people.NeedsRehash(u.PasswordHash) {
			if hash, err := people.HashPassword(req.Password); err == nil {
				u.PasswordHash = hash
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// A fresh id at every sign-in (no fixation); the one this browser had
	// before, if any, ends here.
	if ck, err := c.Cookie(h.sessionCookieName(c)); err == nil && ck.Value != "" {
		_ = h.store.DeleteSession(store.HashToken(ck.Value))
	}
	id := randomToken("ks_")
	se := store.Session{
		Hash: store.HashToken(id), UserID: u.ID, CSRF: randomToken(""), CreatedAt: now, LastSeen: now,
		IP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 200),
	}
	if err := h.store.PutSession(se); err != nil {
		return err
	}
	h.setSessionCookie(c, id)
	if err := h.setDeviceCookie(c, u.Username); err != nil {
		h.log.Warn("set device cookie", "error", err)
	}
	p, err := h.userPrincipal(u, u.Role)
	if err != nil {
		return err
	}
	p.Via, p.sessionHash, p.csrf = viaSession, se.Hash, se.CSRF
	h.auditEvent(c, p, store.AuditEntry{Action: "sign-in", Target: u.ID, Status: http.StatusOK})
	c.Set(ctxAuditDone, true)
	return c.JSON(http.StatusOK, h.viewSession(p))
}

func (h *handler) signInThrottled(c echo.Context, wait time.Duration) error {
	h.limits.refused.WithLabelValues("sign_in").Inc()
	secs := retryAfter(c, wait)
	return errCode(http.StatusTooManyRequests, "too_many_attempts",
		fmt.Sprintf("too many failed sign-ins from here; retry in %d s", secs))
}

// signOut ends the caller's session server-side.
func (h *handler) signOut(c echo.Context) error {
	p := principalOf(c)
	if p.sessionHash != "" {
		if err := h.store.DeleteSession(p.sessionHash); err != nil {
			return err
		}
	}
	h.clearSessionCookie(c)
	h.auditEvent(c, p, store.AuditEntry{Action: "sign-out", Target: p.User.ID, Status: http.StatusNoContent})
	c.Set(ctxAuditDone, true)
	return c.NoContent(http.StatusNoContent)
}

// Device cookies: "v1.<hex username>.<hex nonce>.<b64 mac>", the MAC by a
// server secret over the rest. The nonce names this browser to the
// throttle; nothing in the cookie grants access.
func (h *handler) deviceKey() ([]byte, error) { return h.store.Secret("device-cookie") }

func deviceMAC(key []byte, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *handler) deviceCookieName(c echo.Context) string {
	if h.secure(c) {
		return deviceCookieSecure
	}
	return deviceCookie
}

func (h *handler) setDeviceCookie(c echo.Context, username string) error {
	key, err := h.deviceKey()
	if err != nil {
		return err
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	body := "v1." + hex.EncodeToString([]byte(strings.ToLower(username))) + "." + hex.EncodeToString(nonce[:])
	c.SetCookie(&http.Cookie{
		Name: h.deviceCookieName(c), Value: body + "." + deviceMAC(key, body), Path: "/",
		HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteStrictMode,
		MaxAge: int(deviceCookieMaxAge / time.Second),
	})
	return nil
}

// deviceCookieNonce returns this browser's device nonce when it carries a
// valid device cookie for username, else "".
func (h *handler) deviceCookieNonce(c echo.Context, username string) string {
	ck, err := c.Cookie(h.deviceCookieName(c))
	if err != nil {
		return ""
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return ""
	}
	key, err := h.deviceKey()
	if err != nil {
		return ""
	}
	body := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(deviceMAC(key, body))) {
		return ""
	}
	name, err := hex.DecodeString(parts[1])
	if err != nil || string(name) != strings.ToLower(username) {
		return ""
	}
	return parts[2]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
