package display

import (
	"testing"
	"time"

	"kiosk/playlists"
)

// T0 is a fixed instant for fake-clock tests (a Saturday in Shanghai).
var T0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func newFakeServer(t *testing.T, clk *fakeClock) *Server {
	t.Helper()
	s := New(Options{Now: clk.Now, Logger: quietLogger(), Media: memMedia{}})
	// Re-read the fake clock often so moving it takes effect quickly.
	s.maxWait = 5 * time.Millisecond
	return s
}

// TestRotationAdvancesAndWraps runs the real clock over three one-second
// items and watches every switch.
func TestRotationAdvancesAndWraps(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	s.SetManifest(rotationManifest(
		item("a", playlists.KindLegalStory, 1),
		item("b", playlists.KindNotice, 1),
		item("c", playlists.KindPSA, 1),
	))
	ch, ok := s.subscribe()
	if !ok {
		t.Fatal("subscribe refused")
	}
	defer s.unsubscribe(ch)

	type shown struct {
		id    string
		since time.Time
	}
	first, since, ok := s.Current()
	if !ok {
		t.Fatal("Current() ok = false right after SetManifest, want the first item")
	}
	got := []shown{{first.Item.ID, since}}
	startRun(t, s)

	deadline := time.After(20 * time.Second)
	for len(got) < 5 {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("only saw %v before the deadline, want 5 switches", got)
		}
		e, since, ok := s.Current()
		if !ok {
			t.Fatalf("fallback screen during a rotation (after %v)", got)
		}
		if last := got[len(got)-1]; last.id != e.Item.ID || !last.since.Equal(since) {
			got = append(got, shown{e.Item.ID, since})
		}
	}
	want := []string{"a", "b", "c", "a", "b"}
	for i, w := range want {
		if got[i].id != w {
			t.Fatalf("switch %d showed %q, want %q (sequence %v)", i, got[i].id, w, got)
		}
	}
	for i := 1; i < len(got); i++ {
		d := got[i].since.Sub(got[i-1].since)
		// Anchored at the due instant, so exactly 1 s unless the machine
		// stalled for more than a second.
		if d < time.Second || d > 3*time.Second {
			t.Errorf("item %q was up for %v, want 1s", got[i-1].id, d)
		}
	}
}

func TestSetManifest(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	startRun(t, s)

	if _, _, ok := s.Current(); ok {
		t.Fatal("Current() ok = true before any manifest, want the fallback screen")
	}

	a, b := item("a", playlists.KindNotice, 10), item("b", playlists.KindNotice, 10)
	c, d := item("c", playlists.KindPSA, 10), item("d", playlists.KindPSA, 10)

	s.SetManifest(rotationManifest(a, b))
	if got := currentID(s); got != "a" {
		t.Fatalf("after the first manifest current = %q, want a", got)
	}

	// The item on screen is gone from the new rotation: switch at once.
	clk.Set(T0.Add(2 * time.Second))
	s.SetManifest(rotationManifest(c, d))
	e, since, _ := s.Current()
	if e.Item.ID != "c" || !since.Equal(T0.Add(2*time.Second)) {
		t.Fatalf("after a manifest without the current item: current %q since %v, want c since %v",
			e.Item.ID, since, T0.Add(2*time.Second))
	}

	// Still in the new rotation: it keeps its slot and start, and the
	// rotation continues after it.
	clk.Set(T0.Add(4 * time.Second))
	s.SetManifest(rotationManifest(b, c, d))
	e, since, _ = s.Current()
	if e.Item.ID != "c" || !since.Equal(T0.Add(2*time.Second)) {
		t.Fatalf("after a manifest still holding c: current %q since %v, want c since %v",
			e.Item.ID, since, T0.Add(2*time.Second))
	}

	// Edited content of the item on screen shows at once, same slot.
	c2 := c
	c2.Title = "改过的标题"
	clk.Set(T0.Add(5 * time.Second))
	s.SetManifest(rotationManifest(b, c2, d))
	e, since, _ = s.Current()
	if e.Item.Title != c2.Title || !since.Equal(T0.Add(2*time.Second)) {
		t.Fatalf("after editing c: current title %q since %v, want %q since %v",
			e.Item.Title, since, c2.Title, T0.Add(2*time.Second))
	}

	clk.Set(T0.Add(12 * time.Second))
	waitFor(t, 10*time.Second, "d after c's 10 s", func() bool { return currentID(s) == "d" })
	if _, since, _ := s.Current(); !since.Equal(T0.Add(12 * time.Second)) {
		t.Errorf("d since %v, want %v (c's end)", since, T0.Add(12*time.Second))
	}

	// Republishing the same version changes nothing.
	m := rotationManifest(b, c2, d)
	s.mu.Lock()
	before := s.showID
	s.mu.Unlock()
	s.SetManifest(m)
	s.mu.Lock()
	after := s.showID
	s.mu.Unlock()
	if after != before {
		t.Errorf("same version again bumped the show id from %d to %d", before, after)
	}

	s.SetManifest(nil)
	if _, _, ok := s.Current(); ok {
		t.Fatal("Current() ok = true after SetManifest(nil), want the fallback screen")
	}
}

