package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The audit trail is append-only and tamper-evident: every entry carries the
// hash of the one before it, so deleting, editing or reordering an entry
// breaks the chain at that point, and removing entries from the end leaves
// the bucket's sequence ahead of the last entry. Retention deletes the oldest
// entries only after checking them, and leaves an anchor (the seq and hash of
// the last entry deleted) for the chain to start from.
//
// This does not stop someone who can write the bbolt file from rebuilding
// the whole chain; for that, an operator notes AuditVerify.Head somewhere
// else now and then, and later checks it is still in the chain.

var (
	bucketAuditMeta = []byte("audit_meta") // key "anchor" → auditLink of the last pruned entry
	keyAuditAnchor  = []byte("anchor")
)

const (
	// DefaultAuditRetention is how long audit entries are kept: the issue
	// asks for at least 400 days, a year's review plus slack.
	DefaultAuditRetention = 400 * 24 * time.Hour

	// DefaultAuditLimit and MaxAuditLimit bound one ListAudit answer.
	DefaultAuditLimit = 200
	MaxAuditLimit     = 5000
)

// AuditEntry records one change, sign-in or other accountable event. The
// first seven fields predate the hash chain and keep their JSON names so
// old entries still decode.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`  // always UTC once stored
	Actor  string    `json:"actor"` // who: a username, or a fingerprint of the credential used, never the credential
	IP     string    `json:"ip"`    // socket address, not X-Forwarded-For
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"` // the object's id
	Status int       `json:"status"`

	UserID string `json:"user_id,omitempty"`
	Role   string `json:"role,omitempty"`
	Via    string `json:"via,omitempty"`    // session, token, breakglass, cli or device
	Detail string `json:"detail,omitempty"` // short human text, e.g. "approved change set cs_x (3 changes)"
	Before string `json:"before,omitempty"` // HashJSON of the object before the change; empty when it did not exist
	After  string `json:"after,omitempty"`  // HashJSON of the object after the change; empty when it no longer exists

	Prev string `json:"prev"` // Hash of the previous entry; empty for the first entry ever
	Hash string `json:"hash"` // see auditHash
}

