package cache

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/assets"
	"kiosk/playlists"
)

func openTemp(t *testing.T) (*Cache, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "cache.db")
	c, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

// blob returns n deterministic pseudo-random bytes and their AssetRef.
func blob(seed uint64, n int) ([]byte, playlists.AssetRef) {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b, playlists.AssetRef{SHA256: assets.Sum(b), Size: int64(n), MIME: assets.MIMEPNG}
}

// manifest builds a sealed manifest showing one item per asset.
func manifest(refs ...playlists.AssetRef) *playlists.Manifest {
	m := &playlists.Manifest{Timezone: playlists.DefaultTimezone, Schedules: []playlists.Schedule{}, Playlists: []playlists.Playlist{}, Items: []playlists.Item{}, Assets: []playlists.AssetRef{}}
	pl := playlists.Playlist{ID: "p1", Name: "main"}
	for i, r := range refs {
		id := string(rune('a' + i))
		m.Items = append(m.Items, playlists.Item{ID: id, Kind: playlists.KindPSA, Title: "t" + id, Asset: r.SHA256, DurationS: 5})
		m.Assets = append(m.Assets, r)
		pl.Items = append(pl.Items, id)
	}
	m.Playlists = append(m.Playlists, pl)
	m.Schedules = append(m.Schedules, playlists.Schedule{ID: "s1", Playlist: "p1", Target: playlists.Target{All: true}})
	m.Seal()
	return m
}

