package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Alert is one health alert: a screen (or, for a district-wide event, many
// screens at once) entering offline, stale or degraded, or recovering.
type Alert struct {
	Seq     uint64 `json:"seq"`
	ID      string `json:"id"`   // also the webhook's X-Kiosk-Event-Id
	Kind    string `json:"kind"` // offline | stale | degraded | recovered | mixed (grouped, kinds differ)
	Grouped bool   `json:"grouped"`
	Summary string `json:"summary"`
	// Screens lists each screen's change; one entry unless Grouped.
	Screens   []AlertScreen `json:"screens"`
	CreatedAt time.Time     `json:"created_at"`
	// Deliveries records each webhook's delivery of this alert.
	Deliveries []Delivery `json:"deliveries"`
}

// AlertScreen is one screen's change within an alert.
type AlertScreen struct {
	Screen  string    `json:"screen"`
	Name    string    `json:"name,omitempty"`
	Group   string    `json:"group,omitempty"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Reasons []string  `json:"reasons,omitempty"`
	At      time.Time `json:"at"` // when the screen entered To
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // gave up after the last attempt
)

// Delivery is the state of one alert's delivery to one webhook.
type Delivery struct {
	Webhook     string    `json:"webhook"`
	URL         string    `json:"url"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	LastCode    int       `json:"last_code,omitempty"` // HTTP status of the last attempt
	LastError   string    `json:"last_error,omitempty"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	NextTryAt   time.Time `json:"next_try_at,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// AddAlert stores a new alert and returns it with Seq, ID and CreatedAt set.
func (s *Store) AddAlert(a Alert) (Alert, error) {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now().UTC()
	}
	if a.Screens == nil {
		a.Screens = []AlertScreen{}
	}
	if a.Deliveries == nil {
		a.Deliveries = []Delivery{}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		a.Seq = seq
		// Random, not the sequence alone: webhook receivers dedupe on the
		// event id, and a data dir restored from backup reuses sequences.
		a.ID = newID("alr")
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		return b.Put(seqKey(seq), raw)
	})
	if err != nil {
		return Alert{}, err
	}
	return a, nil
}

// SetDelivery records d on alert seq, replacing the entry for the same
// webhook or adding one.
func (s *Store) SetDelivery(seq uint64, d Delivery) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		var a Alert
		raw := b.Get(seqKey(seq))
		if raw == nil {
			return NotFoundError{Kind: "alert", ID: fmt.Sprint(seq)}
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("decode alert %d: %w", seq, err)
		}
		found := false
		for i := range a.Deliveries {
			if a.Deliveries[i].Webhook == d.Webhook {
				a.Deliveries[i] = d
				found = true
			}
		}
		if !found {
			a.Deliveries = append(a.Deliveries, d)
		}
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		return b.Put(seqKey(seq), raw)
	})
}

// ListAlerts returns up to limit alerts, newest first.
func (s *Store) ListAlerts(limit int) ([]Alert, error) {
	out := []Alert{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAlerts).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var a Alert
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode alert: %w", err)
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// PendingAlerts returns the alerts created at or after since that still
// have a delivery pending, oldest first: the deliveries a restarted server
// must resume. Sequence order is creation order, so the walk back from the
// newest stops at the first older alert and costs only the window asked for.
func (s *Store) PendingAlerts(since time.Time) ([]Alert, error) {
	var out []Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAlerts).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var a Alert
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode alert %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if a.CreatedAt.Before(since) {
				break
			}
			for _, d := range a.Deliveries {
				if d.Status == DeliveryPending {
					out = append(out, a)
					break
				}
			}
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// pruneAlerts deletes alerts created before before. Sequence order is
// creation order, so it stops at the first younger one.
func pruneAlerts(tx *bolt.Tx, before time.Time) (int, error) {
	n := 0
	c := tx.Bucket(bucketAlerts).Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		var a struct {
			CreatedAt time.Time `json:"created_at"`
		}
		if err := json.Unmarshal(v, &a); err != nil {
			return n, fmt.Errorf("decode alert: %w", err)
		}
		if !a.CreatedAt.Before(before) {
			break
		}
		if err := c.Delete(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
