package store

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Limits on webhook registrations.
const (
	MinWebhookSecret = 16 // bytes; a shorter HMAC key is guessable
	MaxWebhookSecret = 256
	maxWebhookURL    = 2048
	MaxWebhooks      = 50
)

// Webhook is an admin-registered URL that receives alerts as signed JSON
// POSTs.
//
// SSRF: the server will POST to whatever URL an admin registers, including
// addresses on the server's own network (that is how a local alert relay
// works). Only the admin role can register one, the secret is never shown
// again, and delivery follows no redirects, so a receiver cannot bounce the
// request elsewhere. Operators who expose the admin API more widely should
// also restrict outbound traffic from the server at the firewall.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"` // stored; the API never returns it
	CreatedAt time.Time `json:"created_at"`
	// Events are the alert kinds the receiver wants (WebhookEvents); none
	// means every alert.
	Events []string `json:"events,omitempty"`
	// Tests are the latest test sends, newest last (at most maxWebhookTests).
	Tests []WebhookTest `json:"tests,omitempty"`
}

// WebhookEvents are the alert kinds a webhook may subscribe to. A grouped
// alert of several kinds ("mixed") goes to a webhook that wants any kind
// among its screens.
var WebhookEvents = []string{"offline", "stale", "degraded", "recovered"}

const maxWebhookTests = 10

// WebhookTest is the outcome of one test send (POST /webhooks/{id}/test).
type WebhookTest struct {
	ID         string    `json:"id"` // the event id sent
	At         time.Time `json:"at"`
	By         string    `json:"by,omitempty"`
	OK         bool      `json:"ok"`
	Code       int       `json:"code,omitempty"` // HTTP status the receiver answered
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// Wants reports whether w takes alerts of kind.
func (w Webhook) Wants(kind string) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, kind)
}

// ValidateWebhook checks a registration: an absolute http(s) URL with a host
// and no credentials, and a secret long enough to be a real HMAC key.
func ValidateWebhook(w Webhook) error {
	if len(w.URL) > maxWebhookURL {
		return playlists.FieldError{Field: "url", Problem: fmt.Sprintf("is longer than %d characters", maxWebhookURL)}
	}
	u, err := url.Parse(w.URL)
	if err != nil || w.URL == "" {
		return playlists.FieldError{Field: "url", Problem: fmt.Sprintf("must be an absolute http or https URL (got %q)", w.URL)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return playlists.FieldError{Field: "url", Problem: fmt.Sprintf("must use http or https, not %q", u.Scheme)}
	}
	if !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return playlists.FieldError{Field: "url", Problem: fmt.Sprintf("must be absolute with a host (got %q)", w.URL)}
	}
	if u.User != nil {
		return playlists.FieldError{Field: "url", Problem: "must not carry credentials; the secret signs each request instead"}
	}
	if u.Fragment != "" {
		return playlists.FieldError{Field: "url", Problem: "must not have a #fragment"}
	}
	if strings.TrimSpace(w.Secret) == "" {
		return playlists.FieldError{Field: "secret", Problem: "is required (it keys the HMAC-SHA256 signature)"}
	}
	if len(w.Secret) < MinWebhookSecret {
		return playlists.FieldError{Field: "secret", Problem: fmt.Sprintf("is %d bytes, at least %d required", len(w.Secret), MinWebhookSecret)}
	}
	if len(w.Secret) > MaxWebhookSecret {
		return playlists.FieldError{Field: "secret", Problem: fmt.Sprintf("is longer than %d bytes", MaxWebhookSecret)}
	}
	for i, e := range w.Events {
		if !slices.Contains(WebhookEvents, e) {
			return playlists.InvalidFormat(fmt.Sprintf("events[%d]", i), fmt.Sprintf("is %q; want one of %s", e, strings.Join(WebhookEvents, ", ")))
		}
	}
	return nil
}

// CreateWebhook validates and stores w under a new id.
func (s *Store) CreateWebhook(w Webhook) (Webhook, error) {
	if err := ValidateWebhook(w); err != nil {
		return Webhook{}, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWebhooks)
		if b.Stats().KeyN >= MaxWebhooks {
			return ConflictError{Msg: fmt.Sprintf("at most %d webhooks may be registered", MaxWebhooks)}
		}
		w.ID = freshID(b, "whk")
		w.CreatedAt = s.now().UTC()
		w.Tests = nil
		if len(w.Events) == 0 {
			w.Events = nil
		}
		return putJSON(b, w.ID, w)
	})
	if err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// ListWebhooks returns every webhook, secrets included, ordered by id.
func (s *Store) ListWebhooks() ([]Webhook, error) {
	return list[Webhook](s, bucketWebhooks)
}

