package display

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sync"
	"testing"
	"time"

	"kiosk/assets"
	"kiosk/playlists"
)

// fakeClock is a settable clock. The director re-reads it at least every
// maxWait, so a test moves it and waits for the effect.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// memMedia is a MediaSource over a map.
type memMedia map[string][]byte

func (m memMedia) OpenAsset(sha string) (io.ReadSeeker, error) {
	b, ok := m[sha]
	if !ok {
		return nil, fmt.Errorf("asset %s: %w", sha, fs.ErrNotExist)
	}
	return bytes.NewReader(b), nil
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func item(id string, kind playlists.Kind, durationS int) playlists.Item {
	return playlists.Item{ID: id, Kind: kind, Title: "标题 " + id, Body: "正文 " + id, DurationS: durationS}
}

// schedule is an always-on schedule of playlist pl unless from/to are set.
func schedule(id, pl string, priority int, from, to *time.Time) playlists.Schedule {
	return playlists.Schedule{ID: id, Playlist: pl, Target: playlists.Target{All: true}, Priority: priority, From: from, To: to}
}

// manifest builds a sealed manifest from items, playlists (id → item ids)
// and schedules.
func manifest(items []playlists.Item, pls map[string][]string, scheds []playlists.Schedule, refs ...playlists.AssetRef) *playlists.Manifest {
	m := &playlists.Manifest{Timezone: "Asia/Shanghai", Items: items, Schedules: scheds, Assets: refs}
	for id, ids := range pls {
		m.Playlists = append(m.Playlists, playlists.Playlist{ID: id, Name: id, Items: ids})
	}
	if m.Assets == nil {
		m.Assets = []playlists.AssetRef{}
	}
	m.Seal()
	return m
}

// rotationManifest is one always-on playlist of the given items.
func rotationManifest(items ...playlists.Item) *playlists.Manifest {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return manifest(items, map[string][]string{"pl": ids}, []playlists.Schedule{schedule("s", "pl", 0, nil, nil)})
}

func assetRef(b []byte, mime string) playlists.AssetRef {
	return playlists.AssetRef{SHA256: assets.Sum(b), Size: int64(len(b)), MIME: mime}
}

func ptr(t time.Time) *time.Time { return &t }

// startRun runs the director until the test ends.
func startRun(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitFor polls cond until it holds or the (generous, CI is slow) deadline
// passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// currentID is the item on screen, "" for the fallback.
func currentID(s *Server) string {
	e, _, ok := s.Current()
	if !ok {
		return ""
	}
	return e.Item.ID
}
