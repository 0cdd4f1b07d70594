package store

import (
	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Snapshot is everything publishing reads.
type Snapshot struct {
	Catalog playlists.Catalog
	Screens []Screen
	Groups  map[string]playlists.Group
}

// Snapshot reads the content in one read transaction, and the screens and
// groups from the in-memory index, which shows every committed write by
// the time its writer returns (memindex.go). The caller owns every value.
func (s *Store) Snapshot() (Snapshot, error) {
	cat, err := s.Catalog()
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Catalog: cat, Screens: s.memScreens(), Groups: s.memGroups()}, nil
}

// Catalog reads the content manifests are cut from, at one instant:
// schedules, urgent notices in force, active safe modes, playlists, items
// and assets.
func (s *Store) Catalog() (playlists.Catalog, error) {
	var cat playlists.Catalog
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		cat, err = s.catalogTx(tx)
		return err
	})
	return cat, err
}

// snapshotTx reads everything publishing reads from tx itself, for a
// transaction whose writes are not committed (change-set previews).
func (s *Store) snapshotTx(tx *bolt.Tx) (Snapshot, error) {
	cat, err := s.catalogTx(tx)
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Catalog: cat, Groups: map[string]playlists.Group{}}
	groups, err := listJSON[playlists.Group](tx, bucketGroups)
	if err != nil {
		return Snapshot{}, err
	}
	for _, g := range groups {
		snap.Groups[g.ID] = g
	}
	recs, err := listJSON[screenRecord](tx, bucketScreens)
	if err != nil {
		return Snapshot{}, err
	}
	snap.Screens = make([]Screen, len(recs))
	for i, r := range recs {
		snap.Screens[i] = r.Screen
	}
	return snap, nil
}

func (s *Store) catalogTx(tx *bolt.Tx) (playlists.Catalog, error) {
	cat := playlists.Catalog{
		Playlists: map[string]playlists.Playlist{},
		Items:     map[string]playlists.Item{},
		Assets:    map[string]playlists.AssetRef{},
	}
	var err error
	if cat.Schedules, err = listJSON[playlists.Schedule](tx, bucketSchedules); err != nil {
		return cat, err
	}
	if cat.Urgent, err = activeUrgent(tx, s.now()); err != nil {
		return cat, err
	}
	if cat.SafeModes, err = activeSafeModes(tx); err != nil {
		return cat, err
	}
	pls, err := listJSON[playlists.Playlist](tx, bucketPlaylists)
	if err != nil {
		return cat, err
	}
	for _, p := range pls {
		cat.Playlists[p.ID] = p
	}
	items, err := listJSON[playlists.Item](tx, bucketItems)
	if err != nil {
		return cat, err
	}
	for _, it := range items {
		cat.Items[it.ID] = it
	}
	as, err := listJSON[Asset](tx, bucketAssets)
	if err != nil {
		return cat, err
	}
	for _, a := range as {
		cat.Assets[a.SHA256] = a.Ref()
	}
	return cat, nil
}
