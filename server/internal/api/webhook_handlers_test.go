package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/server/internal/alerts"
	"kiosk/server/internal/store"
)

// receiver is a webhook endpoint on loopback that checks signatures.
type receiver struct {
	mu     sync.Mutex
	secret string
	status int
	bodies []string
	bad    int // requests whose signature did not verify
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secret != "" && !alerts.Verify(r.secret, body, req.Header.Get(alerts.HeaderSignature)) {
		r.bad++
	}
	r.bodies = append(r.bodies, string(body))
	w.WriteHeader(r.status)
}

func TestWebhookTestSendAndDeliveryLog(t *testing.T) {
	v := newEnv(t)
	rcv := &receiver{secret: "0123456789abcdef-secret", status: http.StatusNoContent}
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	// Events are checked; an unknown one is a field error.
	rec := v.admin("POST", "/api/v1/webhooks", map[string]any{"url": srv.URL, "secret": rcv.secret, "events": []string{"offline", "exploded"}})
	if e := must[errorJSON](t, rec, 400); e.Field != "events[1]" || e.Reason != "invalid_format" {
		t.Errorf("unknown event: got %+v", e)
	}
	w := must[webhookView](t, v.admin("POST", "/api/v1/webhooks", map[string]any{"url": srv.URL, "secret": rcv.secret, "events": []string{"offline"}}), 201)
	if w.Secret != "" || len(w.Events) != 1 {
		t.Errorf("created with a secret: got %+v, want no secret shown and one event", w)
	}

	res := must[store.WebhookTest](t, v.admin("POST", "/api/v1/webhooks/"+w.ID+"/test", nil), 200)
	if !res.OK || res.Code != http.StatusNoContent || res.Error != "" || res.DurationMS < 0 || res.By == "" {
		t.Errorf("test send: got %+v, want ok 204 with who sent it", res)
	}
	rcv.mu.Lock()
	if len(rcv.bodies) != 1 || rcv.bad != 0 || !strings.Contains(rcv.bodies[0], `"kind":"test"`) || !strings.Contains(rcv.bodies[0], res.ID) {
		t.Errorf("receiver got %q (%d badly signed), want one signed test event %s", rcv.bodies, rcv.bad, res.ID)
	}
	rcv.status = http.StatusInternalServerError
	rcv.mu.Unlock()
	fail := must[store.WebhookTest](t, v.admin("POST", "/api/v1/webhooks/"+w.ID+"/test", nil), 200)
	if fail.OK || fail.Code != 500 || !strings.Contains(fail.Error, "500") {
		t.Errorf("failing receiver: got %+v, want not ok, code 500", fail)
	}

	// An unreachable receiver: the error says so, within the timeout.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	w2 := must[webhookView](t, v.admin("POST", "/api/v1/webhooks", map[string]any{"url": deadURL}), 201)
	if len(w2.Secret) != 2*generatedSecretBytes {
		t.Errorf("no secret given: got %q, want a made-up one shown once", w2.Secret)
	}
	for _, l := range must[[]webhookView](t, v.admin("GET", "/api/v1/webhooks", nil), 200) {
		if l.Secret != "" {
			t.Errorf("list shows a secret: %+v", l)
		}
	}
	start := time.Now()
	down := must[store.WebhookTest](t, v.admin("POST", "/api/v1/webhooks/"+w2.ID+"/test", nil), 200)
	if down.OK || down.Code != 0 || down.Error == "" || time.Since(start) > alerts.TestTimeout+time.Second {
		t.Errorf("unreachable receiver: got %+v after %v", down, time.Since(start))
	}

	// An alert's delivery to the webhook joins the log, newest first.
	at := testNow.Add(time.Minute)
	a, err := v.st.AddAlert(store.Alert{Kind: "offline", Summary: "screen A is offline", CreatedAt: at,
		Screens:    []store.AlertScreen{{Screen: "scr_a", From: "online", To: "offline"}},
		Deliveries: []store.Delivery{{Webhook: w.ID, URL: w.URL, Status: store.DeliveryFailed, Attempts: 6, LastCode: 502, LastError: "receiver answered 502 Bad Gateway"}}})
	if err != nil {
		t.Fatal(err)
	}
	log := must[[]store.WebhookDelivery](t, v.admin("GET", "/api/v1/webhooks/"+w.ID+"/deliveries", nil), 200)
	if len(log) != 3 {
		t.Fatalf("delivery log: got %d entries %+v, want the alert and two tests", len(log), log)
	}
	if log[0].Alert != a.ID || log[0].Kind != "offline" || log[0].Status != "failed" || log[0].Attempts != 6 || log[0].LastCode != 502 || len(log[0].Screens) != 1 {
		t.Errorf("newest entry: got %+v, want the alert's failed delivery", log[0])
	}
	tests := map[string]store.WebhookDelivery{}
	for _, d := range log[1:] {
		if !d.Test || d.Kind != "test" {
			t.Errorf("entry %+v: want a test send", d)
		}
		tests[d.Alert] = d
	}
	if d := tests[res.ID]; d.Status != "delivered" || d.LastCode != 204 {
		t.Errorf("first test in the log: got %+v", d)
	}
	if d := tests[fail.ID]; d.Status != "failed" || d.LastCode != 500 || d.LastError == "" {
		t.Errorf("second test in the log: got %+v", d)
	}
	if l := must[[]store.WebhookDelivery](t, v.admin("GET", "/api/v1/webhooks/"+w.ID+"/deliveries?limit=1", nil), 200); len(l) != 1 {
		t.Errorf("limit=1: got %d entries", len(l))
	}
	// Another webhook's log holds only its own.
	if l := must[[]store.WebhookDelivery](t, v.admin("GET", "/api/v1/webhooks/"+w2.ID+"/deliveries", nil), 200); len(l) != 1 || l[0].Alert != down.ID {
		t.Errorf("second webhook's log: got %+v", l)
	}

	// Unknown webhooks are 404 with a code; a viewer may not test-send.
	for _, p := range []string{"/test", "/deliveries"} {
		method := "GET"
		if p == "/test" {
			method = "POST"
		}
		if e := must[errorJSON](t, v.admin(method, "/api/v1/webhooks/whk_nope"+p, nil), 404); e.Code != "not_found" {
			t.Errorf("%s unknown: code %q", p, e.Code)
		}
	}
	v.addUser("vi", store.RoleViewer)
	if rec := v.signIn("vi").do("POST", "/api/v1/webhooks/"+w.ID+"/test", nil); rec.Code != http.StatusForbidden {
		t.Errorf("viewer test-send: got %d", rec.Code)
	}
	// Deleting the webhook ends its log.
	if rec := v.admin("DELETE", "/api/v1/webhooks/"+w.ID, nil); rec.Code != 204 {
		t.Fatalf("delete: %d", rec.Code)
	}
	if rec := v.admin("GET", "/api/v1/webhooks/"+w.ID+"/deliveries", nil); rec.Code != 404 {
		t.Errorf("log of a deleted webhook: got %d", rec.Code)
	}
}
