// Package cache is the player's local store: one bbolt file holding the
// applied manifest and every asset it needs, split into chunks, so a screen
// can start and keep playing with no server at all.
//
// The rules that keep a screen from ever showing half-downloaded content:
//
//   - Asset bytes are staged chunk by chunk in short write transactions
//     under an "incomplete" record and only marked complete once the hash
//     and size match what the manifest promised.
//   - A manifest becomes the applied one in a single transaction that also
//     checks that every asset it references is complete. A power cut leaves
//     either the old applied manifest or the new one, never a mix.
//   - Staging left behind by a crash is swept on Open.
//   - No read transaction is ever held across network I/O or across a
//     reader's lifetime: each chunk is read in its own short transaction.
package cache

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"kiosk/playlists"
)

// ChunkSize is the largest value stored under one key. Small enough that a
// single write transaction stays short and the reader's buffer stays cheap,
// large enough that a video is not millions of keys.
const ChunkSize = 256 << 10

// OpenTimeout is how long Open waits for another process to release the
// file before giving up. bbolt would otherwise wait forever.
const OpenTimeout = 2 * time.Second

// schemaVersion is written to the meta bucket; a file written by a newer
// player is refused rather than misread.
const schemaVersion = 1

// deleteBatch bounds how many chunks one delete transaction removes, so GC of
// a large video never turns into one huge transaction.
const deleteBatch = 64

var (
	bucketMeta   = []byte("meta")
	bucketAssets = []byte("assets")
	bucketChunks = []byte("chunks")
	bucketPlays  = []byte("plays")

	keySchema   = []byte("schema")
	keyManifest = []byte("manifest")
	keyScreen   = []byte("screen")
)

// Errors callers can test for with errors.Is.
var (
	// ErrInUse means another process (usually a second player) holds the file.
	ErrInUse = errors.New("cache file in use")
	// ErrIncomplete means a manifest references an asset the cache does not
	// fully hold yet.
	ErrIncomplete = errors.New("asset not complete in cache")
	// ErrBusy means the asset is already being staged by another writer.
	ErrBusy = errors.New("asset is already being downloaded")
)

// AssetInfo is what the cache knows about one asset.
type AssetInfo struct {
	SHA256    string    `json:"-"`
	Size      int64     `json:"size"`
	MIME      string    `json:"mime"`
	ChunkSize int       `json:"chunk_size"`
	Chunks    int       `json:"chunks"`
	Complete  bool      `json:"complete"`
	StagedAt  time.Time `json:"staged_at,omitzero"`
}

// Cache is the open cache file. It is safe for concurrent use.
type Cache struct {
	db   *bolt.DB
	path string

	mu       sync.Mutex
	staging  map[string]bool // assets an AssetWriter is writing right now
	applied  string          // version of the applied manifest, "" if none
	maxPlays int             // play log bound; see SetMaxPlays in plays.go
}

// Open opens or creates the cache at path (and its directory), sweeps
// staging a crash may have left behind, and reports ErrInUse when another
// process holds the file.
func Open(path string) (*Cache, error) {
	if path == "" {
		return nil, errors.New("open cache: no file given")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open cache: create directory: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: OpenTimeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open cache %s: %w by another process (is another kiosk-player running with the same -cache?)", path, ErrInUse)
		}
		return nil, fmt.Errorf("open cache %s: %w", path, err)
	}
	// bbolt's mode applies only when it creates the file; one made by an
	// older player or by hand is tightened too, since the file holds the
	// device token and key (credentials.go).
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("open cache %s: restrict to its owner: %w", path, err)
	}
	c := &Cache{db: db, path: path, staging: map[string]bool{}}
	if err := c.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open cache %s: %w", path, err)
	}
	if err := c.sweep(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open cache %s: sweep interrupted downloads: %w", path, err)
	}
	// An applied manifest that no longer decodes (a bad SD card sector) must
	// not stop the player from starting: it counts as none, so the screen
	// shows its fallback, Applied keeps reporting the damage to the caller,
	// and the next update replaces it.
	if m, err := c.Applied(); err == nil && m != nil {
		c.applied = m.Version
	}
	return c, nil
}

func (c *Cache) init() error {
	return c.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketAssets, bucketChunks, bucketPlays} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchema); v != nil {
			var n int
			if _, err := fmt.Sscanf(string(v), "%d", &n); err != nil {
				return fmt.Errorf("schema version %q: %w", v, err)
			}
			if n > schemaVersion {
				return fmt.Errorf("written by a newer player (schema %d, this player knows %d); delete the file to start fresh", n, schemaVersion)
			}
		}
		return meta.Put(keySchema, fmt.Appendf(nil, "%d", schemaVersion))
	})
}

