package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/alerts"
	"kiosk/server/internal/store"
)

const (
	defaultAlertLimit = 50
	maxAlertLimit     = 1000
)

type webhookRequest struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

// webhookView never carries the secret: it is shown to no one after it is
// set, like a device token. The one exception is a secret the server made
// up (the request left it empty): the answer to the create shows it once.
type webhookView struct {
	ID        string             `json:"id"`
	URL       string             `json:"url"`
	Events    []string           `json:"events"`
	CreatedAt time.Time          `json:"created_at"`
	LastTest  *store.WebhookTest `json:"last_test,omitempty"`
	Secret    string             `json:"secret,omitempty"`
}

func viewWebhook(w store.Webhook) webhookView {
	v := webhookView{ID: w.ID, URL: w.URL, Events: w.Events, CreatedAt: w.CreatedAt}
	if v.Events == nil {
		v.Events = []string{}
	}
	if n := len(w.Tests); n > 0 {
		v.LastTest = &w.Tests[n-1]
	}
	return v
}

// generatedSecretBytes is the size of a secret the server makes up: 32
// random bytes, 64 hex characters.
const generatedSecretBytes = 32

// createWebhook registers an alert receiver. The URL is admin-supplied and
// the server will POST to it wherever it points (see store.Webhook on SSRF).
// Without a secret the server makes one and shows it in this answer only.
func (h *handler) createWebhook(c echo.Context) error {
	var req webhookRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	made := ""
	if req.Secret == "" {
		b := make([]byte, generatedSecretBytes)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		made = hex.EncodeToString(b)
		req.Secret = made
	}
	w, err := h.store.CreateWebhook(store.Webhook{URL: req.URL, Secret: req.Secret, Events: req.Events})
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, w.ID)
	v := viewWebhook(w)
	v.Secret = made
	return c.JSON(http.StatusCreated, v)
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

// testWebhook is POST /webhooks/{id}/test: one signed event of kind
// "test" to the registered URL, now, waiting at most alerts.TestTimeout.
// The answer is the outcome (200 whether or not the receiver took it:
// the request itself worked), which also goes into the delivery log.
func (h *handler) testWebhook(c echo.Context) error {
	w, err := h.store.GetWebhook(c.Param("id"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), alerts.TestTimeout)
	defer cancel()
	id := "tst_" + randomHex(8)
	res := alerts.SendTest(ctx, h.webhookClient(), w, id, h.opts.Now())
	res.By = principalOf(c).name()
	if err := h.store.RecordWebhookTest(w.ID, res); err != nil {
		return err
	}
	c.Set(ctxAuditTarget, w.ID)
	return c.JSON(http.StatusOK, res)
}

// webhookClient is the client of test sends: the deliveries' (no
// redirects) with the test's short timeout, unless Options set one.
func (h *handler) webhookClient() *http.Client {
	if h.opts.WebhookClient != nil {
		return h.opts.WebhookClient
	}
	return alerts.NewClient(alerts.TestTimeout)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const (
	defaultDeliveryLimit = 50
	maxDeliveryLimit     = 500
)

// webhookDeliveries is GET /webhooks/{id}/deliveries: the webhook's
// delivery log, newest first: each recent alert's delivery (status,
// attempts, last answer or error) and its test sends.
func (h *handler) webhookDeliveries(c echo.Context) error {
	limit, err := queryLimit(c, defaultDeliveryLimit, maxDeliveryLimit)
	if err != nil {
		return err
	}
	ds, err := h.store.WebhookDeliveries(c.Param("id"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ds)
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
