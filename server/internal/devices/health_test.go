package devices

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

type seenTransitions struct {
	mu  sync.Mutex
	got []string
}

func (tr *seenTransitions) add(t store.Transition) {
	tr.mu.Lock()
	tr.got = append(tr.got, t.From+"→"+t.To)
	tr.mu.Unlock()
}

func (tr *seenTransitions) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := tr.got
	tr.got = nil
	return out
}

func TestHealthTracking(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)}
	st, err := store.Open(t.TempDir(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	scr, _, err := st.CreateScreen(store.Screen{Name: "大堂"})
	if err != nil {
		t.Fatal(err)
	}
	var pubMu sync.Mutex
	published := "v1"
	pub := func(string) string { pubMu.Lock(); defer pubMu.Unlock(); return published }
	seen := &seenTransitions{}
	reg := prometheus.NewRegistry()
	opts := Options{Store: st, Now: clk.now, OfflineAfter: 90 * time.Second, Published: pub,
		OnTransition: seen.add, Registerer: reg, Logger: healthTestLogger()}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	good := playlists.Heartbeat{AppliedVersion: "v1", PageAlive: true, UptimeS: 3600, DiskFreeBytes: 10 << 30}

	check := func(step string, wantState State, wantTr ...string) {
		t.Helper()
		if got := r.Health(scr.ID).State; got != wantState {
			t.Errorf("%s: state %s, want %s (reasons %q)", step, got, wantState, r.Health(scr.ID).Reasons)
		}
		if got := seen.take(); fmt.Sprint(got) != fmt.Sprint(wantTr) {
			t.Errorf("%s: transitions %q, want %q", step, got, wantTr)
		}
	}

	if h := r.Health(scr.ID); h.State != StateOffline || h.Since != nil {
		t.Errorf("never seen: got %+v, want offline with null since", h)
	}
	r.EvaluateAll()
	check("never connected, evaluated: offline without a transition", StateOffline)
	r.Hello(scr.ID, playlists.Hello{AppliedVersion: "v1"})
	check("hello", StateOnline, "→online")
	r.Heartbeat(scr.ID, good)
	check("healthy heartbeat", StateOnline)

	// A new version is published; the screen is stale only after the grace.
	pubMu.Lock()
	published = "v2"
	pubMu.Unlock()
	r.EvaluateAll()
	clk.add(time.Minute)
	r.Heartbeat(scr.ID, good)
	check("lagging within grace", StateOnline)
	clk.add(80 * time.Second)
	r.Heartbeat(scr.ID, good)
	check("lagging past grace", StateStale, "online→stale")
	r.Applied(scr.ID, playlists.Applied{Version: "v2"})
	check("applied", StateOnline, "stale→online")
	good.AppliedVersion = "v2"

	bad := good
	bad.PageAlive = false
	r.Heartbeat(scr.ID, bad)
	check("page died", StateDegraded, "online→degraded")
	if h := r.Health(scr.ID); len(h.Reasons) != 1 || h.Since == nil || !h.Since.Equal(clk.now()) {
		t.Errorf("degraded health: got %+v, want one reason and since = now", h)
	}
	r.Heartbeat(scr.ID, good)
	check("page back", StateOnline, "degraded→online")

	// Silence: only the ticker can notice.
	clk.add(91 * time.Second)
	check("silent, not yet evaluated", StateOnline)
	r.EvaluateAll()
	check("silent, evaluated", StateOffline, "online→offline")
	r.Disconnected(scr.ID)
	check("socket closed after silence", StateOffline)
	offlineSince := *r.Health(scr.ID).Since

	if got := r.Counts(); got[StateOffline] != 1 || got[StateOnline] != 0 {
		t.Errorf("Counts: got %v, want 1 offline", got)
	}
	if v := healthMetric(t, reg, "kiosk_screens", "offline"); v != 1 {
		t.Errorf("kiosk_screens{state=offline}: got %v, want 1", v)
	}
	if v := healthMetric(t, reg, "kiosk_heartbeats_total", ""); v != 5 {
		t.Errorf("kiosk_heartbeats_total: got %v, want 5", v)
	}

	// The history reaches the store on flush, newest first.
	if h, _ := st.History(scr.ID, time.Time{}, 100); len(h) != 0 {
		t.Errorf("history before flush: %d entries, want 0 (written in batches)", len(h))
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	hist, err := st.History(scr.ID, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, h.From+"→"+h.To)
	}
	want := []string{"online→offline", "degraded→online", "online→degraded", "stale→online", "online→stale", "→online"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history: got %q, want %q", got, want)
	}
	if limited, _ := st.History(scr.ID, time.Time{}, 2); len(limited) != 2 || limited[0].To != "offline" {
		t.Errorf("history limit 2: got %+v", limited)
	}

	// A restarted server resumes the state and its since.
	r2, err := New(Options{Store: st, Now: clk.now, OfflineAfter: 90 * time.Second, Published: pub, Logger: healthTestLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if h := r2.Health(scr.ID); h.State != StateOffline || h.Since == nil || !h.Since.Equal(offlineSince) {
		t.Errorf("after restart: got %+v, want offline since %v", h, offlineSince)
	}
}

func TestRestartGraceKeepsOnlineScreens(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)}
	st, err := store.Open(t.TempDir(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	scr, _, _ := st.CreateScreen(store.Screen{Name: "x"})
	if err := st.AppendHistory([]store.Transition{{Screen: scr.ID, From: "offline", To: "online", At: clk.now().Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	seen := &seenTransitions{}
	r, err := New(Options{Store: st, Now: clk.now, OfflineAfter: 90 * time.Second, OnTransition: seen.add, Logger: healthTestLogger()})
	if err != nil {
		t.Fatal(err)
	}
	clk.add(30 * time.Second)
	r.EvaluateAll()
	if got := r.Health(scr.ID).State; got != StateOnline {
		t.Errorf("30 s after restart, not reconnected: got %s, want online (grace)", got)
	}
	if got := seen.take(); len(got) != 0 {
		t.Errorf("transitions during the grace: %q, want none", got)
	}
	clk.add(61 * time.Second)
	r.EvaluateAll()
	if got := r.Health(scr.ID).State; got != StateOffline {
		t.Errorf("past the grace, not reconnected: got %s, want offline", got)
	}
	if got := seen.take(); fmt.Sprint(got) != "[online→offline]" {
		t.Errorf("transitions: got %q, want [online→offline]", got)
	}
}

func TestPruneHistory(t *testing.T) {
	now := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	st, err := store.Open(t.TempDir(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, _, _ := st.CreateScreen(store.Screen{Name: "a"})
	b, _, _ := st.CreateScreen(store.Screen{Name: "b"})
	old, recent := now.Add(-31*24*time.Hour), now.Add(-29*24*time.Hour)
	err = st.AppendHistory([]store.Transition{
		{Screen: a.ID, From: "online", To: "offline", At: old},
		{Screen: a.ID, From: "offline", To: "online", At: recent},
		{Screen: b.ID, From: "online", To: "offline", At: old},
	})
	if err != nil {
		t.Fatal(err)
	}
	st.AddAlert(store.Alert{Kind: "offline", CreatedAt: old})
	st.AddAlert(store.Alert{Kind: "recovered", CreatedAt: recent})
	if err := st.DeleteScreen(b.ID); err != nil {
		t.Fatal(err)
	}
	n, err := st.PruneHistory(now.Add(-store.DefaultHistoryRetention))
	if err != nil || n != 3 {
		t.Errorf("PruneHistory: got %d, %v; want 3 records (2 transitions, 1 alert)", n, err)
	}
	if h, _ := st.History(a.ID, time.Time{}, 10); len(h) != 1 || h[0].To != "online" {
		t.Errorf("history of a after prune: got %+v, want only the recent transition", h)
	}
	if last, _ := st.LastTransitions(); len(last) != 1 {
		t.Errorf("LastTransitions after prune: got %v, want only screen a (b's emptied history dropped)", last)
	}
	if as, _ := st.ListAlerts(10); len(as) != 1 || as[0].Kind != "recovered" {
		t.Errorf("alerts after prune: got %+v, want only the recent one", as)
	}
}

// gauge reads a metric with at most one label from reg.
func healthMetric(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label) {
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("metric %s{%s} not found", name, label)
	return 0
}

func healthTestLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