// DeleteWebhook removes webhook id.
func (s *Store) DeleteWebhook(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if !exists(tx, bucketWebhooks, id) {
			return NotFoundError{Kind: "webhook", ID: id}
		}
		return tx.Bucket(bucketWebhooks).Delete([]byte(id))
	})
}

// GetWebhook returns webhook id, secret included.
func (s *Store) GetWebhook(id string) (Webhook, error) {
	var w Webhook
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketWebhooks).Get([]byte(id))
		if raw == nil {
			return NotFoundError{Kind: "webhook", ID: id}
		}
		return json.Unmarshal(raw, &w)
	})
	return w, err
}

// RecordWebhookTest keeps the outcome of a test send on webhook id (the
// latest maxWebhookTests). A webhook deleted meanwhile is not found.
func (s *Store) RecordWebhookTest(id string, t WebhookTest) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWebhooks)
		raw := b.Get([]byte(id))
		if raw == nil {
			return NotFoundError{Kind: "webhook", ID: id}
		}
		var w Webhook
		if err := json.Unmarshal(raw, &w); err != nil {
			return fmt.Errorf("decode webhook %s: %w", id, err)
		}
		w.Tests = append(w.Tests, t)
		if n := len(w.Tests); n > maxWebhookTests {
			w.Tests = slices.Clone(w.Tests[n-maxWebhookTests:])
		}
		return putJSON(b, id, w)
	})
}

// WebhookDelivery is one entry of a webhook's delivery log: an alert's
// delivery to it, or a test send.
type WebhookDelivery struct {
	Alert       string        `json:"alert"` // the event id
	Kind        string        `json:"kind"`  // the alert's kind, or "test"
	Test        bool          `json:"test,omitempty"`
	Summary     string        `json:"summary,omitempty"`
	Screens     []AlertScreen `json:"screens"`
	CreatedAt   time.Time     `json:"created_at"` // when the alert was raised or the test sent
	Status      string        `json:"status"`     // pending | delivered | failed
	Attempts    int           `json:"attempts"`
	LastCode    int           `json:"last_code,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	UpdatedAt   time.Time     `json:"updated_at,omitzero"`
	NextTryAt   time.Time     `json:"next_try_at,omitzero"`
	DeliveredAt time.Time     `json:"delivered_at,omitzero"`
	DurationMS  int64         `json:"duration_ms,omitempty"` // test sends only
	By          string        `json:"by,omitempty"`          // test sends only
}

// maxDeliveryScan bounds how many of the newest alerts a delivery log
// reads: the log is for "did the last ones arrive", not an archive.
const maxDeliveryScan = 2000

// WebhookDeliveries is webhook id's delivery log, newest first: its
// deliveries among the recent alerts and its test sends, at most limit.
func (s *Store) WebhookDeliveries(id string, limit int) ([]WebhookDelivery, error) {
	out := []WebhookDelivery{}
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketWebhooks).Get([]byte(id))
		if raw == nil {
			return NotFoundError{Kind: "webhook", ID: id}
		}
		var w Webhook
		if err := json.Unmarshal(raw, &w); err != nil {
			return fmt.Errorf("decode webhook %s: %w", id, err)
		}
		for i := len(w.Tests) - 1; i >= 0; i-- { // newest first, like the sort below
			t := w.Tests[i]
			d := WebhookDelivery{Alert: t.ID, Kind: "test", Test: true, Screens: []AlertScreen{}, CreatedAt: t.At, Attempts: 1, LastCode: t.Code,
				LastError: t.Error, UpdatedAt: t.At, DurationMS: t.DurationMS, By: t.By, Status: DeliveryFailed}
			if t.OK {
				d.Status, d.DeliveredAt = DeliveryDelivered, t.At
			}
			out = append(out, d)
		}
		c := tx.Bucket(bucketAlerts).Cursor()
		scanned, found := 0, 0
		for k, v := c.Last(); k != nil && scanned < maxDeliveryScan && found < limit; k, v = c.Prev() {
			scanned++
			var a Alert
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode alert: %w", err)
			}
			for _, d := range a.Deliveries {
				if d.Webhook != id {
					continue
				}
				found++
				out = append(out, WebhookDelivery{Alert: a.ID, Kind: a.Kind, Summary: a.Summary, Screens: a.Screens,
					CreatedAt: a.CreatedAt, Status: d.Status, Attempts: d.Attempts, LastCode: d.LastCode, LastError: d.LastError,
					UpdatedAt: d.UpdatedAt, NextTryAt: d.NextTryAt, DeliveredAt: d.DeliveredAt})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
