package alerts

import (
	"testing"

	"kiosk/server/internal/store"
)

// TestWebhookEventsFilter: a webhook subscribed to some kinds gets those
// alerts, and a grouped alert of several kinds when any of its screens is
// of a kind it wants; one with no events gets everything.
func TestWebhookEventsFilter(t *testing.T) {
	all := store.Webhook{ID: "all"}
	off := store.Webhook{ID: "off", Events: []string{"offline"}}
	rec := store.Webhook{ID: "rec", Events: []string{"recovered"}}
	hooks := []store.Webhook{all, off, rec}
	ids := func(a store.Alert) (out []string) {
		for _, h := range wanting(hooks, a) {
			out = append(out, h.ID)
		}
		return out
	}
	for _, c := range []struct {
		a    store.Alert
		want string
	}{
		{store.Alert{Kind: KindOffline}, "all off"},
		{store.Alert{Kind: KindRecovered}, "all rec"},
		{store.Alert{Kind: KindStale}, "all"},
		{store.Alert{Kind: KindMixed, Screens: []store.AlertScreen{{To: "stale"}, {To: "online"}}}, "all rec"},
		{store.Alert{Kind: KindMixed, Screens: []store.AlertScreen{{To: "stale"}, {To: "degraded"}}}, "all"},
	} {
		got := ""
		for i, id := range ids(c.a) {
			if i > 0 {
				got += " "
			}
			got += id
		}
		if got != c.want {
			t.Errorf("%s %v: got %q, want %q", c.a.Kind, c.a.Screens, got, c.want)
		}
	}
}
