package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	// Name is the file name the bytes were first uploaded under and
	// UploadedBy who uploaded them (a username); both only label the
	// asset in the media library. Uploading the same bytes again keeps
	// the first ones.
	Name       string `json:"name,omitempty"`
	UploadedBy string `json:"uploaded_by,omitempty"`
}

// AssetOrigin is where an upload came from, kept with a new asset.
type AssetOrigin struct {
	Name string // the uploaded file's name, as the browser sent it
	By   string // the uploader's username
}

// MaxAssetNameRunes bounds a stored file name; longer ones are cut.
const MaxAssetNameRunes = 200

// AssetUse is one thing that shows an asset: a published item, an item
// drafted in an open or submitted change set (ChangeSet names it), or an
// urgent notice in force.
type AssetUse struct {
	Kind      string `json:"kind"` // "item" or "urgent"
	ID        string `json:"id"`
	Title     string `json:"title"`
	ChangeSet string `json:"changeset,omitempty"`
}

// label names the use in an InUseError.
func (u AssetUse) label() string {
	switch {
	case u.Kind == "urgent":
		return fmt.Sprintf("urgent notice %s (%q)", u.ID, u.Title)
	case u.ChangeSet != "":
		return fmt.Sprintf("item %s (%q) drafted in change set %s", u.ID, u.Title, u.ChangeSet)
	}
	return fmt.Sprintf("item %s (%q)", u.ID, u.Title)
}

// AssetWithUses is an asset and what uses it, for the media library.
type AssetWithUses struct {
	Asset
	UsedBy []AssetUse `json:"used_by"`
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
	return s.PutAssetFrom(r, maxBytes, AssetOrigin{})
}

// PutAssetFrom is PutAsset that also records where a new asset came from.
func (s *Store) PutAssetFrom(r io.Reader, maxBytes int64, origin AssetOrigin) (a Asset, created bool, err error) {
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

	a = Asset{SHA256: sha, Size: size, MIME: mime, CreatedAt: s.now().UTC(), Name: cleanAssetName(origin.Name), UploadedBy: origin.By}
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
		noteCatalog(tx)
		return putJSON(b, sha, a)
	})
	if err != nil {
		return Asset{}, false, fmt.Errorf("store asset: %w", err)
	}
	s.assets.add(a)
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
	a, err := s.AssetMeta(sha)
	if err != nil {
		return nil, Asset{}, err
	}
	f, err := s.OpenBlob(sha)
	if err != nil {
		return nil, Asset{}, err
	}
	return f, a, nil
}

// cleanAssetName keeps the last path element of a browser's file name,
// without control characters, at most MaxAssetNameRunes long.
func cleanAssetName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > MaxAssetNameRunes {
		name = string(r[:MaxAssetNameRunes])
	}
	return name
}

// ListAssetsWithUses returns every asset, ordered by hash, with what uses
// each, read in one transaction so the two agree.
func (s *Store) ListAssetsWithUses() ([]AssetWithUses, error) {
	var out []AssetWithUses
	err := s.db.View(func(tx *bolt.Tx) error {
		as, err := listJSON[Asset](tx, bucketAssets)
		if err != nil {
			return err
		}
		uses, err := assetUses(tx, s.now())
		if err != nil {
			return err
		}
		out = make([]AssetWithUses, len(as))
		for i, a := range as {
			out[i] = AssetWithUses{Asset: a, UsedBy: uses[a.SHA256]}
			if out[i].UsedBy == nil {
				out[i].UsedBy = []AssetUse{}
			}
		}
		return nil
	})
	return out, err
}

// GetAssetWithUses returns the metadata of sha and what uses it.
func (s *Store) GetAssetWithUses(sha string) (AssetWithUses, error) {
	var out AssetWithUses
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketAssets), sha, &out.Asset)
		if err != nil {
			return err
		}
		if !ok {
			return NotFoundError{Kind: "asset", ID: sha}
		}
		uses, err := assetUses(tx, s.now())
		if err != nil {
			return err
		}
		out.UsedBy = uses[sha]
		if out.UsedBy == nil {
			out.UsedBy = []AssetUse{}
		}
		return nil
	})
	return out, err
}

// assetUses maps each used asset to what uses it: published items, items
// drafted in open or submitted change sets (deleting the asset would make
// those sets fail at approval) and urgent notices in force at now. A
// published item appears once even when a draft changes it too.
func assetUses(tx *bolt.Tx, now time.Time) (map[string][]AssetUse, error) {
	uses := map[string][]AssetUse{}
	items, err := listJSON[playlists.Item](tx, bucketItems)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.Asset != "" {
			uses[it.Asset] = append(uses[it.Asset], AssetUse{Kind: "item", ID: it.ID, Title: it.Title})
		}
	}
	sets, err := listJSON[ChangeSet](tx, bucketChangeSets)
	if err != nil {
		return nil, err
	}
	for _, cs := range sets {
		if cs.State != ChangeSetOpen && cs.State != ChangeSetSubmitted {
			continue
		}
		for _, op := range cs.Ops {
			if op.Kind != KindItem || op.Item == nil || op.Item.Asset == "" {
				continue
			}
			sha := op.Item.Asset
			if !slices.ContainsFunc(uses[sha], func(u AssetUse) bool { return u.Kind == "item" && u.ID == op.ID }) {
				uses[sha] = append(uses[sha], AssetUse{Kind: "item", ID: op.ID, Title: op.Item.Title, ChangeSet: cs.ID})
			}
		}
	}
	active, err := activeUrgent(tx, now)
	if err != nil {
		return nil, err
	}
	for _, u := range active {
		if u.Asset != "" {
			uses[u.Asset] = append(uses[u.Asset], AssetUse{Kind: "urgent", ID: u.ID, Title: u.Title})
		}
	}
	return uses, nil
}

// DeleteAsset removes sha unless something uses it (InUseError naming
// them): a published item, an item drafted in an open or submitted change
// set, or an urgent notice in force. The check and the delete are one
// transaction, so an item saved meanwhile cannot lose its media; and it
// waits for a draft in progress (Draft checks and records in two
// transactions under changeMu), so a drafted item acknowledged as valid
// cannot lose its media either.
func (s *Store) DeleteAsset(sha string) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.assetMu.Lock()
	defer s.assetMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if !exists(tx, bucketAssets, sha) {
			return NotFoundError{Kind: "asset", ID: sha}
		}
		uses, err := assetUses(tx, s.now())
		if err != nil {
			return err
		}
		if us := uses[sha]; len(us) > 0 {
			users := make([]string, len(us))
			for i, u := range us {
				users[i] = u.label()
			}
			return InUseError{Kind: "asset", ID: sha, UsedBy: users}
		}
		noteCatalog(tx)
		return tx.Bucket(bucketAssets).Delete([]byte(sha))
	})
	if err != nil {
		return err
	}
	s.assets.remove(sha) // before the blob goes: no request finds one without the other
	if err := os.Remove(s.blobPath(sha)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete asset blob %s: %w", sha, err)
	}
	return nil
}
