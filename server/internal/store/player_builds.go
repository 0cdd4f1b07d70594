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
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

var bucketPlayerBuilds = []byte("player_builds") // sha256 → PlayerBuild

// playerBuildDir holds player binaries under the data dir, named by their
// SHA-256. They are not media: no sniffing, never served to people.
const playerBuildDir = "player-builds"

// PlayerBuild is an uploaded, verified player binary.
type PlayerBuild struct {
	playlists.PlayerBuild
	UploadedAt time.Time `json:"uploaded_at"`
	UploadedBy string    `json:"uploaded_by"`
}

// StagedBuild is an uploaded binary on disk, hashed, that is not yet a
// build: AddPlayerBuild keeps it once its manifest verified, Discard
// removes it.
type StagedBuild struct {
	path   string
	Size   int64
	SHA256 string
}

// Discard removes the staged file; harmless after AddPlayerBuild.
func (b *StagedBuild) Discard() {
	if b != nil {
		os.Remove(b.path)
	}
}

func (s *Store) playerBuildPath(sha string) string {
	return filepath.Join(s.dir, playerBuildDir, sha)
}

// StagePlayerBuild streams r to a temporary file while hashing it,
// refusing it past playlists.MaxBuildBytes (TooLargeError).
func (s *Store) StagePlayerBuild(r io.Reader) (*StagedBuild, error) {
	tmpDir := filepath.Join(s.dir, playerBuildDir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return nil, s.blobErr("store player build", err)
	}
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return nil, s.blobErr("store player build", err)
	}
	b := &StagedBuild{path: f.Name()}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(b.path)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(s.diskWriter(f), h), io.LimitReader(r, playlists.MaxBuildBytes+1))
	if err != nil {
		var tl TooLargeError
		if errors.As(err, &tl) {
			return nil, err
		}
		return nil, s.blobErr("store player build", err)
	}
	if n > playlists.MaxBuildBytes {
		return nil, TooLargeError{Limit: playlists.MaxBuildBytes}
	}
	if n == 0 {
		return nil, playlists.FieldError{Field: "file", Problem: "is empty"}
	}
	if err := f.Sync(); err != nil {
		return nil, s.blobErr("store player build", err)
	}
	if err := f.Close(); err != nil {
		return nil, s.blobErr("store player build", err)
	}
	ok = true
	b.Size, b.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return b, nil
}

// AddPlayerBuild keeps the staged binary as the build m describes. The
// caller has verified m's signature; the bytes are checked here. A build
// already stored is returned as it is (created false); another binary
// for the same version and platform is a ConflictError, since screens
// name their installed versions by version.
func (s *Store) AddPlayerBuild(b *StagedBuild, m playlists.PlayerBuild, by string) (PlayerBuild, bool, error) {
	defer b.Discard()
	if err := playlists.CheckBuildBytes(m, b.Size, b.SHA256); err != nil {
		return PlayerBuild{}, false, err
	}
	rec := PlayerBuild{PlayerBuild: m, UploadedAt: s.now().UTC(), UploadedBy: by}
	var created bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketPlayerBuilds)
		var old PlayerBuild
		ok, err := getJSON(bk, m.SHA256, &old)
		if err != nil {
			return err
		}
		if ok {
			rec = old
			return nil
		}
		all, err := listJSON[PlayerBuild](tx, bucketPlayerBuilds)
		if err != nil {
			return err
		}
		for _, o := range all {
			if o.Version == m.Version && o.Platform == m.Platform {
				return ConflictError{Msg: fmt.Sprintf("a different build of %s for %s is already uploaded (%s); give the new one a new version", m.Version, m.Platform, o.SHA256)}
			}
		}
		final := s.playerBuildPath(m.SHA256)
		if err := os.Rename(b.path, final); err != nil {
			return s.blobErr("store player build", err)
		}
		syncDir(filepath.Dir(final))
		created = true
		return putJSON(bk, m.SHA256, rec)
	})
	if err != nil {
		return PlayerBuild{}, false, err
	}
	return rec, created, nil
}

// GetPlayerBuild returns build sha.
func (s *Store) GetPlayerBuild(sha string) (PlayerBuild, error) {
	return get[PlayerBuild](s, bucketPlayerBuilds, "player build", sha)
}

// ListPlayerBuilds returns every build, newest first.
func (s *Store) ListPlayerBuilds() ([]PlayerBuild, error) {
	all, err := list[PlayerBuild](s, bucketPlayerBuilds)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b PlayerBuild) int { return b.UploadedAt.Compare(a.UploadedAt) })
	return all, nil
}

// OpenPlayerBuild opens the binary of sha for reading; the caller closes it.
func (s *Store) OpenPlayerBuild(sha string) (*os.File, PlayerBuild, error) {
	if !playlists.IsSHA256Hex(sha) {
		return nil, PlayerBuild{}, NotFoundError{Kind: "player build", ID: sha}
	}
	rec, err := s.GetPlayerBuild(sha)
	if err != nil {
		return nil, PlayerBuild{}, err
	}
	f, err := os.Open(s.playerBuildPath(sha))
	if err != nil {
		return nil, PlayerBuild{}, fmt.Errorf("open player build %s: %w", sha, err)
	}
	return f, rec, nil
}