// TestSameRotationKeepsPosition: a republish that does not change this
// screen's rotation must not restart it at the first item.
func TestSameRotationKeepsPosition(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	startRun(t, s)
	a, b, c := item("a", playlists.KindNotice, 10), item("b", playlists.KindNotice, 10), item("c", playlists.KindNotice, 10)
	s.SetManifest(rotationManifest(a, b, c))
	clk.Set(T0.Add(10 * time.Second))
	waitFor(t, 10*time.Second, "b after a", func() bool { return currentID(s) == "b" })

	// Same rotation, different version (an unrelated item was added).
	m := rotationManifest(a, b, c)
	m.Items = append(m.Items, item("z", playlists.KindPSA, 10))
	m.Seal()
	s.SetManifest(m)
	clk.Set(T0.Add(20 * time.Second))
	waitFor(t, 10*time.Second, "c after b", func() bool { return currentID(s) == "c" })
}

func TestNothingScheduledShowsFallback(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	// A schedule that ended yesterday and an empty playlist.
	m := manifest(
		[]playlists.Item{item("a", playlists.KindNotice, 10)},
		map[string][]string{"old": {"a"}, "empty": {}},
		[]playlists.Schedule{
			schedule("s1", "old", 0, ptr(T0.Add(-48*time.Hour)), ptr(T0.Add(-24*time.Hour))),
			schedule("s2", "empty", 0, nil, nil),
		})
	s.SetManifest(m)
	if id := currentID(s); id != "" {
		t.Fatalf("current = %q with nothing scheduled, want the fallback screen", id)
	}
	ev := s.snapshot()
	if !ev.Fallback || ev.Current != nil {
		t.Errorf("snapshot fallback=%v current=%v, want fallback with no current item", ev.Fallback, ev.Current)
	}
	if ev.DistrictName != DefaultDistrictName {
		t.Errorf("district name %q, want the default %q", ev.DistrictName, DefaultDistrictName)
	}
}

// TestWindowBoundaries: a higher priority window takes over at its From and
// hands back at its To, to the instant, even mid-item.
func TestWindowBoundaries(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	from, to := T0.Add(3*time.Second), T0.Add(6*time.Second)
	m := manifest(
		[]playlists.Item{
			item("a1", playlists.KindNotice, 10), item("a2", playlists.KindNotice, 10),
			item("b1", playlists.KindLegalStory, 10),
		},
		map[string][]string{"daily": {"a1", "a2"}, "law": {"b1"}},
		[]playlists.Schedule{
			schedule("default", "daily", 0, nil, nil),
			schedule("law-week", "law", 5, &from, &to),
		})
	s.SetManifest(m)
	startRun(t, s)

	if got := currentID(s); got != "a1" {
		t.Fatalf("before the window current = %q, want a1", got)
	}
	s.mu.Lock()
	next, nextAt := s.next.Item.ID, s.nextAt
	s.mu.Unlock()
	if next != "b1" || !nextAt.Equal(from) {
		t.Errorf("predicted next %q at %v, want b1 at %v (the window opening)", next, nextAt, from)
	}

	steps := []struct {
		at   time.Time
		want string
	}{
		{from.Add(-time.Millisecond), "a1"},
		{from, "b1"},
		{to.Add(-time.Millisecond), "b1"},
		{to, "a1"}, // the rotation changed: it starts again from its first item
	}
	for _, st := range steps {
		clk.Set(st.at)
		// Give the director several of its 5 ms looks at the clock.
		time.Sleep(50 * time.Millisecond)
		waitFor(t, 10*time.Second, st.want+" at "+st.at.Format(time.StampMilli), func() bool {
			return currentID(s) == st.want
		})
		if st.at.Equal(from) || st.at.Equal(to) {
			if _, since, _ := s.Current(); !since.Equal(st.at) {
				t.Errorf("%s since %v, want exactly the boundary %v", st.want, since, st.at)
			}
		}
	}
}

