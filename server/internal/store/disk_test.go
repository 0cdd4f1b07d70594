package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kiosk/playlists"
)

// stepClock is a clock the test moves.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openDiskTest(t *testing.T) (*Store, *stepClock) {
	t.Helper()
	clk := &stepClock{t: testNow}
	s, err := Open(t.TempDir(), clk.now)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clk
}

func wantDiskFull(t *testing.T, s *Store, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("%s on a full disk: error %v, want ErrDiskFull", what, err)
	}
	if !strings.Contains(err.Error(), s.Dir()) {
		t.Errorf("%s: error %q does not name the data directory %s", what, err, s.Dir())
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("%s: error %v lost the system's ENOSPC", what, err)
	}
	if !s.DiskStatus().Full {
		t.Errorf("%s failed for lack of space, but DiskStatus().Full = false", what)
	}
}

func TestDiskFullBlobWrites(t *testing.T) {
	s, _ := openDiskTest(t)
	scr, _, err := s.CreateScreen(Screen{Name: "lobby"})
	if err != nil {
		t.Fatal(err)
	}
	s.InjectWriteFault(syscall.ENOSPC)
	_, _, err = s.PutAsset(bytes.NewReader(png("full")), 1<<20)
	wantDiskFull(t, s, "PutAsset", err)
	_, err = s.PutScreenshot(scr.ID, bytes.NewReader(png("shot")), 1<<20)
	wantDiskFull(t, s, "PutScreenshot", err)
	if as, _ := s.ListAssets(); len(as) != 0 {
		t.Errorf("assets after a failed upload: %d, want 0", len(as))
	}
	if left, _ := filepath.Glob(filepath.Join(s.Dir(), "assets", "tmp", "*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}

	// Space is freed: the next upload works and clears the mark.
	s.InjectWriteFault(nil)
	if _, _, err := s.PutAsset(bytes.NewReader(png("room again")), 1<<20); err != nil {
		t.Fatalf("PutAsset after space was freed: %v", err)
	}
	if s.DiskStatus().Full {
		t.Error("DiskStatus().Full still true after a successful upload")
	}
}

func TestDiskFullCommits(t *testing.T) {
	s, _ := openDiskTest(t)
	s.InjectWriteFault(syscall.ENOSPC)
	_, err := s.CreateGroup(playlists.Group{ID: "xingfu", Name: "幸福小区"})
	wantDiskFull(t, s, "CreateGroup (Update)", err)
	err = s.AppendAudit(AuditEntry{Time: testNow, Action: "POST /x"})
	wantDiskFull(t, s, "AppendAudit (Batch)", err)
	if gs, _ := s.ListGroups(); len(gs) != 0 {
		t.Errorf("groups after a failed commit: %d, want 0", len(gs))
	}
	// An error of the caller's making is not a disk problem and changes
	// nothing.
	if _, err := s.GetItem("itm_nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetItem: %v", err)
	}

	s.InjectWriteFault(nil)
	if _, err := s.CreateGroup(playlists.Group{ID: "xingfu", Name: "幸福小区"}); err != nil {
		t.Fatalf("CreateGroup after space was freed: %v", err)
	}
	if s.DiskStatus().Full {
		t.Error("DiskStatus().Full still true after a successful commit")
	}
}

// With nobody writing, DiskStatus itself probes (at most every
// diskProbeEvery) and clears the mark once space is back.
func TestDiskFullProbeRecovers(t *testing.T) {
	s, clk := openDiskTest(t)
	s.InjectWriteFault(syscall.ENOSPC)
	_, _, err := s.PutAsset(bytes.NewReader(png("full")), 1<<20)
	wantDiskFull(t, s, "PutAsset", err)
	_, err = s.CreateGroup(playlists.Group{ID: "g", Name: "g"})
	wantDiskFull(t, s, "CreateGroup", err)
	since := s.DiskStatus().Since

	clk.add(diskProbeEvery)
	if d := s.DiskStatus(); !d.Full || !d.Since.Equal(since) {
		t.Fatalf("probe on a disk still full: %+v, want full since %s", d, since)
	}
	s.InjectWriteFault(nil)
	if !s.DiskStatus().Full {
		t.Fatal("cleared before the next probe was due, want probes at most every few seconds")
	}
	clk.add(diskProbeEvery)
	if d := s.DiskStatus(); d.Full {
		t.Fatalf("after space was freed and a probe: %+v, want not full", d)
	}
	if left, _ := filepath.Glob(filepath.Join(s.Dir(), "assets", "tmp", "*")); len(left) != 0 {
		t.Errorf("probe files left behind: %v", left)
	}
}

func TestIsNoSpace(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "write", Path: "/data/kiosk.db", Err: syscall.ENOSPC}, true},
		{fmt.Errorf("store asset: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}), true},
		// bbolt's grow formats the truncate error with %s.
		{fmt.Errorf("file resize error: %s", &os.PathError{Op: "truncate", Path: "x", Err: syscall.ENOSPC}), true},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.EIO}, false},
		{errors.New("unexpected EOF"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := isNoSpace(tt.err); got != tt.want {
			t.Errorf("isNoSpace(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
