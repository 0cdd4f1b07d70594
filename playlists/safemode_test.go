package playlists

import (
	"testing"
	"time"
)

func TestBuildManifestSafeMode(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	c := testCatalog(now)
	since := now.Add(-10 * time.Minute)
	c.Urgent = []Urgent{
		{ID: "u-before", Title: "发布错误的通知", Target: Target{All: true}, ExpiresAt: now.Add(time.Hour), CreatedAt: since.Add(-time.Minute)},
		{ID: "u-after", Title: "燃气泄漏，请勿使用明火", Target: Target{All: true}, ExpiresAt: now.Add(time.Hour), CreatedAt: since.Add(time.Minute)},
	}
	c.SafeModes = []SafeMode{{ID: "safe_1", Target: Target{Groups: []string{"huayang-rd"}}, Since: since}}
	a := BuildManifest(withDefault(screenA, "law"), c, now)
	if a.SafeMode == nil || a.SafeMode.ID != "safe_1" || !a.SafeMode.Since.Equal(since) {
		t.Fatalf("screen in the safe group: safe_mode %+v", a.SafeMode)
	}
	if len(a.Schedules) != 0 || len(a.Items) != 0 || a.DefaultPlaylist != "" {
		t.Errorf("safe manifest carries content: %d schedules, %d items, default %q", len(a.Schedules), len(a.Items), a.DefaultPlaylist)
	}
	if len(a.Urgent) != 1 || a.Urgent[0].ID != "u-after" {
		t.Errorf("safe manifest urgent notices %+v, want only the one sent after safe mode started", a.Urgent)
	}
	if r := a.Resolve(now); len(r.Entries) != 0 {
		t.Errorf("safe manifest resolves to %d entries, want the slate", len(r.Entries))
	}
	// Outside the target: untouched, and equal to a manifest without safe mode.
	c2 := testCatalog(now)
	c2.Urgent = c.Urgent
	if got, want := BuildManifest(screenC, c, now), BuildManifest(screenC, c2, now); got.Version != want.Version || got.SafeMode != nil {
		t.Errorf("screen outside the target changed: safe_mode %+v", got.SafeMode)
	}
}

func withDefault(s ScreenContext, pl string) ScreenContext {
	s.DefaultPlaylist = pl
	return s
}