// TestWindowBoundaryRealClock: the same on the real clock with a window a
// second and a half away.
func TestWindowBoundaryRealClock(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	from := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
	m := manifest(
		[]playlists.Item{item("a", playlists.KindNotice, 30), item("urgent", playlists.KindNotice, 30)},
		map[string][]string{"daily": {"a"}, "urgent": {"urgent"}},
		[]playlists.Schedule{
			schedule("default", "daily", 0, nil, nil),
			schedule("water-cut", "urgent", 9, &from, nil),
		})
	s.SetManifest(m)
	startRun(t, s)
	if got := currentID(s); got != "a" {
		t.Fatalf("before the window current = %q, want a", got)
	}
	waitFor(t, 15*time.Second, "the urgent notice at its window", func() bool { return currentID(s) == "urgent" })
	_, since, _ := s.Current()
	if !since.Equal(from) {
		t.Errorf("urgent since %v, want the window start %v", since, from)
	}
}

func TestClockJumps(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	s.SetManifest(rotationManifest(item("a", playlists.KindNotice, 10), item("b", playlists.KindNotice, 10)))
	startRun(t, s)

	// Corrected backwards by an hour: the slot restarts on the new clock
	// instead of lasting an hour and ten seconds.
	back := T0.Add(-time.Hour)
	clk.Set(back)
	waitFor(t, 10*time.Second, "the slot to restart after the clock went back", func() bool {
		_, since, _ := s.Current()
		return since.Equal(back)
	})
	clk.Set(back.Add(10 * time.Second))
	waitFor(t, 10*time.Second, "b ten seconds after the jump", func() bool { return currentID(s) == "b" })

	// Forward by a day: the next slot starts now, not at its stale due time.
	fwd := T0.Add(24 * time.Hour)
	clk.Set(fwd)
	waitFor(t, 10*time.Second, "a after the jump forward", func() bool { return currentID(s) == "a" })
	if _, since, _ := s.Current(); !since.Equal(fwd) {
		t.Errorf("after the jump forward a since %v, want %v", since, fwd)
	}
}

func TestHelpers(t *testing.T) {
	a, b := time.Unix(10, 0), time.Unix(20, 0)
	tests := []struct {
		name    string
		x, y    time.Time
		want    time.Time
		wantNil bool
	}{
		{"both zero", time.Time{}, time.Time{}, time.Time{}, true},
		{"first zero", time.Time{}, b, b, false},
		{"second zero", a, time.Time{}, a, false},
		{"earlier first", a, b, a, false},
		{"earlier second", b, a, a, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := earliest(tt.x, tt.y)
			if !got.Equal(tt.want) || got.IsZero() != tt.wantNil {
				t.Errorf("earliest(%v, %v) = %v, want %v", tt.x, tt.y, got, tt.want)
			}
		})
	}

	e := func(id string) playlists.Entry {
		return playlists.Entry{Item: playlists.Item{ID: id}, Playlist: "p", Schedule: "s"}
	}
	rot := []playlists.Entry{e("x"), e("y"), e("x")}
	if got := indexOf(rot, e("x"), 2); got != 2 {
		t.Errorf("indexOf with hint 2 = %d, want 2 (the hinted duplicate)", got)
	}
	if got := indexOf(rot, e("x"), 1); got != 0 {
		t.Errorf("indexOf with a wrong hint = %d, want 0", got)
	}
	if got := indexOf(rot, e("q"), 0); got != -1 {
		t.Errorf("indexOf of a missing entry = %d, want -1", got)
	}
	if !sameRotation(rot, []playlists.Entry{e("x"), e("y"), e("x")}) {
		t.Error("sameRotation of equal slots = false, want true")
	}
	if sameRotation(rot, []playlists.Entry{e("x"), e("x"), e("y")}) {
		t.Error("sameRotation of reordered slots = true, want false")
	}
}
