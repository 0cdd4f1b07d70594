package store

import (
	"fmt"
	"net/url"
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
