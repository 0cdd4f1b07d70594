package server

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kiosk/server/internal/store"
)

// TestScheduledBackupFilesAndRetention: each scheduled run leaves one
// whole, verifiable archive named by its time, and only the newest keep
// of them stay; files that are not ours are never touched.
func TestScheduledBackupFilesAndRetention(t *testing.T) {
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir := t.TempDir()
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	var files []string
	for i := range 4 {
		f, m, err := writeBackupFile(st, dir, at.Add(time.Duration(i)*24*time.Hour))
		if err != nil {
			t.Fatalf("writeBackupFile: %v", err)
		}
		if len(m.Files) == 0 {
			t.Fatal("empty manifest")
		}
		files = append(files, filepath.Base(f))
	}
	if files[0] != "kiosk-backup-20261101T020000Z.tar" {
		t.Errorf("first file %q", files[0])
	}
	removed, err := pruneBackups(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, files[:2]) {
		t.Errorf("removed %v, want the two oldest %v", removed, files[:2])
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 3 {
		t.Errorf("left %v, want the two newest archives and notes.txt", left)
	}
	f, err := os.Open(filepath.Join(dir, files[3]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := store.VerifyBackup(f); err != nil {
		t.Errorf("the newest scheduled backup does not verify: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not a backup was touched: %v", err)
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(parts) > 0 {
		t.Errorf(".part files left: %v", parts)
	}
}
