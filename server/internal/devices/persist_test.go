package devices

import (
	"fmt"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// fleetOf creates n screens in one store transaction and a registry over
// them.
func fleetOf(t testing.TB, n int, clk *clock, mods ...func(*Options)) (*Registry, *store.Store, []string) {
	t.Helper()
	st, err := store.Open(t.TempDir(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var ids []string
	for len(ids) < n {
		batch := make([]store.Screen, min(n-len(ids), store.MaxImportScreens))
		for i := range batch {
			batch[i] = store.Screen{Name: fmt.Sprintf("屏幕 %d", len(ids)+i)}
		}
		created, _, err := st.CreateScreens(batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range created {
			ids = append(ids, s.ID)
		}
	}
	opts := Options{Store: st, Now: clk.now, OfflineAfter: 90 * time.Second, Logger: healthTestLogger()}
	for _, m := range mods {
		m(&opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, st, ids
}

// flushed flushes and returns what that flush wrote.
func flushed(t *testing.T, r *Registry) FlushStats {
	t.Helper()
	before := r.FlushStats()
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	after := r.FlushStats()
	return FlushStats{Records: after.Records - before.Records, Transactions: after.Transactions - before.Transactions}
}

// TestStatusFlushWritesWhatChanged counts the status records a flush
// writes: 10,000 screens acknowledging a publish are saved in a few
// transactions, each record once; an idle flush writes nothing; a
// heartbeat that only moves last-seen a little, or changes what every
// heartbeat changes, waits; the shutdown flush saves everything.
func TestStatusFlushWritesWhatChanged(t *testing.T) {
	const n = 10_000
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	r, st, ids := fleetOf(t, n, clk)
	chunks := int64((n + statusChunk - 1) / statusChunk)

	for _, id := range ids {
		if _, err := r.Hello(id, playlists.Hello{PlayerVersion: "1.0", AppliedVersion: "v1"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := flushed(t, r); got.Records != n || got.Transactions != chunks {
		t.Fatalf("after %d hellos: flush wrote %+v, want %d records in %d transactions", n, got, n, chunks)
	}
	if got := flushed(t, r); got != (FlushStats{}) {
		t.Fatalf("idle flush wrote %+v, want nothing", got)
	}

	// A publish: every screen acknowledges v2.
	clk.add(time.Second)
	for _, id := range ids {
		r.Applied(id, playlists.Applied{Version: "v2"})
	}
	if got := flushed(t, r); got.Records != n || got.Transactions != chunks {
		t.Fatalf("after %d acks: flush wrote %+v, want %d records (each once) in %d transactions", n, got, n, chunks)
	}
	saved, err := st.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if saved[id].AppliedVersion != "v2" || !saved[id].AppliedAt.Equal(clk.now()) {
			t.Fatalf("saved status of %s: %+v, want v2 applied now", id, saved[id])
		}
	}
	if got := flushed(t, r); got != (FlushStats{}) {
		t.Fatalf("idle flush after the publish wrote %+v, want nothing", got)
	}

	// A publish only some screens acknowledge in this interval.
	for _, id := range ids[:100] {
		r.Applied(id, playlists.Applied{Version: "v3"})
	}
	if got := flushed(t, r); got.Records != 100 || got.Transactions != 1 {
		t.Fatalf("after 100 acks: flush wrote %+v, want 100 records in 1 transaction", got)
	}

	// Heartbeats within a flush interval of the saved last-seen, changing
	// only what every heartbeat changes (uptime, current item, plays
	// pending, a few bytes of disk), wait for a later flush.
	clk.add(time.Second)
	hb := func(id string, item string) {
		r.Heartbeat(id, playlists.Heartbeat{AppliedVersion: "v2", CurrentItem: item, UptimeS: 61,
			PageAlive: true, DiskFreeBytes: 8<<30 + 4096, DiskTotalBytes: 16 << 30, PlaysPending: 3})
	}
	for _, id := range ids[100:] {
		hb(id, "itm_a")
	}
	// The first heartbeat of each session reports page alive and disk
	// space, which the hello did not: those are saved.
	if got := flushed(t, r); got.Records != n-100 {
		t.Fatalf("after first heartbeats: flush wrote %+v, want %d records", got, n-100)
	}
	clk.add(time.Second)
	for _, id := range ids[100:] {
		hb(id, "itm_b")
	}
	if got := flushed(t, r); got != (FlushStats{}) {
		t.Fatalf("heartbeats 1 s later changing only passing fields: flush wrote %+v, want nothing", got)
	}
	// Once last-seen moved a flush interval (DefaultFlushEvery) from the
	// saved one, the heartbeat is saved, passing fields included.
	clk.add(DefaultFlushEvery)
	hb(ids[500], "itm_c")
	if got := flushed(t, r); got.Records != 1 {
		t.Fatalf("a heartbeat %s after the saved one: flush wrote %+v, want 1 record", DefaultFlushEvery+time.Second, got)
	}
	if saved, _ := st.Statuses(); saved[ids[500]].CurrentItem != "itm_c" || !saved[ids[500]].LastSeen.Equal(clk.now()) {
		t.Errorf("saved with the heartbeat: %+v", saved[ids[500]])
	}

	// A disconnect is saved whatever changed; a forgotten screen is not.
	r.Disconnected(ids[1])
	r.Disconnected(ids[2])
	r.Forget(ids[2])
	if got := flushed(t, r); got.Records != 1 {
		t.Fatalf("after a disconnect and a forget: flush wrote %+v, want 1 record", got)
	}

	// Shutdown saves every change, passing ones included: the screens
	// whose item changed to itm_b (all but ids[:100] and ids[500]).
	before := r.FlushStats()
	if err := r.FlushAll(); err != nil {
		t.Fatal(err)
	}
	if got := r.FlushStats().Records - before.Records; got != n-101 {
		t.Errorf("shutdown flush wrote %d records, want %d", got, n-101)
	}
	if saved, _ := st.Statuses(); saved[ids[9999]].CurrentItem != "itm_b" {
		t.Errorf("after the shutdown flush: %+v, want the last item", saved[ids[9999]])
	}
	if got := flushed(t, r); got != (FlushStats{}) {
		t.Fatalf("idle flush after shutdown flush wrote %+v, want nothing", got)
	}
}

// TestStatusFlushRetries: a failed save keeps what it could not write for
// the next flush.
func TestStatusFlushRetries(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	r, st, ids := fleetOf(t, 3, clk)
	for _, id := range ids {
		if _, err := r.Hello(id, playlists.Hello{AppliedVersion: "v1"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close() // every write now fails
	if err := r.Flush(); err == nil {
		t.Fatal("flush into a closed store: no error")
	}
	if got := r.FlushStats(); got.Records != 0 {
		t.Fatalf("failed flush counted %+v", got)
	}
	for _, id := range ids {
		if s := r.get(id); !s.dirty.Load() {
			t.Errorf("%s not kept for the next flush", id)
		}
	}
}

// TestLastSeenEveryConfigured: with LastSeenEvery at 30 s (kiosk-server
// -last-seen-every), heartbeats that only move last-seen write nothing
// until the saved last-seen is 30 s old, then one record per screen; a
// change of a persisted field is saved at the next flush whatever the
// setting.
func TestLastSeenEveryConfigured(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	r, _, ids := fleetOf(t, 50, clk, func(o *Options) { o.LastSeenEvery = 30 * time.Second })
	hb := func(id string) {
		r.Heartbeat(id, playlists.Heartbeat{AppliedVersion: "v1", PageAlive: true, DiskFreeBytes: 8 << 30, DiskTotalBytes: 16 << 30})
	}
	for _, id := range ids {
		if _, err := r.Hello(id, playlists.Hello{AppliedVersion: "v1"}); err != nil {
			t.Fatal(err)
		}
		hb(id)
	}
	if got := flushed(t, r); got.Records != 50 {
		t.Fatalf("after hellos: flush wrote %+v, want 50 records", got)
	}
	// Heartbeats every 10 s: 10 s and 20 s after the save write nothing.
	for range 2 {
		clk.add(10 * time.Second)
		for _, id := range ids {
			hb(id)
		}
		if got := flushed(t, r); got != (FlushStats{}) {
			t.Fatalf("heartbeats %s after the save: flush wrote %+v, want nothing", clk.now().Sub(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), got)
		}
	}
	// 30 s after the save: every screen once.
	clk.add(10 * time.Second)
	for _, id := range ids {
		hb(id)
	}
	if got := flushed(t, r); got.Records != 50 {
		t.Fatalf("heartbeats 30 s after the save: flush wrote %+v, want 50 records", got)
	}
	// A real change does not wait for the last-seen interval.
	clk.add(time.Second)
	r.Applied(ids[7], playlists.Applied{Version: "v2"})
	if got := flushed(t, r); got.Records != 1 {
		t.Fatalf("an ack 1 s later: flush wrote %+v, want 1 record", got)
	}
}

// A flush's records go to the store in key order, each with its own
// screen, so each chunk rewrites its own run of pages.
func TestSortByScreen(t *testing.T) {
	ids := []string{"scr_c", "scr_a", "scr_e", "scr_b", "scr_d"}
	recs := make([]store.StatusRecord, len(ids))
	taken := make([]*screen, len(ids))
	for i, id := range ids {
		recs[i] = store.StatusRecord{Screen: id, Status: store.ScreenStatus{PlayerVersion: "v-" + id}}
		taken[i] = &screen{id: id}
	}
	sortByScreen(recs, taken)
	for i := range recs {
		if i > 0 && recs[i-1].Screen >= recs[i].Screen {
			t.Fatalf("not in key order: %v", recs)
		}
		if taken[i].id != recs[i].Screen || recs[i].Status.PlayerVersion != "v-"+recs[i].Screen {
			t.Fatalf("record %d is %s with status %+v and screen %s", i, recs[i].Screen, recs[i].Status, taken[i].id)
		}
	}
}
