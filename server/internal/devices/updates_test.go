package devices

import (
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

type fakeUpdates struct {
	delivered []string
	reports   []playlists.UpdateStatus
	versions  []string
}

func (f *fakeUpdates) Deliver(id string) { f.delivered = append(f.delivered, id) }
func (f *fakeUpdates) Report(id, version string, u *playlists.UpdateStatus) {
	f.versions = append(f.versions, version)
	if u != nil {
		f.reports = append(f.reports, *u)
	}
}

// TestUpdatesHearHelloAndHeartbeats: a hello gets the roll-out's offer,
// every heartbeat's version and update report reach the roll-out manager.
func TestUpdatesHearHelloAndHeartbeats(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	st, err := store.Open(t.TempDir(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	scr, _, err := st.CreateScreen(store.Screen{Name: "大堂"})
	if err != nil {
		t.Fatal(err)
	}
	up := &fakeUpdates{}
	r, err := New(Options{Store: st, Now: clk.now, Updates: up})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Hello(scr.ID, playlists.Hello{PlayerVersion: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if len(up.delivered) != 0 {
		t.Errorf("offers delivered from inside hello, before the welcome: %v", up.delivered)
	}
	r.Welcomed(scr.ID)
	if len(up.delivered) != 1 || up.delivered[0] != scr.ID {
		t.Errorf("offers delivered once welcomed: %v, want the screen's", up.delivered)
	}
	r.Heartbeat(scr.ID, playlists.Heartbeat{PlayerVersion: "1.0.0",
		Update: &playlists.UpdateStatus{Version: "2.0.0", State: playlists.UpdateRolledBack, Error: "did not start"}})
	r.Heartbeat(scr.ID, playlists.Heartbeat{PlayerVersion: "1.0.0"})
	if len(up.versions) != 2 || len(up.reports) != 1 || up.reports[0].State != playlists.UpdateRolledBack {
		t.Errorf("reports heard: versions %v, updates %+v; want two heartbeats, one rollback", up.versions, up.reports)
	}
}
