package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// urgentListWindow is how far back GET /api/v1/urgent reaches for notices
// that already ended: enough for "what did we send this week".
const urgentListWindow = 7 * 24 * time.Hour

// urgentRequest takes expires_at as a string so a bad or missing time is
// reported against its field with the expected format.
type urgentRequest struct {
	ID        string           `json:"id"`
	Title     string           `json:"title"`
	Body      string           `json:"body"`
	Asset     string           `json:"asset"`
	Target    playlists.Target `json:"target"`
	ExpiresAt *string          `json:"expires_at"`
}

// urgentView is a notice with its state at the time of the answer.
type urgentView struct {
	store.UrgentNotice
	Status string `json:"status"` // active, expired, withdrawn
}

func (h *handler) urgentView(n store.UrgentNotice) urgentView {
	return urgentView{UrgentNotice: n, Status: n.Status(h.opts.Now())}
}

func (h *handler) createUrgent(c echo.Context) error {
	var req urgentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ID != "" {
		return playlists.FieldError{Field: "id", Problem: "is assigned by the server; leave it out"}
	}
	exp, err := parseInstant("expires_at", req.ExpiresAt)
	if err != nil {
		return err
	}
	u := playlists.Urgent{Title: req.Title, Body: req.Body, Asset: req.Asset, Target: req.Target}
	if exp != nil {
		u.ExpiresAt = *exp
	}
	p := principalOf(c)
	if err := h.checkTargetAllowed(p, u.Target); err != nil {
		return err
	}
	n, err := h.store.SendUrgent(u, p.name())
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, n.ID)
	c.Set(ctxAuditAfter, store.HashJSON(n.Urgent))
	c.Set(ctxAuditDetail, fmt.Sprintf("urgent notice %q sent without review", n.Title))
	if h.opts.Urgent != nil {
		h.opts.Urgent(n, p.name())
	}
	// Screens promise to show it within 2 s: the store's change notice
	// starts the publish at once; the rest is the push and the fetch.
	return c.JSON(http.StatusCreated, h.urgentView(n))
}

func (h *handler) listUrgent(c echo.Context) error {
	ns, err := h.store.ListUrgent(h.opts.Now().Add(-urgentListWindow))
	if err != nil {
		return err
	}
	if ns, err = visibleTo(h, principalOf(c), ns, func(n store.UrgentNotice) playlists.Target { return n.Target }); err != nil {
		return err
	}
	out := make([]urgentView, len(ns))
	for i, n := range ns {
		out[i] = h.urgentView(n)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handler) getUrgent(c echo.Context) error {
	n, err := h.visibleUrgent(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.urgentView(n))
}

// withdrawUrgent takes a notice off every screen; repeating it is harmless.
func (h *handler) withdrawUrgent(c echo.Context) error {
	if _, err := h.visibleUrgent(c); err != nil {
		return err
	}
	if _, err := h.store.WithdrawUrgentBy(c.Param("id"), principalOf(c).name()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// visibleUrgent loads notice :id, as not found for a scoped person when it
// reaches screens outside their groups.
func (h *handler) visibleUrgent(c echo.Context) (store.UrgentNotice, error) {
	n, err := h.store.GetUrgent(c.Param("id"))
	if err != nil {
		return n, err
	}
	return n, h.checkVisible(principalOf(c), n.Target, "urgent notice", n.ID)
}