// Path is the cache file's path.
func (c *Cache) Path() string { return c.path }

// Close closes the file. Readers opened with OpenAsset fail afterwards.
func (c *Cache) Close() error { return c.db.Close() }

// Bytes is the size of the cache file, i.e. what it costs on disk.
func (c *Cache) Bytes() int64 {
	var n int64
	if err := c.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
		return 0
	}
	return n
}

// Applied returns the applied manifest, or nil, nil when none was applied yet.
func (c *Cache) Applied() (*playlists.Manifest, error) {
	var m *playlists.Manifest
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta).Get(keyManifest)
		if b == nil {
			return nil
		}
		m = new(playlists.Manifest)
		return json.Unmarshal(b, m)
	})
	if err != nil {
		return nil, fmt.Errorf("read applied manifest: %w", err)
	}
	return m, nil
}

// AppliedVersion is the applied manifest's version, "" when none.
func (c *Cache) AppliedVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied
}

// screenRecord is who the server last said this screen is.
type screenRecord struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SetScreen remembers the screen's id and name from the server's welcome,
// so a screen that starts without network can still say which one it is.
func (c *Cache) SetScreen(id, name string) error {
	b, err := json.Marshal(screenRecord{ID: id, Name: name})
	if err != nil {
		return err
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		if bytes.Equal(tx.Bucket(bucketMeta).Get(keyScreen), b) {
			return nil
		}
		return tx.Bucket(bucketMeta).Put(keyScreen, b)
	})
}

// Screen returns what SetScreen last stored; empty strings when nothing.
func (c *Cache) Screen() (id, name string) {
	var r screenRecord
	c.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta).Get(keyScreen); b != nil {
			json.Unmarshal(b, &r)
		}
		return nil
	})
	return r.ID, r.Name
}

// Info returns what the cache holds about sha; an absent asset is an error
// wrapping fs.ErrNotExist.
func (c *Cache) Info(sha string) (AssetInfo, error) {
	var info AssetInfo
	err := c.db.View(func(tx *bolt.Tx) error {
		var err error
		info, err = getInfo(tx, sha)
		return err
	})
	return info, err
}

// Has reports whether sha is completely in the cache.
func (c *Cache) Has(sha string) bool {
	info, err := c.Info(sha)
	return err == nil && info.Complete
}

func getInfo(tx *bolt.Tx, sha string) (AssetInfo, error) {
	v := tx.Bucket(bucketAssets).Get([]byte(sha))
	if v == nil {
		return AssetInfo{}, fmt.Errorf("asset %s: %w", sha, fs.ErrNotExist)
	}
	var info AssetInfo
	if err := json.Unmarshal(v, &info); err != nil {
		return AssetInfo{}, fmt.Errorf("asset %s: bad record: %w", sha, err)
	}
	info.SHA256 = sha
	return info, nil
}

func putInfo(tx *bolt.Tx, info AssetInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAssets).Put([]byte(info.SHA256), b)
}

// Apply makes m the applied manifest; see ApplyBytes.
func (c *Cache) Apply(m *playlists.Manifest) error {
	if m == nil {
		return errors.New("apply manifest: nil manifest")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("apply manifest: %w", err)
	}
	_, err = c.ApplyBytes(b)
	return err
}

// ApplyBytes makes the manifest in body (as the server served it) the
// applied one, in one transaction, and returns it decoded. It refuses bytes
// that do not hash to the version they claim, and a manifest that references
// an asset the cache does not completely hold, so the applied manifest is
// always playable. The bytes are stored as they came, so fields this player
// does not know survive for the next check.
func (c *Cache) ApplyBytes(body []byte) (*playlists.Manifest, error) {
	return c.ApplySigned(body, 0)
}

