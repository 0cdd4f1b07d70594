package store

// Pruning proof of play: plays older than the retention with their dedup
// entries, and batch records older than BatchRetention, always in bounded
// transactions, and without a write when nothing is due.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Meta keys of the batch-record index. keyBatchIndexFrom is when the index
// began (big-endian unix ms): records written before it, by a version
// without the index, are found by reading every record, until one such
// walk has run with a cutoff past it (keyBatchLegacyDone). A data dir that
// had no batch record when the index began has nothing to walk for.
var (
	keyBatchIndexFrom  = []byte("play_batches_indexed_from")
	keyBatchLegacyDone = []byte("play_batches_legacy_done")
)

// batchScanLooks counts batch records looked at by the walk over every
// record (pruneBatchesByScan): tests check that it stops once no record
// from before the index can be left.
var batchScanLooks atomic.Int64

// indexBatch adds the batch record bk written at to the time index, and
// notes when the index began if this is its first entry (before the record
// itself is put, so an empty bucket means there is nothing from before).
func indexBatch(tx *bolt.Tx, bk []byte, at time.Time) error {
	idx, err := tx.CreateBucketIfNotExists(bucketPlayBatchesAt)
	if err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	if meta.Get(keyBatchIndexFrom) == nil {
		if err := meta.Put(keyBatchIndexFrom, binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli()))); err != nil {
			return err
		}
		if k, _ := tx.Bucket(bucketPlayBatches).Cursor().First(); k == nil {
			if err := meta.Put(keyBatchLegacyDone, []byte{1}); err != nil {
				return err
			}
		}
	}
	return idx.Put(append(binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())), bk...), []byte{})
}

// pruneChunk bounds how many plays one prune transaction deletes, so a
// first prune over a long history never holds the write lock for long.
var pruneChunk = 10_000

// PrunePlays deletes the plays that started before cutoff, with their
// dedup entries, and the batch records received before cutoff. It works in
// bounded transactions and returns how many plays it removed. A player that
// uploads such old plays again after this would have them counted anew, so
// the retention must be longer than any outage a screen can sit out (the
// player keeps its unsent plays for as long as its cache allows).
func (s *Store) PrunePlays(cutoff time.Time) (int, error) {
	end := cutoff.UnixMilli()
	total := 0
	// A look first: the prune runs every few hours and most find nothing,
	// which must not cost a write transaction (an fsync).
	var due bool
	s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketPlays).Cursor().First()
		due = k != nil && (len(k) < 8 || int64(binary.BigEndian.Uint64(k)) < end)
		return nil
	})
	for due {
		n, more := 0, false
		err := s.db.Update(func(tx *bolt.Tx) error {
			plays, ids := tx.Bucket(bucketPlays), tx.Bucket(bucketPlayIDs)
			cur := plays.Cursor()
			var v playView
			for k, raw := cur.First(); k != nil; k, raw = cur.First() {
				if len(k) < 8 || int64(binary.BigEndian.Uint64(k)) >= end {
					return nil
				}
				if n == pruneChunk {
					more = true
					return nil
				}
				if err := decodePlayView(raw, &v); err == nil {
					if err := ids.Delete(screenKey(string(v.fields[fieldScreen]), string(v.fields[fieldID]))); err != nil {
						return err
					}
				}
				if err := cur.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("prune plays: %w", err)
		}
		due = more
	}
	if err := s.pruneBatches(cutoff); err != nil {
		return total, err
	}
	return total, nil
}

// BatchRetention is how long a batch id is remembered. Batch records only
// make a re-sent batch cheap to refuse; the play ids (kept as long as the
// plays) still stop a batch re-sent after that from counting twice.
const BatchRetention = 30 * 24 * time.Hour

// pruneBatches deletes batch records older than BatchRetention (or than
// cutoff, if that is later): those in the time index by a seek to the
// oldest, pruneChunk a transaction; those from before the index (a data
// dir older than it) by reading every record, until none can be left.
func (s *Store) pruneBatches(cutoff time.Time) error {
	if c := s.now().Add(-BatchRetention); c.After(cutoff) {
		cutoff = c
	}
	var from int64 = -1 // when the index began; -1: it has not
	var legacyDone bool
	s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyBatchIndexFrom); len(v) == 8 {
			from = int64(binary.BigEndian.Uint64(v))
		}
		legacyDone = meta.Get(keyBatchLegacyDone) != nil
		return nil
	})
	if from >= 0 {
		if err := s.pruneBatchIndex(cutoff); err != nil {
			return err
		}
	}
	if legacyDone {
		return nil
	}
	if err := s.pruneBatchesByScan(cutoff); err != nil {
		return err
	}
	if from >= 0 && cutoff.UnixMilli() > from {
		// Every record written before the index began was older than
		// cutoff, so the walk deleted it: no walk is needed again.
		err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyBatchLegacyDone, []byte{1}) })
		if err != nil {
			return fmt.Errorf("prune play batches: %w", err)
		}
	}
	return nil
}

