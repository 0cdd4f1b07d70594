package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kiosk/playlists"
)

// TestBackupUnderWriteLoadRestoresEveryAcknowledgedWrite: items are created
// without pause while the backup runs; every item acknowledged before the
// backup started is in the restored copy, with its media, and the restored
// store lists the same assets.
func TestBackupUnderWriteLoadRestoresEveryAcknowledgedWrite(t *testing.T) {
	s := openTest(t)
	var assets []string
	for i := range 5 {
		a, _, err := s.PutAsset(bytes.NewReader(png(fmt.Sprintf("picture %d", i))), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		assets = append(assets, a.SHA256)
	}

	var (
		mu    sync.Mutex
		acked []ackedItem
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			it, err := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: fmt.Sprintf("通知 %d", i), DurationS: 10, Asset: assets[i%len(assets)]})
			if err != nil {
				t.Errorf("CreateItem under load: %v", err)
				return
			}
			mu.Lock()
			acked = append(acked, ackedItem{it.ID, time.Now()})
			mu.Unlock()
		}
	}()
	// Let the load run, then back up while it keeps going.
	time.Sleep(50 * time.Millisecond)
	started := time.Now()
	var buf bytes.Buffer
	m, err := s.WriteBackup(&buf)
	if err != nil {
		t.Fatalf("WriteBackup: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	var before []string
	for _, a := range acked {
		if a.at.Before(started) {
			before = append(before, a.id)
		}
	}
	mu.Unlock()
	if len(before) == 0 {
		t.Fatal("no write was acknowledged before the backup started; the test proves nothing")
	}
	if len(m.Files) < 1+len(assets) {
		t.Errorf("manifest lists %d files, want the database and %d media files at least", len(m.Files), len(assets))
	}

	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(bytes.NewReader(buf.Bytes()), dir); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	r, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("open the restored store: %v", err)
	}
	defer r.Close()
	for _, id := range before {
		if _, err := r.GetItem(id); err != nil {
			t.Errorf("item %s, acknowledged before the backup started, is missing after restore: %v", id, err)
		}
	}
	want, _ := s.ListAssets()
	got, _ := r.ListAssets()
	if len(got) != len(want) {
		t.Errorf("restored %d assets, want %d", len(got), len(want))
	}
	for _, sha := range assets {
		f, _, err := r.OpenAsset(sha)
		if err != nil {
			t.Errorf("asset %s after restore: %v", sha, err)
			continue
		}
		f.Close()
	}
	t.Logf("%d items acknowledged before the backup; archive %d bytes, %d files", len(before), buf.Len(), len(m.Files))
}

type ackedItem struct {
	id string
	at time.Time
}

// TestBackupKeepsAMediaFileDeletedDuringIt: the staging links keep a blob
// the snapshot names even if it is deleted before its bytes are copied.
func TestBackupKeepsAMediaFileDeletedDuringIt(t *testing.T) {
	s := openTest(t)
	a, _, err := s.PutAsset(bytes.NewReader(png("soon gone")), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	stage, err := os.MkdirTemp(s.dir, "backup-stage-")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := s.stageBlobs(tx, stage)
	tx.Rollback()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAsset(a.SHA256); err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 1 {
		t.Fatalf("staged %d blobs, want 1", len(blobs))
	}
	b, err := os.ReadFile(blobs[0].staged)
	if err != nil || !bytes.Equal(b, png("soon gone")) {
		t.Errorf("staged copy after the delete: %q, %v", b, err)
	}
}

// TestRestoreRefusesDamagedArchives: a truncated archive, a flipped byte in
// the database or in a media file, and a non-empty target are all refused,
// and the target is left as it was.
func TestRestoreRefusesDamagedArchives(t *testing.T) {
	s := openTest(t)
	if _, _, err := s.PutAsset(bytes.NewReader(png("a picture to keep")), 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "停水通知", DurationS: 10}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.WriteBackup(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if _, err := VerifyBackup(bytes.NewReader(good)); err != nil {
		t.Fatalf("VerifyBackup of a good archive: %v", err)
	}
	dbAt := bytes.Index(good, []byte("kiosk.db")) + 512 + 4096 + 100 // inside the database's bytes
	blobAt := bytes.Index(good, []byte("a picture to keep"))
	cases := map[string][]byte{
		"truncated in the middle":       good[:len(good)/2],
		"truncated before the manifest": good[:bytes.Index(good, []byte("MANIFEST.json"))],
		"flipped byte in the database":  flip(good, dbAt),
		"flipped byte in a media file":  flip(good, blobAt),
		"empty":                         {},
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "target")
			_, err := Restore(bytes.NewReader(cases[name]), dir)
			var be BackupError
			if !errors.As(err, &be) {
				t.Fatalf("Restore: %v, want a BackupError", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("target exists after a refused restore (%v)", err)
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".target.restoring-*"))
			if len(left) > 0 {
				t.Errorf("staging left behind: %v", left)
			}
		})
	}
	t.Run("non-empty target", func(t *testing.T) {
		dir := t.TempDir()
		keep := filepath.Join(dir, "kiosk.db")
		if err := os.WriteFile(keep, []byte("someone's data"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Restore(bytes.NewReader(good), dir); err == nil {
			t.Fatal("restore into a non-empty dir succeeded")
		}
		if b, _ := os.ReadFile(keep); string(b) != "someone's data" {
			t.Errorf("existing file changed: %q", b)
		}
	})
}

func flip(b []byte, at int) []byte {
	c := bytes.Clone(b)
	c[at] ^= 0x40
	return c
}
