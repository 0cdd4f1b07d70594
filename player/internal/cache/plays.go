package cache

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// DefaultMaxPlays bounds the play log. At a play every 10 s a screen logs
// about 8,600 plays a day, so this holds more than three weeks without an
// upload; beyond that the oldest plays are dropped (and counted) rather than
// letting the file grow until the disk is full.
const DefaultMaxPlays = 200_000

var (
	keyBootID      = []byte("plays_boot_id")
	keyPlayDropped = []byte("plays_dropped")
)

// PendingPlay is a recorded play that the server has not acknowledged yet.
type PendingPlay struct {
	Seq  uint64 // position in the log; AckPlays takes the last one sent
	Play playlists.Play
}

// PlayStats describes the play log.
type PlayStats struct {
	Pending int    // plays waiting for upload
	Dropped uint64 // plays lost to the size bound, ever
}

// SetMaxPlays changes the play log's bound (DefaultMaxPlays until set);
// tests use a small one. n < 1 restores the default.
func (c *Cache) SetMaxPlays(n int) {
	if n < 1 {
		n = DefaultMaxPlays
	}
	c.mu.Lock()
	c.maxPlays = n
	c.mu.Unlock()
}

func (c *Cache) playBound() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.maxPlays < 1 {
		return DefaultMaxPlays
	}
	return c.maxPlays
}

// BootID is this cache file's random play-id prefix, created on first use.
// A fresh file (a replaced SD card) gets a new one, so its plays can never
// collide with the ids of plays the server already holds from this screen.
func (c *Cache) BootID() (string, error) {
	var id string
	err := c.db.Update(func(tx *bolt.Tx) error {
		var err error
		id, err = bootID(tx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("play log boot id: %w", err)
	}
	return id, nil
}

func bootID(tx *bolt.Tx) (string, error) {
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyBootID); len(v) > 0 {
		return string(v), nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b[:])
	return id, meta.Put(keyBootID, []byte(id))
}

// RecordPlay appends p to the play log in one short transaction and returns
// it with its id: p.ID if set, else "<boot id>-<sequence>". The sequence
// only grows (bbolt keeps it in the bucket), so ids stay unique across
// restarts. When the log is full the oldest plays are dropped and counted.
func (c *Cache) RecordPlay(p playlists.Play) (playlists.Play, error) {
	bound := c.playBound()
	err := c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlays)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if p.ID == "" {
			boot, err := bootID(tx)
			if err != nil {
				return err
			}
			p.ID = boot + "-" + strconv.FormatUint(seq, 10)
		}
		v, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(seq), v); err != nil {
			return err
		}
		return trimPlays(tx, b, bound)
	})
	if err != nil {
		return p, fmt.Errorf("record play of %s: %w", p.Item, err)
	}
	return p, nil
}

// trimPlays drops the oldest plays beyond bound. Acks and trims only ever
// delete from the front, so the keys are one contiguous run of sequence
// numbers and the count is last - first + 1, without a scan.
func trimPlays(tx *bolt.Tx, b *bolt.Bucket, bound int) error {
	n, first := playCount(b)
	if n <= uint64(bound) {
		return nil
	}
	excess := n - uint64(bound)
	for i := uint64(0); i < excess; i++ {
		if err := b.Delete(seqKey(first + i)); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	dropped := excess
	if v := meta.Get(keyPlayDropped); len(v) == 8 {
		dropped += binary.BigEndian.Uint64(v)
	}
	return meta.Put(keyPlayDropped, seqKey(dropped))
}

// playCount returns how many plays the log holds and the first sequence.
func playCount(b *bolt.Bucket) (n, first uint64) {
	cur := b.Cursor()
	fk, _ := cur.First()
	lk, _ := cur.Last()
	if len(fk) != 8 || len(lk) != 8 {
		return 0, 0
	}
	first, last := binary.BigEndian.Uint64(fk), binary.BigEndian.Uint64(lk)
	return last - first + 1, first
}

// PendingPlays returns up to limit unacknowledged plays, oldest first. A
// record that cannot be decoded (a damaged file) is skipped, not fatal: one
// bad record must not block every later upload.
func (c *Cache) PendingPlays(limit int) ([]PendingPlay, error) {
	if limit < 1 {
		return nil, errors.New("pending plays: limit must be at least 1")
	}
	var out []PendingPlay
	err := c.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketPlays).Cursor()
		for k, v := cur.First(); k != nil && len(out) < limit; k, v = cur.Next() {
			if len(k) != 8 {
				continue
			}
			var p playlists.Play
			if json.Unmarshal(v, &p) != nil {
				continue
			}
			out = append(out, PendingPlay{Seq: binary.BigEndian.Uint64(k), Play: p})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending plays: %w", err)
	}
	return out, nil
}

// AckPlays deletes every play up to and including seq: the server has
// stored them. Deleting from the front keeps the log contiguous. Callers
// ack at most one upload batch at a time, so the transaction stays small.
func (c *Cache) AckPlays(upTo uint64) error {
	err := c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlays)
		cur := b.Cursor()
		var keys [][]byte
		for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
			if len(k) == 8 && binary.BigEndian.Uint64(k) > upTo {
				break
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		// Deleting while a cursor walks skips keys in bbolt: collect first.
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ack plays up to %d: %w", upTo, err)
	}
	return nil
}

// PlayStats reports the play log's size and losses.
func (c *Cache) PlayStats() PlayStats {
	var st PlayStats
	c.db.View(func(tx *bolt.Tx) error {
		n, _ := playCount(tx.Bucket(bucketPlays))
		st.Pending = int(n)
		if v := tx.Bucket(bucketMeta).Get(keyPlayDropped); len(v) == 8 {
			st.Dropped = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return st
}

func seqKey(n uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], n)
	return k[:]
}
