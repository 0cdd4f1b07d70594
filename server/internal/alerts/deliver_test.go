package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/server/internal/store"
)

func TestSign(t *testing.T) {
	// RFC 4231 test case 2.
	const want = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	body := []byte("what do ya want for nothing?")
	if got := Sign("Jefe", body); got != want {
		t.Fatalf("Sign: got %s, want %s", got, want)
	}
	if !Verify("Jefe", body, want) {
		t.Error("Verify(valid signature) = false, want true")
	}
	for _, bad := range []string{"", "sha256=00", strings.ToUpper(want), want[:len(want)-1] + "4"} {
		if Verify("Jefe", body, bad) {
			t.Errorf("Verify(%q) = true, want false", bad)
		}
	}
	if Verify("Jefe", append(body, '!'), want) {
		t.Error("Verify(tampered body) = true, want false")
	}
}

func TestBackoff(t *testing.T) {
	r := Retry{}.withDefaults()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := r.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d): got %v, want %v", i+1, got, w)
		}
	}
}

// receiver is a webhook endpoint that fails its first failFirst requests.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	secret    string
	got       []received
}

type received struct {
	event   Event
	id      string
	attempt string
	sigOK   bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev Event
	_ = json.Unmarshal(body, &ev)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, received{event: ev, id: r.Header.Get(HeaderEventID), attempt: r.Header.Get(HeaderAttempt),
		sigOK: Verify(rc.secret, body, r.Header.Get(HeaderSignature))})
	if len(rc.got) <= rc.failFirst {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func startEngine(t *testing.T, retry Retry) (*Engine, *store.Store, *prometheus.Registry) {
	t.Helper()
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	e := New(Options{Store: st, Debounce: 20 * time.Millisecond, GroupWindow: 10 * time.Millisecond,
		Retry: retry, Registerer: reg, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, st, reg
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeliveryRetriesUntilAccepted(t *testing.T) {
	rc := &receiver{failFirst: 2, secret: "a-very-secret-key-123"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	e, st, reg := startEngine(t, Retry{Attempts: 6, Base: 20 * time.Millisecond, Max: 100 * time.Millisecond})
	scr, _, err := st.CreateScreen(store.Screen{Name: "东门"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateWebhook(store.Webhook{URL: srv.URL + "/hook", Secret: rc.secret}); err != nil {
		t.Fatal(err)
	}

	e.Observe(store.Transition{Screen: scr.ID, From: "online", To: "offline", At: time.Now(), Reasons: []string{"disconnected: x"}})
	var alerts []store.Alert
	waitUntil(t, "delivery recorded as delivered", func() bool {
		alerts, _ = st.ListAlerts(10)
		return len(alerts) == 1 && len(alerts[0].Deliveries) == 1 && alerts[0].Deliveries[0].Status == store.DeliveryDelivered
	})
	a := alerts[0]
	if d := a.Deliveries[0]; d.Attempts != 3 || d.LastCode != http.StatusNoContent || d.LastError != "" || d.DeliveredAt.IsZero() {
		t.Errorf("delivery record: got %+v, want 3 attempts, last code 204, no error", d)
	}
	got := rc.requests()
	if len(got) != 3 {
		t.Fatalf("receiver got %d requests, want 3 (2 failures + 1 success)", len(got))
	}
	for i, r := range got {
		if !r.sigOK {
			t.Errorf("request %d: signature did not verify", i)
		}
		if r.id != a.ID || r.event.ID != a.ID {
			t.Errorf("request %d: event id header %q body %q, want %q on every retry", i, r.id, r.event.ID, a.ID)
		}
		if want := []string{"1", "2", "3"}[i]; r.attempt != want {
			t.Errorf("request %d: attempt header %q, want %q", i, r.attempt, want)
		}
	}
	ev := got[2].event
	if ev.Kind != KindOffline || len(ev.Screens) != 1 || ev.Screens[0].Name != "东门" || ev.Screens[0].Screen != scr.ID {
		t.Errorf("event body: got %+v, want one offline screen named 东门", ev)
	}
	if v := counter(t, reg, "kiosk_webhook_deliveries_total", "retry"); v != 2 {
		t.Errorf("deliveries{result=retry}: got %v, want 2", v)
	}
	if v := counter(t, reg, "kiosk_webhook_deliveries_total", "delivered"); v != 1 {
		t.Errorf("deliveries{result=delivered}: got %v, want 1", v)
	}
	if v := counter(t, reg, "kiosk_alerts_total", KindOffline); v != 1 {
		t.Errorf("alerts{kind=offline}: got %v, want 1", v)
	}
}

func TestDeliveryGivesUp(t *testing.T) {
	rc := &receiver{failFirst: 1000, secret: "a-very-secret-key-123"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	e, st, _ := startEngine(t, Retry{Attempts: 3, Base: 10 * time.Millisecond, Max: 20 * time.Millisecond})
	scr, _, _ := st.CreateScreen(store.Screen{Name: "x"})
	st.CreateWebhook(store.Webhook{URL: srv.URL, Secret: rc.secret})
	e.Observe(store.Transition{Screen: scr.ID, From: "online", To: "degraded", At: time.Now()})
	waitUntil(t, "delivery recorded as failed", func() bool {
		as, _ := st.ListAlerts(10)
		return len(as) == 1 && len(as[0].Deliveries) == 1 && as[0].Deliveries[0].Status == store.DeliveryFailed
	})
	as, _ := st.ListAlerts(10)
	if d := as[0].Deliveries[0]; d.Attempts != 3 || d.LastCode != http.StatusServiceUnavailable || !strings.Contains(d.LastError, "503") {
		t.Errorf("delivery record: got %+v, want 3 attempts ending in 503", d)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(rc.requests()); n != 3 {
		t.Errorf("receiver got %d requests, want exactly 3 (bounded attempts)", n)
	}
}

func TestDeliveryRefusesRedirects(t *testing.T) {
	var hits int
	var mu sync.Mutex
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer target.Close()
	redir := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redir.Close()
	e, st, _ := startEngine(t, Retry{Attempts: 1})
	scr, _, _ := st.CreateScreen(store.Screen{Name: "x"})
	st.CreateWebhook(store.Webhook{URL: redir.URL, Secret: "a-very-secret-key-123"})
	e.Observe(store.Transition{Screen: scr.ID, From: "online", To: "offline", At: time.Now()})
	waitUntil(t, "delivery recorded as failed", func() bool {
		as, _ := st.ListAlerts(10)
		return len(as) == 1 && len(as[0].Deliveries) == 1 && as[0].Deliveries[0].Status == store.DeliveryFailed
	})
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Errorf("redirect target hit %d times, want 0 (redirects must not be followed)", hits)
	}
}

// counter reads a one-label counter from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
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
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("metric %s{%s} not registered", name, label)
	return 0
}
