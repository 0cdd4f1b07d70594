// Package store owns the server's persistent state: a bbolt file holding
// content, screens, status and the audit trail, and the media blobs kept
// content-addressed on disk beside it. Every mutation is one bbolt
// transaction, so a change is either wholly stored or not at all, and
// referential checks run inside the same transaction as the write.
package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DBFile is the bbolt file's name inside the data directory.
const DBFile = "kiosk.db"

// openTimeout bounds how long Open waits for another process's file lock:
// bbolt otherwise waits forever and the server looks hung.
const openTimeout = 2 * time.Second

// Bucket names. Values are JSON documents keyed by id unless noted.
var (
	bucketMeta      = []byte("meta")
	bucketAssets    = []byte("assets")
	bucketItems     = []byte("items")
	bucketPlaylists = []byte("playlists")
	bucketSchedules = []byte("schedules")
	bucketGroups    = []byte("groups")
	bucketScreens   = []byte("screens")
	bucketTokens    = []byte("screen_tokens") // token hash → screen id
	bucketStatus    = []byte("screen_status")
	bucketAudit     = []byte("audit") // big-endian sequence → entry
)

var keySchemaVersion = []byte("schema_version")

// Store is the server's state. It is safe for concurrent use.
type Store struct {
	db  *boltDB // notes commits that fail for lack of space (disk.go)
	dir string
	now func() time.Time

	// disk tracks writes failing for lack of space (disk.go).
	disk diskState

	// assetMu orders blob file operations against asset metadata changes,
	// so a delete cannot remove a blob an upload has just re-registered.
	assetMu sync.Mutex
	// assets is the metadata of assets served or uploaded since start
	// (asset_index.go), kept in step with the assets bucket after each
	// commit.
	assets assetIndex
	// changeMu serialises change-set steps. Drafting validates in one
	// transaction that is rolled back and records in a second; the lock
	// keeps the set from changing between the two.
	changeMu sync.Mutex

	// mem is every screen and group, decoded, kept in step with the file
	// by commit handlers (memindex.go).
	mem memIndex
}

// Open opens (creating if needed) the store in dataDir and brings its schema
// up to date. now is the clock for timestamps; nil means time.Now.
func Open(dataDir string, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	if dataDir == "" {
		return nil, errors.New("open store: data dir is empty")
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "assets"), 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path := filepath.Join(dataDir, DBFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open store: data dir %s is in use by another process (lock on %s held for more than %s)", dataDir, path, openTimeout)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{dir: dataDir, now: now}
	s.db = &boltDB{DB: db, s: s}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadIndex(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Holding the bbolt lock means no other server uses this data dir, so
	// temporary files left here are a crashed upload's and safe to remove.
	s.removeTempFiles()
	return s, nil
}

// removeTempFiles deletes what an upload or screenshot interrupted by a
// crash or power cut left behind. Failures only cost disk space, so they
// are ignored.
func (s *Store) removeTempFiles() {
	for _, pattern := range []string{
		filepath.Join(s.dir, "assets", "tmp", "upload-*"),
		filepath.Join(s.dir, screenshotDir, "*.tmp"),
		filepath.Join(s.dir, playerBuildDir, "tmp", "upload-*"),
	} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			os.Remove(m)
		}
	}
	// A backup's staging folder of hard links (backup.go).
	stages, _ := filepath.Glob(filepath.Join(s.dir, "backup-stage-*"))
	for _, m := range stages {
		os.RemoveAll(m)
	}
}

// Close closes the bbolt file. Every write acknowledged before Close was
// already committed by its own transaction.
func (s *Store) Close() error { return s.db.Close() }

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Commits is the id of the last committed write transaction; bbolt numbers
// them one by one, so the difference between two calls is how many write
// transactions (each one fsync) committed in between. Tests use it to keep
// batching honest: how many commits an ingest, a prune or a group command
// costs.
func (s *Store) Commits() uint64 {
	var id uint64
	s.db.View(func(tx *bolt.Tx) error {
		id = uint64(tx.ID()) // a read transaction sees the last commit's id
		return nil
	})
	return id
}

