package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// editAudit changes the audit bucket behind the store's back, as someone
// with the bbolt file would.
func editAudit(t *testing.T, s *Store, fn func(b *bolt.Bucket) error) {
	t.Helper()
	if err := s.db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketAudit)) }); err != nil {
		t.Fatalf("edit audit bucket: %v", err)
	}
}

func rawEntry(t *testing.T, b *bolt.Bucket, seq uint64) AuditEntry {
	t.Helper()
	var e AuditEntry
	if err := json.Unmarshal(b.Get(seqKey(seq)), &e); err != nil {
		t.Fatalf("decode audit seq %d: %v", seq, err)
	}
	return e
}

func putRawEntry(t *testing.T, b *bolt.Bucket, seq uint64, e AuditEntry) {
	t.Helper()
	raw, _ := json.Marshal(e)
	if err := b.Put(seqKey(seq), raw); err != nil {
		t.Fatal(err)
	}
}

// appendN appends n entries one hour apart, ending an hour before testNow.
func appendN(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		e := AuditEntry{
			Time:   testNow.Add(time.Duration(i-n) * time.Hour),
			Actor:  "alice",
			UserID: "usr_alice",
			Role:   "editor",
			Via:    "session",
			IP:     "10.0.0.7",
			Action: "item.update",
			Target: fmt.Sprintf("itm_%d", i+1),
			Status: 200,
			Detail: "changed the title",
			Before: HashJSON(map[string]int{"v": i}),
			After:  HashJSON(map[string]int{"v": i + 1}),
		}
		if err := s.AppendAudit(e); err != nil {
			t.Fatal(err)
		}
	}
}

func mustVerify(t *testing.T, s *Store) AuditVerify {
	t.Helper()
	v, err := s.VerifyAudit()
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return v
}

// The encoding is a promise to outside verifiers: this pins it to the
// example in auditHash's comment.
func TestAuditHashEncoding(t *testing.T) {
	e := AuditEntry{Seq: 1, Time: time.Date(2026, 3, 1, 17, 0, 0, 0, time.FixedZone("CST", 8*3600)), Actor: "alice", Status: 200}
	sum := sha256.Sum256([]byte("13:kiosk-audit-1,1:1,20:2026-03-01T09:00:00Z,5:alice,0:,0:,0:,0:,0:,0:,3:200,0:,0:,0:,0:,"))
	if got, want := auditHash(e), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("auditHash: got %s, want %s", got, want)
	}

	// Every field counts, including multi-byte text and nanoseconds.
	full := AuditEntry{Seq: 9, Time: testNow.Add(500 * time.Millisecond), Actor: "王", UserID: "u", Role: "r", Via: "v",
		IP: "::1", Action: "a", Target: "t", Status: 1, Detail: "d", Before: "b", After: "c", Prev: "p"}
	sum = sha256.Sum256([]byte("13:kiosk-audit-1,1:9,22:2026-03-01T09:00:00.5Z,3:王,1:u,1:r,1:v,3:::1,1:a,1:t,1:1,1:d,1:b,1:c,1:p,"))
	if got, want := auditHash(full), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("auditHash(all fields): got %s, want %s", got, want)
	}
	// The stored JSON gives back the same hash.
	raw, _ := json.Marshal(full)
	var back AuditEntry
	json.Unmarshal(raw, &back)
	if auditHash(back) != auditHash(full) {
		t.Errorf("hash changed across a JSON round trip: %s", raw)
	}
}

func TestHashJSON(t *testing.T) {
	type obj struct{ Title string }
	var nilPtr *obj
	var nilMap map[string]int
	sum := sha256.Sum256([]byte(`{"Title":"停水"}`))
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, ""},
		{"nil pointer", nilPtr, ""},
		{"nil map", nilMap, ""},
		{"struct", obj{Title: "停水"}, hex.EncodeToString(sum[:])},
		{"pointer", &obj{Title: "停水"}, hex.EncodeToString(sum[:])},
		{"unencodable", func() {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashJSON(tt.v); got != tt.want {
				t.Errorf("HashJSON: got %q, want %q", got, tt.want)
			}
		})
	}
	if HashJSON(map[string]int{"a": 1, "b": 2}) != HashJSON(map[string]int{"b": 2, "a": 1}) {
		t.Error("HashJSON of equal maps differs")
	}
}

