package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// CreateItem validates it, checks its asset exists and stores it under a new
// id, returning the stored item.
func (s *Store) CreateItem(it playlists.Item) (playlists.Item, error) {
	return update(s, func(tx *bolt.Tx) (playlists.Item, error) { return s.createItem(tx, "", it) })
}

// UpdateItem replaces item id with it, keeping its creation time.
func (s *Store) UpdateItem(id string, it playlists.Item) (playlists.Item, error) {
	return update(s, func(tx *bolt.Tx) (playlists.Item, error) { return s.updateItem(tx, id, it) })
}

// createItem stores it under id, or under a new id when id is empty.
func (s *Store) createItem(tx *bolt.Tx, id string, it playlists.Item) (playlists.Item, error) {
	if err := it.Validate(); err != nil {
		return playlists.Item{}, err
	}
	if err := checkItemRefs(tx, it); err != nil {
		return playlists.Item{}, err
	}
	b := tx.Bucket(bucketItems)
	var err error
	if it.ID, err = newOrFreshID(b, "item", "itm", id); err != nil {
		return playlists.Item{}, err
	}
	it.CreatedAt = s.now().UTC()
	it.UpdatedAt = it.CreatedAt
	noteCatalog(tx)
	return it, putJSON(b, it.ID, it)
}

func (s *Store) updateItem(tx *bolt.Tx, id string, it playlists.Item) (playlists.Item, error) {
	if err := it.Validate(); err != nil {
		return playlists.Item{}, err
	}
	b := tx.Bucket(bucketItems)
	var old playlists.Item
	ok, err := getJSON(b, id, &old)
	if err != nil {
		return playlists.Item{}, err
	}
	if !ok {
		return playlists.Item{}, NotFoundError{Kind: "item", ID: id}
	}
	if err := checkItemRefs(tx, it); err != nil {
		return playlists.Item{}, err
	}
	it.ID = id
	it.CreatedAt = old.CreatedAt
	it.UpdatedAt = s.now().UTC()
	noteCatalog(tx)
	return it, putJSON(b, id, it)
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
	return s.db.Update(func(tx *bolt.Tx) error { return deleteItem(tx, id) })
}

func deleteItem(tx *bolt.Tx, id string) error {
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
	noteCatalog(tx)
	return tx.Bucket(bucketItems).Delete([]byte(id))
}
