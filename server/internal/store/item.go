package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// CreateItem validates it, checks its asset exists and stores it under a new
// id, returning the stored item.
func (s *Store) CreateItem(it playlists.Item) (playlists.Item, error) {
	if err := it.Validate(); err != nil {
		return playlists.Item{}, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := checkItemRefs(tx, it); err != nil {
			return err
		}
		b := tx.Bucket(bucketItems)
		it.ID = freshID(b, "itm")
		it.CreatedAt = s.now().UTC()
		it.UpdatedAt = it.CreatedAt
		return putJSON(b, it.ID, it)
	})
	if err != nil {
		return playlists.Item{}, err
	}
	return it, nil
}

// UpdateItem replaces item id with it, keeping its creation time.
func (s *Store) UpdateItem(id string, it playlists.Item) (playlists.Item, error) {
	if err := it.Validate(); err != nil {
		return playlists.Item{}, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketItems)
		var old playlists.Item
		ok, err := getJSON(b, id, &old)
		if err != nil {
			return err
		}
		if !ok {
			return NotFoundError{Kind: "item", ID: id}
		}
		if err := checkItemRefs(tx, it); err != nil {
			return err
		}
		it.ID = id
		it.CreatedAt = old.CreatedAt
		it.UpdatedAt = s.now().UTC()
		return putJSON(b, id, it)
	})
	if err != nil {
		return playlists.Item{}, err
	}
	return it, nil
}

func checkItemRefs(tx *bolt.Tx, it playlists.Item) error {
	if it.Asset != "" && !exists(tx, bucketAssets, it.Asset) {
		return playlists.FieldError{Field: "asset", Problem: fmt.Sprintf("asset %s does not exist (upload it first)", it.Asset)}
	}
	return nil
}

// GetItem returns item id.
func (s *Store) GetItem(id string) (playlists.Item, error) {
	return get[playlists.Item](s, bucketItems, "item", id)
}

// ListItems returns every item, ordered by id.
func (s *Store) ListItems() ([]playlists.Item, error) { return list[playlists.Item](s, bucketItems) }

// DeleteItem removes item id unless a playlist uses it.
func (s *Store) DeleteItem(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if !exists(tx, bucketItems, id) {
			return NotFoundError{Kind: "item", ID: id}
		}
		pls, err := listJSON[playlists.Playlist](tx, bucketPlaylists)
		if err != nil {
			return err
		}
		var users []string
		for _, p := range pls {
			for _, iid := range p.Items {
				if iid == id {
					users = append(users, fmt.Sprintf("playlist %s (%q)", p.ID, p.Name))
					break
				}
			}
		}
		if len(users) > 0 {
			return InUseError{Kind: "item", ID: id, UsedBy: users}
		}
		return tx.Bucket(bucketItems).Delete([]byte(id))
	})
}
