package alerts

import (
	"fmt"
	"testing"
	"time"

	"kiosk/server/internal/store"
)

var t0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

func tr(screen, from, to string, at time.Duration) store.Transition {
	return store.Transition{Screen: screen, From: from, To: to, At: t0.Add(at), Reasons: []string{to + ": because"}}
}

// step is one input to the debouncer: a transition, or a tick at a time.
type step struct {
	obs  *store.Transition
	tick time.Duration
	// want is the alerts the tick must produce, as "kind:screen,screen".
	want []string
}

func obs(t store.Transition) step { return step{obs: &t} }

func describe(as []store.Alert) []string {
	out := []string{}
	for _, a := range as {
		s := a.Kind + ":"
		for i, sc := range a.Screens {
			if i > 0 {
				s += ","
			}
			s += sc.Screen
		}
		if a.Grouped {
			s = "group " + s
		}
		out = append(out, s)
	}
	return out
}

func TestDebouncer(t *testing.T) {
	const deb, win = 30 * time.Second, 10 * time.Second
	tests := []struct {
		name  string
		min   int
		steps []step
	}{
		{"offline held past the debounce alerts once", 5, []step{
			obs(tr("a", "online", "offline", 0)),
			{tick: 29 * time.Second, want: []string{}},
			{tick: 30 * time.Second, want: []string{}}, // matured; grouping window opens
			{tick: 40 * time.Second, want: []string{"offline:a"}},
			{tick: 80 * time.Second, want: []string{}}, // never twice
		}},
		{"flapping within the window produces nothing", 5, []step{
			obs(tr("a", "online", "offline", 0)),
			obs(tr("a", "offline", "online", 5*time.Second)),
			obs(tr("a", "online", "offline", 10*time.Second)),
			obs(tr("a", "offline", "online", 12*time.Second)),
			{tick: 2 * time.Minute, want: []string{}},
			{tick: 3 * time.Minute, want: []string{}},
		}},
		{"recovery after an alerted outage", 5, []step{
			obs(tr("a", "online", "offline", 0)),
			{tick: 30 * time.Second},
			{tick: 40 * time.Second, want: []string{"offline:a"}},
			obs(tr("a", "offline", "online", time.Minute)),
			{tick: time.Minute + 31*time.Second},
			{tick: time.Minute + 41*time.Second, want: []string{"recovered:a"}},
		}},
		{"first contact with a healthy screen is silent", 5, []step{
			obs(tr("new", "", "online", 0)),
			{tick: time.Minute},
			{tick: 2 * time.Minute, want: []string{}},
		}},
		{"first contact with a degraded screen alerts", 5, []step{
			obs(tr("new", "", "degraded", 0)),
			{tick: 30 * time.Second},
			{tick: 40 * time.Second, want: []string{"degraded:new"}},
		}},
		{"intermediate states collapse into the last held one", 5, []step{
			obs(tr("a", "online", "degraded", 0)),
			obs(tr("a", "degraded", "offline", 10*time.Second)),
			{tick: 35 * time.Second, want: []string{}}, // offline held only 25 s
			{tick: 40 * time.Second},
			{tick: 50 * time.Second, want: []string{"offline:a"}},
		}},
		{"five screens at once become one grouped alert", 5, []step{
			obs(tr("s1", "online", "offline", 0)),
			obs(tr("s2", "online", "offline", time.Second)),
			obs(tr("s3", "online", "offline", 2*time.Second)),
			obs(tr("s4", "online", "offline", 3*time.Second)),
			obs(tr("s5", "online", "offline", 4*time.Second)),
			{tick: 30 * time.Second}, // s1 matures, window opens
			{tick: 35 * time.Second}, // the rest mature inside the window
			{tick: 40 * time.Second, want: []string{"group offline:s1,s2,s3,s4,s5"}},
		}},
		{"four screens stay individual alerts", 5, []step{
			obs(tr("s1", "online", "offline", 0)),
			obs(tr("s2", "online", "offline", time.Second)),
			obs(tr("s3", "online", "stale", 2*time.Second)),
			obs(tr("s4", "online", "offline", 3*time.Second)),
			{tick: 30 * time.Second},
			{tick: 35 * time.Second},
			{tick: 40 * time.Second, want: []string{"offline:s1", "offline:s2", "stale:s3", "offline:s4"}},
		}},
		{"a grouped alert of different kinds is mixed", 3, []step{
			obs(tr("s1", "online", "offline", 0)),
			obs(tr("s2", "online", "degraded", 0)),
			obs(tr("s3", "online", "stale", 0)),
			{tick: 30 * time.Second},
			{tick: 40 * time.Second, want: []string{"group mixed:s1,s2,s3"}},
		}},
		{"a late, older transition does not override a newer one", 5, []step{
			obs(tr("a", "offline", "online", 10*time.Second)),
			obs(tr("a", "online", "offline", 0)),
			{tick: 45 * time.Second},
			{tick: 60 * time.Second, want: []string{"recovered:a"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDebouncer(deb, win, tc.min)
			for i, s := range tc.steps {
				if s.obs != nil {
					d.observe(*s.obs)
					continue
				}
				got := describe(d.tick(t0.Add(s.tick)))
				if s.want != nil && fmt.Sprint(got) != fmt.Sprint(s.want) {
					t.Errorf("step %d, tick at +%v: got alerts %q, want %q", i, s.tick, got, s.want)
				}
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		a    store.Alert
		want string
	}{
		{store.Alert{Kind: "offline", Screens: []store.AlertScreen{{Screen: "scr_1", Name: "大堂", To: "offline", Reasons: []string{"disconnected: gone"}}}},
			"screen 大堂 (scr_1) is offline: disconnected: gone"},
		{store.Alert{Kind: "recovered", Screens: []store.AlertScreen{{Screen: "scr_1", To: "online"}}},
			"screen scr_1 recovered: online again"},
		{store.Alert{Kind: "offline", Grouped: true, Screens: make([]store.AlertScreen, 7)}, "7 screens went offline"},
		{store.Alert{Kind: "mixed", Grouped: true, Screens: []store.AlertScreen{{To: "offline"}, {To: "offline"}, {To: "online"}}},
			"3 screens changed state: 2 offline, 1 recovered"},
	}
	for _, tc := range tests {
		if got := summarize(tc.a); got != tc.want {
			t.Errorf("summarize(%+v): got %q, want %q", tc.a, got, tc.want)
		}
	}
}
