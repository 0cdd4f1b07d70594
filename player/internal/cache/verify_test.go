package cache

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// corrupt flips one byte of chunk i of sha, behind the cache's back.
func corrupt(t *testing.T, c *Cache, sha string, i int) {
	t.Helper()
	err := c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChunks)
		v := bytes.Clone(b.Get(chunkKey(sha, i)))
		if v == nil {
			return fmt.Errorf("no chunk %d", i)
		}
		v[len(v)/2] ^= 0xff
		return b.Put(chunkKey(sha, i), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDropsDamagedAssets(t *testing.T) {
	c, _ := openTemp(t)
	goodData, good := blob(1, ChunkSize+100)
	badData, bad := blob(2, 2*ChunkSize+7)
	shortData, short := blob(3, 1000)
	for _, a := range []struct {
		ref  playlists.AssetRef
		data []byte
	}{{good, goodData}, {bad, badData}, {short, shortData}} {
		if err := c.Store(a.ref, bytes.NewReader(a.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Apply(manifest(good, bad, short)); err != nil {
		t.Fatal(err)
	}
	corrupt(t, c, bad.SHA256, 1)
	// A truncated chunk: the wrong length must count as damage too.
	if err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChunks).Put(chunkKey(short.SHA256, 0), shortData[:10])
	}); err != nil {
		t.Fatal(err)
	}

	res, err := c.Verify()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(res.Bad)
	wantBad := []string{bad.SHA256, short.SHA256}
	slices.Sort(wantBad)
	if res.Checked != 3 || !slices.Equal(res.Bad, wantBad) {
		t.Fatalf("verify: got checked %d bad %v, want 3 checked and bad %v", res.Checked, res.Bad, wantBad)
	}
	if !c.Has(good.SHA256) || c.Has(bad.SHA256) || c.Has(short.SHA256) {
		t.Errorf("after verify: has good=%v bad=%v short=%v, want true false false",
			c.Has(good.SHA256), c.Has(bad.SHA256), c.Has(short.SHA256))
	}
	if n := countChunks(t, c, bad.SHA256); n != 0 {
		t.Errorf("chunks of the damaged asset left: %d, want 0", n)
	}
	if got := readAll(t, c, good.SHA256); !bytes.Equal(got, goodData) {
		t.Error("good asset changed by verify")
	}
	// A second pass finds nothing more.
	if res, err := c.Verify(); err != nil || res.Checked != 1 || len(res.Bad) != 0 {
		t.Errorf("second verify: got %+v, %v; want 1 checked, none bad", res, err)
	}
}

func TestVerifySkipsAssetBeingStaged(t *testing.T) {
	c, _ := openTemp(t)
	data, ref := blob(4, 500)
	if err := c.Store(ref, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	corrupt(t, c, ref.SHA256, 0)
	c.mu.Lock()
	c.staging[ref.SHA256] = true
	c.mu.Unlock()
	if res, err := c.Verify(); err != nil || res.Checked != 0 {
		t.Fatalf("verify with the asset being staged: got %+v, %v; want it skipped", res, err)
	}
	c.mu.Lock()
	delete(c.staging, ref.SHA256)
	c.mu.Unlock()
	if res, err := c.Verify(); err != nil || len(res.Bad) != 1 {
		t.Fatalf("verify afterwards: got %+v, %v; want it found bad", res, err)
	}
}

func TestDropAssetsKeepsManifest(t *testing.T) {
	c, _ := openTemp(t)
	d1, a1 := blob(5, 300)
	d2, a2 := blob(6, ChunkSize*2)
	for _, a := range []struct {
		ref  playlists.AssetRef
		data []byte
	}{{a1, d1}, {a2, d2}} {
		if err := c.Store(a.ref, bytes.NewReader(a.data)); err != nil {
			t.Fatal(err)
		}
	}
	m := manifest(a1, a2)
	if err := c.Apply(m); err != nil {
		t.Fatal(err)
	}
	res, err := c.DropAssets()
	if err != nil {
		t.Fatal(err)
	}
	if res.Assets != 2 || res.Bytes != a1.Size+a2.Size {
		t.Errorf("drop: got %+v, want 2 assets of %d bytes", res, a1.Size+a2.Size)
	}
	if c.Has(a1.SHA256) || c.Has(a2.SHA256) || countChunks(t, c, a2.SHA256) != 0 {
		t.Error("assets still present after DropAssets")
	}
	if c.AppliedVersion() != m.Version {
		t.Errorf("applied version after drop: got %q, want %q kept", c.AppliedVersion(), m.Version)
	}
}

func TestRememberCommandBounded(t *testing.T) {
	c, path := openTemp(t)
	if _, ok, err := c.CommandResult("cmd_0"); ok || err != nil {
		t.Fatalf("fresh cache: got ok=%v err=%v, want nothing remembered", ok, err)
	}
	first := playlists.CommandResult{ID: "cmd_0", OK: true, Result: "first"}
	if err := c.RememberCommand(first); err != nil {
		t.Fatal(err)
	}
	// Remembering the same id again keeps the first outcome.
	if err := c.RememberCommand(playlists.CommandResult{ID: "cmd_0", Error: "second"}); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := c.CommandResult("cmd_0"); !ok || got != first {
		t.Fatalf("remembered: got %+v ok=%v, want %+v", got, ok, first)
	}
	for i := 1; i <= MaxRememberedCommands; i++ {
		if err := c.RememberCommand(playlists.CommandResult{ID: fmt.Sprintf("cmd_%d", i), OK: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := c.CommandResult("cmd_0"); ok {
		t.Error("oldest command still remembered beyond the bound")
	}
	c.Close()
	c2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for _, id := range []string{"cmd_1", fmt.Sprintf("cmd_%d", MaxRememberedCommands)} {
		if _, ok, err := c2.CommandResult(id); !ok || err != nil {
			t.Errorf("after reopen, %s: ok=%v err=%v, want remembered", id, ok, err)
		}
	}
	if err := c2.RememberCommand(playlists.CommandResult{}); err == nil {
		t.Error("remembering an empty id: got nil error")
	}
}
