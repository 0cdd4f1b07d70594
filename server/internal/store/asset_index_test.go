package store

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// setAssetRecord rewrites sha's record in the bucket behind the index's
// back, so a test can tell an answer from memory from one read there.
func setAssetRecord(t *testing.T, s *Store, a Asset) {
	t.Helper()
	if err := s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketAssets), a.SHA256, a) }); err != nil {
		t.Fatal(err)
	}
}

func TestAssetMetaFromMemory(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := s.PutAsset(bytes.NewReader(png("indexed")), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	// An upload is in the index at once: a change to the record that did
	// not go through the store is not seen.
	changed := a
	changed.MIME = "image/changed-behind-the-index"
	setAssetRecord(t, s, changed)
	if got, err := s.AssetMeta(a.SHA256); err != nil || got != a {
		t.Errorf("AssetMeta after upload: got %+v, %v; want the uploaded record from memory", got, err)
	}
	s.Close()

	// A fresh start reads nothing until asked, then reads the store once.
	s, err = Open(dir, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := len(s.assets.m); n != 0 {
		t.Errorf("index at start: %d records, want none (filled lazily)", n)
	}
	if got, err := s.AssetMeta(a.SHA256); err != nil || got != changed {
		t.Fatalf("AssetMeta after restart: got %+v, %v; want the stored record", got, err)
	}
	setAssetRecord(t, s, a)
	if got, _ := s.AssetMeta(a.SHA256); got != changed {
		t.Errorf("second AssetMeta: got MIME %q, want the remembered %q (no store read)", got.MIME, changed.MIME)
	}

	// Unknown and malformed hashes are NotFound and are not remembered.
	for _, sha := range []string{"0000000000000000000000000000000000000000000000000000000000000000", "../etc/passwd", a.SHA256[:10]} {
		var nf NotFoundError
		if _, err := s.AssetMeta(sha); !errors.As(err, &nf) {
			t.Errorf("AssetMeta(%q): got %v, want NotFoundError", sha, err)
		}
		if _, err := s.OpenBlob(sha); err == nil {
			t.Errorf("OpenBlob(%q): opened", sha)
		}
	}
	if n := len(s.assets.m); n != 1 {
		t.Errorf("index: %d records, want 1", n)
	}

	f, err := s.OpenBlob(a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, png("indexed")) {
		t.Errorf("OpenBlob read %q", got)
	}

	// A delete removes the record from memory with the store.
	if err := s.DeleteAsset(a.SHA256); err != nil {
		t.Fatal(err)
	}
	var nf NotFoundError
	if _, err := s.AssetMeta(a.SHA256); !errors.As(err, &nf) {
		t.Errorf("AssetMeta after delete: got %v, want NotFoundError", err)
	}
}

// A lookup that read the record before a delete committed does not put it
// back into the index after the delete removed it.
func TestAssetIndexFillRacingDelete(t *testing.T) {
	var x assetIndex
	a := Asset{SHA256: "ab", Size: 1}
	_, ok, gen := x.get(a.SHA256) // the lookup misses and goes to the store
	if ok {
		t.Fatal("empty index has the record")
	}
	x.remove(a.SHA256) // meanwhile the delete commits
	x.fill(a, gen)     // the lookup returns with what it read before
	if _, ok, _ := x.get(a.SHA256); ok {
		t.Error("a fill older than a delete put the record back")
	}
	_, _, gen = x.get(a.SHA256)
	x.fill(a, gen)
	if got, ok, _ := x.get(a.SHA256); !ok || got != a {
		t.Errorf("a fill with no delete since: got %+v %v", got, ok)
	}
}
