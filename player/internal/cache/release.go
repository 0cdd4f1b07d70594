package cache

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// keyReleaseKey is the pinned release key player builds must be signed
// with (base64 Ed25519): from -release-key, else the first offer's.
var keyReleaseKey = []byte("release_key")

// ReleaseKey returns the pinned release key; "" when none is pinned.
func (c *Cache) ReleaseKey() string {
	var k string
	_ = c.db.View(func(tx *bolt.Tx) error {
		k = string(tx.Bucket(bucketMeta).Get(keyReleaseKey))
		return nil
	})
	return k
}

// PinReleaseKey makes key the release key, replacing any pinned before.
func (c *Cache) PinReleaseKey(key string) error {
	if _, err := playlists.DecodeKey(key); err != nil {
		return fmt.Errorf("pin release key: %w", err)
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyReleaseKey, []byte(key))
	})
}
