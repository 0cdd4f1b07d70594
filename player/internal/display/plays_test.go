package display

import (
	"context"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
)

// playRecorder collects what OnPlay receives.
type playRecorder struct {
	mu    sync.Mutex
	plays []playlists.Play
}

func (r *playRecorder) record(p playlists.Play) {
	r.mu.Lock()
	r.plays = append(r.plays, p)
	r.mu.Unlock()
}

func (r *playRecorder) get() []playlists.Play {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]playlists.Play(nil), r.plays...)
}

func TestOnPlayRecordsEveryItemThatLeaves(t *testing.T) {
	clk := newFakeClock(T0)
	rec := &playRecorder{}
	s := New(Options{Now: clk.Now, Logger: quietLogger(), Media: memMedia{}, OnPlay: rec.record})
	s.maxWait = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	a, b := item("a", playlists.KindNotice, 10), item("b", playlists.KindPSA, 10)
	c := item("c", playlists.KindLegalStory, 10)
	s.SetManifest(rotationManifest(a, b))

	// a runs its 10 s, then b goes up.
	clk.Set(T0.Add(10 * time.Second))
	waitFor(t, 5*time.Second, "b on screen", func() bool { return currentID(s) == "b" })
	// 4 s into b, a manifest without b replaces it at once.
	clk.Set(T0.Add(14 * time.Second))
	s.SetManifest(rotationManifest(c))
	// 3 s into c, nothing is scheduled any more: the fallback screen.
	clk.Set(T0.Add(17 * time.Second))
	s.SetManifest(nil)
	// The fallback is no play; the player stopping is the end of d.
	d := item("d", playlists.KindNotice, 10)
	s.SetManifest(rotationManifest(d))
	clk.Set(T0.Add(19500 * time.Millisecond))
	waitFor(t, 5*time.Second, "the director to see the clock", func() bool {
		_, since, ok := s.Current()
		return ok && since.Equal(T0.Add(17*time.Second))
	})
	cancel()
	<-done

	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	want := []playlists.Play{
		{Item: "a", Playlist: "pl", Schedule: "s", Start: T0.UnixMilli(), DurationMS: ms(10 * time.Second)},
		{Item: "b", Playlist: "pl", Schedule: "s", Start: T0.Add(10 * time.Second).UnixMilli(), DurationMS: ms(4 * time.Second)},
		{Item: "c", Playlist: "pl", Schedule: "s", Start: T0.Add(14 * time.Second).UnixMilli(), DurationMS: ms(3 * time.Second)},
		{Item: "d", Playlist: "pl", Schedule: "s", Start: T0.Add(17 * time.Second).UnixMilli(), DurationMS: 2500},
	}
	got := rec.get()
	if len(got) != len(want) {
		t.Fatalf("got %d plays %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("play %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestOnPlaySameSlotEditIsOnePlay(t *testing.T) {
	clk := newFakeClock(T0)
	rec := &playRecorder{}
	s := New(Options{Now: clk.Now, Logger: quietLogger(), Media: memMedia{}, OnPlay: rec.record})
	a, b := item("a", playlists.KindNotice, 10), item("b", playlists.KindNotice, 10)
	s.SetManifest(rotationManifest(a, b))
	// Editing the title of the item on screen keeps its slot and start: the
	// office must not see two plays for one showing.
	a2 := a
	a2.Title = "新标题"
	clk.Set(T0.Add(3 * time.Second))
	s.SetManifest(rotationManifest(a2, b))
	if got := rec.get(); len(got) != 0 {
		t.Fatalf("an edit of the item on screen produced plays %+v, want none", got)
	}
	// Replacing it in the very instant it went up is no play either.
	s.SetManifest(rotationManifest(item("x", playlists.KindPSA, 5)))
	s.SetManifest(rotationManifest(item("y", playlists.KindPSA, 5)))
	got := rec.get()
	if len(got) != 1 || got[0].Item != "a" || got[0].DurationMS != 3000 {
		t.Fatalf("plays = %+v; want only a for 3000 ms (x was up for 0 ms)", got)
	}
}

func TestOnPlayClockBackwardsUsesRealTime(t *testing.T) {
	clk := newFakeClock(T0)
	rec := &playRecorder{}
	s := New(Options{Now: clk.Now, Logger: quietLogger(), Media: memMedia{}, OnPlay: rec.record})
	s.maxWait = 5 * time.Millisecond
	s.SetManifest(rotationManifest(item("a", playlists.KindNotice, 60)))
	startRun(t, s)
	time.Sleep(50 * time.Millisecond)
	clk.Set(T0.Add(-time.Hour))
	waitFor(t, 5*time.Second, "a play ended by the backwards jump", func() bool { return len(rec.get()) == 1 })
	p := rec.get()[0]
	if p.Item != "a" || p.Start != T0.UnixMilli() || p.DurationMS < 40 || p.DurationMS > 5000 {
		t.Fatalf("play = %+v; want a from T0 for the real ~50 ms it was up", p)
	}
}

// TestOnPlayStopDuringUrgent: the player stops while an urgent notice is
// up. The notice is the last play; the item underneath, whose play ended
// when the notice went up, must not be counted a second time.
func TestOnPlayStopDuringUrgent(t *testing.T) {
	clk := newFakeClock(T0)
	rec := &playRecorder{}
	s := New(Options{Now: clk.Now, Logger: quietLogger(), Media: memMedia{}, OnPlay: rec.record})
	s.maxWait = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()

	s.SetManifest(urgentManifest())
	clk.Set(T0.Add(3 * time.Second))
	s.SetManifest(urgentManifest(notice("u1", T0, T0.Add(time.Hour))))
	clk.Set(T0.Add(8 * time.Second))
	waitFor(t, 5*time.Second, "the director to see the clock", func() bool {
		time.Sleep(20 * time.Millisecond)
		return true
	})
	cancel()
	<-done

	want := []playlists.Play{
		{Item: "a", Playlist: "pl", Schedule: "s", Start: T0.UnixMilli(), DurationMS: 3000},
		{Item: "u1", Urgent: true, Start: T0.Add(3 * time.Second).UnixMilli(), DurationMS: 5000},
	}
	got := rec.get()
	if len(got) != len(want) {
		t.Fatalf("plays = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("play %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