// pruneBatchIndex deletes the indexed batch records written before
// cutoff, oldest first, pruneChunk a transaction; a look first, so that a
// prune with nothing due writes nothing.
func (s *Store) pruneBatchIndex(cutoff time.Time) error {
	end := cutoff.UnixMilli()
	for {
		var due bool
		s.db.View(func(tx *bolt.Tx) error {
			if idx := tx.Bucket(bucketPlayBatchesAt); idx != nil {
				k, _ := idx.Cursor().First()
				due = k != nil && (len(k) < 8 || int64(binary.BigEndian.Uint64(k)) < end)
			}
			return nil
		})
		if !due {
			return nil
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			batches := tx.Bucket(bucketPlayBatches)
			cur := tx.Bucket(bucketPlayBatchesAt).Cursor()
			n := 0
			for k, _ := cur.First(); k != nil && n < pruneChunk; k, _ = cur.First() {
				if len(k) >= 8 && int64(binary.BigEndian.Uint64(k)) >= end {
					return nil
				}
				if len(k) > 8 {
					// The record itself, unless the batch was sent anew
					// after an earlier record of it went.
					var br batchRecord
					if raw := batches.Get(k[8:]); raw != nil && (json.Unmarshal(raw, &br) != nil || br.At.Before(cutoff)) {
						if err := batches.Delete(k[8:]); err != nil {
							return err
						}
					}
				}
				if err := cur.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("prune play batches: %w", err)
		}
	}
}

// pruneBatchesByScan deletes the batch records older than cutoff by reading
// every one: pruneChunk of them per read transaction, which blocks no
// writer, and the due ones of each chunk deleted in one short write
// transaction; a chunk with none due costs no write at all.
func (s *Store) pruneBatchesByScan(cutoff time.Time) error {
	var from []byte // the first key not looked at yet; nil: the first key
	for {
		var resume []byte
		var due [][]byte
		err := s.db.View(func(tx *bolt.Tx) error {
			cur := tx.Bucket(bucketPlayBatches).Cursor()
			k, raw := cur.First()
			if from != nil {
				k, raw = cur.Seek(from)
			}
			for seen := 0; k != nil; seen++ {
				if seen == pruneChunk {
					resume = bytes.Clone(k)
					return nil
				}
				batchScanLooks.Add(1)
				var br batchRecord
				if json.Unmarshal(raw, &br) == nil && br.At.Before(cutoff) {
					due = append(due, bytes.Clone(k))
				}
				k, raw = cur.Next()
			}
			return nil
		})
		if err == nil && len(due) > 0 {
			err = s.db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketPlayBatches)
				for _, k := range due {
					// Read again: the batch may have been sent anew since.
					var br batchRecord
					if raw := b.Get(k); raw == nil || json.Unmarshal(raw, &br) != nil || !br.At.Before(cutoff) {
						continue
					}
					if err := b.Delete(k); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("prune play batches: %w", err)
		}
		if resume == nil {
			return nil
		}
		from = resume
	}
}
