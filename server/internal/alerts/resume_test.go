package alerts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/server/internal/store"
)

// stamped wraps a receiver and records when each event id arrived.
type stamped struct {
	*receiver
	mu sync.Mutex
	at map[string]time.Time
}

func (s *stamped) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.at[r.Header.Get(HeaderEventID)] = time.Now()
	s.mu.Unlock()
	s.receiver.ServeHTTP(w, r)
}

// TestResumePendingDeliveries stores alerts as a previous run left them,
// reopens the store as a restarted server would, and checks that a new
// engine finishes exactly the deliveries that can and should be finished.
func TestResumePendingDeliveries(t *testing.T) {
	const secret = "a-very-secret-key-123"
	rc := &stamped{receiver: &receiver{secret: secret}, at: map[string]time.Time{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	dir := t.TempDir()
	st, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	hook, err := st.CreateWebhook(store.Webhook{URL: srv.URL + "/hook", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := st.CreateWebhook(store.Webhook{URL: srv.URL + "/gone", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	pending := func(h store.Webhook, attempts int, next time.Time) store.Delivery {
		d := store.Delivery{Webhook: h.ID, URL: h.URL, Status: store.DeliveryPending, Attempts: attempts, NextTryAt: next}
		if attempts > 0 {
			d.LastCode, d.LastError, d.UpdatedAt = 503, "receiver answered 503 Service Unavailable", now.Add(-time.Minute)
		}
		return d
	}
	add := func(created time.Time, ds ...store.Delivery) store.Alert {
		t.Helper()
		a, err := st.AddAlert(store.Alert{Kind: KindOffline, Summary: "x offline", CreatedAt: created,
			Screens: []store.AlertScreen{{Screen: "scr_x", Name: "东门", From: "online", To: "offline", At: created}}, Deliveries: ds})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Creation order is sequence order, oldest first.
	stale := add(now.Add(-25*time.Hour), pending(hook, 0, time.Time{}))
	done := add(now.Add(-time.Hour), store.Delivery{Webhook: hook.ID, URL: hook.URL, Status: store.DeliveryDelivered, Attempts: 1, LastCode: 204})
	retried := add(now.Add(-10*time.Minute), pending(hook, 2, now.Add(-5*time.Minute)), pending(gone, 0, time.Time{}))
	backoff := now.Add(300 * time.Millisecond)
	waiting := add(now.Add(-time.Second), pending(hook, 1, backoff))
	if err := st.DeleteWebhook(gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// The restart.
	st, err = store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := New(Options{Store: st, Retry: Retry{Attempts: 6, Base: 20 * time.Millisecond, Max: time.Second}, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); e.Run(ctx) }()
	defer func() { cancel(); <-stopped }()

	byID := func() map[string]store.Alert {
		as, err := st.ListAlerts(10)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]store.Alert{}
		for _, a := range as {
			m[a.ID] = a
		}
		return m
	}
	waitUntil(t, "both resumed deliveries recorded as delivered", func() bool {
		m := byID()
		return m[retried.ID].Deliveries[0].Status == store.DeliveryDelivered && m[waiting.ID].Deliveries[0].Status == store.DeliveryDelivered
	})
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show up

	got := rc.requests()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (one per resumed delivery): %+v", len(got), got)
	}
	wantAttempt := map[string]string{retried.ID: "3", waiting.ID: "2"}
	for _, r := range got {
		want, ok := wantAttempt[r.id]
		if !ok {
			t.Errorf("request for event %q: want only %s and %s (not the stale or delivered alerts)", r.id, retried.ID, waiting.ID)
			continue
		}
		delete(wantAttempt, r.id)
		if !r.sigOK {
			t.Errorf("event %s: signature did not verify", r.id)
		}
		if r.event.ID != r.id || r.event.Screens[0].Name != "东门" {
			t.Errorf("event %s: body %+v, want the stored alert with the same id", r.id, r.event)
		}
		if r.attempt != want {
			t.Errorf("event %s: attempt header %q, want %q (continuing the recorded count)", r.id, r.attempt, want)
		}
	}
	rc.mu.Lock()
	arrived := rc.at[waiting.ID]
	rc.mu.Unlock()
	if arrived.Before(backoff.Add(-20 * time.Millisecond)) {
		t.Errorf("waiting alert delivered %v before its recorded next try, want the backoff honoured", backoff.Sub(arrived))
	}

	m := byID()
	if d := m[retried.ID].Deliveries[0]; d.Attempts != 3 || d.LastCode != http.StatusNoContent || d.LastError != "" || d.DeliveredAt.IsZero() {
		t.Errorf("resumed delivery record: got %+v, want delivered on attempt 3 with 204", d)
	}
	if d := m[retried.ID].Deliveries[1]; d.Webhook != gone.ID || d.Status != store.DeliveryFailed || !strings.Contains(d.LastError, "deleted") {
		t.Errorf("delivery to a deleted webhook: got %+v, want failed, webhook deleted", d)
	}
	if d := m[waiting.ID].Deliveries[0]; d.Attempts != 2 || d.Status != store.DeliveryDelivered {
		t.Errorf("waiting delivery record: got %+v, want delivered on attempt 2", d)
	}
	if d := m[stale.ID].Deliveries[0]; d.Status != store.DeliveryPending || d.Attempts != 0 {
		t.Errorf("alert older than the resume window: got %+v, want left pending and untried", d)
	}
	if d := m[done.ID].Deliveries[0]; d.Status != store.DeliveryDelivered || d.Attempts != 1 {
		t.Errorf("already delivered alert: got %+v, want unchanged", d)
	}
}

func TestResumeWait(t *testing.T) {
	now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	e := New(Options{Now: func() time.Time { return now }, Retry: Retry{Base: time.Second, Max: 10 * time.Second}})
	tests := []struct {
		name string
		d    store.Delivery
		want time.Duration
	}{
		{"never tried: at once", store.Delivery{NextTryAt: now.Add(time.Hour)}, 0},
		{"next try passed while down: at once", store.Delivery{Attempts: 2, NextTryAt: now.Add(-time.Minute)}, 0},
		{"next try ahead: wait for it", store.Delivery{Attempts: 2, NextTryAt: now.Add(1500 * time.Millisecond)}, 1500 * time.Millisecond},
		{"next try absurdly far (clock changed): capped", store.Delivery{Attempts: 2, NextTryAt: now.Add(time.Hour)}, 12 * time.Second},
		{"no next try recorded: backoff from the last attempt", store.Delivery{Attempts: 3, UpdatedAt: now.Add(-time.Second)}, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.resumeWait(tc.d); got != tc.want {
				t.Errorf("resumeWait(%+v): got %v, want %v", tc.d, got, tc.want)
			}
		})
	}
}

// A delivery that already used every attempt the current configuration
// allows is closed as failed on resume, without another request.
func TestResumeOutOfAttempts(t *testing.T) {
	rc := &receiver{secret: "a-very-secret-key-123"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hook, err := st.CreateWebhook(store.Webhook{URL: srv.URL, Secret: rc.secret})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.AddAlert(store.Alert{Kind: KindOffline, Deliveries: []store.Delivery{{Webhook: hook.ID, URL: hook.URL,
		Status: store.DeliveryPending, Attempts: 3, NextTryAt: time.Now().Add(-time.Second)}}})
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Store: st, Retry: Retry{Attempts: 3}, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); e.Run(ctx) }()
	defer func() { cancel(); <-stopped }()
	waitUntil(t, "delivery recorded as failed", func() bool {
		as, _ := st.ListAlerts(1)
		return len(as) == 1 && as[0].ID == a.ID && as[0].Deliveries[0].Status == store.DeliveryFailed
	})
	if n := len(rc.requests()); n != 0 {
		t.Errorf("receiver got %d requests, want 0 (no attempts left)", n)
	}
}