// ApplySigned is ApplyBytes for a manifest whose signature carried serial:
// the serial is stored in the same transaction, so a later manifest must
// carry a higher one (0 leaves the stored serial alone).
func (c *Cache) ApplySigned(body []byte, serial uint64) (*playlists.Manifest, error) {
	version, err := playlists.VerifyManifest(body)
	if err != nil {
		return nil, fmt.Errorf("apply manifest: %w", err)
	}
	m := new(playlists.Manifest)
	if err := json.Unmarshal(body, m); err != nil {
		return nil, fmt.Errorf("apply manifest %s: %w", version, err)
	}
	// Holding c.mu across the transaction keeps AppliedVersion in step with
	// the file; Apply is rare, so the wait is harmless.
	c.mu.Lock()
	defer c.mu.Unlock()
	err = c.db.Update(func(tx *bolt.Tx) error {
		for _, a := range m.Assets {
			info, err := getInfo(tx, a.SHA256)
			if err != nil || !info.Complete {
				return fmt.Errorf("%w: %s", ErrIncomplete, a.SHA256)
			}
			if info.Size != a.Size {
				return fmt.Errorf("%w: %s holds %d bytes, manifest says %d", ErrIncomplete, a.SHA256, info.Size, a.Size)
			}
		}
		if serial > 0 {
			if err := putSerial(tx, serial); err != nil {
				return err
			}
		}
		// bbolt keeps the slice until the transaction ends; body is ours
		// for that long.
		return tx.Bucket(bucketMeta).Put(keyManifest, body)
	})
	if err != nil {
		return nil, fmt.Errorf("apply manifest %s: %w", version, err)
	}
	c.applied = version
	return m, nil
}

// GCResult says what a GC pass removed.
type GCResult struct {
	Assets int
	Bytes  int64
}

// GC removes every asset the applied manifest does not reference, except
// those being staged right now. Each asset's record goes first (so it is
// absent at once) and its chunks follow in bounded transactions.
func (c *Cache) GC() (GCResult, error) {
	var res GCResult
	m, err := c.Applied()
	if err != nil {
		return res, err
	}
	keep := map[string]bool{}
	if m != nil {
		for _, a := range m.Assets {
			keep[a.SHA256] = true
		}
	}
	var victims []AssetInfo
	c.mu.Lock()
	err = c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssets).ForEach(func(k, v []byte) error {
			sha := string(k)
			if keep[sha] || c.staging[sha] {
				return nil
			}
			info, err := getInfo(tx, sha)
			if err != nil {
				info = AssetInfo{SHA256: sha}
			}
			victims = append(victims, info)
			return nil
		})
	})
	// Mark victims as staging so a writer cannot start on them while their
	// chunks are being deleted.
	for _, v := range victims {
		c.staging[v.SHA256] = true
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		for _, v := range victims {
			delete(c.staging, v.SHA256)
		}
		c.mu.Unlock()
	}()
	if err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	for _, v := range victims {
		if err := c.remove(v.SHA256); err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
		res.Assets++
		res.Bytes += v.Size
	}
	return res, nil
}

// remove deletes sha's record, then its chunks in bounded transactions.
func (c *Cache) remove(sha string) error {
	if err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssets).Delete([]byte(sha))
	}); err != nil {
		return fmt.Errorf("remove asset %s: %w", sha, err)
	}
	return c.deleteChunks(sha)
}

func (c *Cache) deleteChunks(sha string) error {
	prefix := []byte(sha)
	for {
		var n int
		err := c.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketChunks)
			var keys [][]byte
			cur := b.Cursor()
			for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(keys) < deleteBatch; k, _ = cur.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			// Deleting through a cursor while iterating skips keys in bbolt,
			// so collect first, then delete.
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil {
			return fmt.Errorf("delete chunks of %s: %w", sha, err)
		}
		if n < deleteBatch {
			return nil
		}
	}
}

// sweep removes staging a crash left behind: incomplete records and chunks
// that belong to no record at all (a crash between deleting a record and its
// chunks).
func (c *Cache) sweep() error {
	var stale []string
	err := c.db.View(func(tx *bolt.Tx) error {
		assetsB := tx.Bucket(bucketAssets)
		if err := assetsB.ForEach(func(k, v []byte) error {
			info, err := getInfo(tx, string(k))
			if err != nil || !info.Complete {
				stale = append(stale, string(k))
			}
			return nil
		}); err != nil {
			return err
		}
		// Visit each distinct chunk prefix once by seeking past it.
		cur := tx.Bucket(bucketChunks).Cursor()
		for k, _ := cur.First(); k != nil; {
			if len(k) < 4 {
				k, _ = cur.Next()
				continue
			}
			sha := string(k[:len(k)-4])
			if assetsB.Get([]byte(sha)) == nil {
				stale = append(stale, sha)
			}
			k, _ = cur.Seek(append([]byte(sha), 0xff, 0xff, 0xff, 0xff, 0xff))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, sha := range stale {
		if err := c.remove(sha); err != nil {
			return err
		}
	}
	return nil
}

func chunkKey(sha string, i int) []byte {
	k := make([]byte, len(sha)+4)
	copy(k, sha)
	binary.BigEndian.PutUint32(k[len(sha):], uint32(i))
	return k
}
