package cache

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Credentials are what a player got by pairing: its device token, who it
// is, the server key it pinned, and its own device key. They live in the
// cache file (mode 0600, see Open) so a restart comes back paired.
type Credentials struct {
	Token      string `json:"token"`
	ScreenID   string `json:"screen_id"`
	ScreenName string `json:"screen_name,omitempty"`
	// Server is the base URL the player paired with, for the log.
	Server string `json:"server,omitempty"`
	// ServerKey is the server's manifest signing key (base64 Ed25519)
	// handed out at pairing; empty when the server did not sign.
	ServerKey string `json:"server_key,omitempty"`
	// DeviceKey is the player's own Ed25519 private key, which the
	// server bound to the screen record.
	DeviceKey ed25519.PrivateKey `json:"device_key,omitempty"`
	PairedAt  time.Time          `json:"paired_at,omitzero"`
}

var (
	keyCredentials = []byte("credentials")
	// keyDeviceKey is the device key while pairing is under way: the
	// same key across restarts, so a player does not pile up requests.
	keyDeviceKey = []byte("device_key")
)

// Credentials returns the saved credentials; ok is false when the player
// never paired (or its credentials were cleared).
func (c *Cache) Credentials() (Credentials, bool, error) {
	var cr Credentials
	var ok bool
	err := c.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get(keyCredentials)
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &cr)
	})
	if err != nil {
		return Credentials{}, false, fmt.Errorf("read credentials: %w", err)
	}
	return cr, ok && cr.Token != "", nil
}

// SaveCredentials stores cr, replacing any earlier ones, and drops the
// pending device key (cr carries it now).
func (c *Cache) SaveCredentials(cr Credentials) error {
	raw, err := json.Marshal(cr)
	if err != nil {
		return err
	}
	err = c.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(keyDeviceKey); err != nil {
			return err
		}
		return meta.Put(keyCredentials, raw)
	})
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	return nil
}

// ClearCredentials forgets the saved credentials: the next start pairs
// again.
func (c *Cache) ClearCredentials() error {
	return c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Delete(keyCredentials)
	})
}

// DeviceKey returns the key pairing uses, making and saving one on first
// use.
func (c *Cache) DeviceKey() (ed25519.PrivateKey, error) {
	var key ed25519.PrivateKey
	err := c.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if raw := meta.Get(keyDeviceKey); len(raw) == ed25519.PrivateKeySize {
			key = ed25519.PrivateKey(append([]byte(nil), raw...))
			return nil
		}
		_, k, err := ed25519.GenerateKey(nil)
		if err != nil {
			return err
		}
		key = k
		return meta.Put(keyDeviceKey, k)
	})
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	return key, nil
}
