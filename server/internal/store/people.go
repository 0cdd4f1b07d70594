package store

import (
	"crypto/rand"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketUsers       = []byte("users")         // user id → User
	bucketUsersByName = []byte("users_by_name") // lower-case username → user id
	bucketSessions    = []byte("sessions")      // session id hash → Session
	bucketAPITokens   = []byte("api_tokens")    // token hash → APIToken
	bucketChangeSets  = []byte("changesets")    // change set id → ChangeSet
)

func migratePeople(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketUsers, bucketUsersByName, bucketSessions, bucketAPITokens, bucketChangeSets} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// Secret returns the server's random secret called name, creating it on
// first use. Secrets live in the meta bucket and survive restarts (device
// cookies signed with one stay valid).
func (s *Store) Secret(name string) ([]byte, error) {
	key := []byte("secret:" + name)
	var out []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		out = append([]byte(nil), tx.Bucket(bucketMeta).Get(key)...)
		return nil
	}); err != nil || len(out) > 0 {
		return out, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get(key); v != nil {
			out = append([]byte(nil), v...)
			return nil
		}
		out = make([]byte, 32)
		if _, err := rand.Read(out); err != nil {
			return err
		}
		return b.Put(key, out)
	})
	return out, err
}

var keyManifestSerial = []byte("manifest_serial_reserved")

// ReserveSerials reserves n manifest serials from at least from and above
// every earlier reservation, and returns the first: the reservation is
// committed before any is used, so serials only grow, also across restarts
// and crashes.
func (s *Store) ReserveSerials(from, n uint64) (uint64, error) {
	var first uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		var last uint64
		if v := b.Get(keyManifestSerial); len(v) == 8 {
			last = binary.BigEndian.Uint64(v)
		}
		first = max(last+1, from)
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], first+n-1)
		return b.Put(keyManifestSerial, v[:])
	})
	return first, err
}