// HashJSON returns the hex SHA-256 of v's JSON encoding, for
// AuditEntry.Before and After. Absent objects (nil, a nil pointer, map or
// slice) give "", as does a value JSON cannot encode: callers hash their
// own API types, which always encode. encoding/json sorts map keys, so
// equal values hash equally.
func HashJSON(v any) string {
	if v == nil {
		return ""
	}
	raw, err := json.Marshal(v)
	if err != nil || string(raw) == "null" {
		return ""
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// auditHashVersion starts every hashed encoding, so a future change of the
// field list can be told apart from tampering.
const auditHashVersion = "kiosk-audit-1"

// auditHash returns e's chain hash. It is the lower-case hex SHA-256 of
// these fields, in this order, each written as a netstring (the value's
// length in bytes in decimal, ":", the value, ","):
//
//	"kiosk-audit-1", seq, time, actor, user_id, role, via, ip, action,
//	target, status, detail, before, after, prev
//
// seq and status are plain decimal; time is RFC 3339 in UTC with the
// fraction's trailing zeros dropped (Go's time.RFC3339Nano, e.g.
// "2026-03-01T09:00:00.5Z"), which is also how the JSON stores it; strings
// are their UTF-8 bytes, "" when the JSON field is absent. e.Hash itself is
// not part of it. So the first entry ever, seq 1 at 2026-03-01T09:00:00Z by
// "alice" with every other string empty and status 200, hashes
//
//	13:kiosk-audit-1,1:1,20:2026-03-01T09:00:00Z,5:alice,0:,0:,0:,0:,0:,0:,3:200,0:,0:,0:,0:,
//
// Netstrings rather than JSON because every language can rebuild them byte
// for byte; JSON encoders disagree on escaping.
func auditHash(e AuditEntry) string {
	h := sha256.New()
	for _, f := range []string{
		auditHashVersion,
		strconv.FormatUint(e.Seq, 10),
		e.Time.UTC().Format(time.RFC3339Nano),
		e.Actor, e.UserID, e.Role, e.Via, e.IP, e.Action, e.Target,
		strconv.Itoa(e.Status),
		e.Detail, e.Before, e.After, e.Prev,
	} {
		fmt.Fprintf(h, "%d:%s,", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// auditLink is a point in the chain: an entry's seq and hash. The zero
// value is the start of a log that was never pruned.
type auditLink struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

func readAuditAnchor(tx *bolt.Tx) (auditLink, error) {
	var a auditLink
	raw := tx.Bucket(bucketAuditMeta).Get(keyAuditAnchor)
	if raw == nil {
		return a, nil
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("decode audit anchor: %w", err)
	}
	return a, nil
}

// lastAuditLink is what the next entry chains to: the newest entry, or the
// anchor when pruning emptied the log.
func lastAuditLink(tx *bolt.Tx) (auditLink, error) {
	k, raw := tx.Bucket(bucketAudit).Cursor().Last()
	if k == nil {
		return readAuditAnchor(tx)
	}
	var l auditLink
	if err := json.Unmarshal(raw, &l); err != nil {
		// Chaining onto an entry nobody can read would hide the damage;
		// refusing makes it loud, and VerifyAudit says where it is.
		return l, fmt.Errorf("decode last audit entry %x: %w", k, err)
	}
	return l, nil
}

// appendAudit stores e as the next link of the chain. e is a copy, so
// db.Batch may run the caller again after a rollback without leftovers.
func appendAudit(tx *bolt.Tx, e AuditEntry) error {
	last, err := lastAuditLink(tx)
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	if b.Get(seqKey(seq)) != nil {
		// Only a rewound sequence gets here; never overwrite an entry.
		return fmt.Errorf("audit seq %d is already taken: the log's sequence was rewound", seq)
	}
	e.Seq, e.Prev, e.Hash = seq, last.Hash, ""
	e.Hash = auditHash(e)
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode audit entry: %w", err)
	}
	return b.Put(seqKey(seq), raw)
}

// AppendAudit adds e to the audit trail, setting Seq, Prev and Hash, and
// Time when it is zero. Concurrent appends are batched into shared
// transactions; each reads the chain's end inside the transaction, after
// the appends batched before it, so the chain stays linear.
func (s *Store) AppendAudit(e AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.UTC()
	err := s.db.Batch(func(tx *bolt.Tx) error { return appendAudit(tx, e) })
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// checkAuditLink says why e, stored under key, does not follow prev; ""
// when it does. Seqs come from the bucket's sequence inside the appending
// transaction, so they never skip: a gap is a deleted entry even if
// someone recomputed the hashes after it.
func checkAuditLink(key uint64, e AuditEntry, prev auditLink) string {
	switch {
	case e.Seq != key:
		return fmt.Sprintf("entry stored under seq %d says it is seq %d (moved)", key, e.Seq)
	case key != prev.Seq+1:
		return fmt.Sprintf("entries %d to %d are missing", prev.Seq+1, key-1)
	case e.Prev != prev.Hash:
		return fmt.Sprintf("prev does not match the hash of seq %d", prev.Seq)
	case auditHash(e) != e.Hash:
		return "hash does not match the entry's contents (edited)"
	}
	return ""
}

// AuditVerify is VerifyAudit's answer.
type AuditVerify struct {
	Entries  int    `json:"entries"`          // entries the log holds now
	OK       bool   `json:"ok"`               // the whole chain checks out
	BrokenAt uint64 `json:"broken_at"`        // first seq whose prev or hash does not match; 0 when OK
	Reason   string `json:"reason,omitempty"` // why, for a person
	Anchor   uint64 `json:"anchor,omitempty"` // entries up to this seq were pruned; checking starts after it
	Last     uint64 `json:"last,omitempty"`   // newest seq, when OK
	Head     string `json:"head,omitempty"`   // its hash, when OK: worth noting outside the server
}

// VerifyAudit walks the chain from the anchor and reports the first broken
// link: a decoded entry that is not the next seq, does not name the
// previous hash, or does not hash to its own Hash; or entries missing at
// the end. It reads one consistent snapshot.
func (s *Store) VerifyAudit() (AuditVerify, error) {
	var v AuditVerify
	err := s.db.View(func(tx *bolt.Tx) error {
		anchor, err := readAuditAnchor(tx)
		if err != nil {
			return err
		}
		v.Anchor = anchor.Seq
		broken := func(seq uint64, why string) {
			if v.BrokenAt == 0 {
				v.BrokenAt, v.Reason = seq, why
			}
		}
		prev := anchor
		b := tx.Bucket(bucketAudit)
		c := b.Cursor()
		for k, raw := c.First(); k != nil; k, raw = c.Next() {
			v.Entries++
			if v.BrokenAt != 0 {
				continue // only counting now
			}
			if len(k) != 8 {
				broken(prev.Seq+1, fmt.Sprintf("stray key %x after seq %d", k, prev.Seq))
				continue
			}
			key := binary.BigEndian.Uint64(k)
			var e AuditEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				broken(key, fmt.Sprintf("entry does not decode: %v", err))
				continue
			}
			if why := checkAuditLink(key, e, prev); why != "" {
				broken(key, why)
				continue
			}
			prev = auditLink{Seq: e.Seq, Hash: e.Hash}
		}
		if seq := b.Sequence(); v.BrokenAt == 0 && seq > prev.Seq {
			broken(prev.Seq+1, fmt.Sprintf("entries %d to %d are missing from the end", prev.Seq+1, seq))
		} else if v.BrokenAt == 0 && seq < prev.Seq {
			broken(seq+1, fmt.Sprintf("the log's sequence is %d, behind its last entry %d (it was rewound)", seq, prev.Seq))
		}
		if v.BrokenAt == 0 {
			v.OK, v.Last, v.Head = true, prev.Seq, prev.Hash
		}
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	return v, nil
}

// AuditFilter narrows ListAudit. Zero fields do not filter.
type AuditFilter struct {
	User      string    // matches Actor or UserID exactly
	Object    string    // matches Target exactly
	Action    string    // prefix of Action, e.g. "changeset." or "POST "
	Since     time.Time // entries at or after
	Until     time.Time // entries before
	Limit     int       // at most this many; 0 means DefaultAuditLimit, capped at MaxAuditLimit
	BeforeSeq uint64    // paging: only entries with a smaller seq
}

func (f AuditFilter) match(e AuditEntry) bool {
	return (f.User == "" || e.Actor == f.User || e.UserID == f.User) &&
		(f.Object == "" || e.Target == f.Object) &&
		strings.HasPrefix(e.Action, f.Action) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}

// ListAudit returns the entries matching f, newest first. To page, pass
// the last answer's smallest seq as the next BeforeSeq.
//
// It walks back from the newest entry without stopping at Since: entry
// times follow the server clock, which may have been set wrong for a while
// (a box without a battery clock boots in the past), so seq order is not
// reliably time order.
func (s *Store) ListAudit(f AuditFilter) ([]AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	limit = min(limit, MaxAuditLimit)
	out := []AuditEntry{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		k, raw := c.Last()
		if f.BeforeSeq > 0 {
			if k, raw = c.Seek(seqKey(f.BeforeSeq)); k == nil {
				k, raw = c.Last() // every entry is before it
			} else {
				k, raw = c.Prev()
			}
		}
		for ; k != nil && len(out) < limit; k, raw = c.Prev() {
			var e AuditEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("decode audit entry %x: %w", k, err)
			}
			if f.match(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

// PruneAudit deletes the entries older than olderThan from the start of the
// log, stopping at the first newer one, and returns how many it deleted.
// Each is checked before it goes, so retention never erases the evidence
// of tampering: a broken link stops the prune with an error. The last
// deleted entry becomes the anchor VerifyAudit starts from, and each
// transaction records its prune as an entry of its own, so the log says
// why its oldest entries are gone.
func (s *Store) PruneAudit(olderThan time.Time) (int, error) {
	total := 0
	for {
		var n int
		var more bool
		var broken string
		err := s.db.Update(func(tx *bolt.Tx) error {
			anchor, err := readAuditAnchor(tx)
			if err != nil {
				return err
			}
			c := tx.Bucket(bucketAudit).Cursor()
			for k, raw := c.First(); k != nil; k, raw = c.First() {
				if n == pruneChunk {
					more = true
					break
				}
				var e AuditEntry
				if len(k) != 8 {
					broken = fmt.Sprintf("stray key %x after seq %d", k, anchor.Seq)
					break
				}
				key := binary.BigEndian.Uint64(k)
				if err := json.Unmarshal(raw, &e); err != nil {
					broken = fmt.Sprintf("seq %d does not decode: %v", key, err)
					break
				}
				if !e.Time.Before(olderThan) {
					break
				}
				if why := checkAuditLink(key, e, anchor); why != "" {
					broken = fmt.Sprintf("seq %d: %s", key, why)
					break
				}
				if err := c.Delete(); err != nil {
					return err
				}
				anchor = auditLink{Seq: e.Seq, Hash: e.Hash}
				n++
			}
			if n == 0 {
				return nil
			}
			if err := putJSON(tx.Bucket(bucketAuditMeta), string(keyAuditAnchor), anchor); err != nil {
				return err
			}
			return appendAudit(tx, AuditEntry{
				Time:   s.now().UTC(),
				Actor:  "system",
				Action: "audit.prune",
				Detail: fmt.Sprintf("pruned %d entries older than %s, through seq %d",
					n, olderThan.UTC().Format(time.RFC3339), anchor.Seq),
			})
		})
		if err != nil {
			return total, fmt.Errorf("prune audit: %w", err)
		}
		total += n
		if broken != "" {
			return total, fmt.Errorf("prune audit: chain broken, not pruning past it: %s", broken)
		}
		if !more {
			return total, nil
		}
	}
}

// migrateAuditChain hashes the entries written before the chain existed, in
// seq order, and creates the bucket for the prune anchor. Nothing vouches
// for those entries' past, but from here on a change to any of them shows.
func migrateAuditChain(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketAuditMeta); err != nil {
		return err
	}
	// A file that was pruned and then moved back a schema version (tests do
	// that) already has an anchor; the chain must go on from it.
	prev, err := readAuditAnchor(tx)
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketAudit)
	c := b.Cursor()
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		if len(k) != 8 {
			return fmt.Errorf("audit key %x is not a sequence number", k)
		}
		var e AuditEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("decode audit entry %x: %w", k, err)
		}
		// The key is the seq the entry was stored under; the chain checks
		// they agree, so make sure they do.
		e.Seq = binary.BigEndian.Uint64(k)
		e.Time = e.Time.UTC()
		e.Prev, e.Hash = prev.Hash, ""
		e.Hash = auditHash(e)
		out, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode audit entry %d: %w", e.Seq, err)
		}
		key := seqKey(e.Seq)
		if err := b.Put(key, out); err != nil {
			return err
		}
		// A Put may move the cursor's page; find our place again.
		c.Seek(key)
		prev = auditLink{Seq: e.Seq, Hash: e.Hash}
	}
	return nil
}
