package store

import (
	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Snapshot is everything publishing reads, taken in one read transaction so
// manifests are cut from a consistent state.
type Snapshot struct {
	Catalog playlists.Catalog
	Screens []Screen
	Groups  map[string]playlists.Group
}

// Snapshot reads the content, screens and groups at one instant.
func (s *Store) Snapshot() (Snapshot, error) {
	var snap Snapshot
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		snap, err = s.snapshotTx(tx)
		return err
	})
	return snap, err
}

func (s *Store) snapshotTx(tx *bolt.Tx) (Snapshot, error) {
	snap := Snapshot{
		Catalog: playlists.Catalog{
			Playlists: map[string]playlists.Playlist{},
			Items:     map[string]playlists.Item{},
			Assets:    map[string]playlists.AssetRef{},
		},
		Groups: map[string]playlists.Group{},
	}
	err := func() error {
		var err error
		if snap.Catalog.Schedules, err = listJSON[playlists.Schedule](tx, bucketSchedules); err != nil {
			return err
		}
		if snap.Catalog.Urgent, err = activeUrgent(tx, s.now()); err != nil {
			return err
		}
		if snap.Catalog.SafeModes, err = activeSafeModes(tx); err != nil {
			return err
		}
		pls, err := listJSON[playlists.Playlist](tx, bucketPlaylists)
		if err != nil {
			return err
		}
		for _, p := range pls {
			snap.Catalog.Playlists[p.ID] = p
		}
		items, err := listJSON[playlists.Item](tx, bucketItems)
		if err != nil {
			return err
		}
		for _, it := range items {
			snap.Catalog.Items[it.ID] = it
		}
		as, err := listJSON[Asset](tx, bucketAssets)
		if err != nil {
			return err
		}
		for _, a := range as {
			snap.Catalog.Assets[a.SHA256] = a.Ref()
		}
		groups, err := listJSON[playlists.Group](tx, bucketGroups)
		if err != nil {
			return err
		}
		for _, g := range groups {
			snap.Groups[g.ID] = g
		}
		recs, err := listJSON[screenRecord](tx, bucketScreens)
		if err != nil {
			return err
		}
		snap.Screens = make([]Screen, len(recs))
		for i, r := range recs {
			snap.Screens[i] = r.Screen
		}
		return nil
	}()
	return snap, err
}
