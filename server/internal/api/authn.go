package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/store"
)

// Session defaults (README: "Signing in").
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	// touchEvery bounds how often a session's last activity is written:
	// not a write per request, and at least twice per idle timeout.
	touchEvery = time.Minute
)

const (
	ctxPrincipal = "principal"
	csrfHeader   = "X-CSRF-Token"
	// Cookie names. With Secure the __Host- prefix also pins the cookie to
	// this host and path "/" (RFC 6265bis), so a sibling subdomain cannot
	// plant one.
	sessionCookie       = "kiosk_session"
	sessionCookieSecure = "__Host-kiosk_session"
)

// Ways a principal authenticated.
const (
	viaSession    = "session"
	viaToken      = "token"
	viaBreakGlass = "breakglass"
)

// principal is who is calling: a signed-in person, a person's API token,
// or the break-glass token.
type principal struct {
	Via    string
	User   store.User // zero for break-glass
	Role   store.Role
	Urgent bool
	// Scope is the set of groups (with every group nested under them) the
	// caller may see and target; nil means every group.
	Scope map[string]bool

	sessionHash string
	csrf        string
	tokenHash   string
}

// name is how audit entries and change sets name the caller.
func (p *principal) name() string {
	if p.Via == viaBreakGlass {
		return "break-glass"
	}
	return p.User.Username
}

// actor is the caller as the store records change-set steps.
func (p *principal) actor() store.Actor {
	if p.Via == viaBreakGlass {
		return store.Actor{ID: "break-glass", Name: "break-glass"}
	}
	return store.Actor{ID: p.User.ID, Name: p.User.Username}
}

func principalOf(c echo.Context) *principal {
	p, _ := c.Get(ctxPrincipal).(*principal)
	return p
}

// direct reports whether p's content changes publish at once: the
// break-glass token (automation and emergencies), or a server whose
// operator turned review off.
func (h *handler) direct(p *principal) bool {
	return p.Via == viaBreakGlass || h.opts.ReviewOff
}

// guard authenticates the caller and checks the route's capability. It is
// the one gate of the admin API: a route missing from the table is
// refused whoever asks.
func (h *handler) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rule, ok := h.table[routeKey(c.Request().Method, c.Path())]
		if !ok {
			if strings.HasSuffix(c.Path(), "/*") || c.Path() == "/api/v1" {
				return echo.ErrNotFound // the group's catch-all: no such route
			}
			return errCode(http.StatusForbidden, "forbidden", "route is not in the authorisation table")
		}
		if rule.cap == capPublic {
			return next(c)
		}
		p, err := h.identify(c)
		if err != nil {
			return err
		}
		if p == nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="kiosk-admin"`)
			return errCode(http.StatusUnauthorized, "unauthorized", "sign in first: send the session cookie or Authorization: Bearer <token>")
		}
		c.Set(ctxPrincipal, p)
		if h.mfaPending(p) && rule.cap != capSelf {
			return errCode(http.StatusForbidden, "mfa_enrolment_required",
				"this server requires a second factor for the "+string(p.Role)+" role: set up TOTP under my account first")
		}
		if !p.can(rule.cap) {
			return forbidden(p, rule.cap)
		}
		if err := h.checkObjectScope(c, p); err != nil {
			return err
		}
		return next(c)
	}
}

// mfaPending is true for a person whose role must use TOTP but who has not
// set it up yet: they may only reach their own account until they do.
func (h *handler) mfaPending(p *principal) bool {
	if p.Via == viaBreakGlass || !h.opts.RequireMFA || p.User.TOTPEnabled {
		return false
	}
	return p.User.Role == store.RoleAdmin || p.User.Role == store.RoleReviewer
}

// identify finds the caller from a bearer token or the session cookie; nil
// with no error means no credential was sent.
func (h *handler) identify(c echo.Context) (*principal, error) {
	if token := bearer(c); token != "" {
		return h.identifyToken(c, token)
	}
	ck, err := c.Cookie(h.sessionCookieName(c))
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	return h.identifySession(c, ck.Value)
}

func (h *handler) identifyToken(c echo.Context, token string) (*principal, error) {
	key := clientKey(c)
	if strings.HasPrefix(token, personalTokenPrefix) {
		// 256 random bits: a valid personal token passes even from a
		// throttled address, so strangers cannot lock a script out.
		if p, err := h.tokenPrincipal(token); err == nil {
			return p, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if wait, blocked := h.limits.adminAuth.blocked(key); blocked {
		return nil, h.tooManyFailures(c, "auth_admin", wait)
	}
	if h.isAdmin(token) {
		return &principal{Via: viaBreakGlass, Role: store.RoleAdmin, Urgent: true}, nil
	}
	if _, err := h.devices.Authenticate(token); err == nil {
		return nil, errForbidden("device tokens cannot use the admin API")
	}
	h.failedAuth(h.limits.adminAuth, "admin", key)
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="kiosk-admin", error="invalid_token"`)
	return nil, errCode(http.StatusUnauthorized, "invalid_token", "invalid or revoked token")
}

