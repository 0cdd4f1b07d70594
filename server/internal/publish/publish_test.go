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
	select { // a test that does not wait on ch must not block publishing
	case r.ch <- struct{}{}:
	default:
	}
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

// TestRunPublishesOnTrigger: Trigger (a change the store did not announce)
// publishes, and several at once coalesce.
func TestRunPublishesOnTrigger(t *testing.T) {
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

func TestNextChange(t *testing.T) {
	at := func(d time.Duration) *time.Time { v := testNow.Add(d); return &v }
	urgent := func(d time.Duration) playlists.Urgent { return playlists.Urgent{ExpiresAt: *at(d)} }
	tests := []struct {
		name string
		c    playlists.Catalog
		want time.Time // zero: none
	}{
		{"empty catalog", playlists.Catalog{}, time.Time{}},
		{"open-ended schedule", playlists.Catalog{Schedules: []playlists.Schedule{{From: at(-time.Hour)}}}, time.Time{}},
		{"earliest urgent expiry", playlists.Catalog{Urgent: []playlists.Urgent{urgent(time.Hour), urgent(time.Minute), urgent(2 * time.Hour)}}, *at(time.Minute)},
		{"schedule end before urgent expiry", playlists.Catalog{
			Urgent:    []playlists.Urgent{urgent(time.Hour)},
			Schedules: []playlists.Schedule{{To: at(30 * time.Minute)}, {}},
		}, *at(30 * time.Minute)},
		{"past and present instants are not ahead", playlists.Catalog{
			Urgent:    []playlists.Urgent{urgent(0), urgent(-time.Second)},
			Schedules: []playlists.Schedule{{To: at(0)}, {To: at(time.Second)}},
		}, *at(time.Second)},
		{"a schedule's From does not change the manifest", playlists.Catalog{Schedules: []playlists.Schedule{{From: at(time.Minute)}}}, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NextChange(tc.c, testNow); !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRunRepublishesAtExpiry: what BuildManifest drops by time must leave
// the published manifest at that time, not at the next routine refresh
// (here an hour away, so only the wake-up can do it). The content is added
// after Run starts and published either through Trigger, as the API does,
// or by a Publish outside Run, as Ensure does, whose new deadline must
// reach Run's timer too.
func TestRunRepublishesAtExpiry(t *testing.T) {
	tests := []struct {
		name string
		// add creates content that ends at end and reports whether m
		// still carries it.
		add func(t *testing.T, st *store.Store, end time.Time) func(m playlists.Manifest) bool
	}{
		{"urgent notice expires", func(t *testing.T, st *store.Store, end time.Time) func(playlists.Manifest) bool {
			u, err := st.CreateUrgent(playlists.Urgent{Title: "停水", Target: playlists.Target{All: true}, ExpiresAt: end})
			if err != nil {
				t.Fatal(err)
			}
			return func(m playlists.Manifest) bool {
				return slices.ContainsFunc(m.Urgent, func(x playlists.Urgent) bool { return x.ID == u.ID })
			}
		}},
		{"schedule ends", func(t *testing.T, st *store.Store, end time.Time) func(playlists.Manifest) bool {
			it := must(st.CreateItem(playlists.Item{Kind: "notice", Title: "临时"}))
			pl := must(st.CreatePlaylist(playlists.Playlist{Name: "brief", Items: []string{it.ID}}))
			sc := must(st.CreateSchedule(playlists.Schedule{Playlist: pl.ID, Target: playlists.Target{All: true}, To: &end}))
			return func(m playlists.Manifest) bool {
				return slices.ContainsFunc(m.Schedules, func(x playlists.Schedule) bool { return x.ID == sc.ID })
			}
		}},
	}
	ways := []struct {
		name    string
		publish func(t *testing.T, p *Publisher)
	}{
		{"trigger", func(_ *testing.T, p *Publisher) { p.Trigger() }},
		{"publish outside run", func(t *testing.T, p *Publisher) {
			if err := p.Publish(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		for _, way := range ways {
			t.Run(tc.name+" via "+way.name, func(t *testing.T) {
				st := must(store.Open(t.TempDir(), nil))
				defer st.Close()
				rec := newRecorder()
				p := New(Options{Store: st, Push: rec.push, Refresh: time.Hour})
				scr, _, err := st.CreateScreen(store.Screen{Name: "a"})
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Publish(); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := make(chan struct{})
				go func() { p.Run(ctx); close(done) }()
				defer func() { cancel(); <-done }()

				end := time.Now().Add(300 * time.Millisecond)
				before := p.Version(scr.ID)
				carries := tc.add(t, st, end)
				way.publish(t, p)
				waitFor(t, time.Second, "the new content to be published", func() bool {
					m, ok := p.Manifest(scr.ID)
					return ok && carries(m.Manifest)
				})
				with := p.Version(scr.ID)
				if with == before {
					t.Fatalf("version %s did not change when the content was added", with)
				}
				if got := p.NextChange(); !got.Equal(end) {
					t.Errorf("NextChange: got %v, want %v", got, end)
				}

				waitFor(t, 2*time.Second, "the ended content to leave the manifest", func() bool {
					m, ok := p.Manifest(scr.ID)
					return ok && !carries(m.Manifest)
				})
				if late := time.Since(end); late > time.Second {
					t.Errorf("republished %v after the end, want well under 1s", late)
				} else {
					t.Logf("republished %v after the end", late.Round(time.Millisecond))
				}
				if v := p.Version(scr.ID); v == with || v != before {
					t.Errorf("version after the end: got %s, want back to %s (without the content), not %s", v, before, with)
				}
				if got := rec.take()[before]; !slices.Contains(got, scr.ID) {
					t.Errorf("pushes of %s: got %v, want the screen %s pushed again", before, got, scr.ID)
				}
				if got := p.NextChange(); !got.IsZero() {
					t.Errorf("NextChange after the end: got %v, want none", got)
				}
			})
		}
	}
}

// waitFor polls cond every few milliseconds until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
