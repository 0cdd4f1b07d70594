package display

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
)

// urgentManifest is a rotation of items a (10 s) and b (10 s) with the
// given notices.
func urgentManifest(notices ...playlists.Urgent) *playlists.Manifest {
	m := rotationManifest(item("a", playlists.KindNotice, 10), item("b", playlists.KindPSA, 10))
	m.Urgent = notices
	m.Seal()
	return m
}

func notice(id string, created, expires time.Time) playlists.Urgent {
	return playlists.Urgent{ID: id, Title: "紧急 " + id, Body: "正文 " + id,
		Target: playlists.Target{All: true}, CreatedAt: created, ExpiresAt: expires}
}

type urgentPlays struct {
	mu    sync.Mutex
	plays []playlists.Play
}

func (r *urgentPlays) record(p playlists.Play) {
	r.mu.Lock()
	r.plays = append(r.plays, p)
	r.mu.Unlock()
}

func (r *urgentPlays) get() []playlists.Play {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.plays)
}

func TestUrgentInterruptsAndEndsAtExpiry(t *testing.T) {
	clk := newFakeClock(T0)
	rec := &urgentPlays{}
	s := New(Options{Now: clk.Now, Logger: quietLogger(), Media: memMedia{}, OnPlay: rec.record})
	s.maxWait = 5 * time.Millisecond
	s.SetManifest(urgentManifest())
	startRun(t, s)
	waitFor(t, 5*time.Second, "item a on screen", func() bool { return currentID(s) == "a" })

	// At T0+4s a notice arrives that expires at T0+30s.
	clk.Set(T0.Add(4 * time.Second))
	s.SetManifest(urgentManifest(notice("u1", T0, T0.Add(30*time.Second))))
	if got := currentID(s); got != "u1" {
		t.Fatalf("current after the notice arrived = %q, want u1 at once", got)
	}
	e, since, _ := s.Current()
	if e.Item.Kind != KindUrgent || !since.Equal(T0.Add(4*time.Second)) {
		t.Errorf("Current = %+v since %v, want kind urgent since T0+4s", e.Item, since)
	}
	if got := s.UrgentShowing(); got != "u1" {
		t.Errorf("UrgentShowing = %q, want u1", got)
	}

	// Well past a's own end the rotation underneath has not moved.
	clk.Set(T0.Add(29*time.Second + 999*time.Millisecond))
	time.Sleep(30 * time.Millisecond)
	if got := currentID(s); got != "u1" {
		t.Fatalf("current just before expiry = %q, want u1", got)
	}
	// Exactly at ExpiresAt it is gone and the interrupted item a is back
	// with its full time.
	clk.Set(T0.Add(30 * time.Second))
	waitFor(t, 5*time.Second, "the notice to end at its expiry", func() bool { return currentID(s) == "a" })
	_, since, _ = s.Current()
	if !since.Equal(T0.Add(30 * time.Second)) {
		t.Errorf("a resumed since %v, want exactly the expiry T0+30s", since)
	}
	clk.Set(T0.Add(40 * time.Second))
	waitFor(t, 5*time.Second, "rotation to move on after the resumed a", func() bool { return currentID(s) == "b" })

	waitFor(t, 5*time.Second, "plays to be delivered", func() bool { return len(rec.get()) >= 3 })
	got := rec.get()
	want := []playlists.Play{
		{Item: "a", Playlist: "pl", Schedule: "s", Start: T0.UnixMilli(), DurationMS: 4000},
		{Item: "u1", Urgent: true, Start: T0.Add(4 * time.Second).UnixMilli(), DurationMS: 26000},
		{Item: "a", Playlist: "pl", Schedule: "s", Start: T0.Add(30 * time.Second).UnixMilli(), DurationMS: 10000},
	}
	for i, w := range want {
		g := got[i]
		g.ID = "" // set by the player core, not the display
		if g != w {
			t.Errorf("play %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestUrgentRotateNewFirstAndWithdraw(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	s.urgent.slot = 5 * time.Second
	u1 := notice("u1", T0, T0.Add(time.Hour))
	u2 := notice("u2", T0.Add(time.Second), T0.Add(time.Hour))
	s.SetManifest(urgentManifest(u1))
	startRun(t, s)
	if got := currentID(s); got != "u1" {
		t.Fatalf("current = %q, want u1", got)
	}
	// A second notice goes up at once, although u1 had time left.
	clk.Set(T0.Add(2 * time.Second))
	s.SetManifest(urgentManifest(u1, u2))
	if got := currentID(s); got != "u2" {
		t.Fatalf("after u2 arrived current = %q, want u2 at once", got)
	}
	// They rotate every slot.
	clk.Set(T0.Add(7 * time.Second))
	waitFor(t, 5*time.Second, "rotation to u1", func() bool { return currentID(s) == "u1" })
	clk.Set(T0.Add(12 * time.Second))
	waitFor(t, 5*time.Second, "rotation back to u2", func() bool { return currentID(s) == "u2" })

	// The page gets the overlay with its position.
	ev := s.snapshot()
	if ev.Urgent == nil || ev.Urgent.ID != "u2" || ev.Urgent.Label != UrgentLabel || ev.Urgent.Count != 2 || ev.Urgent.Index != 1 {
		t.Errorf("show event urgent = %+v, want u2, 1 of 2, labelled %s", ev.Urgent, UrgentLabel)
	}

	// Withdrawing u2 (a manifest without it) leaves u1; withdrawing both
	// resumes the rotation at once.
	s.SetManifest(urgentManifest(u1))
	if got := currentID(s); got != "u1" {
		t.Errorf("after u2 withdrawn current = %q, want u1", got)
	}
	s.SetManifest(urgentManifest())
	if got := currentID(s); got != "a" {
		t.Errorf("after all withdrawn current = %q, want the rotation's a", got)
	}
	if ev := s.snapshot(); ev.Urgent != nil {
		t.Errorf("show event still carries urgent %+v after withdrawal", ev.Urgent)
	}
}

func TestStateReportsUrgent(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	s.SetManifest(urgentManifest(notice("u1", T0, T0.Add(time.Minute))))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/state", nil))
	var st struct {
		Urgent       string     `json:"urgent"`
		UrgentActive int        `json:"urgent_active"`
		CurrentItem  string     `json:"current_item"`
		CurrentKind  string     `json:"current_kind"`
		CurrentUntil *time.Time `json:"current_until"`
		Fallback     bool       `json:"fallback"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("decode /state %s: %v", rec.Body, err)
	}
	if st.Urgent != "u1" || st.CurrentItem != "u1" || st.CurrentKind != "urgent" || st.UrgentActive != 1 || st.Fallback {
		t.Errorf("/state = %+v, want urgent u1 as the current item", st)
	}
	if st.CurrentUntil == nil || !st.CurrentUntil.Equal(T0.Add(time.Minute)) {
		t.Errorf("current_until = %v, want the expiry %v", st.CurrentUntil, T0.Add(time.Minute))
	}
}

// An urgent notice over the fallback screen (no schedule at all) shows and
// ends just the same.
func TestUrgentOverFallback(t *testing.T) {
	clk := newFakeClock(T0)
	s := newFakeServer(t, clk)
	m := &playlists.Manifest{Timezone: "Asia/Shanghai", Urgent: []playlists.Urgent{notice("u1", T0, T0.Add(10*time.Second))}}
	m.Seal()
	s.SetManifest(m)
	startRun(t, s)
	if got := currentID(s); got != "u1" {
		t.Fatalf("current = %q, want u1 over the fallback", got)
	}
	clk.Set(T0.Add(10 * time.Second))
	waitFor(t, 5*time.Second, "fallback after expiry", func() bool { return currentID(s) == "" })
}
