package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/store"
)

const (
	defaultAlertLimit = 50
	maxAlertLimit     = 1000
)

type webhookRequest struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// webhookView never carries the secret: it is shown to no one after it is
// set, like a device token.
type webhookView struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

func viewWebhook(w store.Webhook) webhookView {
	return webhookView{ID: w.ID, URL: w.URL, CreatedAt: w.CreatedAt}
}

// createWebhook registers an alert receiver. The URL is admin-supplied and
// the server will POST to it wherever it points (see store.Webhook on SSRF).
func (h *handler) createWebhook(c echo.Context) error {
	var req webhookRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	w, err := h.store.CreateWebhook(store.Webhook{URL: req.URL, Secret: req.Secret})
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, w.ID)
	return c.JSON(http.StatusCreated, viewWebhook(w))
}

func (h *handler) listWebhooks(c echo.Context) error {
	ws, err := h.store.ListWebhooks()
	if err != nil {
		return err
	}
	out := make([]webhookView, len(ws))
	for i, w := range ws {
		out[i] = viewWebhook(w)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handler) deleteWebhook(c echo.Context) error {
	if err := h.store.DeleteWebhook(c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listAlerts is GET /alerts: newest first, with each webhook delivery's
// status, attempts and last error.
func (h *handler) listAlerts(c echo.Context) error {
	limit, err := queryLimit(c, defaultAlertLimit, maxAlertLimit)
	if err != nil {
		return err
	}
	as, err := h.store.ListAlerts(limit)
	if err != nil {
		return err
	}
	if p := principalOf(c); p.scoped() {
		// A grouped alert shows only the caller's screens; one with none
		// of them, or about no screen at all, is not theirs to see.
		groupOf, err := h.screenGroups()
		if err != nil {
			return err
		}
		var mine []store.Alert
		for _, a := range as {
			var scrs []store.AlertScreen
			for _, s := range a.Screens {
				if g, ok := groupOf(s.Screen); ok && p.seesScreen(g) {
					scrs = append(scrs, s)
				}
			}
			if len(scrs) > 0 {
				a.Screens = scrs
				mine = append(mine, a)
			}
		}
		as = mine
		if as == nil {
			as = []store.Alert{}
		}
	}
	return c.JSON(http.StatusOK, as)
}
