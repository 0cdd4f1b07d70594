package store

import (
	"bytes"
	"fmt"
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
	before := f.s.Commits()
	n, err := f.s.PrunePlays(cutoff)
	if err != nil || n != 3650 {
		t.Fatalf("PrunePlays = %d, %v; want 3650", n, err)
	}
	// 3,650 plays in chunks of 100: 37 transactions; 730 batch records
	// looked at 100 at a time, the first 700 due: 7.
	const playTx, batchTx = 37, 7
	if got := f.s.Commits() - before; got != playTx+batchTx {
		t.Errorf("pruning a year took %d commits, want %d (plays) + %d (batch records)", got, playTx, batchTx)
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
