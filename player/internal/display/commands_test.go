package display

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// nextNamed returns the next event called name, skipping show and clock.
func nextNamed(t *testing.T, ch <-chan sseEvent, name string) sseEvent {
	t.Helper()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream ended, want a %s event", name)
			}
			if ev.name == name {
				return ev
			}
			if ev.name != "show" && ev.name != "clock" && ev.name != "retry" {
				t.Fatalf("got a %s event (%s), want %s", ev.name, ev.data, name)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event within 5 s", name)
		}
	}
}

// noEvent checks that no event other than show/clock arrives for a while.
func noEvent(t *testing.T, ch <-chan sseEvent, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-ch:
			if ev.name != "show" && ev.name != "clock" && ev.name != "retry" {
				t.Fatalf("unexpected %s event: %s", ev.name, ev.data)
			}
		case <-deadline:
			return
		}
	}
}

func openEvents(t *testing.T, srv *httptest.Server) <-chan sseEvent {
	t.Helper()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return readEvents(resp.Body)
}

func TestReloadAndIdentifyEvents(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := New(Options{
		Logger: quietLogger(),
		Now:    clock.Now,
		Status: func() SyncStatus { return SyncStatus{ScreenID: "scr_1", ScreenName: "幸福小区 1 号楼"} },
	})
	// A reload requested before a page connects is not for that page.
	s.Reload()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close) // after the streams' bodies are closed
	events := openEvents(t, srv)
	nextShow(t, events)
	noEvent(t, events, 200*time.Millisecond)

	s.Reload()
	nextNamed(t, events, "reload")

	until := s.Identify(30 * time.Second)
	if want := clock.Now().Add(30 * time.Second); !until.Equal(want) {
		t.Errorf("Identify until: got %v, want %v", until, want)
	}
	ev := nextNamed(t, events, "identify")
	var ie identifyEvent
	if err := json.Unmarshal([]byte(ev.data), &ie); err != nil {
		t.Fatal(err)
	}
	if ie.ScreenID != "scr_1" || ie.ScreenName != "幸福小区 1 号楼" || ie.Until != until.UnixMilli() || ie.Until-ie.Now != 30000 {
		t.Errorf("identify event: got %+v, want scr_1 / 幸福小区 1 号楼 for 30 s until %d", ie, until.UnixMilli())
	}
	// Each command goes out once, whatever else wakes the stream.
	s.SetManifest(rotationManifest(item("a", "psa", 10)))
	noEvent(t, events, 200*time.Millisecond)

	// A page connecting while identify is up shows it too.
	late := openEvents(t, srv)
	nextNamed(t, late, "identify")

	// /state reports it until it ends, on the corrected clock.
	var st struct {
		IdentifyUntil *time.Time `json:"identify_until"`
	}
	rec := get(t, s.Handler(), "/state", nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.IdentifyUntil == nil || !st.IdentifyUntil.Equal(until) {
		t.Fatalf("/state identify_until: got %v (%v), want %v", st.IdentifyUntil, err, until)
	}
	clock.Set(until)
	rec = get(t, s.Handler(), "/state", nil)
	st.IdentifyUntil = nil
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.IdentifyUntil != nil {
		t.Errorf("/state identify_until after it ended: got %v, want null", st.IdentifyUntil)
	}
	if !s.IdentifyUntil().IsZero() {
		t.Errorf("IdentifyUntil after the end: got %v, want zero", s.IdentifyUntil())
	}
}
