package store

import (
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

var bucketSafeMode = []byte("safe_mode") // id → SafeMode

// SafeMode blanks the screens it targets to a neutral slate (district name,
// date, clock, "信息更新中") until lifted: the one action for when something
// wrong got out. Urgent notices sent after it started still show.
type SafeMode struct {
	playlists.SafeMode
	By       string     `json:"by"`
	LiftedAt *time.Time `json:"lifted_at,omitempty"`
	LiftedBy string     `json:"lifted_by,omitempty"`
}

// Active reports whether m is in force.
func (m SafeMode) Active() bool { return m.LiftedAt == nil }

func migrateSafeMode(tx *bolt.Tx) error {
	_, err := tx.CreateBucketIfNotExists(bucketSafeMode)
	return err
}

// StartSafeMode puts the screens target reaches into safe mode.
func (s *Store) StartSafeMode(target playlists.Target, by string) (SafeMode, error) {
	if target.IsEmpty() {
		return SafeMode{}, playlists.FieldError{Field: "target", Problem: `must name at least one of all, groups, tags, screens (e.g. {"all":true})`}
	}
	return update(s, func(tx *bolt.Tx) (SafeMode, error) {
		if err := checkTargetRefs(tx, target); err != nil {
			return SafeMode{}, err
		}
		b := tx.Bucket(bucketSafeMode)
		m := SafeMode{SafeMode: playlists.SafeMode{ID: freshID(b, "safe"), Target: target, Since: s.now().UTC()}, By: by}
		noteCatalog(tx)
		return m, putJSON(b, m.ID, m)
	})
}

// LiftSafeMode ends safe mode id; lifting it again is harmless.
func (s *Store) LiftSafeMode(id, by string) (SafeMode, error) {
	return update(s, func(tx *bolt.Tx) (SafeMode, error) {
		b := tx.Bucket(bucketSafeMode)
		var m SafeMode
		ok, err := getJSON(b, id, &m)
		if err != nil {
			return m, err
		}
		if !ok {
			return m, NotFoundError{Kind: "safe mode", ID: id}
		}
		if m.LiftedAt != nil {
			return m, nil
		}
		now := s.now().UTC()
		m.LiftedAt, m.LiftedBy = &now, by
		noteCatalog(tx)
		return m, putJSON(b, id, m)
	})
}

// GetSafeMode returns safe mode id.
func (s *Store) GetSafeMode(id string) (SafeMode, error) {
	return get[SafeMode](s, bucketSafeMode, "safe mode", id)
}

// ListSafeModes returns those in force and those lifted after since,
// newest first.
func (s *Store) ListSafeModes(since time.Time) ([]SafeMode, error) {
	all, err := list[SafeMode](s, bucketSafeMode)
	if err != nil {
		return nil, err
	}
	out := []SafeMode{}
	for _, m := range all {
		if m.Active() || m.LiftedAt.After(since) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b SafeMode) int { return b.Since.Compare(a.Since) })
	return out, nil
}

// activeSafeModes returns the safe modes in force, for publishing.
func activeSafeModes(tx *bolt.Tx) ([]playlists.SafeMode, error) {
	all, err := listJSON[SafeMode](tx, bucketSafeMode)
	if err != nil {
		return nil, fmt.Errorf("safe modes: %w", err)
	}
	var out []playlists.SafeMode
	for _, m := range all {
		if m.Active() {
			out = append(out, m.SafeMode)
		}
	}
	return out, nil
}
