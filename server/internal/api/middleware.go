package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
		start := time.Now()
		err := next(c)
		h.log.Debug("http request", "method", c.Request().Method, "route", c.Path(),
			"ip", c.RealIP(), "duration", time.Since(start), "error", err)
		return err
	}
}

// ctxAuditTarget lets a create handler name the id it assigned.
const ctxAuditTarget = "audit_target"

// audit records every successful admin mutation. The actor is a short
// fingerprint of the credential: enough to tell tokens apart after a
// rotation, useless to an attacker reading the log.
func (h *handler) audit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		method := c.Request().Method
		if err != nil || method == http.MethodGet || method == http.MethodHead {
			return err
		}
		status := c.Response().Status
		if status >= 400 {
			return nil
		}
		target := c.Param("id")
		if target == "" {
			target = c.Param("sha")
		}
		if t, ok := c.Get(ctxAuditTarget).(string); ok && t != "" {
			target = t
		}
		sum := sha256.Sum256([]byte(bearer(c)))
		e := store.AuditEntry{
			Time:   h.opts.Now().UTC(),
			Actor:  "admin:" + hex.EncodeToString(sum[:4]),
			IP:     c.RealIP(),
			Action: method + " " + c.Path(),
			Target: target,
			Status: status,
		}
		if aerr := h.store.AppendAudit(e); aerr != nil {
			// The change itself is committed; losing its audit line is
			// logged loudly rather than reported as a failed request.
			h.log.Error("append audit entry", "action", e.Action, "target", e.Target, "error", aerr)
		}
		return nil
	}
}
