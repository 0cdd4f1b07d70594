package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/assets"
	"kiosk/playlists"
)

// Asset is the metadata of an uploaded media file; the bytes live on disk
// under DATA/assets/ab/abcdef… named by their SHA-256.
type Asset struct {
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	MIME      string    `json:"mime"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Ref is the manifest's view of the asset.
func (a Asset) Ref() playlists.AssetRef {
	return playlists.AssetRef{SHA256: a.SHA256, Size: a.Size, MIME: a.MIME}
}

// blobPath is where the bytes of sha live.
func (s *Store) blobPath(sha string) string {
	return filepath.Join(s.dir, "assets", sha[:2], sha)
}

// PutAsset streams r to disk while hashing it, refusing it as soon as it
// passes maxBytes (TooLargeError) or its first bytes are not an accepted
// media type (assets.ErrUnsupported). The file is fsync'd and renamed into
// place before its metadata is committed, so metadata never points at a
// partial blob. Uploading bytes that already exist stores nothing new;
// created reports whether the asset is new.
func (s *Store) PutAsset(r io.Reader, maxBytes int64) (a Asset, created bool, err error) {
	head := make([]byte, assets.SniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Asset{}, false, fmt.Errorf("read upload: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return Asset{}, false, playlists.FieldError{Field: "file", Problem: "is empty"}
	}
	if int64(n) > maxBytes {
		return Asset{}, false, TooLargeError{Limit: maxBytes}
	}
	mime, err := assets.Sniff(head)
	if err != nil {
		return Asset{}, false, err
	}

	tmpDir := filepath.Join(s.dir, "assets", "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return Asset{}, false, s.blobErr("store asset", err)
	}
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return Asset{}, false, s.blobErr("store asset", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		os.Remove(tmp) // a no-op once renamed
	}()

	h := sha256.New()
	w := io.MultiWriter(s.diskWriter(f), h)
	if _, err := w.Write(head); err != nil {
		return Asset{}, false, s.blobErr("store asset", err)
	}
	// Read one byte past the limit to tell "exactly the limit" from "over".
	rest, err := io.Copy(w, io.LimitReader(r, maxBytes-int64(n)+1))
	if err != nil {
		var tl TooLargeError
		if errors.As(err, &tl) {
			return Asset{}, false, err
		}
		return Asset{}, false, s.blobErr("store asset", err)
	}
	size := int64(n) + rest
	if size > maxBytes {
		return Asset{}, false, TooLargeError{Limit: maxBytes}
	}
	if err := f.Sync(); err != nil {
		return Asset{}, false, s.blobErr("store asset", err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return Asset{}, false, s.blobErr("store asset", err)
	}
	f = nil
	sha := hex.EncodeToString(h.Sum(nil))

	s.assetMu.Lock()
	defer s.assetMu.Unlock()

	a = Asset{SHA256: sha, Size: size, MIME: mime, CreatedAt: s.now().UTC()}
	final := s.blobPath(sha)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return Asset{}, false, s.blobErr("store asset", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return Asset{}, false, s.blobErr("store asset", err)
	}
	syncDir(filepath.Dir(final))
	_ = s.noteWrite(writeBlob, "", nil) // the bytes are on disk: space is back

	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAssets)
		var old Asset
		ok, err := getJSON(b, sha, &old)
		if err != nil {
			return err
		}
		if ok {
			a = old
			return nil
		}
		created = true
		return putJSON(b, sha, a)
	})
	if err != nil {
		return Asset{}, false, fmt.Errorf("store asset: %w", err)
	}
	return a, created, nil
}

// syncDir makes a rename durable; failure only weakens durability, so it is
// not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// GetAsset returns the metadata of sha.
func (s *Store) GetAsset(sha string) (Asset, error) {
	return get[Asset](s, bucketAssets, "asset", sha)
}

// ListAssets returns every asset, ordered by hash.
func (s *Store) ListAssets() ([]Asset, error) { return list[Asset](s, bucketAssets) }

// OpenAsset opens the bytes of sha for reading. The caller closes the file.
// Blobs are read from disk, never through a bbolt transaction, so serving a
// large video holds no lock.
func (s *Store) OpenAsset(sha string) (*os.File, Asset, error) {
	if !playlists.IsSHA256Hex(sha) {
		return nil, Asset{}, NotFoundError{Kind: "asset", ID: sha}
	}
	a, err := s.GetAsset(sha)
	if err != nil {
		return nil, Asset{}, err
	}
	f, err := os.Open(s.blobPath(sha))
	if err != nil {
		return nil, Asset{}, fmt.Errorf("open asset %s: %w", sha, err)
	}
	return f, a, nil
}

// DeleteAsset removes sha unless an item uses it (InUseError naming them).
func (s *Store) DeleteAsset(sha string) error {
	s.assetMu.Lock()
	defer s.assetMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if !exists(tx, bucketAssets, sha) {
			return NotFoundError{Kind: "asset", ID: sha}
		}
		items, err := listJSON[playlists.Item](tx, bucketItems)
		if err != nil {
			return err
		}
		var users []string
		for _, it := range items {
			if it.Asset == sha {
				users = append(users, fmt.Sprintf("item %s (%q)", it.ID, it.Title))
			}
		}
		// A notice on screens right now must not lose its picture.
		urgent, err := urgentUsingAsset(tx, sha, s.now())
		if err != nil {
			return err
		}
		users = append(users, urgent...)
		if len(users) > 0 {
			return InUseError{Kind: "asset", ID: sha, UsedBy: users}
		}
		return tx.Bucket(bucketAssets).Delete([]byte(sha))
	})
	if err != nil {
		return err
	}
	if err := os.Remove(s.blobPath(sha)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete asset blob %s: %w", sha, err)
	}
	return nil
}
