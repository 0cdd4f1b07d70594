package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
)

// Defaults for the request-body deadlines (Options.Body…). The HTTP server
// has no ReadTimeout, since uploads to a slow link may take hours, so
// these are what stop a client that sends a body a byte at a time.
const (
	// DefaultBodyTimeout: an ordinary body (JSON) is complete within this.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultBodyGrace: every body starts within this, and never pauses
	// longer than this.
	DefaultBodyGrace = 20 * time.Second
	// DefaultBodyMinRate: after the grace, bytes a second on average since
	// the request began. A 64 kbit/s link sends eight times as much.
	DefaultBodyMinRate = 1 << 10
)

const ctxBody = "body_deadline"

// bodyDeadline is a request body read under a deadline tied to progress:
// it starts at grace, each read that brings bytes moves it to where the
// average rate would have to be minRate, never more than grace past now,
// and never past limit (ordinary bodies only). Net/http's own reads, such
// as discarding an unread body after a 401, are bound by the same deadline.
type bodyDeadline struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	start   time.Time
	grace   time.Duration
	minRate float64
	limit   time.Time // zero: an upload, bound by the rate only

	read     int64
	cause    string // which rule set the current deadline
	timedOut bool
}

func (b *bodyDeadline) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.read += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		// The body is in. Lift the deadline: net/http now reads in the
		// background to notice the client leaving, and a deadline firing
		// there would cancel the request's context mid-handler.
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut = true
	case err == nil && n > 0:
		_ = b.set(time.Now())
	}
	return n, err
}

func (b *bodyDeadline) Close() error { return b.body.Close() }

// set moves the read deadline to where the rules put it at now.
func (b *bodyDeadline) set(now time.Time) error {
	d := b.start.Add(b.grace + time.Duration(float64(b.read)/b.minRate*float64(time.Second)))
	b.cause = "rate"
	if stall := now.Add(b.grace); stall.Before(d) {
		d, b.cause = stall, "stall"
	}
	if !b.limit.IsZero() && b.limit.Before(d) {
		d, b.cause = b.limit, "limit"
	}
	return b.rc.SetReadDeadline(d)
}

// err is the answer to a body cut by its deadline.
func (b *bodyDeadline) err() error {
	var msg string
	switch b.cause {
	case "limit":
		msg = fmt.Sprintf("request body not complete within %s (%d bytes arrived)", b.limit.Sub(b.start), b.read)
	default:
		msg = fmt.Sprintf("request body arrived too slowly (%d bytes in %s): after the first %s it must average %d bytes a second and never pause that long",
			b.read, time.Since(b.start).Round(time.Second), b.grace, int64(b.minRate))
	}
	return errCode(http.StatusRequestTimeout, "body_timeout", msg)
}

// bodyDeadlines puts every request body under a bodyDeadline, the short
// total limit included; upload routes lift that limit (uploadBody) once
// the client has authenticated.
func (h *handler) bodyDeadlines(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
			return next(c) // no body; websocket upgrades come here too
		}
		start := time.Now()
		b := &bodyDeadline{
			body:    r.Body,
			rc:      http.NewResponseController(c.Response()),
			start:   start,
			grace:   h.opts.BodyGrace,
			minRate: float64(h.opts.BodyMinRate),
			limit:   start.Add(h.opts.BodyTimeout),
		}
		if err := b.set(start); err != nil {
			return next(c) // a writer without deadlines (httptest's recorder)
		}
		r.Body = b
		c.Set(ctxBody, b)
		err := next(c)
		if err != nil && b.timedOut {
			return b.err()
		}
		return err
	}
}

// uploadBody lifts the total limit for a route whose bodies may take long
// on a slow link (media, screenshots, play batches): they keep only the
// rate rule. It sits after the route's authentication, so a client that
// has not proved who it is never gets more than the short limit.
func (h *handler) uploadBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if b, ok := c.Get(ctxBody).(*bodyDeadline); ok {
			b.limit = time.Time{}
			_ = b.set(time.Now())
		}
		return next(c)
	}
}
