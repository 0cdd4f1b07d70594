package devices

import (
	"slices"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// TestChanges covers what the live fleet listens to: every hello,
// heartbeat, applied version, touch and delete wakes the watchers and
// names the screen, once per change since the watcher last asked, and
// nothing is reported twice.
func TestChanges(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	st, err := store.Open(t.TempDir(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := st.CreateScreen(store.Screen{Name: "大堂"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := st.CreateScreen(store.Screen{Name: "门口"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Store: st, Now: clk.now, OfflineAfter: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}

	woken := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	wake, seq := r.Changes()
	if woken(wake) {
		t.Fatal("the channel is closed before any change")
	}
	if ids, _ := r.ChangedSince(seq); len(ids) != 0 {
		t.Fatalf("changed before anything happened: %v", ids)
	}

	steps := []struct {
		what string
		do   func()
		want []string
	}{
		{"hello", func() { _, _ = r.Hello(a.ID, playlists.Hello{PlayerVersion: "1"}) }, []string{a.ID}},
		{"heartbeat", func() { r.Heartbeat(a.ID, playlists.Heartbeat{CurrentItem: "itm_1"}) }, []string{a.ID}},
		{"applied", func() { r.Applied(b.ID, playlists.Applied{Version: "v1"}) }, []string{b.ID}},
		{"an unknown screen", func() { r.Applied("scr_nope", playlists.Applied{Version: "v1"}) }, nil},
		{"a new token", func() { r.SetToken(b.ID, "kdt_new") }, []string{b.ID}},
		{"two at once", func() {
			r.Applied(b.ID, playlists.Applied{Version: "v2"})
			r.Touch(a.ID)
		}, []string{a.ID, b.ID}},
		{"disconnect", func() { r.Disconnected(a.ID) }, []string{a.ID}},
		{"forget", func() { r.Forget(b.ID) }, []string{b.ID}},
	}
	for _, s := range steps {
		wake, _ = r.Changes()
		s.do()
		if got := woken(wake); got != (s.want != nil) {
			t.Errorf("%s: woken %v, want %v", s.what, got, s.want != nil)
		}
		var ids []string
		ids, seq = r.ChangedSince(seq)
		slices.Sort(ids)
		want := slices.Clone(s.want)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("%s: changed %v, want %v", s.what, ids, want)
		}
	}
	if ids, _ := r.ChangedSince(0); len(ids) != 2 {
		t.Errorf("ChangedSince(0) = %v, want both screens (a deleted one stays reported)", ids)
	}
}
