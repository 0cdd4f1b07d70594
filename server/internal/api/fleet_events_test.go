package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// sse is one server-sent event as read off the wire.
type sse struct {
	name string
	data string
}

// openStream opens GET /fleet/events on srv and returns its events.
func openStream(t *testing.T, srv *httptest.Server, setup func(*http.Request)) <-chan sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/fleet/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	setup(req)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET /fleet/events: %d %s, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sse, 100)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					out <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

type fleetEventBody struct {
	Full    bool `json:"full"`
	Screens []struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		Online         bool   `json:"online"`
		AppliedVersion string `json:"applied_version"`
		CurrentItem    string `json:"current_item"`
	} `json:"screens"`
	Removed []string `json:"removed"`
	Fleet   struct {
		Total int `json:"total"`
	} `json:"fleet"`
}

// nextFleet waits for the next "fleet" event (or fails on an end).
func nextFleet(t *testing.T, events <-chan sse, within time.Duration) fleetEventBody {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the stream ended, want a fleet event")
		}
		if ev.name != "fleet" {
			t.Fatalf("event %q %s, want a fleet event", ev.name, ev.data)
		}
		var b fleetEventBody
		if err := json.Unmarshal([]byte(ev.data), &b); err != nil {
			t.Fatalf("fleet event data %s: %v", ev.data, err)
		}
		return b
	case <-time.After(within):
		t.Fatalf("no fleet event within %s", within)
	}
	return fleetEventBody{}
}

func ids(b fleetEventBody) string {
	var out []string
	for _, s := range b.Screens {
		out = append(out, s.ID)
	}
	return strings.Join(out, ",")
}

// TestFleetEvents covers the live fleet: the first event lists every
// screen, a screen connecting, reporting and being renamed each reach the
// stream within a second or so, a burst of heartbeats comes out as at
// most one event a second, a person limited to one group hears nothing
// of screens outside it, and the stream ends (with the reason) when the
// session does.
func TestFleetEvents(t *testing.T) {
	v := newEnv(t, func(o *Options) { o.StreamKeepAlive = 50 * time.Millisecond })
	srv := httptest.NewServer(v.e)
	t.Cleanup(srv.Close) // after the streams' own cleanups have closed them
	for _, g := range []map[string]string{{"id": "heping", "name": "和平街道"}, {"id": "xinhua", "name": "新华街道"}} {
		must[playlists.Group](t, v.admin("POST", "/api/v1/groups", g), http.StatusCreated)
	}
	type created struct {
		ID        string `json:"id"`
		Token     string `json:"token"`
		ServerKey string `json:"server_key"`
	}
	a := must[created](t, v.admin("POST", "/api/v1/screens", map[string]string{"name": "和平大厅", "group": "heping"}), http.StatusCreated)
	b := must[created](t, v.admin("POST", "/api/v1/screens", map[string]string{"name": "新华门口", "group": "xinhua"}), http.StatusCreated)

	admin := openStream(t, srv, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminToken) })
	first := nextFleet(t, admin, 5*time.Second)
	if !first.Full || len(first.Screens) != 2 || first.Fleet.Total != 2 {
		t.Fatalf("first event: full %v, screens %s, total %d; want full, both screens, total 2", first.Full, ids(first), first.Fleet.Total)
	}

	// A screen connects.
	if _, err := v.devs.Hello(a.ID, playlists.Hello{PlayerVersion: "test", AppliedVersion: "v1"}); err != nil {
		t.Fatal(err)
	}
	ev := nextFleet(t, admin, 3*time.Second)
	if ev.Full || ids(ev) != a.ID || !ev.Screens[0].Online || ev.Screens[0].AppliedVersion != "v1" {
		t.Fatalf("after hello: %+v, want screen %s online at v1", ev, a.ID)
	}

	// A burst of heartbeats: at most one event a second, the last state in it.
	start := time.Now()
	for i := range 30 {
		v.devs.Heartbeat(a.ID, playlists.Heartbeat{CurrentItem: "it-" + string(rune('a'+i%26)), AppliedVersion: "v1"})
		time.Sleep(20 * time.Millisecond)
	}
	v.devs.Heartbeat(a.ID, playlists.Heartbeat{CurrentItem: "it-last", AppliedVersion: "v2"})
	var got []fleetEventBody
	deadline := time.After(time.Since(start) + 2500*time.Millisecond)
