package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// checkDefaultPlaylist verifies that a screen's or group's default playlist
// exists; empty means none.
func checkDefaultPlaylist(tx *bolt.Tx, id string) error {
	if id != "" && !exists(tx, bucketPlaylists, id) {
		return playlists.FieldError{Field: "default_playlist", Problem: fmt.Sprintf("playlist %q does not exist", id)}
	}
	return nil
}

// defaultPlaylistUsers labels the screens and groups whose default playlist
// is id, so deleting it can be refused with names.
func defaultPlaylistUsers(tx *bolt.Tx, id string) ([]string, error) {
	var users []string
	groups, err := listJSON[playlists.Group](tx, bucketGroups)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.DefaultPlaylist == id {
			users = append(users, fmt.Sprintf("group %s (%q) as its default playlist", g.ID, g.Name))
		}
	}
	screens, err := listJSON[Screen](tx, bucketScreens)
	if err != nil {
		return nil, err
	}
	for _, sc := range screens {
		if sc.DefaultPlaylist == id {
			users = append(users, fmt.Sprintf("screen %s (%q) as its default playlist", sc.ID, sc.Name))
		}
	}
	return users, nil
}
