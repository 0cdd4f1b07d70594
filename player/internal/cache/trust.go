package cache

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Trust: the server keys this player accepts manifests from, and the
// serial of the manifest it applied last. Both live in the cache file, so
// a restart neither forgets the pinned key nor accepts an older manifest.
var (
	keyTrusted       = []byte("trusted_keys")   // JSON list of base64 Ed25519 public keys
	keyAppliedSerial = []byte("applied_serial") // big-endian uint64
)

// TrustedKeys returns the pinned server keys (none: nothing pinned yet).
func (c *Cache) TrustedKeys() ([]string, error) {
	var keys []string
	err := c.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get(keyTrusted)
		if raw == nil {
			return nil
		}
		return json.Unmarshal(raw, &keys)
	})
	return keys, err
}

// Trust pins keys (base64 Ed25519 public keys) in addition to those
// already pinned.
func (c *Cache) Trust(keys ...string) error {
	for _, k := range keys {
		if _, err := playlists.DecodeKey(k); err != nil {
			return fmt.Errorf("trust server key: %w", err)
		}
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var have []string
		if raw := meta.Get(keyTrusted); raw != nil {
			if err := json.Unmarshal(raw, &have); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if !slices.Contains(have, k) {
				have = append(have, k)
			}
		}
		raw, err := json.Marshal(have)
		if err != nil {
			return err
		}
		return meta.Put(keyTrusted, raw)
	})
}

// AppliedSerial is the signature serial of the applied manifest (0: none,
// or an unsigned one).
func (c *Cache) AppliedSerial() uint64 {
	var n uint64
	_ = c.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyAppliedSerial); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return n
}

func putSerial(tx *bolt.Tx, serial uint64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], serial)
	return tx.Bucket(bucketMeta).Put(keyAppliedSerial, v[:])
}

// PinServerKey makes key the trusted one: kept if already trusted (with the
// keys trusted beside it), else it replaces whatever was pinned before, say
// on first use from a network that could not be trusted.
func (c *Cache) PinServerKey(key string) error {
	if _, err := playlists.DecodeKey(key); err != nil {
		return fmt.Errorf("pin server key: %w", err)
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var have []string
		if raw := meta.Get(keyTrusted); raw != nil {
			if err := json.Unmarshal(raw, &have); err != nil {
				return err
			}
		}
		if slices.Contains(have, key) {
			return nil
		}
		raw, err := json.Marshal([]string{key})
		if err != nil {
			return err
		}
		return meta.Put(keyTrusted, raw)
	})
}

// SetTrusted makes keys the whole trusted set.
func (c *Cache) SetTrusted(keys ...string) error {
	for _, k := range keys {
		if _, err := playlists.DecodeKey(k); err != nil {
			return fmt.Errorf("trust server key: %w", err)
		}
	}
	raw, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyTrusted, raw)
	})
}
