package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEntry records one admin mutation.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"` // who: a fingerprint of the credential used, never the credential
	IP     string    `json:"ip"`    // socket address, not X-Forwarded-For
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Status int       `json:"status"`
}

// AppendAudit adds e to the audit trail. Concurrent appends are batched into
// shared transactions.
func (s *Store) AppendAudit(e AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = seq
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put(k[:], raw)
	})
}

// ListAudit returns up to limit entries, newest first.
func (s *Store) ListAudit(limit int) ([]AuditEntry, error) {
	out := []AuditEntry{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry: %w", err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// migrateAuditChain is filled in with the hash chain.
func migrateAuditChain(tx *bolt.Tx) error { return nil }