func TestAuditChain(t *testing.T) {
	s := openTest(t)
	if v := mustVerify(t, s); !v.OK || v.Entries != 0 {
		t.Errorf("empty log: got %+v, want ok with 0 entries", v)
	}
	appendN(t, s, 5)
	if err := s.AppendAudit(AuditEntry{Action: "signin.failed", Actor: "mallory"}); err != nil {
		t.Fatal(err)
	}
	es, err := s.ListAudit(AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 6 {
		t.Fatalf("ListAudit: got %d entries, want 6", len(es))
	}
	if !es[0].Time.Equal(testNow) || es[0].Time.Location() != time.UTC {
		t.Errorf("zero time: got %v, want the store clock %v in UTC", es[0].Time, testNow)
	}
	for i, e := range es {
		if want := uint64(6 - i); e.Seq != want {
			t.Errorf("entry %d: seq %d, want %d", i, e.Seq, want)
		}
		if e.Hash != auditHash(e) || len(e.Hash) != 64 {
			t.Errorf("seq %d: hash %q, want %q", e.Seq, e.Hash, auditHash(e))
		}
		wantPrev := ""
		if i+1 < len(es) {
			wantPrev = es[i+1].Hash
		}
		if e.Prev != wantPrev {
			t.Errorf("seq %d: prev %q, want %q", e.Seq, e.Prev, wantPrev)
		}
	}
	v := mustVerify(t, s)
	if want := (AuditVerify{Entries: 6, OK: true, Last: 6, Head: es[0].Hash}); v != want {
		t.Errorf("VerifyAudit: got %+v, want %+v", v, want)
	}
}

// Batched appends share a transaction; each must still chain onto the one
// before it.
func TestAuditConcurrentAppends(t *testing.T) {
	s := openTest(t)
	const workers, each = 50, 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				errs <- s.AppendAudit(AuditEntry{Actor: fmt.Sprintf("u%d", w), Action: "item.create", Target: fmt.Sprint(i)})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	v := mustVerify(t, s)
	if !v.OK || v.Entries != workers*each || v.Last != workers*each {
		t.Errorf("VerifyAudit after concurrent appends: got %+v, want ok with %d entries", v, workers*each)
	}
}

func TestAuditTamperDetected(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(t *testing.T, b *bolt.Bucket) error
		broken uint64
		reason string
	}{
		{"delete in the middle", func(t *testing.T, b *bolt.Bucket) error {
			return b.Delete(seqKey(3))
		}, 4, "missing"},
		{"delete the first", func(t *testing.T, b *bolt.Bucket) error {
			return b.Delete(seqKey(1))
		}, 2, "missing"},
		{"delete the last", func(t *testing.T, b *bolt.Bucket) error {
			return b.Delete(seqKey(5))
		}, 5, "missing from the end"},
		{"edit a field", func(t *testing.T, b *bolt.Bucket) error {
			e := rawEntry(t, b, 3)
			e.Actor = "bob"
			putRawEntry(t, b, 3, e)
			return nil
		}, 3, "edited"},
		{"edit a field and rehash it", func(t *testing.T, b *bolt.Bucket) error {
			e := rawEntry(t, b, 3)
			e.After = HashJSON("something else")
			e.Hash = auditHash(e)
			putRawEntry(t, b, 3, e)
			return nil
		}, 4, "prev does not match"},
		{"swap two entries", func(t *testing.T, b *bolt.Bucket) error {
			e2, e3 := rawEntry(t, b, 2), rawEntry(t, b, 3)
			putRawEntry(t, b, 2, e3)
			putRawEntry(t, b, 3, e2)
			return nil
		}, 2, "moved"},
		{"renumber after a delete", func(t *testing.T, b *bolt.Bucket) error {
			// Hide a deleted 3 by renumbering the entries after it and
			// rehashing them: the new 3 still names the old 3's hash.
			e4, e5 := rawEntry(t, b, 4), rawEntry(t, b, 5)
			e4.Seq, e5.Seq = 3, 4
			e4.Hash = auditHash(e4)
			e5.Prev = e4.Hash
			e5.Hash = auditHash(e5)
			putRawEntry(t, b, 3, e4)
			putRawEntry(t, b, 4, e5)
			if err := b.Delete(seqKey(5)); err != nil {
				return err
			}
			return b.SetSequence(4)
		}, 3, "prev does not match"},
		{"garbage", func(t *testing.T, b *bolt.Bucket) error {
			return b.Put(seqKey(3), []byte("{not json"))
		}, 3, "does not decode"},
		{"rewound sequence", func(t *testing.T, b *bolt.Bucket) error {
			return b.SetSequence(2)
		}, 3, "rewound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			appendN(t, s, 5)
			editAudit(t, s, func(b *bolt.Bucket) error { return tt.edit(t, b) })
			v := mustVerify(t, s)
			if v.OK || v.BrokenAt != tt.broken || !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("VerifyAudit: got %+v, want broken at %d with a reason saying %q", v, tt.broken, tt.reason)
			}
			if v.Head != "" || v.Last != 0 {
				t.Errorf("VerifyAudit: broken chain reports head %q last %d, want none", v.Head, v.Last)
			}
		})
	}
}