func readAll(t *testing.T, c *Cache, sha string) []byte {
	t.Helper()
	r, err := c.OpenAsset(sha)
	if err != nil {
		t.Fatalf("OpenAsset(%s): %v", sha[:8], err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read asset %s: %v", sha[:8], err)
	}
	return b
}

func TestApplySwitchAndReopen(t *testing.T) {
	c, path := openTemp(t)
	if m, err := c.Applied(); err != nil || m != nil {
		t.Fatalf("fresh cache Applied() = %v, %v; want nil, nil", m, err)
	}
	small, smallRef := blob(1, 1000)
	big, bigRef := blob(2, 3*ChunkSize+17)
	m := manifest(smallRef, bigRef)

	if err := c.Apply(m); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Apply before assets are stored: got %v, want ErrIncomplete", err)
	}
	for _, a := range []struct {
		b   []byte
		ref playlists.AssetRef
	}{{small, smallRef}, {big, bigRef}} {
		if err := c.Store(a.ref, bytes.NewReader(a.b)); err != nil {
			t.Fatalf("Store(%s): %v", a.ref.SHA256[:8], err)
		}
	}
	if err := c.Apply(m); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := c.AppliedVersion(); got != m.Version {
		t.Errorf("AppliedVersion() = %q, want %q", got, m.Version)
	}
	if c.Bytes() < int64(len(big)) {
		t.Errorf("Bytes() = %d, want at least the %d bytes stored", c.Bytes(), len(big))
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	c2, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer c2.Close()
	got, err := c2.Applied()
	if err != nil || got == nil {
		t.Fatalf("Applied() after reopen = %v, %v; want the manifest", got, err)
	}
	if got.Version != m.Version || got.ComputeVersion() != m.Version {
		t.Errorf("reopened manifest version %q (content %q), want %q", got.Version, got.ComputeVersion(), m.Version)
	}
	if c2.AppliedVersion() != m.Version {
		t.Errorf("AppliedVersion() after reopen = %q, want %q", c2.AppliedVersion(), m.Version)
	}
	if b := readAll(t, c2, bigRef.SHA256); !bytes.Equal(b, big) {
		t.Errorf("big asset after reopen: got %d bytes, want the %d stored", len(b), len(big))
	}
	if b := readAll(t, c2, smallRef.SHA256); !bytes.Equal(b, small) {
		t.Errorf("small asset after reopen differs")
	}
}

func TestApplyRefusesTamperedManifest(t *testing.T) {
	c, _ := openTemp(t)
	m := manifest()
	m.Items = append(m.Items, playlists.Item{ID: "zz", Kind: playlists.KindNotice, Title: "sneaked in"})
	if err := c.Apply(m); err == nil {
		t.Fatal("Apply of a manifest whose version does not match its content succeeded, want an error")
	}
	if v := c.AppliedVersion(); v != "" {
		t.Errorf("AppliedVersion() = %q after a refused apply, want empty", v)
	}
}

func TestCorruptBytesRejectedOldKept(t *testing.T) {
	c, _ := openTemp(t)
	old, oldRef := blob(3, 5000)
	if err := c.Store(oldRef, bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	m1 := manifest(oldRef)
	if err := c.Apply(m1); err != nil {
		t.Fatal(err)
	}

	good, newRef := blob(4, 2*ChunkSize+5)
	tests := []struct {
		name string
		body []byte
	}{
		{"flipped byte", func() []byte { b := bytes.Clone(good); b[ChunkSize+3] ^= 1; return b }()},
		{"truncated", good[:len(good)-1]},
		{"too long", append(bytes.Clone(good), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Store(newRef, bytes.NewReader(tt.body))
			if !errors.Is(err, assets.ErrMismatch) {
				t.Fatalf("Store(corrupt) = %v, want assets.ErrMismatch", err)
			}
			if c.Has(newRef.SHA256) {
				t.Error("corrupt asset is marked present")
			}
			if _, err := c.Info(newRef.SHA256); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Info after rejected download = %v, want fs.ErrNotExist (staging removed)", err)
			}
			if n := countChunks(t, c, newRef.SHA256); n != 0 {
				t.Errorf("%d staged chunks left after rejection, want 0", n)
			}
			if err := c.Apply(manifest(newRef)); !errors.Is(err, ErrIncomplete) {
				t.Errorf("Apply with the rejected asset = %v, want ErrIncomplete", err)
			}
			if v := c.AppliedVersion(); v != m1.Version {
				t.Errorf("applied version = %q, want the old %q", v, m1.Version)
			}
			if b := readAll(t, c, oldRef.SHA256); !bytes.Equal(b, old) {
				t.Error("old asset no longer reads back intact")
			}
		})
	}
}

func countChunks(t *testing.T, c *Cache, sha string) int {
	t.Helper()
	n := 0
	err := c.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketChunks).Cursor()
		for k, _ := cur.Seek([]byte(sha)); k != nil && bytes.HasPrefix(k, []byte(sha)); k, _ = cur.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGCAfterNewerVersion(t *testing.T) {
	c, _ := openTemp(t)
	a, aRef := blob(5, ChunkSize*2+1) // only in v1
	b, bRef := blob(6, 100)           // in both
	d, dRef := blob(7, 300)           // only in v2
	for _, x := range []struct {
		b   []byte
		ref playlists.AssetRef
	}{{a, aRef}, {b, bRef}, {d, dRef}} {
		if err := c.Store(x.ref, bytes.NewReader(x.b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Apply(manifest(aRef, bRef)); err != nil {
		t.Fatal(err)
	}
	// Before the switch GC must keep what v1 needs; d is unreferenced yet.
	res, err := c.GC()
	if err != nil {
		t.Fatal(err)
	}
	if res.Assets != 1 || !c.Has(aRef.SHA256) || c.Has(dRef.SHA256) {
		t.Fatalf("GC under v1 removed %d assets (has a=%v d=%v), want only d removed", res.Assets, c.Has(aRef.SHA256), c.Has(dRef.SHA256))
	}
	if err := c.Store(dRef, bytes.NewReader(d)); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(manifest(bRef, dRef)); err != nil {
		t.Fatal(err)
	}
	res, err = c.GC()
	if err != nil {
		t.Fatal(err)
	}
	if res.Assets != 1 || res.Bytes != aRef.Size {
		t.Errorf("GC = %+v, want 1 asset of %d bytes", res, aRef.Size)
	}
	if c.Has(aRef.SHA256) || countChunks(t, c, aRef.SHA256) != 0 {
		t.Error("asset only v1 used survived GC")
	}
	if !c.Has(bRef.SHA256) || !c.Has(dRef.SHA256) {
		t.Error("GC removed an asset the applied manifest needs")
	}
	if _, err := c.OpenAsset(aRef.SHA256); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenAsset(removed) = %v, want fs.ErrNotExist", err)
	}
}

func TestGCSparesAssetBeingStaged(t *testing.T) {
	c, _ := openTemp(t)
	data, ref := blob(8, ChunkSize+10)
	w, err := c.NewAssetWriter(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:ChunkSize+1]); err != nil {
		t.Fatal(err)
	}
	if res, err := c.GC(); err != nil || res.Assets != 0 {
		t.Fatalf("GC during staging = %+v, %v; want nothing removed", res, err)
	}
	if _, err := c.NewAssetWriter(ref); !errors.Is(err, ErrBusy) {
		t.Errorf("second writer for the same asset = %v, want ErrBusy", err)
	}
	if _, err := w.Write(data[ChunkSize+1:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := readAll(t, c, ref.SHA256); !bytes.Equal(got, data) {
		t.Error("asset staged across a GC reads back different")
	}
}

func TestOpenSweepsInterruptedDownload(t *testing.T) {
	c, path := openTemp(t)
	data, ref := blob(9, 3*ChunkSize)
	w, err := c.NewAssetWriter(ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:2*ChunkSize+1]); err != nil {
		t.Fatal(err)
	}
	if n := countChunks(t, c, ref.SHA256); n != 2 {
		t.Fatalf("staged chunks = %d, want 2 written as they arrived", n)
	}
	if _, err := c.OpenAsset(ref.SHA256); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenAsset(incomplete) = %v, want fs.ErrNotExist", err)
	}
	// Simulate the power cut: close without Commit or Abort.
	c.Close()

	c2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Info(ref.SHA256); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Info after reopen = %v, want the interrupted staging swept", err)
	}
	if n := countChunks(t, c2, ref.SHA256); n != 0 {
		t.Errorf("%d orphan chunks after reopen, want 0", n)
	}
}

func TestOpenInUse(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	c2, err := Open(path)
	if err == nil {
		c2.Close()
		t.Fatal("second Open of a held file succeeded, want ErrInUse")
	}
	if !errors.Is(err, ErrInUse) {
		t.Errorf("second Open = %v, want ErrInUse", err)
	}
	if d := time.Since(start); d > OpenTimeout+2*time.Second {
		t.Errorf("second Open took %v, want about %v", d, OpenTimeout)
	}
}

func TestReaderSeekAcrossChunks(t *testing.T) {
	c, _ := openTemp(t)
	data, ref := blob(10, 2*ChunkSize+777)
	if err := c.Store(ref, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	tests := []struct {
		name   string
		offset int64
		whence int
		n      int
		wantAt int64
	}{
		{"start", 0, io.SeekStart, 100, 0},
		{"straddles first boundary", ChunkSize - 10, io.SeekStart, 20, ChunkSize - 10},
		{"whole middle chunk and more", ChunkSize - 1, io.SeekStart, ChunkSize + 2, ChunkSize - 1},
		{"from end", -50, io.SeekEnd, 50, size - 50},
		{"last byte", size - 1, io.SeekStart, 1, size - 1},
	}
	r, err := c.OpenAsset(ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, err := r.Seek(tt.offset, tt.whence)
			if err != nil || pos != tt.wantAt {
				t.Fatalf("Seek(%d, %d) = %d, %v; want %d", tt.offset, tt.whence, pos, err, tt.wantAt)
			}
			got := make([]byte, tt.n)
			if _, err := io.ReadFull(r, got); err != nil {
				t.Fatalf("ReadFull(%d) at %d: %v", tt.n, pos, err)
			}
			if want := data[pos : pos+int64(tt.n)]; !bytes.Equal(got, want) {
				t.Errorf("bytes at %d differ from the stored ones", pos)
			}
		})
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to -1 succeeded, want an error")
	}
	if _, err := r.Seek(size+10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read past the end = %d, %v; want 0, EOF", n, err)
	}
}

