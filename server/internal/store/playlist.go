package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// CreatePlaylist stores p under a new id after checking every item exists.
func (s *Store) CreatePlaylist(p playlists.Playlist) (playlists.Playlist, error) {
	return update(s, func(tx *bolt.Tx) (playlists.Playlist, error) { return s.createPlaylist(tx, "", p) })
}

// UpdatePlaylist replaces playlist id with p.
func (s *Store) UpdatePlaylist(id string, p playlists.Playlist) (playlists.Playlist, error) {
	return update(s, func(tx *bolt.Tx) (playlists.Playlist, error) { return s.updatePlaylist(tx, id, p) })
}

func (s *Store) createPlaylist(tx *bolt.Tx, id string, p playlists.Playlist) (playlists.Playlist, error) {
	if err := p.Validate(); err != nil {
		return playlists.Playlist{}, err
	}
	if err := checkPlaylistRefs(tx, p); err != nil {
		return playlists.Playlist{}, err
	}
	b := tx.Bucket(bucketPlaylists)
	var err error
	if p.ID, err = newOrFreshID(b, "playlist", "pl", id); err != nil {
		return playlists.Playlist{}, err
	}
	p.CreatedAt = s.now().UTC()
	p.UpdatedAt = p.CreatedAt
	noteCatalog(tx)
	return p, putJSON(b, p.ID, p)
}

func (s *Store) updatePlaylist(tx *bolt.Tx, id string, p playlists.Playlist) (playlists.Playlist, error) {
	if err := p.Validate(); err != nil {
		return playlists.Playlist{}, err
	}
	b := tx.Bucket(bucketPlaylists)
	var old playlists.Playlist
	ok, err := getJSON(b, id, &old)
	if err != nil {
		return playlists.Playlist{}, err
	}
	if !ok {
		return playlists.Playlist{}, NotFoundError{Kind: "playlist", ID: id}
	}
	if err := checkPlaylistRefs(tx, p); err != nil {
		return playlists.Playlist{}, err
	}
	p.ID = id
	p.CreatedAt = old.CreatedAt
	p.UpdatedAt = s.now().UTC()
	noteCatalog(tx)
	return p, putJSON(b, id, p)
}

func checkPlaylistRefs(tx *bolt.Tx, p playlists.Playlist) error {
	for i, id := range p.Items {
		if !exists(tx, bucketItems, id) {
			return playlists.FieldError{Field: fmt.Sprintf("items[%d]", i), Problem: fmt.Sprintf("item %q does not exist", id)}
		}
	}
	return nil
}

// GetPlaylist returns playlist id.
func (s *Store) GetPlaylist(id string) (playlists.Playlist, error) {
	return get[playlists.Playlist](s, bucketPlaylists, "playlist", id)
}

// ListPlaylists returns every playlist, ordered by id.
func (s *Store) ListPlaylists() ([]playlists.Playlist, error) {
	return list[playlists.Playlist](s, bucketPlaylists)
}

// DeletePlaylist removes playlist id unless a schedule uses it.
func (s *Store) DeletePlaylist(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return deletePlaylist(tx, id) })
}

func deletePlaylist(tx *bolt.Tx, id string) error {
	if !exists(tx, bucketPlaylists, id) {
		return NotFoundError{Kind: "playlist", ID: id}
	}
	scs, err := listJSON[playlists.Schedule](tx, bucketSchedules)
	if err != nil {
		return err
	}
	var users []string
	for _, sc := range scs {
		if sc.Playlist == id {
			users = append(users, scheduleLabel(sc))
		}
	}
	defaults, err := defaultPlaylistUsers(tx, id)
	if err != nil {
		return err
	}
	users = append(users, defaults...)
	if len(users) > 0 {
		return InUseError{Kind: "playlist", ID: id, UsedBy: users}
	}
	noteCatalog(tx)
	return tx.Bucket(bucketPlaylists).Delete([]byte(id))
}

func scheduleLabel(sc playlists.Schedule) string {
	if sc.Name != "" {
		return fmt.Sprintf("schedule %s (%q)", sc.ID, sc.Name)
	}
	return "schedule " + sc.ID
}
