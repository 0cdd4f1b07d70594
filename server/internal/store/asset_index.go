package store

import (
	"fmt"
	"os"
	"sync"

	"kiosk/playlists"
)

// assetIndex keeps the metadata of assets that were served or uploaded
// since start, so that a media request (the hot path when thousands of
// screens fetch and revalidate their files) is answered without a bbolt
// read transaction. It fills lazily: start-up reads nothing, and only
// assets something asked for take memory (about 300 bytes each). The
// store stays the source of truth; the index is changed only after a
// commit (an upload adds, a delete removes).
//
// gen orders a lazy fill against deletes: a fill that read the record
// before a delete committed must not put it back after the delete has
// removed it, so each fill notes gen before its read and is dropped when a
// delete has bumped it since.
type assetIndex struct {
	mu  sync.RWMutex
	m   map[string]Asset
	gen uint64
}

func (x *assetIndex) get(sha string) (Asset, bool, uint64) {
	x.mu.RLock()
	a, ok := x.m[sha]
	gen := x.gen
	x.mu.RUnlock()
	return a, ok, gen
}

// fill records a read from the store unless a delete came after it began.
func (x *assetIndex) fill(a Asset, gen uint64) {
	x.mu.Lock()
	if x.gen == gen {
		x.put(a)
	}
	x.mu.Unlock()
}

// add records a committed upload.
func (x *assetIndex) add(a Asset) {
	x.mu.Lock()
	x.put(a)
	x.mu.Unlock()
}

func (x *assetIndex) put(a Asset) {
	if x.m == nil {
		x.m = map[string]Asset{}
	}
	x.m[a.SHA256] = a
}

// remove forgets a deleted asset; called after the delete committed.
func (x *assetIndex) remove(sha string) {
	x.mu.Lock()
	delete(x.m, sha)
	x.gen++
	x.mu.Unlock()
}

// AssetMeta returns the metadata of sha for serving it: from memory when
// it was asked for or uploaded since start, else from the store (and then
// remembered). An unknown or malformed hash is a NotFoundError. Unlike
// GetAsset it never holds a read transaction once the asset is known, so
// it is what media requests use.
func (s *Store) AssetMeta(sha string) (Asset, error) {
	if !playlists.IsSHA256Hex(sha) {
		return Asset{}, NotFoundError{Kind: "asset", ID: sha}
	}
	a, ok, gen := s.assets.get(sha)
	if ok {
		return a, nil
	}
	a, err := s.GetAsset(sha)
	if err != nil {
		return Asset{}, err
	}
	s.assets.fill(a, gen)
	return a, nil
}

// OpenBlob opens the bytes of sha for reading; the caller closes the file.
// Blobs are content-addressed and never rewritten in place, so what an
// open file reads is always the asset's bytes, even while a delete
// unlinks it. A blob missing from the disk behind existing metadata is an
// error, not a NotFoundError: the data dir is damaged.
func (s *Store) OpenBlob(sha string) (*os.File, error) {
	if !playlists.IsSHA256Hex(sha) {
		return nil, NotFoundError{Kind: "asset", ID: sha}
	}
	f, err := openBlobFile(s.blobPath(sha))
	if err != nil {
		return nil, fmt.Errorf("open asset %s: %w", sha, err)
	}
	return f, nil
}
