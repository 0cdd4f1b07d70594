package cache

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// The player remembers the outcome of the remote commands it executed, so a
// command the server delivers again (after a reconnect, before it saw the
// result) is answered from memory instead of being run twice:
//
//	command_results  command id → CommandResult JSON
//	command_order    big-endian sequence → command id, oldest first
//
// Both buckets are created on first use, so a cache written by an older
// player needs no migration.
var (
	bucketCommandResults = []byte("command_results")
	bucketCommandOrder   = []byte("command_order")
)

// MaxRememberedCommands bounds the memory of executed commands. The server
// gives up on a command after its TTL (at most a day), far fewer than this
// many commands ago.
const MaxRememberedCommands = 1000

// CommandResult returns the remembered result of command id; ok is false
// when this cache never recorded it.
func (c *Cache) CommandResult(id string) (r playlists.CommandResult, ok bool, err error) {
	err = c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommandResults)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("remembered command %s: %w", id, err)
		}
		ok = true
		return nil
	})
	return r, ok, err
}

// RememberCommand records r under r.ID, dropping the oldest remembered
// result beyond MaxRememberedCommands. Remembering an id again keeps its
// first result: the first outcome is the one that happened.
func (c *Cache) RememberCommand(r playlists.CommandResult) error {
	if r.ID == "" {
		return fmt.Errorf("remember command: empty id")
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("remember command %s: %w", r.ID, err)
	}
	err = c.db.Update(func(tx *bolt.Tx) error {
		results, err := tx.CreateBucketIfNotExists(bucketCommandResults)
		if err != nil {
			return err
		}
		order, err := tx.CreateBucketIfNotExists(bucketCommandOrder)
		if err != nil {
			return err
		}
		if results.Get([]byte(r.ID)) != nil {
			return nil
		}
		seq, err := order.NextSequence()
		if err != nil {
			return err
		}
		if err := results.Put([]byte(r.ID), v); err != nil {
			return err
		}
		if err := order.Put(binary.BigEndian.AppendUint64(nil, seq), []byte(r.ID)); err != nil {
			return err
		}
		// One in, at most one out: the memory stays bounded without ever
		// counting keys.
		if seq > MaxRememberedCommands {
			old := binary.BigEndian.AppendUint64(nil, seq-MaxRememberedCommands)
			if id := order.Get(old); id != nil {
				if err := results.Delete(append([]byte(nil), id...)); err != nil {
					return err
				}
				if err := order.Delete(old); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remember command %s: %w", r.ID, err)
	}
	return nil
}
