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
	"regexp"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/server/internal/signing"
)

// BackupError is an archive refused by VerifyBackup or Restore: damaged,
// truncated, or not a Kiosk backup. Nothing was written where it was
// going.
type BackupError struct{ Problem string }

func (e BackupError) Error() string { return "backup archive refused: " + e.Problem }

var (
	assetEntry = regexp.MustCompile(`^assets/([0-9a-f]{2})/([0-9a-f]{64})$`)
	buildEntry = regexp.MustCompile(`^` + playerBuildDir + `/([0-9a-f]{64})$`)
	keyEntry   = regexp.MustCompile(`^` + signing.Dir + `/[A-Za-z0-9._-]+\.pem$`)
)

// maxBackupManifest bounds the table of contents read into memory.
const maxBackupManifest = 64 << 20

// VerifyBackup reads a whole archive and checks it the way Restore does,
// writing nothing: every file's size and SHA-256 against the manifest,
// every media blob against its name, nothing missing, nothing extra.
func VerifyBackup(r io.Reader) (BackupManifest, error) {
	return readBackup(r, nil)
}

// Restore unpacks a backup into dir, which must not exist or be empty.
// It verifies everything first, into a staging folder beside dir, and
// moves that into place only when the archive is whole and the database
// opens; a damaged or partial archive leaves dir as it was.
func Restore(r io.Reader, dir string) (BackupManifest, error) {
	dir = filepath.Clean(dir)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return BackupManifest{}, fmt.Errorf("restore: %s is not empty; restore into a new data dir", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return BackupManifest{}, fmt.Errorf("restore: %w", err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return BackupManifest{}, fmt.Errorf("restore: %w", err)
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restoring-")
	if err != nil {
		return BackupManifest{}, fmt.Errorf("restore: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(stage)
		}
	}()
	m, err := readBackup(r, func(name string) (io.WriteCloser, error) {
		p := filepath.Join(stage, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return nil, err
		}
		return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	})
	if err != nil {
		return m, err
	}
	// The database must open and be no newer than this binary knows.
	db, err := bolt.Open(filepath.Join(stage, backupDB), 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return m, BackupError{Problem: "the database does not open: " + err.Error()}
	}
	db.Close()
	if m.SchemaVersion > SchemaVersion() {
		return m, BackupError{Problem: fmt.Sprintf("it was written by a newer Kiosk (schema %d; this one knows %d): restore with that version", m.SchemaVersion, SchemaVersion())}
	}
	if err := syncTree(stage); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	os.Remove(dir) // empty or absent, checked above
	if err := os.Rename(stage, dir); err != nil {
		return m, fmt.Errorf("restore: move into place: %w", err)
	}
	syncDir(parent)
	done = true
	return m, nil
}

// readBackup walks the archive. create, when set, receives each file's
// bytes as they are checked (Restore); nil only checks.
func readBackup(r io.Reader, create func(name string) (io.WriteCloser, error)) (BackupManifest, error) {
	var m BackupManifest
	tr := tar.NewReader(r)
	seen := map[string]BackupFile{}
	var order []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return m, BackupError{Problem: "it ends before its manifest (" + backupManifest + "): the archive is truncated or not a Kiosk backup"}
		}
		if err != nil {
			return m, BackupError{Problem: "unreadable tar: " + err.Error()}
		}
		if hdr.Typeflag != tar.TypeReg {
			return m, BackupError{Problem: fmt.Sprintf("%q is not a regular file", hdr.Name)}
		}
		name := hdr.Name
		if name == backupManifest {
			body, err := io.ReadAll(io.LimitReader(tr, maxBackupManifest+1))
			if err != nil {
				return m, BackupError{Problem: "manifest unreadable: " + err.Error()}
			}
			if len(body) > maxBackupManifest {
				return m, BackupError{Problem: "manifest too large"}
			}
			if err := json.Unmarshal(body, &m); err != nil {
				return m, BackupError{Problem: "manifest is not valid JSON: " + err.Error()}
			}
			if _, err := tr.Next(); !errors.Is(err, io.EOF) {
				return m, BackupError{Problem: "data follows the manifest"}
			}
			return m, checkManifest(m, seen, order)
		}
		if !allowedBackupEntry(name) {
			return m, BackupError{Problem: fmt.Sprintf("unexpected file %q", name)}
		}
		if _, dup := seen[name]; dup {
			return m, BackupError{Problem: fmt.Sprintf("%q appears twice", name)}
		}
		var dst io.WriteCloser = nopWriteCloser{io.Discard}
		if create != nil {
			if dst, err = create(name); err != nil {
				return m, fmt.Errorf("restore: %s: %w", name, err)
			}
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(dst, h), tr)
		if cerr := closeSynced(dst); err == nil && cerr != nil {
			return m, fmt.Errorf("restore: %s: %w", name, cerr)
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return m, BackupError{Problem: fmt.Sprintf("%q is cut short: the archive is truncated", name)}
			}
			return m, fmt.Errorf("restore: %s: %w", name, err)
		}
		sum := hex.EncodeToString(h.Sum(nil))
		if mm := assetEntry.FindStringSubmatch(name); mm != nil && (mm[2] != sum || mm[1] != sum[:2]) {
			return m, BackupError{Problem: fmt.Sprintf("media file %s does not match its name (SHA-256 %s): the archive is damaged", name, sum)}
		}
		if mm := buildEntry.FindStringSubmatch(name); mm != nil && mm[1] != sum {
			return m, BackupError{Problem: fmt.Sprintf("player build %s does not match its name: the archive is damaged", name)}
		}
		seen[name] = BackupFile{Path: name, Size: n, SHA256: sum}
		order = append(order, name)
	}
}

func checkManifest(m BackupManifest, seen map[string]BackupFile, order []string) error {
	if m.Format != BackupFormat {
		return BackupError{Problem: fmt.Sprintf("format %q, want %q", m.Format, BackupFormat)}
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		got, ok := seen[f.Path]
		if !ok {
			return BackupError{Problem: fmt.Sprintf("%q is listed in the manifest but missing", f.Path)}
		}
		if got.Size != f.Size || got.SHA256 != f.SHA256 {
			return BackupError{Problem: fmt.Sprintf("%q has %d bytes with SHA-256 %s; the manifest says %d bytes, %s: the archive is damaged", f.Path, got.Size, got.SHA256, f.Size, f.SHA256)}
		}
		listed[f.Path] = true
	}
	for _, name := range order {
		if !listed[name] {
			return BackupError{Problem: fmt.Sprintf("%q is not in the manifest", name)}
		}
	}
	if !listed[backupDB] {
		return BackupError{Problem: "it holds no database"}
	}
	return nil
}

func allowedBackupEntry(name string) bool {
	if name != path.Clean(name) || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return false
	}
	return name == backupDB || assetEntry.MatchString(name) || buildEntry.MatchString(name) || keyEntry.MatchString(name)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// closeSynced fsyncs a restored file before closing it: the data dir must
// survive a power cut right after the restore says it is done.
func closeSynced(w io.WriteCloser) error {
	if f, ok := w.(*os.File); ok {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return w.Close()
}

// syncTree fsyncs every directory under root, so the renames and creations
// in it are durable.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			syncDir(p)
		}
		return nil
	})
}
