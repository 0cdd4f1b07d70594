package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Proof of play at scale, counted in commits (each one fsync), not time:
// uploads from many screens share commits, and pruning a year of history
// is many short transactions, never one.

// TestIngestPlaysShareCommits: 40 screens uploading at once are stored by
// one commit (bbolt's Batch), each batch complete.
func TestIngestPlaysShareCommits(t *testing.T) {
	s := openTest(t)
	const n = 40
	in := make([]Screen, n)
	for i := range in {
		in[i] = Screen{Name: fmt.Sprintf("屏 %d", i)}
	}
	scrs, _, err := s.CreateScreens(in)
	if err != nil {
		t.Fatal(err)
	}
	// One commit once n uploads have joined it, however slowly they
	// arrive: the count does not depend on the machine's speed.
	s.db.MaxBatchSize, s.db.MaxBatchDelay = n, time.Hour
	t0 := testNow.Add(-time.Hour)
	before := s.Commits()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, sc := range scrs {
		wg.Go(func() {
			var b playlists.PlayBatch
			b.BatchID = "b1"
			for j := range 5 {
				b.Plays = append(b.Plays, pl(fmt.Sprintf("p%d", j), "itm", t0.Add(time.Duration(i*5+j)*time.Second), 10*time.Second))
			}
			res, err := s.IngestPlays(sc.ID, b)
			if err == nil && res.Accepted != 5 {
				err = fmt.Errorf("accepted %d of 5", res.Accepted)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	if got := s.Commits() - before; got != 1 {
		t.Errorf("%d uploads took %d commits, want 1", n, got)
	}
	all, err := s.ListPlays(t0.Add(-time.Minute), testNow, 0)
	if err != nil || len(all) != n*5 {
		t.Fatalf("stored %d plays (%v), want %d", len(all), err, n*5)
	}
}

// TestPruneYearInChunks: two years of plays (10 a day) and of batch
// records (one a day), the older year pruned at once: every transaction
// deletes at most pruneChunk plays (so the commits are the plays over the
// chunk, rounded up, not one), the batch records are looked at pruneChunk
// a read transaction and the due ones of each chunk deleted in one write,
// those of the last BatchRetention stay, and a prune with nothing to do
// writes nothing.
func TestPruneYearInChunks(t *testing.T) {
	f := newPlayFixture(t) // the store's clock is testNow
	old := pruneChunk
	pruneChunk = 100
	t.Cleanup(func() { pruneChunk = old })
	f.s.db.MaxBatchSize = 1 // one upload at a time: no wait for others
	const days = 730
	start := testNow.AddDate(0, 0, -days)
	for d := range days {
		day := start.AddDate(0, 0, d)
		f.s.now = func() time.Time { return day }
		var b playlists.PlayBatch
		b.BatchID = fmt.Sprintf("day%03d", d)
		for j := range 10 {
			b.Plays = append(b.Plays, pl(fmt.Sprintf("d%03d-%d", d, j), f.itemX, day.Add(time.Duration(j)*time.Minute), 10*time.Second))
		}
		if _, err := f.s.IngestPlays(f.screenA, b); err != nil {
			t.Fatal(err)
		}
	}
	f.s.now = func() time.Time { return testNow }

	cutoff := testNow.AddDate(0, 0, -365) // the first 365 days go
	before, looks := f.s.Commits(), batchScanLooks.Load()
	n, err := f.s.PrunePlays(cutoff)
	if err != nil || n != 3650 {
		t.Fatalf("PrunePlays = %d, %v; want 3650", n, err)
	}
	// 3,650 plays in chunks of 100: 37 transactions; the 700 batch records
	// past BatchRetention, found in the time index, 100 a transaction: 7.
	const playTx, batchTx = 37, 7
	if got := f.s.Commits() - before; got != playTx+batchTx {
		t.Errorf("pruning a year took %d commits, want %d (plays) + %d (batch records)", got, playTx, batchTx)
	}
	if got := batchScanLooks.Load() - looks; got != 0 {
		t.Errorf("the prune read %d batch records it keeps, want none (the time index finds the expired ones)", got)
	}
	left, err := f.s.ListPlays(start.Add(-time.Hour), testNow, 0)
	if err != nil || len(left) != 3650 || left[0].ID != "d365-0" {
		t.Fatalf("%d plays left (%v), want the last year's 3650", len(left), err)
	}
	var kept []string
	f.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPlayBatches).ForEach(func(k, _ []byte) error {
			kept = append(kept, string(k[bytes.IndexByte(k, 0)+1:]))
			return nil
		})
	})
	// Batch records of the last 30 days: days 700 to 729.
	if len(kept) != 30 || kept[0] != "day700" || kept[29] != "day729" {
		t.Errorf("batch records kept: %v, want day700 to day729", kept)
	}
	// A second prune at the same cutoff finds nothing and writes nothing.
	before = f.s.Commits()
	if n, err := f.s.PrunePlays(cutoff); err != nil || n != 0 {
		t.Fatalf("second PrunePlays = %d, %v", n, err)
	}
	if got := f.s.Commits() - before; got != 0 {
		t.Errorf("an idle prune took %d commits, want none", got)
	}
}

// TestPruneBatchesFromBeforeTheIndex: a data dir with batch records from a
// version without the time index. Those are found by reading every record
// until the index is older than BatchRetention; then one last walk, and no
// walk again. Records of both kinds go once past BatchRetention, and the
// newer ones stay.
func TestPruneBatchesFromBeforeTheIndex(t *testing.T) {
	f := newPlayFixture(t) // the store's clock is testNow
	old := pruneChunk
	pruneChunk = 3
	t.Cleanup(func() { pruneChunk = old })
	// 10 records from before the index, one every 5 days back from now.
	var legacy []string
	err := f.s.db.Update(func(tx *bolt.Tx) error {
		for i := range 10 {
			id := fmt.Sprintf("old%02d", i)
			raw, _ := json.Marshal(batchRecord{Accepted: 1, At: testNow.AddDate(0, 0, -5*i)})
			if err := tx.Bucket(bucketPlayBatches).Put(screenKey(f.screenA, id), raw); err != nil {
				return err
			}
			legacy = append(legacy, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	left := func() []string {
		var ids []string
		f.s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketPlayBatches).ForEach(func(k, _ []byte) error {
				ids = append(ids, string(k[bytes.IndexByte(k, 0)+1:]))
				return nil
			})
		})
		return ids
	}
	// The first upload with the index, 40 days before now.
	at := testNow.AddDate(0, 0, -40)
	f.s.now = func() time.Time { return at }
	if _, err := f.s.IngestPlays(f.screenA, playlists.PlayBatch{BatchID: "new", Plays: []playlists.Play{pl("n1", f.itemX, at, time.Second)}}); err != nil {
		t.Fatal(err)
	}
	// Pruning at now: the legacy records past 30 days (old07..old09, 35 to
	// 45 days old) go, found by the walk, and the indexed one (40 days),
	// found in the index. The index began 40 days ago, so nothing from
	// before it can be left: this walk is the last.
	f.s.now = func() time.Time { return testNow }
	if _, err := f.s.PrunePlays(testNow.AddDate(-2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if got, want := left(), legacy[:7]; !slices.Equal(got, want) {
		t.Fatalf("batch records left %v, want %v", got, want)
	}
	looks := batchScanLooks.Load()
	if _, err := f.s.PrunePlays(testNow.AddDate(-2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if got := batchScanLooks.Load() - looks; got != 0 {
		t.Errorf("a prune after the last walk read %d records, want none", got)
	}
}

// TestPruneBatchesWalkUntilIndexOldEnough: while the index is younger than
// BatchRetention, records from before it may still be due later, so every
// prune walks; the legacy ones go as they pass BatchRetention.
func TestPruneBatchesWalkUntilIndexOldEnough(t *testing.T) {
	f := newPlayFixture(t)
	err := f.s.db.Update(func(tx *bolt.Tx) error {
		raw, _ := json.Marshal(batchRecord{Accepted: 1, At: testNow.AddDate(0, 0, -20)})
		return tx.Bucket(bucketPlayBatches).Put(screenKey(f.screenA, "legacy"), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []struct {
		id string
		at time.Time
	}{{"new", testNow}, {"later", testNow.AddDate(0, 0, 20)}} {
		f.s.now = func() time.Time { return b.at }
		if _, err := f.s.IngestPlays(f.screenA, playlists.PlayBatch{BatchID: b.id, Plays: []playlists.Play{pl(b.id, f.itemX, b.at, time.Second)}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		n := 0
		f.s.db.View(func(tx *bolt.Tx) error {
			n = tx.Bucket(bucketPlayBatches).Stats().KeyN
			return nil
		})
		return n
	}
	for _, tc := range []struct {
		days  int // after testNow
		left  int
		walks bool
	}{
		{0, 3, true},   // all younger than 30 days
		{11, 2, true},  // the legacy one is 31 days old; the index is 11 days old
		{31, 1, true},  // the index is 31 days old: the last walk
		{32, 1, false}, // no walk again
	} {
		now := testNow.AddDate(0, 0, tc.days)
		f.s.now = func() time.Time { return now }
		looks := batchScanLooks.Load()
		if _, err := f.s.PrunePlays(now.AddDate(-2, 0, 0)); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != tc.left {
			t.Errorf("day %d: %d batch records left, want %d", tc.days, got, tc.left)
		}
		if walked := batchScanLooks.Load() > looks; walked != tc.walks {
			t.Errorf("day %d: walked %v, want %v", tc.days, walked, tc.walks)
		}
	}
}