collect:
	for {
		select {
		case e := <-admin:
			var body fleetEventBody
			if err := json.Unmarshal([]byte(e.data), &body); err != nil || e.name != "fleet" {
				t.Fatalf("event %q %s", e.name, e.data)
			}
			got = append(got, body)
			if s := body.Screens; len(s) == 1 && s[0].CurrentItem == "it-last" {
				break collect
			}
		case <-deadline:
			t.Fatalf("the last heartbeat never reached the stream (%d events)", len(got))
		}
	}
	if elapsed := time.Since(start).Seconds(); float64(len(got)) > elapsed+1.5 {
		t.Errorf("%d events in %.1f s of heartbeats, want at most about one a second", len(got), elapsed)
	}
	if last := got[len(got)-1].Screens[0]; last.AppliedVersion != "v2" {
		t.Errorf("last event applied version %q, want v2", last.AppliedVersion)
	}

	// A rename reaches the stream too.
	time.Sleep(fleetEventGap)
	must[screenView](t, v.admin("PUT", "/api/v1/screens/"+b.ID, map[string]any{"name": "新华北门", "group": "xinhua"}), http.StatusOK)
	if ev := nextFleet(t, admin, 3*time.Second); ids(ev) != b.ID || ev.Screens[0].Name != "新华北门" {
		t.Fatalf("after the rename: %+v, want %s named 新华北门", ev, b.ID)
	}

	// A technician limited to 和平街道 sees only its screen, and nothing
	// of the other's changes.
	v.addUser("anna", store.RoleTechnician, "heping")
	anna := v.signIn("anna")
	scoped := openStream(t, srv, func(r *http.Request) { r.AddCookie(anna.cookie) })
	if ev := nextFleet(t, scoped, 5*time.Second); !ev.Full || ids(ev) != a.ID || ev.Fleet.Total != 1 {
		t.Fatalf("anna's first event: screens %s total %d, want only %s", ids(ev), ev.Fleet.Total, a.ID)
	}
	v.devs.Heartbeat(b.ID, playlists.Heartbeat{CurrentItem: "x"})
	select {
	case e := <-scoped:
		t.Fatalf("anna heard of a screen outside her group: %q %s", e.name, e.data)
	case <-time.After(1500 * time.Millisecond):
	}
	// Moved out of her group, her screen is reported removed.
	must[screenView](t, v.admin("PUT", "/api/v1/screens/"+a.ID, map[string]any{"name": "和平大厅", "group": "xinhua"}), http.StatusOK)
	if ev := nextFleet(t, scoped, 3*time.Second); len(ev.Screens) != 0 || len(ev.Removed) != 1 || ev.Removed[0] != a.ID {
		t.Fatalf("after the move: %+v, want %s removed", ev, a.ID)
	}

	// Signing out ends her stream with the reason.
	rec := v.request("DELETE", "/api/v1/session", nil, func(r *http.Request) {
		r.AddCookie(anna.cookie)
		r.Header.Set(csrfHeader, anna.csrf)
	})
	if rec.Code != http.StatusNoContent && rec.Code != http.StatusOK {
		t.Fatalf("sign out: %d %s", rec.Code, rec.Body)
	}
	select {
	case e, ok := <-scoped:
		if !ok || e.name != "end" || !strings.Contains(e.data, "session_expired") {
			t.Fatalf("after signing out: event %q %s (open %v), want end session_expired", e.name, e.data, ok)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the stream outlived the session")
	}
	if _, ok := <-scoped; ok {
		t.Error("the stream went on after its end event")
	}
}

// TestFleetEventsNotActivity checks that an open stream does not count
// as the person at work: after the idle timeout with only the stream
// open, the session has expired.
func TestFleetEventsNotActivity(t *testing.T) {
	now := testNow
	v := newEnv(t, func(o *Options) {
		o.Now = func() time.Time { return now }
	})
	v.addUser("bo", store.RoleViewer)
	bo := v.signIn("bo")
	stream := func() int {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/fleet/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		req.AddCookie(bo.cookie)
		rec := httptest.NewRecorder()
		cancel() // the first event is written; then the client leaves
		v.e.ServeHTTP(rec, req)
		return rec.Code
	}
	for range 2 {
		now = now.Add(DefaultIdleTimeout / 3)
		if code := stream(); code != http.StatusOK {
			t.Fatalf("stream at %s: %d, want 200", now.Sub(testNow), code)
		}
	}
	now = now.Add(DefaultIdleTimeout / 2)
	if code := stream(); code != http.StatusUnauthorized {
		t.Errorf("after the idle timeout with only streams: %d, want 401", code)
	}
}
