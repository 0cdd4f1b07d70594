package rollouts

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

func TestAdvanceStates(t *testing.T) {
	tests := []struct {
		percent int
		want    []string // state/coverage after each advance; "!" = refused
	}{
		{25, []string{"rest/25", "rest/100", "done/100", "!"}},
		{0, []string{"rest/100", "done/100", "!"}},
		{100, []string{"rest/100", "done/100", "!"}},
	}
	for _, tc := range tests {
		r := store.Rollout{ID: "ro_1", State: store.RolloutCanary, Percent: tc.percent}
		for i, want := range tc.want {
			err := Advance(&r)
			got := r.State + "/" + itoa(r.Coverage)
			if err != nil {
				got = "!"
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("percent %d step %d: refusal %v is not a conflict", tc.percent, i, err)
				}
			}
			if got != want {
				t.Errorf("percent %d, advance %d: got %s, want %s", tc.percent, i+1, got, want)
			}
		}
	}
	r := store.Rollout{ID: "ro_2", State: store.RolloutSuperseded}
	for name, f := range map[string]func(*store.Rollout) error{"advance": Advance, "pause": Pause, "resume": Resume} {
		if err := f(&r); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s on a superseded roll-out: got %v, want a conflict", name, err)
		}
	}
	r = store.Rollout{ID: "ro_3", State: store.RolloutRest, Coverage: 30}
	Pause(&r)
	if !r.Paused {
		t.Error("pause did not pause")
	}
	Resume(&r)
	if r.Paused {
		t.Error("resume did not resume")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestIncludedIsStableAndProportional(t *testing.T) {
	r := store.Rollout{ID: "ro_x", State: store.RolloutRest, Coverage: 30}
	canary := map[string]bool{"lab": true}
	in30 := 0
	const n = 2000
	for i := range n {
		id := "scr_" + itoa(i)
		a := Included(r, id, "street", canary)
		r2 := r
		r2.Coverage = 100
		if a && !Included(r2, id, "street", canary) {
			t.Fatalf("screen %s included at 30%% but not at 100%%", id)
		}
		if Included(r, id, "street", canary) != a {
			t.Fatalf("screen %s: not stable", id)
		}
		if a {
			in30++
		}
	}
	if in30 < n*25/100 || in30 > n*35/100 {
		t.Errorf("30%% wave took %d of %d screens", in30, n)
	}
	if !Included(store.Rollout{State: store.RolloutCanary}, "s", "lab", canary) {
		t.Error("a canary screen is not in the canary wave")
	}
	if Included(store.Rollout{State: store.RolloutCanary}, "s", "street", canary) {
		t.Error("a non-canary screen is in the canary wave")
	}
}

// fixture is a store with a release key, two builds of 2.0.0, groups lab
// (with lab/sub nested) and street, and screens in each.
type fixture struct {
	t      *testing.T
	st     *store.Store
	now    time.Time
	priv   ed25519.PrivateKey
	m      *Manager
	mu     sync.Mutex
	sent   map[string]int // screen → offers sent
	online map[string]bool
	status map[string]store.ScreenStatus
	ids    map[string]string // name → screen id
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		sent: map[string]int{}, online: map[string]bool{}, status: map[string]store.ScreenStatus{}, ids: map[string]string{}}
	st, err := store.Open(t.TempDir(), func() time.Time { return f.now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	pub, priv, _ := ed25519.GenerateKey(nil)
	f.priv = priv
	for _, g := range []playlists.Group{{ID: "lab", Name: "Lab"}, {ID: "lab-sub", Name: "Lab 2", Parent: "lab"}, {ID: "street", Name: "Street"}} {
		if _, err := st.CreateGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct{ name, group string }{{"canary-1", "lab"}, {"canary-2", "lab-sub"}, {"s1", "street"}, {"s2", "street"}, {"s3", "street"}} {
		scr, _, err := st.CreateScreen(store.Screen{Name: s.name, Group: s.group})
		if err != nil {
			t.Fatal(err)
		}
		f.ids[s.name] = scr.ID
		f.online[scr.ID] = true
		f.status[scr.ID] = store.ScreenStatus{PlayerVersion: "1.0.0"}
	}
	f.m, err = New(Options{
		Store:      st,
		ReleaseKey: pub,
		Send: func(id string, frame []byte) bool {
			f.mu.Lock()
			defer f.mu.Unlock()
			if !f.online[id] {
				return false
			}
			f.sent[id]++
			return true
		},
		Status: func(id string) (store.ScreenStatus, bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.status[id], f.online[id]
		},
		Now:    func() time.Time { return f.now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) upload(version, platform string, bin []byte, key ed25519.PrivateKey) (store.PlayerBuild, error) {
	f.t.Helper()
	sum := sha256.Sum256(bin)
	m := playlists.SignBuild(key, playlists.PlayerBuild{Version: version, Platform: platform, Size: int64(len(bin)), SHA256: hex.EncodeToString(sum[:])})
	staged, err := f.st.StagePlayerBuild(bytes.NewReader(bin))
	if err != nil {
		f.t.Fatal(err)
	}
	b, _, err := f.m.AddBuild(staged, m, "admin")
	return b, err
}

func (f *fixture) offers(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[f.ids[name]]
}

func (f *fixture) state(t *testing.T, id, name string) ScreenProgress {
	t.Helper()
	v, err := f.m.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range v.Screens {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("screen %s not in the view", name)
	return ScreenProgress{}
}

func TestAddBuildVerifies(t *testing.T) {
	f := newFixture(t)
	if _, err := f.upload("2.0.0", "linux/amd64", []byte("good"), f.priv); err != nil {
		t.Fatalf("a signed build: %v", err)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	if _, err := f.upload("2.0.1", "linux/amd64", []byte("evil"), other); !errors.Is(err, playlists.ErrBuildRefused) {
		t.Errorf("a build signed by another key: got %v, want refused", err)
	}
	// The manifest of one binary with another binary's bytes.
	sum := sha256.Sum256([]byte("good"))
	m := playlists.SignBuild(f.priv, playlists.PlayerBuild{Version: "2.0.2", Platform: "linux/amd64", Size: 4, SHA256: hex.EncodeToString(sum[:])})
	staged, _ := f.st.StagePlayerBuild(bytes.NewReader([]byte("evil")))
	if _, _, err := f.m.AddBuild(staged, m, "admin"); !errors.Is(err, playlists.ErrBuildRefused) {
		t.Errorf("tampered bytes: got %v, want refused", err)
	}
	if _, err := f.upload("2.0.0", "linux/amd64", []byte("different"), f.priv); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second binary for the same version and platform: got %v, want a conflict", err)
	}
	builds, _ := f.m.Builds()
	if len(builds) != 1 {
		t.Errorf("%d builds kept, want only the good one", len(builds))
	}
}

func TestRolloutWaves(t *testing.T) {
	f := newFixture(t)
	amd, err := f.upload("2.0.0", "linux/amd64", []byte("amd64 build"), f.priv)
	if err != nil {
		t.Fatal(err)
	}
	arm, _ := f.upload("2.0.0", "linux/arm64", []byte("arm64 build"), f.priv)
	r, err := f.m.Create(CreateRequest{Build: amd.SHA256, CanaryGroups: []string{"lab"}, Percent: 50}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Builds) != 2 || r.State != store.RolloutCanary {
		t.Fatalf("roll-out %+v: want both builds of 2.0.0, state canary", r)
	}
	for name, want := range map[string]int{"canary-1": 1, "canary-2": 1, "s1": 0, "s2": 0, "s3": 0} {
		if got := f.offers(name); got != want {
			t.Errorf("%s got %d offers at start, want %d", name, got, want)
		}
	}
	c1, c2 := f.ids["canary-1"], f.ids["canary-2"]
	if !f.m.Offered(c1, arm.SHA256) || f.m.Offered(f.ids["s1"], amd.SHA256) {
		t.Error("Offered: a canary may download the build, a street screen not yet")
	}
	// A street screen naming the build in its heartbeat does not make
	// itself offered.
	f.m.Report(f.ids["s1"], "1.0.0", &playlists.UpdateStatus{Build: amd.SHA256, Version: "2.0.0", State: playlists.UpdateDownloading})
	if f.m.Offered(f.ids["s1"], amd.SHA256) {
		t.Error("a heartbeat naming the build unlocked its download outside the wave")
	}

	// canary-1 updates; canary-2 is rolled back.
	f.m.Report(c1, "1.0.0", &playlists.UpdateStatus{Build: amd.SHA256, Version: "2.0.0", State: playlists.UpdateDownloading})
	f.m.Report(c1, "1.0.0", &playlists.UpdateStatus{Build: amd.SHA256, Version: "2.0.0", State: playlists.UpdateDownloaded, Platform: "linux/amd64"})
	if s := f.state(t, r.ID, "canary-1"); s.State != ScreenDownloaded || s.Platform != "linux/amd64" {
		t.Errorf("canary-1 after download: %+v", s)
	}
	f.m.Report(c1, "2.0.0", &playlists.UpdateStatus{Build: amd.SHA256, Version: "2.0.0", State: playlists.UpdateDownloaded})
	if s := f.state(t, r.ID, "canary-1"); s.State != ScreenDownloaded {
		t.Errorf("canary-1 on trial: got %s, want still downloaded until it confirms", s.State)
	}
	f.m.Report(c1, "2.0.0", &playlists.UpdateStatus{Build: amd.SHA256, Version: "2.0.0", State: playlists.UpdateRunning})
	f.m.Report(c2, "1.0.0", &playlists.UpdateStatus{Build: arm.SHA256, Version: "2.0.0", State: playlists.UpdateRolledBack, Error: "did not start (4 starts)"})
	if s := f.state(t, r.ID, "canary-1"); s.State != ScreenRunning {
		t.Errorf("canary-1: got %s, want running", s.State)
	}
	if s := f.state(t, r.ID, "canary-2"); s.State != ScreenFailed || s.Error != "rolled back from 2.0.0: did not start (4 starts)" {
		t.Errorf("canary-2: got %+v, want failed with the reason", s)
	}
	// A failed screen is not offered the build again at its next hello.
	f.m.Deliver(c2)
	if got := f.offers("canary-2"); got != 1 {
		t.Errorf("canary-2 offered %d times after failing, want still 1", got)
	}

	// Pause: a street screen saying hello after the advance gets nothing.
	if _, err := f.m.Act(r.ID, ActPause, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Act(r.ID, ActAdvance, "admin"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"s1", "s2", "s3"} {
		f.m.Deliver(f.ids[n])
		if got := f.offers(n); got != 0 {
			t.Errorf("%s offered while paused", n)
		}
	}
	// Resume offers the 50 % wave at once; another advance all of them.
	if _, err := f.m.Act(r.ID, ActResume, "admin"); err != nil {
		t.Fatal(err)
	}
	first := 0
	for _, n := range []string{"s1", "s2", "s3"} {
		want := 0
		if Bucket(r.ID, f.ids[n]) < 50 {
			want = 1
			first++
		}
		if got := f.offers(n); got != want {
			t.Errorf("%s: %d offers in the 50%% wave, want %d", n, got, want)
		}
	}
	v, _ := f.m.Get(r.ID)
	if v.Counts[ScreenWaiting] != 3-first {
		t.Errorf("counts %v: want %d waiting", v.Counts, 3-first)
	}
	if _, err := f.m.Act(r.ID, ActAdvance, "admin"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"s1", "s2", "s3"} {
		if got := f.offers(n); got != 1 {
			t.Errorf("%s: %d offers after the last wave, want 1", n, got)
		}
	}

	// Saved progress survives a restart of the server.
	if err := f.m.Flush(); err != nil {
		t.Fatal(err)
	}
	m2, err := New(Options{Store: f.st, ReleaseKey: f.m.opts.ReleaseKey, Status: f.m.opts.Status, Now: f.m.opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := m2.Get(r.ID)
	if v2.Counts[ScreenFailed] != 1 || v2.Counts[ScreenRunning] != 1 || v2.Counts[ScreenOffered] != 3 {
		t.Errorf("after a restart: counts %v, want 1 failed, 1 running, 3 offered", v2.Counts)
	}
}

func TestDeadline(t *testing.T) {
	f := newFixture(t)
	b, _ := f.upload("2.0.0", "linux/amd64", []byte("amd64 build"), f.priv)
	r, err := f.m.Create(CreateRequest{Version: "2.0.0", CanaryGroups: []string{"lab"}}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	c1 := f.ids["canary-1"]
	f.m.Report(c1, "1.0.0", &playlists.UpdateStatus{Build: b.SHA256, Version: "2.0.0", State: playlists.UpdateDownloaded})
	f.now = f.now.Add(DefaultDeadline - time.Second)
	f.m.sweep()
	if s := f.state(t, r.ID, "canary-1"); s.State != ScreenDownloaded {
		t.Fatalf("before the deadline: %s", s.State)
	}
	f.now = f.now.Add(2 * time.Second)
	f.m.sweep()
	s := f.state(t, r.ID, "canary-1")
	if s.State != ScreenFailed || s.Error != "still reports 1.0.0 15m0s after downloading 2.0.0" {
		t.Fatalf("after the deadline: %+v, want failed naming the old version", s)
	}
	// It comes back on the new version after all.
	f.m.Report(c1, "2.0.0", &playlists.UpdateStatus{Build: b.SHA256, Version: "2.0.0", State: playlists.UpdateRunning})
	if s := f.state(t, r.ID, "canary-1"); s.State != ScreenRunning || s.Error != "" {
		t.Errorf("late success: %+v, want running", s)
	}
}

func TestNewRolloutSupersedes(t *testing.T) {
	f := newFixture(t)
	f.upload("2.0.0", "linux/amd64", []byte("two"), f.priv)
	f.upload("2.0.1", "linux/amd64", []byte("two-one"), f.priv)
	r1, err := f.m.Create(CreateRequest{Version: "2.0.0", CanaryGroups: []string{"lab"}}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Create(CreateRequest{Version: "2.0.1", CanaryGroups: []string{"street"}}, "admin"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.st.GetRollout(r1.ID)
	if got.State != store.RolloutSuperseded {
		t.Errorf("the older roll-out is %s, want superseded", got.State)
	}
	if _, err := f.m.Act(r1.ID, ActResume, "admin"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("resume of a superseded roll-out: got %v, want a conflict", err)
	}
	for _, tc := range []CreateRequest{
		{Version: "9.9.9", CanaryGroups: []string{"lab"}},
		{Version: "2.0.0", CanaryGroups: []string{"nowhere"}},
		{Version: "2.0.0", Percent: 101},
		{},
	} {
		if _, err := f.m.Create(tc, "admin"); err == nil {
			t.Errorf("Create(%+v) succeeded, want refused", tc)
		}
	}
	vs, _ := f.m.Versions()
	if len(vs) != 1 || vs[0].Version != "1.0.0" || vs[0].Screens != 5 || vs[0].Online != 5 {
		t.Errorf("versions %+v, want 5 screens on 1.0.0", vs)
	}
}
