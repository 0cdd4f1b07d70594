package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/server/internal/store"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kiosk_http_request_duration_seconds", Help: "HTTP request duration by route and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// middleware labels by route template, never the raw path, so ids and
// hashes cannot blow up the label space.
func (m *httpMetrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			// Let the error handler write the response now so the status is known.
			c.Error(err)
		}
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && route == "/*" {
			route = "unmatched"
		}
		method := c.Request().Method
		m.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (h *handler) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				h.log.Error("handler panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

func (h *handler) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// Asked first, so that a server not logging requests does not
		// build the record's arguments (RealIP parses the address) on
		// every media request.
		if !h.log.Enabled(c.Request().Context(), slog.LevelDebug) {
			return next(c)
		}
		start := time.Now()
		err := next(c)
		h.log.Debug("http request", "method", c.Request().Method, "route", c.Path(),
			"ip", c.RealIP(), "duration", time.Since(start), "error", err)
		return err
	}
}

// Context keys the audit middleware reads: a create handler names the id
// it assigned; content writes name the object's fingerprint before and
// after, and the change set they landed in.
const (
	ctxAuditTarget = "audit_target"
	ctxAuditBefore = "audit_before"
	ctxAuditAfter  = "audit_after"
	ctxAuditDetail = "audit_detail"
)

// audit records every successful change made through the admin API, with
// who made it (user, role, how they signed in) and the client address
// after the trusted-proxy rule. Sign-ins, sign-outs and refusals are
// recorded by their handlers (auditEvent).
func (h *handler) audit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		method := c.Request().Method
		p := principalOf(c)
		// Reads are not audited, except the break-glass token's: every
		// use of it is, so its holder's every step can be reviewed.
		if err != nil || isSafeMethod(method) && (p == nil || p.Via != viaBreakGlass) {
			return err
		}
		status := c.Response().Status
		if status >= 400 || c.Get(ctxAuditDone) != nil {
			return nil
		}
		target := c.Param("id")
		if target == "" {
			target = c.Param("sha")
		}
		if t, ok := c.Get(ctxAuditTarget).(string); ok && t != "" {
			target = t
		}
		e := store.AuditEntry{Action: method + " " + c.Path(), Target: target, Status: status}
		e.Before, _ = c.Get(ctxAuditBefore).(string)
		e.After, _ = c.Get(ctxAuditAfter).(string)
		e.Detail, _ = c.Get(ctxAuditDetail).(string)
		h.auditEvent(c, p, e)
		return nil
	}
}

// ctxAuditDone marks a request whose handler already wrote its entry.
const ctxAuditDone = "audit_done"

// auditEvent appends e, filling in who (from p; nil: nobody signed in)
// and from where.
func (h *handler) auditEvent(c echo.Context, p *principal, e store.AuditEntry) {
	if e.Time.IsZero() {
		e.Time = h.opts.Now().UTC()
	}
	e.IP = c.RealIP()
	if p != nil {
		e.Actor = p.name()
		e.UserID = p.User.ID
		e.Role = string(p.Role)
		e.Via = p.Via
		if p.Via == viaBreakGlass {
			e.Actor = "break-glass:" + fingerprint(bearer(c))
		}
	}
	if err := h.store.AppendAudit(e); err != nil {
		// The change itself is committed; losing its audit line is
		// logged loudly rather than reported as a failed request.
		h.log.Error("append audit entry", "action", e.Action, "target", e.Target, "error", err)
	}
}
