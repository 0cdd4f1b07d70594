package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ScreenGroups returns screen id → the group the screen is directly in
// ("" for none), for the device registry's per-group state counts. It is
// read once at startup; later moves reach the registry from whoever made
// them.
func (s *Store) ScreenGroups() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketScreens).ForEach(func(k, raw []byte) error {
			// Only the group: the rest of the record is not decoded.
			var v struct {
				Group string `json:"group"`
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("decode screen %q: %w", k, err)
			}
			out[string(k)] = v.Group
			return nil
		})
	})
	return out, err
}
