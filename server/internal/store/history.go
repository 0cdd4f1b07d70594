package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the health migration. screen_history holds one nested bucket
// per screen whose keys are big-endian unix nanoseconds followed by a
// big-endian sequence, so a screen's history reads in time order with a
// cursor and pruning stops at the first entry younger than the cutoff.
var (
	bucketHistory  = []byte("screen_history")
	bucketAlerts   = []byte("alerts")   // big-endian sequence → Alert
	bucketWebhooks = []byte("webhooks") // id → Webhook
)

// DefaultHistoryRetention is how long state transitions (and alerts) are
// kept: long enough to see "offline every night at 02:00" over a month.
const DefaultHistoryRetention = 30 * 24 * time.Hour

func migrateHealth(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketHistory, bucketAlerts, bucketWebhooks} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// Transition is one change of a screen's derived health state.
type Transition struct {
	Screen  string    `json:"screen"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Reasons []string  `json:"reasons,omitempty"`
	At      time.Time `json:"at"`
}

func historyKey(at time.Time, seq uint64) []byte {
	var k [16]byte
	binary.BigEndian.PutUint64(k[:8], uint64(at.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k[:]
}

// AppendHistory stores transitions, in one transaction. Transitions of
// screens deleted meanwhile are dropped.
func (s *Store) AppendHistory(trs []Transition) error {
	if len(trs) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		screens := tx.Bucket(bucketScreens)
		root := tx.Bucket(bucketHistory)
		for _, tr := range trs {
			if tr.Screen == "" || screens.Get([]byte(tr.Screen)) == nil {
				continue
			}
			b, err := root.CreateBucketIfNotExists([]byte(tr.Screen))
			if err != nil {
				return fmt.Errorf("history bucket %q: %w", tr.Screen, err)
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			raw, err := json.Marshal(tr)
			if err != nil {
				return err
			}
			if err := b.Put(historyKey(tr.At, seq), raw); err != nil {
				return err
			}
		}
		return nil
	})
}

// History returns up to limit transitions of screenID at or after since
// (zero: any), newest first.
func (s *Store) History(screenID string, since time.Time, limit int) ([]Transition, error) {
	out := []Transition{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHistory).Bucket([]byte(screenID))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var tr Transition
			if err := json.Unmarshal(v, &tr); err != nil {
				return fmt.Errorf("decode history of %q: %w", screenID, err)
			}
			if !since.IsZero() && tr.At.Before(since) {
				break
			}
			out = append(out, tr)
		}
		return nil
	})
	return out, err
}

// LastTransitions returns each screen's most recent transition, so a
// restarted server resumes every screen's state and "since" instead of
// declaring the whole fleet new.
func (s *Store) LastTransitions() (map[string]Transition, error) {
	out := map[string]Transition{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHistory).ForEachBucket(func(name []byte) error {
			_, v := tx.Bucket(bucketHistory).Bucket(name).Cursor().Last()
			if v == nil {
				return nil
			}
			var tr Transition
			if err := json.Unmarshal(v, &tr); err != nil {
				return fmt.Errorf("decode history of %q: %w", name, err)
			}
			out[string(name)] = tr
			return nil
		})
	})
	return out, err
}

// PruneHistory deletes transitions and alerts older than before and drops
// the emptied history of deleted screens. It returns how many records went.
func (s *Store) PruneHistory(before time.Time) (int, error) {
	n := 0
	cut := historyKey(before, 0)
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketHistory)
		var empty [][]byte
		err := root.ForEachBucket(func(name []byte) error {
			b := root.Bucket(name)
			c := b.Cursor()
			// Deleting under a cursor moves it to the next key, so re-read
			// First each time rather than calling Next.
			for k, _ := c.First(); k != nil && string(k) < string(cut); k, _ = c.First() {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			if k, _ := c.First(); k == nil && tx.Bucket(bucketScreens).Get(name) == nil {
				empty = append(empty, append([]byte(nil), name...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, name := range empty {
			if err := root.DeleteBucket(name); err != nil {
				return err
			}
		}
		m, err := pruneAlerts(tx, before)
		n += m
		return err
	})
	return n, err
}
