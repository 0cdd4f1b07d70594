package store

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/server/internal/signing"
)

// A backup is one tar stream, written while the server runs and accepts
// writes:
//
//	kiosk.db                   the bbolt file as of one read transaction
//	assets/ab/abcdef…          every media blob that snapshot names
//	player-builds/abcdef…      every player binary it names
//	keys/manifest-ed25519*.pem the manifest signing keys (so players that
//	                           pinned the key trust the restored server)
//	MANIFEST.json              last: the format, when, and every file's
//	                           size and SHA-256
//
// The manifest comes last because the checksums are known only once the
// bytes have gone by; a truncated archive therefore has no manifest and is
// refused whole. Screenshots are left out: a fresh one is a button away.
// The archive holds the signing keys and password hashes: keep it as
// secret as the data dir.
const (
	BackupFormat   = "kiosk-backup/1"
	backupManifest = "MANIFEST.json"
	backupDB       = "kiosk.db"
)

// BackupManifest is the archive's table of contents.
type BackupManifest struct {
	Format        string       `json:"format"`
	CreatedAt     time.Time    `json:"created_at"`
	SchemaVersion int          `json:"schema_version"`
	Files         []BackupFile `json:"files"`
}

// BackupFile is one archived file.
type BackupFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Bytes is the archive's payload size, for logs and the CLI's summary.
func (m BackupManifest) Bytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// WriteBackup writes a consistent backup to w. The database is copied
// through one read transaction (bbolt's hot-backup path), so writers carry
// on; the blobs that snapshot names are hard-linked into a staging folder
// while the snapshot starts, so a media file deleted a moment later is
// still archived whole. Nothing is buffered in memory beyond one copy
// buffer.
func (s *Store) WriteBackup(w io.Writer) (BackupManifest, error) {
	stage, err := os.MkdirTemp(s.dir, "backup-stage-")
	if err != nil {
		return BackupManifest{}, s.blobErr("backup", err)
	}
	defer os.RemoveAll(stage)

	tw := tar.NewWriter(w)
	m := BackupManifest{Format: BackupFormat, CreatedAt: s.now().UTC(), SchemaVersion: SchemaVersion()}

	// assetMu keeps uploads and deletes of blobs out while the snapshot
	// begins and its blobs are linked; both take milliseconds.
	s.assetMu.Lock()
	tx, err := s.db.Begin(false)
	if err != nil {
		s.assetMu.Unlock()
		return m, fmt.Errorf("backup: begin snapshot: %w", err)
	}
	defer tx.Rollback()
	blobs, err := s.stageBlobs(tx, stage)
	s.assetMu.Unlock()
	if err != nil {
		return m, err
	}

	// The database first, from the open read transaction.
	f, err := writeTarFile(tw, backupDB, tx.Size(), func(dst io.Writer) error {
		_, err := tx.WriteTo(dst)
		return err
	})
	if err != nil {
		return m, fmt.Errorf("backup: database: %w", err)
	}
	m.Files = append(m.Files, f)
	if err := tx.Rollback(); err != nil && !errors.Is(err, bolt.ErrTxClosed) {
		return m, fmt.Errorf("backup: end snapshot: %w", err)
	}

	for _, b := range blobs {
		f, err := copyTarFile(tw, b.name, b.staged)
		if err != nil {
			return m, fmt.Errorf("backup: %s: %w", b.name, err)
		}
		m.Files = append(m.Files, f)
	}

	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: backupManifest, Mode: 0o600, Size: int64(len(body)), ModTime: m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return m, err
	}
	if _, err := tw.Write(body); err != nil {
		return m, err
	}
	return m, tw.Close()
}

type stagedBlob struct {
	name   string // path in the archive
	staged string // hard link (or copy) under the staging folder
}

// stageBlobs links every blob the snapshot names, and the signing keys,
// into stage, sorted by archive path.
func (s *Store) stageBlobs(tx *bolt.Tx, stage string) ([]stagedBlob, error) {
	var out []stagedBlob
	add := func(name, src string) error {
		dst := filepath.Join(stage, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := os.Link(src, dst); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("backup: %s is in the database but not on disk (%s): run the server's consistency check", name, src)
			}
			// A file system without hard links: copy instead.
			if err := copyFile(src, dst); err != nil {
				return fmt.Errorf("backup: stage %s: %w", name, err)
			}
		}
		out = append(out, stagedBlob{name: name, staged: dst})
		return nil
	}
	if err := tx.Bucket(bucketAssets).ForEach(func(k, _ []byte) error {
		sha := string(k)
		if !validSHA(sha) {
			return fmt.Errorf("backup: asset key %q is not a SHA-256", sha)
		}
		return add(path.Join("assets", sha[:2], sha), s.blobPath(sha))
	}); err != nil {
		return nil, err
	}
	if b := tx.Bucket(bucketPlayerBuilds); b != nil {
		if err := b.ForEach(func(k, _ []byte) error {
			sha := string(k)
			if !validSHA(sha) {
				return fmt.Errorf("backup: player build key %q is not a SHA-256", sha)
			}
			return add(path.Join(playerBuildDir, sha), s.playerBuildPath(sha))
		}); err != nil {
			return nil, err
		}
	}
	keys, err := filepath.Glob(filepath.Join(s.dir, signing.Dir, "*.pem"))
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := add(path.Join(signing.Dir, filepath.Base(k)), k); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeTarFile writes one regular file of size bytes produced by fill,
// hashing them on the way.
func writeTarFile(tw *tar.Writer, name string, size int64, fill func(io.Writer) error) (BackupFile, error) {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: time.Now().UTC(), Typeflag: tar.TypeReg}); err != nil {
		return BackupFile{}, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tw, h)}
	if err := fill(cw); err != nil {
		return BackupFile{}, err
	}
	if cw.n != size {
		return BackupFile{}, fmt.Errorf("wrote %d bytes, expected %d", cw.n, size)
	}
	return BackupFile{Path: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func copyTarFile(tw *tar.Writer, name, src string) (BackupFile, error) {
	f, err := os.Open(src)
	if err != nil {
		return BackupFile{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return BackupFile{}, err
	}
	return writeTarFile(tw, name, st.Size(), func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	})
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
