package alerts

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"kiosk/server/internal/store"
)

// Alert kinds. A screen entering a state alerts with the state's name; a
// screen returning to online alerts "recovered"; a grouped alert whose
// screens changed in different ways is "mixed".
const (
	KindOffline   = "offline"
	KindStale     = "stale"
	KindDegraded  = "degraded"
	KindRecovered = "recovered"
	KindMixed     = "mixed"
	// KindUrgentSent is no screen state: an urgent notice went out without
	// review (Engine.Announce), so a second person hears of it.
	KindUrgentSent = "urgent_sent"
)

// Kinds lists every kind, for metrics.
var Kinds = []string{KindOffline, KindStale, KindDegraded, KindRecovered, KindMixed}

const stateOnline = "online"

// screenMemory is what the debouncer remembers of one screen.
type screenMemory struct {
	// alerted is the state receivers last heard about ("" = none yet: the
	// state before the first transition this server saw, unknown).
	alerted string
	// pending is the latest transition not yet held for the debounce.
	pending *store.Transition
}

// debouncer turns a stream of state transitions into alerts. It is driven
// by explicit times (observe, tick) and does no I/O, so the tests can step
// it through flapping and outages without sleeping.
//
// Debounce: a state must hold for debounce before it alerts, and it alerts
// only if it differs from what receivers last heard, so a screen that flaps
// offline→online within the window produces nothing at all.
//
// Grouping: alerts that mature within window of the first are held back
// and, if there are at least groupMin of them, sent as one grouped alert
// (a district power cut is one message, not a hundred); fewer go out one by
// one when the window closes.
type debouncer struct {
	debounce time.Duration
	window   time.Duration
	groupMin int

	screens    map[string]*screenMemory
	batch      []store.AlertScreen
	batchStart time.Time
}

func newDebouncer(debounce, window time.Duration, groupMin int) *debouncer {
	return &debouncer{debounce: debounce, window: window, groupMin: groupMin, screens: map[string]*screenMemory{}}
}

// observe takes one transition.
func (d *debouncer) observe(tr store.Transition) {
	m := d.screens[tr.Screen]
	if m == nil {
		m = &screenMemory{alerted: tr.From}
		d.screens[tr.Screen] = m
	}
	// Transitions come from several goroutines; one older than the
	// pending one arrived late and is already superseded.
	if m.pending != nil && tr.At.Before(m.pending.At) {
		return
	}
	m.pending = &tr
}

// tick matures pending transitions held for the debounce and returns the
// alerts that are due at now. Alerts come out with Kind, Grouped, Summary
// and Screens set; naming screens is the caller's job.
func (d *debouncer) tick(now time.Time) []store.Alert {
	ids := make([]string, 0, len(d.screens))
	for id := range d.screens {
		ids = append(ids, id)
	}
	sort.Strings(ids) // deterministic order within a batch
	for _, id := range ids {
		m := d.screens[id]
		p := m.pending
		if p == nil || now.Sub(p.At) < d.debounce {
			continue
		}
		m.pending = nil
		if p.To == m.alerted {
			continue // flapped back to what receivers already know
		}
		from := m.alerted
		m.alerted = p.To
		if from == "" && p.To == stateOnline {
			continue // first contact with a healthy screen: nothing to report
		}
		if len(d.batch) == 0 {
			d.batchStart = now
		}
		d.batch = append(d.batch, store.AlertScreen{Screen: p.Screen, From: from, To: p.To, Reasons: p.Reasons, At: p.At})
	}
	if len(d.batch) == 0 || now.Sub(d.batchStart) < d.window {
		return nil
	}
	batch := d.batch
	d.batch = nil
	if len(batch) >= d.groupMin && d.groupMin > 1 {
		return []store.Alert{groupAlert(batch)}
	}
	out := make([]store.Alert, len(batch))
	for i, s := range batch {
		out[i] = store.Alert{Kind: kindOf(s.To), Screens: []store.AlertScreen{s}}
	}
	return out
}

func kindOf(to string) string {
	if to == stateOnline {
		return KindRecovered
	}
	return to
}

func groupAlert(batch []store.AlertScreen) store.Alert {
	counts := map[string]int{}
	for _, s := range batch {
		counts[kindOf(s.To)]++
	}
	kind := KindMixed
	if len(counts) == 1 {
		kind = kindOf(batch[0].To)
	}
	return store.Alert{Kind: kind, Grouped: true, Screens: batch}
}

// summarize writes the one-line text of a (named) alert.
func summarize(a store.Alert) string {
	if !a.Grouped && len(a.Screens) == 1 {
		s := a.Screens[0]
		name := s.Screen
		if s.Name != "" {
			name = fmt.Sprintf("%s (%s)", s.Name, s.Screen)
		}
		if a.Kind == KindRecovered {
			return fmt.Sprintf("screen %s recovered: online again", name)
		}
		msg := fmt.Sprintf("screen %s is %s", name, s.To)
		if len(s.Reasons) > 0 {
			msg += ": " + s.Reasons[0]
		}
		return msg
	}
	counts := map[string]int{}
	for _, s := range a.Screens {
		counts[kindOf(s.To)]++
	}
	if a.Kind != KindMixed {
		if a.Kind == KindRecovered {
			return fmt.Sprintf("%d screens recovered", len(a.Screens))
		}
		return fmt.Sprintf("%d screens went %s", len(a.Screens), a.Kind)
	}
	var parts []string
	for _, k := range Kinds {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return fmt.Sprintf("%d screens changed state: %s", len(a.Screens), strings.Join(parts, ", "))
}
