package syncer

import (
	"testing"

	"kiosk/playlists"
)

// TestUpdateOfferStatusAndSynced: an update frame reaches OnUpdate, the
// update status rides in heartbeats, and OnSynced hears that the server's
// manifest is applied.
func TestUpdateOfferStatusAndSynced(t *testing.T) {
	f := newFakeServer(t)
	m1, data := content([]byte("image one"))
	f.publish(m1, data)
	offers := make(chan playlists.UpdateOffer, 10)
	synced := make(chan struct{}, 100)
	start(t, f, nil, func(c *Config) {
		c.OnUpdate = func(o playlists.UpdateOffer) { offers <- o }
		c.UpdateStatus = func() *playlists.UpdateStatus {
			return &playlists.UpdateStatus{Version: "2.0.0", State: playlists.UpdateRolledBack, Error: "did not start"}
		}
		c.OnSynced = func() { synced <- struct{}{} }
	})
	recv(t, synced, "OnSynced after applying the server's version")
	eventually(t, "a heartbeat with the update status", func() bool {
		hb := recv(t, f.heartbeats, "heartbeat")
		return hb.Update != nil && hb.Update.State == playlists.UpdateRolledBack && hb.Update.Error == "did not start"
	})
	f.mu.Lock()
	var conns []*fakeConn
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, c := range conns {
		c.send(t, playlists.MsgUpdate, playlists.UpdateOffer{Rollout: "ro_1", Version: "2.0.0"})
	}
	if o := recv(t, offers, "update offer"); o.Rollout != "ro_1" || o.Version != "2.0.0" {
		t.Errorf("offer %+v", o)
	}
}