// migrations bring an older file up to date; entry i moves the schema from
// version i to i+1. Append only: never edit a migration that has shipped.
var migrations = []func(tx *bolt.Tx) error{
	func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAssets, bucketItems, bucketPlaylists, bucketSchedules,
			bucketGroups, bucketScreens, bucketTokens, bucketStatus, bucketAudit} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// Schema 2: remote commands (commands.go).
	migrateCommands,
	// Schema 3: screen health history, alerts, webhooks (history.go).
	migrateHealth,
	// Schema 4: urgent notices (urgent.go).
	migrateUrgent,
	// Schema 5: proof of play (plays.go).
	migratePlays,
	// Schema 6: people (users.go, sessions.go) and change sets
	// (changesets.go). Content already stored is the published state.
	migratePeople,
	// Schema 7: the audit trail becomes a hash chain (audit.go).
	migrateAuditChain,
	// Schema 8: safe mode (safemode.go).
	migrateSafeMode,
	// Schema 9: player builds and roll-outs (player_builds.go, rollouts.go).
	migrateRollouts,
}

// SchemaVersion is the version a fully migrated file has.
func SchemaVersion() int { return len(migrations) }

func (s *Store) migrate() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		v := 0
		if b := meta.Get(keySchemaVersion); len(b) == 8 {
			v = int(binary.BigEndian.Uint64(b))
		}
		if v > len(migrations) {
			return fmt.Errorf("migrate: data file has schema version %d, newer than this server understands (%d)", v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate to schema %d: %w", v+1, err)
			}
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(v))
		return meta.Put(keySchemaVersion, b[:])
	})
}

// newID returns a short random id with a kind prefix, e.g. "itm_3f9a0c1d2e4b".
// 48 random bits make a collision unlikely; callers still check.
func newID(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("store: random id: %v", err))
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}

// freshID returns an id with prefix that is not yet a key of bucket.
func freshID(b *bolt.Bucket, prefix string) string {
	for {
		id := newID(prefix)
		if b.Get([]byte(id)) == nil {
			return id
		}
	}
}

// newOrFreshID returns a fresh id when id is empty, else id itself if it is
// not yet taken: change sets assign ids when an object is drafted, so
// later drafts in the same set can refer to it.
func newOrFreshID(b *bolt.Bucket, kind, prefix, id string) (string, error) {
	if id == "" {
		return freshID(b, prefix), nil
	}
	if b.Get([]byte(id)) != nil {
		return "", ConflictError{Msg: fmt.Sprintf("%s %q already exists", kind, id)}
	}
	return id, nil
}

// update runs fn in a read-write transaction and returns its result.
func update[T any](s *Store, fn func(tx *bolt.Tx) (T, error)) (T, error) {
	var out T
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

func getJSON(b *bolt.Bucket, id string, v any) (bool, error) {
	raw := b.Get([]byte(id))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decode %q: %w", id, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, id string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", id, err)
	}
	return b.Put([]byte(id), raw)
}

// listJSON decodes every value of bucket name, in key order.
func listJSON[T any](tx *bolt.Tx, name []byte) ([]T, error) {
	out := []T{}
	err := tx.Bucket(name).ForEach(func(k, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decode %s %q: %w", name, k, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

func list[T any](s *Store, name []byte) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = listJSON[T](tx, name)
		return err
	})
	return out, err
}

func get[T any](s *Store, name []byte, kind, id string) (T, error) {
	var v T
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(name), id, &v)
		if err != nil {
			return err
		}
		if !ok {
			return NotFoundError{Kind: kind, ID: id}
		}
		return nil
	})
	return v, err
}

func exists(tx *bolt.Tx, name []byte, id string) bool {
	return id != "" && tx.Bucket(name).Get([]byte(id)) != nil
}
