package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/server"
)

// Health timings for the test: a state must hold alertDebounce before it
// alerts, long enough that a player restarted at once reconnects inside it.
const (
	alertDebounce = 2 * time.Second
	alertWindow   = 200 * time.Millisecond
	hookSecret    = "e2e-webhook-secret-0123456789"
)

// hookEvent is what the receiver keeps of one webhook POST.
type hookEvent struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Grouped bool   `json:"grouped"`
	Summary string `json:"summary"`
	Screens []struct {
		Screen string `json:"screen"`
		Name   string `json:"name"`
		From   string `json:"from"`
		To     string `json:"to"`
	} `json:"screens"`
	header string // X-Kiosk-Event-Id
	sigOK  bool
}

// hookReceiver is a local webhook endpoint that checks every signature
// itself, the way a receiver would: HMAC-SHA256 over the raw body.
type hookReceiver struct {
	mu     sync.Mutex
	events []hookEvent
}

func (rc *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev hookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	ev.header = r.Header.Get("X-Kiosk-Event-Id")
	ev.sigOK = verifyHMAC(hookSecret, body, r.Header.Get("X-Kiosk-Signature"))
	rc.mu.Lock()
	rc.events = append(rc.events, ev)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// verifyHMAC checks "sha256=<hex>" independently of the server's code.
func verifyHMAC(secret string, body []byte, header string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal([]byte("sha256="+hex.EncodeToString(m.Sum(nil))), []byte(header))
}

func (rc *hookReceiver) got() []hookEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookEvent(nil), rc.events...)
}

// screenHealth is the health part of GET /screens/{id}.
type screenHealth struct {
	Online  bool     `json:"online"`
	State   string   `json:"state"`
	Reasons []string `json:"state_reasons"`
	Since   *string  `json:"state_since"`
}

func (s *testServer) health(id string) screenHealth {
	s.t.Helper()
	var h screenHealth
	s.must(http.MethodGet, "/screens/"+id, nil, &h)
	return h
}