// A rewound sequence must never make an append overwrite an entry.
func TestAuditAppendRefusesTakenSeq(t *testing.T) {
	s := openTest(t)
	appendN(t, s, 3)
	editAudit(t, s, func(b *bolt.Bucket) error { return b.SetSequence(1) })
	if err := s.AppendAudit(AuditEntry{Action: "x"}); err == nil || !strings.Contains(err.Error(), "rewound") {
		t.Errorf("AppendAudit over a rewound sequence: got %v, want an error saying rewound", err)
	}
	editAudit(t, s, func(b *bolt.Bucket) error {
		if e := rawEntry(t, b, 2); e.Action != "item.update" {
			t.Errorf("seq 2 was overwritten: %+v", e)
		}
		return nil
	})
}

func TestListAuditFilter(t *testing.T) {
	s := openTest(t)
	day := func(d int) time.Time { return testNow.AddDate(0, 0, d) }
	for _, e := range []AuditEntry{
		{Time: day(-5), Actor: "alice", UserID: "usr_a", Action: "signin", Status: 200},                      // 1
		{Time: day(-4), Actor: "alice", UserID: "usr_a", Action: "item.create", Target: "itm_1"},             // 2
		{Time: day(-3), Actor: "bob", UserID: "usr_b", Action: "item.update", Target: "itm_1"},               // 3
		{Time: day(-2), Actor: "bob", UserID: "usr_b", Action: "changeset.approve", Target: "cs_1"},          // 4
		{Time: day(-1), Actor: "admin:1a2b3c4d", Action: "DELETE /api/v1/items/:id", Target: "itm_1"},        // 5
		{Time: day(0), Actor: "carol", UserID: "usr_c", Action: "signin.failed"},                             // 6
		{Time: day(0).Add(time.Minute), Actor: "alice", UserID: "usr_a", Action: "item.delete", Target: "x"}, // 7
	} {
		if err := s.AppendAudit(e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    AuditFilter
		want []uint64
	}{
		{"all, newest first", AuditFilter{}, []uint64{7, 6, 5, 4, 3, 2, 1}},
		{"user by name", AuditFilter{User: "alice"}, []uint64{7, 2, 1}},
		{"user by id", AuditFilter{User: "usr_b"}, []uint64{4, 3}},
		{"credential fingerprint", AuditFilter{User: "admin:1a2b3c4d"}, []uint64{5}},
		{"object", AuditFilter{Object: "itm_1"}, []uint64{5, 3, 2}},
		{"object is exact", AuditFilter{Object: "itm"}, nil},
		{"action prefix", AuditFilter{Action: "item."}, []uint64{7, 3, 2}},
		{"action prefix takes longer names", AuditFilter{Action: "signin"}, []uint64{6, 1}},
		{"since inclusive", AuditFilter{Since: day(-2)}, []uint64{7, 6, 5, 4}},
		{"until exclusive", AuditFilter{Until: day(-3)}, []uint64{2, 1}},
		{"window", AuditFilter{Since: day(-4), Until: day(-1)}, []uint64{4, 3, 2}},
		{"limit", AuditFilter{Limit: 2}, []uint64{7, 6}},
		{"before seq", AuditFilter{BeforeSeq: 4}, []uint64{3, 2, 1}},
		{"before seq past the end", AuditFilter{BeforeSeq: 100}, []uint64{7, 6, 5, 4, 3, 2, 1}},
		{"before the first", AuditFilter{BeforeSeq: 1}, nil},
		{"page two of alice", AuditFilter{User: "alice", Limit: 2, BeforeSeq: 2}, []uint64{1}},
		{"combined", AuditFilter{User: "alice", Object: "itm_1", Action: "item.", Since: day(-10)}, []uint64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := s.ListAudit(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, e := range es {
				got = append(got, e.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ListAudit(%+v): got seqs %v, want %v", tt.f, got, tt.want)
			}
		})
	}
	if es, _ := s.ListAudit(AuditFilter{User: "nobody"}); es == nil {
		t.Error("ListAudit with no match: got nil, want an empty slice (encodes as [])")
	}
}

func TestListAuditLimitBounds(t *testing.T) {
	s := openTest(t)
	err := s.db.Update(func(tx *bolt.Tx) error {
		for range MaxAuditLimit + 10 {
			if err := appendAudit(tx, AuditEntry{Time: testNow, Action: "x"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ limit, want int }{{0, DefaultAuditLimit}, {-1, DefaultAuditLimit}, {7, 7}, {MaxAuditLimit + 5, MaxAuditLimit}} {
		if es, _ := s.ListAudit(AuditFilter{Limit: tt.limit}); len(es) != tt.want {
			t.Errorf("ListAudit(limit %d): got %d entries, want %d", tt.limit, len(es), tt.want)
		}
	}
}

func TestPruneAudit(t *testing.T) {
	s := openTest(t)
	old := pruneChunk
	pruneChunk = 3 // several transactions for a handful of entries
	t.Cleanup(func() { pruneChunk = old })

	appendN(t, s, 10) // seq i at testNow - (11-i) hours
	cutoff := testNow.Add(-3 * time.Hour)
	n, err := s.PruneAudit(cutoff) // seq 1..7 are older
	if err != nil || n != 7 {
		t.Fatalf("PruneAudit = %d, %v; want 7, nil", n, err)
	}
	v := mustVerify(t, s)
	// 8, 9, 10 and one prune record per transaction: 3+3+1.
	if !v.OK || v.Anchor != 7 || v.Entries != 6 || v.Last != 13 {
		t.Errorf("VerifyAudit after prune: got %+v, want ok, anchor 7, 6 entries, last 13", v)
	}
	recs, _ := s.ListAudit(AuditFilter{Action: "audit.prune"})
	if len(recs) != 3 || recs[0].Actor != "system" || !strings.Contains(recs[0].Detail, "pruned 1 entries") ||
		!strings.Contains(recs[0].Detail, "through seq 7") {
		t.Errorf("prune records: got %+v, want 3, the newest saying it pruned 1 through seq 7", recs)
	}
	if n, err := s.PruneAudit(cutoff); err != nil || n != 0 {
		t.Errorf("second PruneAudit = %d, %v; want 0, nil", n, err)
	}

	// Pruning everything leaves the anchor, and new entries chain onto it.
	if _, err := s.PruneAudit(testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v := mustVerify(t, s); !v.OK || v.Entries != 1 {
		t.Errorf("VerifyAudit after pruning everything: got %+v, want ok with only the prune record", v)
	}
	appendN(t, s, 2)
	if v := mustVerify(t, s); !v.OK || v.Entries != 3 {
		t.Errorf("VerifyAudit after appending to a pruned log: got %+v, want ok with 3 entries", v)
	}

	// Deleting what precedes the anchor's successor is caught, anchor or not.
	editAudit(t, s, func(b *bolt.Bucket) error {
		k, _ := b.Cursor().First()
		return b.Delete(k)
	})
	if v := mustVerify(t, s); v.OK || !strings.Contains(v.Reason, "missing") {
		t.Errorf("VerifyAudit after deleting the entry after the anchor: got %+v, want broken", v)
	}
}

// Retention must not erase the evidence: it stops at a broken link.
func TestPruneAuditStopsAtBrokenLink(t *testing.T) {
	s := openTest(t)
	appendN(t, s, 5)
	editAudit(t, s, func(b *bolt.Bucket) error {
		e := rawEntry(t, b, 3)
		e.Target = "something else"
		putRawEntry(t, b, 3, e)
		return nil
	})
	n, err := s.PruneAudit(testNow)
	if err == nil || n != 2 || !strings.Contains(err.Error(), "seq 3") {
		t.Errorf("PruneAudit over a tampered entry = %d, %v; want 2 and an error naming seq 3", n, err)
	}
	if v := mustVerify(t, s); v.OK || v.BrokenAt != 3 || v.Anchor != 2 {
		t.Errorf("VerifyAudit: got %+v, want still broken at 3 after anchor 2", v)
	}
}

// Entries written before the chain existed get hashed, in seq order, when
// an older file is opened.
func TestAuditMigrationChainsOldEntries(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	// Turn the file back into a schema-6 file with entries as the old
	// AppendAudit wrote them.
	legacy := []string{
		`{"seq":1,"time":"2025-06-01T01:02:03.123456789Z","actor":"admin:0a1b2c3d","ip":"10.0.0.2","action":"POST /api/v1/items","target":"itm_1","status":201}`,
		`{"seq":2,"time":"2025-06-01T01:05:00Z","actor":"admin:0a1b2c3d","ip":"10.0.0.2","action":"PUT /api/v1/items/:id","target":"itm_1","status":200}`,
		`{"seq":3,"time":"2025-06-02T08:00:00Z","actor":"admin:0a1b2c3d","ip":"10.0.0.2","action":"POST /api/v1/screens/:id/commands","status":202}`,
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketAuditMeta); err != nil {
			return err
		}
		b := tx.Bucket(bucketAudit)
		for i, raw := range legacy {
			if err := b.Put(seqKey(uint64(i+1)), []byte(raw)); err != nil {
				return err
			}
		}
		if err := b.SetSequence(uint64(len(legacy))); err != nil {
			return err
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], 6)
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, v[:])
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir, func() time.Time { return testNow })
	if err != nil {
		t.Fatalf("open after downgrade: %v", err)
	}
	defer s.Close()
	v := mustVerify(t, s)
	if !v.OK || v.Entries != 3 || v.Last != 3 {
		t.Fatalf("VerifyAudit after migration: got %+v, want ok with 3 entries", v)
	}
	es, _ := s.ListAudit(AuditFilter{})
	if es[2].Prev != "" || es[1].Prev != es[2].Hash || es[0].Prev != es[1].Hash {
		t.Errorf("migrated chain links: got %+v", es)
	}
	if es[2].Actor != "admin:0a1b2c3d" || es[2].Target != "itm_1" || es[2].Status != 201 ||
		!es[2].Time.Equal(time.Date(2025, 6, 1, 1, 2, 3, 123456789, time.UTC)) {
		t.Errorf("migrated entry lost fields: %+v", es[2])
	}
	if err := s.AppendAudit(AuditEntry{Action: "signin", Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	if v := mustVerify(t, s); !v.OK || v.Entries != 4 {
		t.Errorf("VerifyAudit after a new append: got %+v, want ok with 4 entries", v)
	}
}