func TestReaderServesHTTPRange(t *testing.T) {
	c, _ := openTemp(t)
	data, ref := blob(11, 2*ChunkSize+10)
	if err := c.Store(ref, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs, err := c.OpenAsset(ref.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", ref.MIME)
		http.ServeContent(w, r, "", time.Time{}, rs)
	}))
	defer srv.Close()

	start, end := int64(ChunkSize-100), int64(ChunkSize+100)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Range", "bytes=262044-262244")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("status %d, want 206", resp.StatusCode)
	}
	if !bytes.Equal(body, data[start:end+1]) {
		t.Errorf("range body: got %d bytes, want the %d bytes of [%d,%d]", len(body), end-start+1, start, end)
	}
}

func TestStageAssetResumesKeptChunks(t *testing.T) {
	c, _ := openTemp(t)
	data, ref := blob(12, 3*ChunkSize+99)

	w, err := c.StageAsset(ref)
	if err != nil {
		t.Fatal(err)
	}
	if w.Offset() != 0 {
		t.Fatalf("Offset() of a fresh stage = %d, want 0", w.Offset())
	}
	// The connection drops part way into the third chunk.
	if _, err := w.Write(data[:2*ChunkSize+500]); err != nil {
		t.Fatal(err)
	}
	w.Keep()
	if c.Has(ref.SHA256) {
		t.Fatal("a kept partial download counts as present")
	}

	w2, err := c.StageAsset(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w2.Offset(), int64(2*ChunkSize); got != want {
		t.Fatalf("Offset() after Keep = %d, want %d (the full chunks only)", got, want)
	}
	if _, err := w2.Write(data[w2.Offset():]); err != nil {
		t.Fatal(err)
	}
	if err := w2.Commit(); err != nil {
		t.Fatalf("Commit of a resumed download: %v", err)
	}
	if got := readAll(t, c, ref.SHA256); !bytes.Equal(got, data) {
		t.Error("resumed asset reads back different from the original")
	}
}

func TestStageAssetResumeThenBadTailRejected(t *testing.T) {
	c, _ := openTemp(t)
	data, ref := blob(13, 2*ChunkSize+10)
	w, _ := c.StageAsset(ref)
	w.Write(data[:ChunkSize+1])
	w.Keep()

	w2, err := c.StageAsset(ref)
	if err != nil {
		t.Fatal(err)
	}
	tail := bytes.Clone(data[w2.Offset():])
	tail[len(tail)-1] ^= 1
	w2.Write(tail)
	if err := w2.Commit(); !errors.Is(err, assets.ErrMismatch) {
		t.Fatalf("Commit with a corrupt tail = %v, want ErrMismatch", err)
	}
	if _, err := c.Info(ref.SHA256); !errors.Is(err, fs.ErrNotExist) || countChunks(t, c, ref.SHA256) != 0 {
		t.Errorf("staging survived a mismatch (Info err %v, %d chunks); want it all discarded", err, countChunks(t, c, ref.SHA256))
	}

	// Restart: a server that ignores Range sends everything again.
	w3, _ := c.StageAsset(ref)
	w3.Write(data[:ChunkSize+5])
	w3.Keep()
	w4, _ := c.StageAsset(ref)
	if w4.Offset() == 0 {
		t.Fatal("nothing to resume, want one kept chunk")
	}
	if err := w4.Restart(); err != nil {
		t.Fatal(err)
	}
	if w4.Offset() != 0 {
		t.Errorf("Offset() after Restart = %d, want 0", w4.Offset())
	}
	w4.Write(data)
	if err := w4.Commit(); err != nil {
		t.Fatalf("Commit after Restart: %v", err)
	}
}

func TestScreenIdentityPersists(t *testing.T) {
	c, path := openTemp(t)
	if id, name := c.Screen(); id != "" || name != "" {
		t.Fatalf("fresh Screen() = %q, %q; want empty", id, name)
	}
	if err := c.SetScreen("scr-9", "东门 小区"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if id, name := c2.Screen(); id != "scr-9" || name != "东门 小区" {
		t.Errorf("Screen() after reopen = %q, %q; want scr-9, 东门 小区", id, name)
	}
}

// A damaged applied manifest must not keep the player from starting: Open
// succeeds with no applied version, Applied reports the damage, and a new
// manifest replaces it.
func TestOpenSurvivesUnreadableManifest(t *testing.T) {
	c, path := openTemp(t)
	if err := c.Apply(manifest()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyManifest, []byte(`{"version":"garbage`))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	c2, err := Open(path)
	if err != nil {
		t.Fatalf("Open with an unreadable manifest = %v, want success so the screen can start", err)
	}
	defer c2.Close()
	if v := c2.AppliedVersion(); v != "" {
		t.Errorf("AppliedVersion() = %q, want empty for an unreadable manifest", v)
	}
	if m, err := c2.Applied(); err == nil {
		t.Errorf("Applied() = %v, nil; want the decode error", m)
	}
	m := manifest()
	if err := c2.Apply(m); err != nil {
		t.Fatalf("Apply over the damaged manifest: %v", err)
	}
	if got, err := c2.Applied(); err != nil || got == nil || got.Version != m.Version {
		t.Errorf("Applied() after replacing = %v, %v; want version %s", got, err, m.Version)
	}
}
