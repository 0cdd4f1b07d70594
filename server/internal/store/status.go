package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ScreenStatus is what a screen last reported. The device registry keeps it
// in memory and saves it in batches (see SaveStatuses): a heartbeat is never
// a synchronous disk write.
type ScreenStatus struct {
	LastSeen         time.Time `json:"last_seen,omitzero"`
	ConnectedAt      time.Time `json:"connected_at,omitzero"`
	AppliedVersion   string    `json:"applied_version"`
	AppliedAt        time.Time `json:"applied_at,omitzero"`
	CurrentItem      string    `json:"current_item"`
	CurrentSince     int64     `json:"current_since,omitempty"`
	PlayerVersion    string    `json:"player_version"`
	UptimeS          int64     `json:"uptime_s"`
	CacheBytes       int64     `json:"cache_bytes"`
	DiskFreeBytes    int64     `json:"disk_free_bytes,omitempty"`
	DiskTotalBytes   int64     `json:"disk_total_bytes,omitempty"`
	ClockOffsetMS    int64     `json:"clock_offset_ms"`
	PageAlive        bool      `json:"page_alive"`
	LastSyncError    string    `json:"last_sync_error,omitempty"`
	DownloadFailures int       `json:"download_failures,omitempty"`
	// ManifestRejected is the player's reason for refusing the last
	// manifest it was served (bad signature, unknown key, older serial).
	ManifestRejected string `json:"manifest_rejected,omitempty"`
	// The player's proof-of-play log: plays not yet uploaded, and plays
	// ever dropped because the log was full (a gap in the play reports).
	PlaysPending int64 `json:"plays_pending,omitempty"`
	PlaysDropped int64 `json:"plays_dropped,omitempty"`
}

// StatusRecord is one screen's status to save.
type StatusRecord struct {
	Screen string
	Status ScreenStatus
}

// SaveStatuses saves recs in one transaction (one fsync) and returns how
// many records it wrote. Statuses of screens deleted meanwhile are dropped
// rather than resurrected. The device registry calls it with bounded
// chunks, so a fleet-wide change never holds the store's writer for long.
func (s *Store) SaveStatuses(recs []StatusRecord) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	// Encoded before the transaction: bbolt has one writer at a time, and
	// JSON is the slow part.
	raws := make([][]byte, len(recs))
	for i, r := range recs {
		raw, err := json.Marshal(r.Status)
		if err != nil {
			return 0, fmt.Errorf("encode status %q: %w", r.Screen, err)
		}
		raws[i] = raw
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		screens := tx.Bucket(bucketScreens)
		b := tx.Bucket(bucketStatus)
		for i, r := range recs {
			if screens.Get([]byte(r.Screen)) == nil {
				continue
			}
			if err := b.Put([]byte(r.Screen), raws[i]); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// PutStatuses saves many statuses in one transaction (SaveStatuses).
func (s *Store) PutStatuses(st map[string]ScreenStatus) error {
	recs := make([]StatusRecord, 0, len(st))
	for id, v := range st {
		recs = append(recs, StatusRecord{Screen: id, Status: v})
	}
	_, err := s.SaveStatuses(recs)
	return err
}

// Statuses returns every saved status by screen id.
func (s *Store) Statuses() (map[string]ScreenStatus, error) {
	out := map[string]ScreenStatus{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStatus).ForEach(func(k, raw []byte) error {
			var v ScreenStatus
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("decode status %q: %w", k, err)
			}
			out[string(k)] = v
			return nil
		})
	})
	return out, err
}
