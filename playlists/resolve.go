package playlists

import (
	"time"
)

// Entry is one slot of a rotation: an item and where it came from.
type Entry struct {
	Item     Item   `json:"item"`
	Playlist string `json:"playlist"`
	Schedule string `json:"schedule"`
}

// Resolution is what plays on a screen at an instant: the rotation of the
// winning priority, and the instant the answer may next change.
type Resolution struct {
	Priority  int      `json:"priority"`
	Schedules []string `json:"schedules"`
	Entries   []Entry  `json:"entries"`
	// Until is the next instant at which a schedule window opens or closes,
	// so the answer may change; zero means no change is foreseen.
	Until time.Time `json:"until,omitzero"`
}

// Location returns the manifest's time zone, falling back to UTC for an
// unknown name (the server refuses unknown names, so that is a last resort).
func (m *Manifest) Location() *time.Location {
	loc, err := time.LoadLocation(m.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Active reports whether schedule s is active at t in loc.
func (s Schedule) Active(t time.Time, loc *time.Location) bool {
	if s.From != nil && t.Before(*s.From) {
		return false
	}
	if s.To != nil && !t.Before(*s.To) {
		return false
	}
	if s.Cron == "" {
		return true
	}
	sched, err := ParseCron(s.Cron)
	if err != nil {
		return false
	}
	// The window containing t opened at the last fire at or before t.
	lt := t.In(loc)
	start := lt.Add(-time.Duration(s.DurationS) * time.Second)
	next := sched.Next(start.Add(-time.Second))
	return !next.After(lt)
}

// Resolve returns what plays at t: among the active schedules the highest
// priority wins; equal priorities are interleaved into one rotation.
func (m *Manifest) Resolve(t time.Time) Resolution {
	loc := m.Location()
	res := Resolution{}
	var winners []Schedule
	for _, s := range m.Schedules {
		if !s.Active(t, loc) {
			continue
		}
		if len(winners) == 0 || s.Priority > res.Priority {
			winners = winners[:0]
			res.Priority = s.Priority
		} else if s.Priority < res.Priority {
			continue
		}
		winners = append(winners, s)
	}
	lists := make([][]Entry, 0, len(winners))
	for _, s := range winners {
		res.Schedules = append(res.Schedules, s.ID)
		pl, ok := m.Playlist(s.Playlist)
		if !ok {
			continue
		}
		var es []Entry
		for _, id := range pl.Items {
			if it, ok := m.Item(id); ok {
				es = append(es, Entry{Item: it, Playlist: pl.ID, Schedule: s.ID})
			}
		}
		if len(es) > 0 {
			lists = append(lists, es)
		}
	}
	for i := 0; ; i++ {
		added := false
		for _, l := range lists {
			if i < len(l) {
				res.Entries = append(res.Entries, l[i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return res
}