// keepPageAlive stands in for the kiosk browser: it reports to the
// player's page the way app.js does, until the test ends.
func keepPageAlive(t *testing.T, p *testPlayer) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		for ctx.Err() == nil {
			if resp, err := http.Post(p.page+"/alive", "application/json", strings.NewReader(`{}`)); err == nil {
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
}

func TestHealthOfflineAlertAndRecovery(t *testing.T) {
	srv := startServerWith(t, func(c *server.Config) {
		c.OfflineAfter = 3 * time.Second
		c.HealthEvalEvery = 100 * time.Millisecond
		c.AlertDebounce = alertDebounce
		c.AlertGroupWindow = alertWindow
		c.WebhookRetryBase = 50 * time.Millisecond
	})
	rc := &hookReceiver{}
	hook := httptest.NewServer(rc) // binds 127.0.0.1
	defer hook.Close()

	// Webhook registration: validated, and the secret is never shown back.
	for _, bad := range []map[string]any{
		{"url": "ftp://127.0.0.1/x", "secret": hookSecret},
		{"url": "/relative", "secret": hookSecret},
		{"url": hook.URL, "secret": "short"},
		{"url": hook.URL, "secret": "   "}, // none at all: the server makes one up
	} {
		var e struct{ Error string }
		if code := srv.call(http.MethodPost, "/webhooks", bad, &e); code != http.StatusBadRequest || e.Error == "" {
			t.Errorf("POST /webhooks %v: got %d %q, want 400 with a reason", bad, code, e.Error)
		}
	}
	var created map[string]any
	srv.must(http.MethodPost, "/webhooks", map[string]any{"url": hook.URL + "/kiosk", "secret": hookSecret}, &created)
	if _, leaked := created["secret"]; leaked || created["id"] == "" {
		t.Errorf("POST /webhooks answer %v: want an id and no secret", created)
	}
	var hooks []map[string]any
	srv.must(http.MethodGet, "/webhooks", nil, &hooks)
	if len(hooks) != 1 || hooks[0]["secret"] != nil {
		t.Errorf("GET /webhooks: got %v, want one webhook without its secret", hooks)
	}

	srv.must(http.MethodPost, "/groups", map[string]any{"id": "xinhua", "name": "新华街道"}, nil)
	srv.must(http.MethodPost, "/groups", map[string]any{"id": "xinhua-1", "name": "一号小区", "parent": "xinhua"}, nil)
	item := srv.item("notice", "停水通知", "周三 9:00-12:00 停水", "", 1)
	srv.scheduleAll(srv.playlist("通知", item), 1)
	scr := srv.screen("一号楼大堂", "xinhua-1")
	cache := cachePath(t, "lobby")

	p := startPlayer(t, srv.url(), scr.Token, cache)
	keepPageAlive(t, p)
	waitFor(t, 15*time.Second, "screen online", func() bool { return srv.health(scr.ID).State == "online" })

	// Filters and fleet counts; the parent group includes its compound.
	var list struct {
		Screens []struct{ ID string }
		Total   int
	}
	srv.must(http.MethodGet, "/screens?state=online&group=xinhua", nil, &list)
	if len(list.Screens) != 1 || list.Screens[0].ID != scr.ID || list.Total != 1 {
		t.Errorf("GET /screens?state=online&group=xinhua: got %+v, want [%s]", list, scr.ID)
	}
	list.Screens = nil
	srv.must(http.MethodGet, "/screens?state=offline", nil, &list)
	if len(list.Screens) != 0 || list.Total != 0 {
		t.Errorf("GET /screens?state=offline: got %+v, want none", list)
	}
	if code := srv.call(http.MethodGet, "/screens?state=asleep", nil, nil); code != http.StatusBadRequest {
		t.Errorf("GET /screens?state=asleep: got %d, want 400", code)
	}
	if code := srv.call(http.MethodGet, "/screens?group=nowhere", nil, nil); code != http.StatusNotFound {
		t.Errorf("GET /screens?group=nowhere: got %d, want 404", code)
	}
	var fleet struct {
		Total  int            `json:"total"`
		State  map[string]int `json:"by_state"`
		Groups []struct {
			Group string         `json:"group"`
			Total int            `json:"total"`
			State map[string]int `json:"by_state"`
		} `json:"groups"`
	}
	srv.must(http.MethodGet, "/fleet", nil, &fleet)
	if fleet.Total != 1 || fleet.State["online"] != 1 || fleet.State["offline"] != 0 || len(fleet.Groups) != 2 ||
		fleet.Groups[0].Group != "xinhua" || fleet.Groups[0].State["online"] != 1 || fleet.Groups[1].State["online"] != 1 {
		t.Errorf("GET /fleet: got %+v, want 1 online, counted in xinhua and xinhua-1", fleet)
	}

	// A bounce shorter than the debounce: history records it, nobody is paged.
	p.stop()
	p = startPlayer(t, srv.url(), scr.Token, cache)
	keepPageAlive(t, p)
	waitFor(t, 10*time.Second, "screen back online after a bounce", func() bool { return srv.health(scr.ID).State == "online" })
	time.Sleep(alertDebounce + 2*alertWindow + 500*time.Millisecond)
	if got := rc.got(); len(got) != 0 {
		t.Fatalf("after first contact and a short bounce: receiver got %d alerts (%+v), want 0", len(got), got)
	}

	// Kill the player: offline, then exactly one signed offline alert.
	p.stop()
	took := waitFor(t, 10*time.Second, "screen offline", func() bool { return srv.health(scr.ID).State == "offline" })
	t.Logf("offline detected %v after the player stopped", took)
	if h := srv.health(scr.ID); h.Online || len(h.Reasons) == 0 || h.Since == nil {
		t.Errorf("offline screen: got %+v, want online=false with reasons and since", h)
	}
	took = waitFor(t, 15*time.Second, "offline alert at the webhook", func() bool { return len(rc.got()) >= 1 })
	t.Logf("offline alert delivered %v after offline was detected", took)
	time.Sleep(alertDebounce / 2)
	got := rc.got()
	if len(got) != 1 {
		t.Fatalf("receiver got %d alerts, want exactly 1: %+v", len(got), got)
	}
	off := got[0]
	if !off.sigOK {
		t.Error("offline alert: X-Kiosk-Signature does not verify")
	}
	if off.Kind != "offline" || off.Grouped || len(off.Screens) != 1 || off.Screens[0].Screen != scr.ID ||
		off.Screens[0].Name != "一号楼大堂" || off.Screens[0].From != "online" || off.header != off.ID || off.ID == "" {
		t.Errorf("offline alert: got %+v, want one offline screen %s named 一号楼大堂, from online, event id header = id", off, scr.ID)
	}

	// Restart the player: one recovery alert.
	p = startPlayer(t, srv.url(), scr.Token, cache)
	keepPageAlive(t, p)
	waitFor(t, 15*time.Second, "screen online again", func() bool { return srv.health(scr.ID).State == "online" })
	waitFor(t, 15*time.Second, "recovery alert at the webhook", func() bool { return len(rc.got()) >= 2 })
	time.Sleep(alertDebounce / 2)
	got = rc.got()
	if len(got) != 2 {
		t.Fatalf("receiver got %d alerts, want 2 (offline, recovered): %+v", len(got), got)
	}
	if rec := got[1]; !rec.sigOK || rec.Kind != "recovered" || len(rec.Screens) != 1 || rec.Screens[0].To != "online" || rec.ID == off.ID {
		t.Errorf("recovery alert: got %+v, want a signed 'recovered' alert with its own id", rec)
	}

	// The alert list, newest first, with delivery records.
	var alerts []struct {
		ID         string `json:"id"`
		Kind       string `json:"kind"`
		Deliveries []struct {
			Status   string `json:"status"`
			Attempts int    `json:"attempts"`
		} `json:"deliveries"`
	}
	waitFor(t, 5*time.Second, "deliveries recorded", func() bool {
		srv.must(http.MethodGet, "/alerts", nil, &alerts)
		return len(alerts) == 2 && len(alerts[0].Deliveries) == 1 && alerts[0].Deliveries[0].Status == "delivered"
	})
	if alerts[0].Kind != "recovered" || alerts[1].Kind != "offline" || alerts[1].ID != off.ID || alerts[1].Deliveries[0].Status != "delivered" {
		t.Errorf("GET /alerts: got %+v, want [recovered, offline], both delivered", alerts)
	}
	srv.must(http.MethodGet, "/alerts?limit=1", nil, &alerts)
	if len(alerts) != 1 || alerts[0].Kind != "recovered" {
		t.Errorf("GET /alerts?limit=1: got %+v, want the newest only", alerts)
	}

	// History: every transition, the bounce included, newest first.
	var hist []struct{ From, To string }
	srv.must(http.MethodGet, "/screens/"+scr.ID+"/history", nil, &hist)
	var path []string
	for _, h := range hist {
		path = append(path, h.From+"→"+h.To)
	}
	want := "online→offline offline→online"
	if len(hist) != 5 || hist[0].To != "online" || hist[1].To != "offline" || hist[4].From != "" || !strings.Contains(strings.Join(path, " "), "offline→online online→offline") {
		t.Errorf("history: got %q, want 5 transitions, newest first: ∅→online, bounce, %s", path, want)
	}

	// Metrics.
	resp, err := http.Get(srv.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`kiosk_screens{state="online"} 1`,
		`kiosk_screens{state="offline"} 0`,
		`kiosk_alerts_total{kind="offline"} 1`,
		`kiosk_alerts_total{kind="recovered"} 1`,
		`kiosk_webhook_deliveries_total{result="delivered"} 2`,
		`kiosk_heartbeats_total `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
