package store

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kiosk/assets"
	"kiosk/playlists"
)

var testNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), func() time.Time { return testNow })
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// png returns a tiny byte string that sniffs as PNG; extra makes it unique.
func png(extra string) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), extra...)
}

func TestOpenSecondProcessTimesOut(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open: got %v, want an 'in use by another process' error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v, want about %v", d, openTimeout)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "停水通知"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetItem(it.ID)
	if err != nil || got.Title != "停水通知" {
		t.Fatalf("GetItem after reopen: got %+v, %v; want title 停水通知", got, err)
	}
}

func TestAssetPutDedupAndLimits(t *testing.T) {
	s := openTest(t)
	data := png("one")
	a, created, err := s.PutAsset(bytes.NewReader(data), 1<<20)
	if err != nil || !created {
		t.Fatalf("PutAsset: got created=%v err=%v, want created", created, err)
	}
	if a.SHA256 != assets.Sum(data) || a.Size != int64(len(data)) || a.MIME != assets.MIMEPNG {
		t.Errorf("PutAsset: got %+v, want sha %s size %d png", a, assets.Sum(data), len(data))
	}
	_, created, err = s.PutAsset(bytes.NewReader(data), 1<<20)
	if err != nil || created {
		t.Errorf("second PutAsset: got created=%v err=%v, want dedup", created, err)
	}
	f, _, err := s.OpenAsset(a.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("blob bytes differ")
	}

	big := append(png("big"), bytes.Repeat([]byte{0}, 1000)...)
	if _, _, err := s.PutAsset(bytes.NewReader(big), 600); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: got %v, want ErrTooLarge", err)
	}
	// Exactly at the limit is fine.
	if _, _, err := s.PutAsset(bytes.NewReader(big), int64(len(big))); err != nil {
		t.Errorf("at limit: got %v, want nil", err)
	}
	for name, body := range map[string]string{
		"html": "<!DOCTYPE html><script>alert(1)</script>",
		"svg":  `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
	} {
		if _, _, err := s.PutAsset(strings.NewReader(body), 1<<20); !errors.Is(err, assets.ErrUnsupported) {
			t.Errorf("%s: got %v, want ErrUnsupported", name, err)
		}
	}
	list, _ := s.ListAssets()
	if len(list) != 2 {
		t.Errorf("ListAssets: got %d, want 2 (refused uploads store nothing)", len(list))
	}
	tmp, _ := os.ReadDir(filepath.Join(s.Dir(), "assets", "tmp"))
	if len(tmp) != 0 {
		t.Errorf("temp dir holds %d leftover files, want 0", len(tmp))
	}
}

func TestReferentialIntegrity(t *testing.T) {
	s := openTest(t)
	a, _, err := s.PutAsset(bytes.NewReader(png("x")), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.CreateItem(playlists.Item{Kind: playlists.KindPSA, Title: "反诈", Asset: a.SHA256, DurationS: 8})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.CreatePlaylist(playlists.Playlist{Name: "日常", Items: []string{it.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(playlists.Group{ID: "street", Name: "街道", Timezone: "Asia/Shanghai"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(playlists.Group{ID: "c1", Name: "小区", Parent: "street"}); err != nil {
		t.Fatal(err)
	}
	scr, token, err := s.CreateScreen(Screen{Name: "lobby", Group: "c1", Tags: []string{"b", "a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if token == "" || strings.Contains(mustTokens(t, s), token) {
		t.Errorf("token must be returned and never stored")
	}
	if got := strings.Join(scr.Tags, ","); got != "a,b" {
		t.Errorf("tags: got %q, want sorted, deduplicated a,b", got)
	}
	sch, err := s.CreateSchedule(playlists.Schedule{Playlist: pl.ID, Target: playlists.Target{Groups: []string{"street"}, Screens: []string{scr.ID}}})
	if err != nil {
		t.Fatal(err)
	}

	var fe playlists.FieldError
	tests := []struct {
		name  string
		err   error
		want  error // sentinel, or nil for a FieldError
		field string
	}{
		{"item with missing asset", second(s.CreateItem(playlists.Item{Kind: "psa", Title: "t", Asset: strings.Repeat("a", 64)})), nil, "asset"},
		{"playlist with missing item", second(s.CreatePlaylist(playlists.Playlist{Name: "n", Items: []string{it.ID, "itm_nope"}})), nil, "items[1]"},
		{"schedule with missing playlist", second(s.CreateSchedule(playlists.Schedule{Playlist: "pl_nope", Target: playlists.Target{All: true}})), nil, "playlist"},
		{"schedule with missing group", second(s.CreateSchedule(playlists.Schedule{Playlist: pl.ID, Target: playlists.Target{Groups: []string{"nope"}}})), nil, "target.groups[0]"},
		{"schedule with missing screen", second(s.CreateSchedule(playlists.Schedule{Playlist: pl.ID, Target: playlists.Target{Screens: []string{"scr_x"}}})), nil, "target.screens[0]"},
		{"screen in missing group", third(s.CreateScreen(Screen{Name: "x", Group: "nope"})), nil, "group"},
		{"group with missing parent", second(s.CreateGroup(playlists.Group{ID: "g", Name: "g", Parent: "nope"})), nil, "parent"},
		{"group with bad timezone", second(s.CreateGroup(playlists.Group{ID: "g", Name: "g", Timezone: "Mars/Base"})), nil, "timezone"},
		{"group cycle", second(s.UpdateGroup("street", playlists.Group{Name: "街道", Parent: "c1"})), nil, "parent"},
		{"duplicate group", second(s.CreateGroup(playlists.Group{ID: "c1", Name: "again"})), ErrConflict, ""},
		{"delete asset in use", s.DeleteAsset(a.SHA256), ErrConflict, ""},
		{"delete item in use", s.DeleteItem(it.ID), ErrConflict, ""},
		{"delete playlist in use", s.DeletePlaylist(pl.ID), ErrConflict, ""},
		{"delete group with children", s.DeleteGroup("street"), ErrConflict, ""},
		{"delete group with screens", s.DeleteGroup("c1"), ErrConflict, ""},
		{"delete targeted screen", s.DeleteScreen(scr.ID), ErrConflict, ""},
		{"delete missing item", s.DeleteItem("itm_nope"), ErrNotFound, ""},
		{"update missing playlist", second(s.UpdatePlaylist("pl_nope", playlists.Playlist{Name: "x"})), ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want != nil {
				if !errors.Is(tt.err, tt.want) {
					t.Fatalf("got %v, want %v", tt.err, tt.want)
				}
				return
			}
			if !errors.As(tt.err, &fe) || fe.Field != tt.field {
				t.Fatalf("got %v, want FieldError on %q", tt.err, tt.field)
			}
		})
	}
	err = s.DeleteItem(it.ID)
	if err == nil || !strings.Contains(err.Error(), pl.ID) {
		t.Errorf("in-use error should name the playlist %s: got %v", pl.ID, err)
	}

	// Unwind in dependency order: everything deletes cleanly.
	for _, del := range []func() error{
		func() error { return s.DeleteSchedule(sch.ID) },
		func() error { return s.DeletePlaylist(pl.ID) },
		func() error { return s.DeleteItem(it.ID) },
		func() error { return s.DeleteAsset(a.SHA256) },
		func() error { return s.DeleteScreen(scr.ID) },
		func() error { return s.DeleteGroup("c1") },
		func() error { return s.DeleteGroup("street") },
	} {
		if err := del(); err != nil {
			t.Fatalf("unwind: %v", err)
		}
	}
	if _, err := os.Stat(s.blobPath(a.SHA256)); !os.IsNotExist(err) {
		t.Errorf("blob still on disk after delete: %v", err)
	}
	if toks, _ := s.ScreenTokens(); len(toks) != 0 {
		t.Errorf("token index has %d entries after deleting the screen, want 0", len(toks))
	}
}

func mustTokens(t *testing.T, s *Store) string {
	toks, err := s.ScreenTokens()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for k, v := range toks {
		b.WriteString(k + "=" + v + ";")
	}
	return b.String()
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

func TestScreenTokenRotation(t *testing.T) {
	s := openTest(t)
	scr, tok1, err := s.CreateScreen(Screen{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := s.RotateScreenToken(scr.ID)
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := s.ScreenTokens()
	if _, ok := toks[HashToken(tok1)]; ok {
		t.Errorf("old token hash still indexed after rotation")
	}
	if got := toks[HashToken(tok2)]; got != scr.ID {
		t.Errorf("new token maps to %q, want %q", got, scr.ID)
	}
}

func TestStatusesAndAudit(t *testing.T) {
	s := openTest(t)
	scr, _, err := s.CreateScreen(Screen{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.PutStatuses(map[string]ScreenStatus{
		scr.ID:    {AppliedVersion: "v1", LastSeen: testNow},
		"scr_old": {AppliedVersion: "gone"},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := s.Statuses()
	if len(st) != 1 || st[scr.ID].AppliedVersion != "v1" {
		t.Errorf("Statuses: got %+v, want only %s with v1", st, scr.ID)
	}
	for i := range 5 {
		if err := s.AppendAudit(AuditEntry{Action: "POST /x", Target: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.ListAudit(AuditFilter{Limit: 3})
	if len(got) != 3 || got[0].Target != "e" || got[2].Target != "c" {
		t.Errorf("ListAudit(3): got %+v, want newest three e,d,c", got)
	}
}

func TestSnapshot(t *testing.T) {
	s := openTest(t)
	it, _ := s.CreateItem(playlists.Item{Kind: "notice", Title: "t"})
	pl, _ := s.CreatePlaylist(playlists.Playlist{Name: "p", Items: []string{it.ID}})
	if _, err := s.CreateSchedule(playlists.Schedule{Playlist: pl.ID, Target: playlists.Target{All: true}}); err != nil {
		t.Fatal(err)
	}
	s.CreateScreen(Screen{Name: "a"})
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Catalog.Schedules) != 1 || len(snap.Catalog.Items) != 1 || len(snap.Catalog.Playlists) != 1 || len(snap.Screens) != 1 {
		t.Errorf("Snapshot: got %d schedules %d items %d playlists %d screens, want 1 each",
			len(snap.Catalog.Schedules), len(snap.Catalog.Items), len(snap.Catalog.Playlists), len(snap.Screens))
	}
}

func TestOpenRemovesCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	leftovers := []string{
		filepath.Join(dir, "assets", "tmp", "upload-123456"),
		filepath.Join(dir, screenshotDir, "scr_abc.98765.tmp"),
	}
	kept := filepath.Join(dir, screenshotDir, "scr_abc.jpg")
	for _, p := range append(leftovers, kept) {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half written"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	for _, p := range leftovers {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s after Open: stat err %v, want it removed", p, err)
		}
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("%s after Open: %v, want it kept", kept, err)
	}
}
