package store

import (
	"fmt"
	"testing"
	"time"
)

// TestWebhookLog: test sends are kept (the latest ten) and merged with
// the webhook's alert deliveries, newest first; other webhooks' stay out.
func TestWebhookLog(t *testing.T) {
	s := openTest(t)
	w, err := s.CreateWebhook(Webhook{URL: "https://alerts.example.org/k", Secret: "0123456789abcdef", Events: []string{"offline"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateWebhook(Webhook{URL: "https://other.example.org/", Secret: "0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateWebhook(Webhook{URL: "https://x.example.org/", Secret: "0123456789abcdef", Events: []string{"exploded"}}); err == nil {
		t.Error("an unknown event was accepted")
	}
	for i := range 12 {
		tr := WebhookTest{ID: fmt.Sprintf("tst_%02d", i), At: testNow.Add(time.Duration(i) * time.Second), OK: i%2 == 0, Code: 204}
		if err := s.RecordWebhookTest(w.ID, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordWebhookTest("whk_nope", WebhookTest{}); err == nil {
		t.Error("a test of an unknown webhook was recorded")
	}
	got, err := s.GetWebhook(w.ID)
	if err != nil || len(got.Tests) != maxWebhookTests || got.Tests[0].ID != "tst_02" || !got.Wants("offline") || got.Wants("stale") {
		t.Fatalf("webhook after 12 tests: %+v, %v; want the latest 10, offline only", got, err)
	}
	a, err := s.AddAlert(Alert{Kind: "offline", CreatedAt: testNow.Add(time.Minute),
		Deliveries: []Delivery{{Webhook: w.ID, Status: DeliveryDelivered, Attempts: 2}, {Webhook: other.ID, Status: DeliveryFailed}}})
	if err != nil {
		t.Fatal(err)
	}
	log, err := s.WebhookDeliveries(w.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 11 || log[0].Alert != a.ID || log[0].Attempts != 2 || log[1].Alert != "tst_11" || log[1].Status != DeliveryFailed || log[2].Status != DeliveryDelivered {
		t.Errorf("log: got %d entries, first %+v, %+v, %+v", len(log), log[0], log[1], log[2])
	}
	if log, _ := s.WebhookDeliveries(w.ID, 3); len(log) != 3 {
		t.Errorf("limit 3: got %d", len(log))
	}
	if log, _ := s.WebhookDeliveries(other.ID, 100); len(log) != 1 || log[0].Status != DeliveryFailed {
		t.Errorf("other webhook's log: %+v", log)
	}
	if _, err := s.WebhookDeliveries("whk_nope", 10); err == nil {
		t.Error("the log of an unknown webhook")
	}
}
