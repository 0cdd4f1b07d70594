package publish

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

var testNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type pushRecorder struct {
	mu     sync.Mutex
	pushes map[string][]string // version → screens
	ch     chan struct{}
}

func newRecorder() *pushRecorder {
	return &pushRecorder{pushes: map[string][]string{}, ch: make(chan struct{}, 100)}
}

func (r *pushRecorder) push(v string, ids []string) {
	r.mu.Lock()
	r.pushes[v] = append(r.pushes[v], ids...)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *pushRecorder) take() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pushes
	r.pushes = map[string][]string{}
	return p
}

// must keeps fixture setup short; a failing fixture is a broken test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSharingAndSelectivePush(t *testing.T) {
	st := must(store.Open(t.TempDir(), func() time.Time { return testNow }))
	defer st.Close()
	rec := newRecorder()
	p := New(Options{Store: st, Push: rec.push, Now: func() time.Time { return testNow }})

	must(st.CreateGroup(playlists.Group{ID: "street", Name: "街道"}))
	must(st.CreateGroup(playlists.Group{ID: "c1", Name: "小区一", Parent: "street"}))
	must(st.CreateGroup(playlists.Group{ID: "c2", Name: "小区二", Parent: "street", Timezone: "Asia/Urumqi"}))
	a, _, _ := st.CreateScreen(store.Screen{Name: "a", Group: "c1"})
	b, _, _ := st.CreateScreen(store.Screen{Name: "b", Group: "c1"})
	c, _, _ := st.CreateScreen(store.Screen{Name: "c", Tags: []string{"lobby"}})

	it1 := must(st.CreateItem(playlists.Item{Kind: "notice", Title: "one"}))
	it2 := must(st.CreateItem(playlists.Item{Kind: "psa", Title: "two"}))
	plStreet := must(st.CreatePlaylist(playlists.Playlist{Name: "street", Items: []string{it1.ID}}))
	plLobby := must(st.CreatePlaylist(playlists.Playlist{Name: "lobby", Items: []string{it2.ID}}))
	must(st.CreateSchedule(playlists.Schedule{Playlist: plStreet.ID, Target: playlists.Target{Groups: []string{"street"}}}))
	must(st.CreateSchedule(playlists.Schedule{Playlist: plLobby.ID, Target: playlists.Target{Tags: []string{"lobby"}}}))

	if err := p.Publish(); err != nil {
		t.Fatal(err)
	}
	va, vb, vc := p.Version(a.ID), p.Version(b.ID), p.Version(c.ID)
	if va == "" || va != vb {
		t.Errorf("screens with identical targets: got versions %q and %q, want equal and non-empty", va, vb)
	}
	if vc == va {
		t.Errorf("differently targeted screen got the same version %q", vc)
	}
	ma, _ := p.Manifest(a.ID)
	mb, _ := p.Manifest(b.ID)
	if ma != mb {
		t.Errorf("identical targets should share one computed manifest")
	}
	if ma.Manifest.ComputeVersion() != va {
		t.Errorf("published version does not match the manifest's content hash")
	}
	first := rec.take()
	if got := first[va]; !slices.Equal(got, sortIDs(a.ID, b.ID)) {
		t.Errorf("initial push for %s: got %v, want %v", va, got, sortIDs(a.ID, b.ID))
	}

	// Editing the lobby playlist changes only screen c.
	must(st.UpdatePlaylist(plLobby.ID, playlists.Playlist{Name: "lobby", Items: []string{it2.ID, it1.ID}}))
	if err := p.Publish(); err != nil {
		t.Fatal(err)
	}
	if p.Version(a.ID) != va || p.Version(b.ID) != vb {
		t.Errorf("screens a/b changed version although the edit does not affect them")
	}
	if p.Version(c.ID) == vc {
		t.Errorf("screen c kept version %s after its playlist changed", vc)
	}
	pushes := rec.take()
	if len(pushes) != 1 || !slices.Equal(pushes[p.Version(c.ID)], []string{c.ID}) {
		t.Errorf("push after edit: got %v, want only %s → [%s]", pushes, p.Version(c.ID), c.ID)
	}

	// Nothing changed → nothing pushed.
	if err := p.Publish(); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("republish without change pushed %v, want nothing", got)
	}
}

func sortIDs(ids ...string) []string { slices.Sort(ids); return ids }

func TestContextTimezoneChain(t *testing.T) {
	groups := map[string]playlists.Group{
		"street": {ID: "street", Timezone: "Asia/Urumqi"},
		"c1":     {ID: "c1", Parent: "street"},
	}
	tests := []struct {
		name   string
		scr    store.Screen
		tz     string
		groups []string
	}{
		{"own zone wins", store.Screen{ID: "s", Group: "c1", Timezone: "Europe/Berlin"}, "Europe/Berlin", []string{"c1", "street"}},
		{"inherits from ancestor", store.Screen{ID: "s", Group: "c1"}, "Asia/Urumqi", []string{"c1", "street"}},
		{"no group", store.Screen{ID: "s"}, playlists.DefaultTimezone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := Context(tt.scr, groups)
			if sc.Timezone != tt.tz || !slices.Equal(sc.Groups, tt.groups) {
				t.Errorf("got tz %q groups %v, want %q %v", sc.Timezone, sc.Groups, tt.tz, tt.groups)
			}
		})
	}
}

func TestRunDebounces(t *testing.T) {
	st := must(store.Open(t.TempDir(), nil))
	defer st.Close()
	rec := newRecorder()
	p := New(Options{Store: st, Push: rec.push})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	scr, _, _ := st.CreateScreen(store.Screen{Name: "a"})
	start := time.Now()
	for range 5 {
		p.Trigger()
	}
	select {
	case <-rec.ch:
	case <-time.After(2 * time.Second):
		t.Fatal("no push within 2s of a trigger")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("push took %v after trigger, want well under 1s", d)
	}
	if p.Version(scr.ID) == "" {
		t.Errorf("screen has no version after publish")
	}
}

func TestEnsurePublishesNewScreen(t *testing.T) {
	st := must(store.Open(t.TempDir(), nil))
	defer st.Close()
	rec := newRecorder()
	p := New(Options{Store: st, Push: rec.push})
	if err := p.Publish(); err != nil {
		t.Fatal(err)
	}
	scr, _, _ := st.CreateScreen(store.Screen{Name: "new"})
	if _, ok := p.Manifest(scr.ID); ok {
		t.Fatalf("manifest exists before any publish saw the screen")
	}
	m, ok := p.Ensure(scr.ID)
	if !ok || m.Manifest.Version == "" || p.EnsureVersion(scr.ID) != m.Manifest.Version {
		t.Errorf("Ensure: got %v ok=%v, want a published manifest", m, ok)
	}
	if _, ok := p.Ensure("scr_unknown"); ok {
		t.Errorf("Ensure(unknown screen): got a manifest, want none")
	}
}