func (h *handler) tokenPrincipal(token string) (*principal, error) {
	hash := store.HashToken(token)
	t, err := h.store.LookupAPIToken(hash)
	if err != nil {
		return nil, err
	}
	u, err := h.store.GetUser(t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errCode(http.StatusUnauthorized, "account_disabled", "the account this token belongs to is disabled")
	}
	now := h.opts.Now().UTC()
	if now.Sub(t.LastUsed) > touchEvery {
		if err := h.store.TouchAPIToken(hash, now); err != nil {
			h.log.Warn("record token use", "error", err)
		}
	}
	role := t.Role
	if role != u.Role {
		role = store.RoleViewer // a token never outranks its owner, even after a demotion
	}
	p, err := h.userPrincipal(u, role)
	if err != nil {
		return nil, err
	}
	p.Via, p.tokenHash = viaToken, hash
	return p, nil
}

func (h *handler) identifySession(c echo.Context, id string) (*principal, error) {
	hash := store.HashToken(id)
	se, err := h.store.GetSession(hash)
	if errors.Is(err, store.ErrNotFound) {
		h.clearSessionCookie(c)
		return nil, errCode(http.StatusUnauthorized, "session_expired", "your session has ended; sign in again")
	}
	if err != nil {
		return nil, err
	}
	now := h.opts.Now().UTC()
	if now.Sub(se.LastSeen) > h.idleTimeout() || now.Sub(se.CreatedAt) > h.absoluteTimeout() {
		if err := h.store.DeleteSession(hash); err != nil {
			return nil, err
		}
		h.clearSessionCookie(c)
		return nil, errCode(http.StatusUnauthorized, "session_expired", "your session has expired; sign in again")
	}
	u, err := h.store.GetUser(se.UserID)
	if err != nil || u.Disabled {
		_ = h.store.DeleteSession(hash)
		h.clearSessionCookie(c)
		return nil, errCode(http.StatusUnauthorized, "account_disabled", "this account is disabled or no longer exists")
	}
	if !isSafeMethod(c.Request().Method) {
		if err := checkCSRF(c, se.CSRF); err != nil {
			return nil, err
		}
	}
	// The page's timed refreshes say so: they are not the person at work
	// and must not keep an unattended session open. Nor does a stream of
	// server-sent events (the live fleet), which cannot set that header.
	background := c.Request().Header.Get("X-Kiosk-Background") == "1" ||
		strings.HasPrefix(c.Request().Header.Get(echo.HeaderAccept), "text/event-stream")
	if !background && now.Sub(se.LastSeen) > min(touchEvery, h.idleTimeout()/2) {
		if err := h.store.TouchSession(hash, now); err != nil {
			h.log.Warn("record session activity", "error", err)
		}
	}
	p, err := h.userPrincipal(u, u.Role)
	if err != nil {
		return nil, err
	}
	p.Via, p.sessionHash, p.csrf = viaSession, hash, se.CSRF
	return p, nil
}

// userPrincipal builds the principal of u acting with role, its scope
// expanded to the groups nested under its own.
func (h *handler) userPrincipal(u store.User, role store.Role) (*principal, error) {
	p := &principal{User: u, Role: role, Urgent: u.Urgent}
	if len(u.Groups) > 0 {
		groups, err := h.store.ListGroups()
		if err != nil {
			return nil, err
		}
		p.Scope = expandScope(u.Groups, groups)
	}
	return p, nil
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF protects cookie-authenticated changes. The cookie is
// SameSite=Strict, so a browser does not send it cross-site at all; on top
// of that, a request a browser marks as cross-site (Sec-Fetch-Site) or from
// another origin (Origin) is refused, and a request carrying either header,
// that is one made by a browser, must also carry the session's token in
// X-CSRF-Token, which only the page itself can read. A request with neither
// header comes from a program holding the cookie (curl, a script), not from
// a browser a forged page could steer, and needs no token; one that sends a
// token must send the right one.
func checkCSRF(c echo.Context, want string) error {
	r := c.Request()
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "", "same-origin", "none":
	default:
		return errCode(http.StatusForbidden, "csrf", "cross-site request refused")
	}
	origin := r.Header.Get(echo.HeaderOrigin)
	if origin != "" && !sameOrigin(origin, r.Host) {
		return errCode(http.StatusForbidden, "csrf", "cross-origin request refused (Origin "+origin+")")
	}
	got := r.Header.Get(csrfHeader)
	if got == "" && site == "" && origin == "" {
		return nil
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCode(http.StatusForbidden, "csrf", "missing or wrong "+csrfHeader+" header: reload the page")
	}
	return nil
}

// sameOrigin reports whether an Origin header names this host.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

func (h *handler) idleTimeout() time.Duration {
	if h.opts.IdleTimeout > 0 {
		return h.opts.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (h *handler) absoluteTimeout() time.Duration {
	if h.opts.AbsoluteTimeout > 0 {
		return h.opts.AbsoluteTimeout
	}
	return DefaultAbsoluteTimeout
}

// secure reports whether the request reached us over TLS, directly or via
// a trusted proxy that says so.
func (h *handler) secure(c echo.Context) bool {
	if c.Request().TLS != nil {
		return true
	}
	return h.fromTrustedProxy(c) && strings.EqualFold(c.Request().Header.Get(echo.HeaderXForwardedProto), "https")
}

func (h *handler) sessionCookieName(c echo.Context) string {
	if h.secure(c) {
		return sessionCookieSecure
	}
	return sessionCookie
}

func (h *handler) setSessionCookie(c echo.Context, id string) {
	c.SetCookie(&http.Cookie{
		Name: h.sessionCookieName(c), Value: id, Path: "/", HttpOnly: true,
		Secure: h.secure(c), SameSite: http.SameSiteStrictMode,
		// No Expires: a browser session cookie; the server enforces the
		// idle and absolute timeouts.
	})
}

func (h *handler) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: h.sessionCookieName(c), Value: "", Path: "/", HttpOnly: true,
		Secure: h.secure(c), SameSite: http.SameSiteStrictMode, MaxAge: -1,
	})
}

// randomToken returns prefix + 256 random bits, URL-safe.
func randomToken(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("api: random token: " + err.Error())
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// fingerprint is a short, irreversible name for a secret, for logs.
func fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:4])
}

// fromTrustedProxy reports whether the socket peer is a configured proxy.
func (h *handler) fromTrustedProxy(c echo.Context) bool {
	if len(h.opts.TrustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		host = c.Request().RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range h.opts.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// ipExtractor is the socket address, unless the peer is a trusted proxy:
// then the nearest X-Forwarded-For address not itself a trusted proxy (or
// X-Real-IP). Nobody else's headers are believed: anyone can forge them.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	xff := echo.ExtractIPFromXFFHeader(opts...)
	real := echo.ExtractIPFromRealIPHeader(opts...)
	return func(r *http.Request) string {
		if r.Header.Get(echo.HeaderXForwardedFor) != "" {
			return xff(r)
		}
		return real(r)
	}
}
