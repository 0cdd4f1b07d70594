package playlists

import (
	"slices"
	"time"
)

// Bounds on a timeline, so a preview request cannot make the server walk a
// minute-by-minute daypart for a year.
const (
	MaxTimelineSpan     = 31 * 24 * time.Hour
	MaxTimelineSegments = 5000
)

// Segment is a stretch of time during which the same thing plays on a
// screen: the same winning schedules with the same rotation, and the same
// urgent notices on top.
type Segment struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"` // exclusive
	// Playlist is the winning playlist; when several schedules of equal
	// priority merge, the first by schedule id (all are in Playlists). Empty
	// while the fallback screen shows.
	Playlist  string   `json:"playlist"`
	Playlists []string `json:"playlists"`
	Schedules []string `json:"schedules"`
	Priority  int      `json:"priority"`
	// Default: no schedule had content, the default playlist fills the gap.
	Default bool `json:"default,omitempty"`
	// Fallback: nothing at all to show; the screen shows its fallback page.
	Fallback bool `json:"fallback,omitempty"`
	// Items is the rotation, in the order it plays.
	Items []SegmentItem `json:"items"`
	// Outranked lists the schedules that were active, with items to show,
	// at some time during the segment but lost to Priority: "why is my
	// schedule not on?" Sorted by id; empty when nothing was outranked.
	// It does not split segments: a lower priority that toggles underneath
	// leaves one segment with the union of what it outranked.
	Outranked []string `json:"outranked,omitempty"`
	// Urgent lists the urgent notices that cover the rotation during the
	// segment, in the order the screen rotates them.
	Urgent []string `json:"urgent,omitempty"`
}

// SegmentItem is one slot of a segment's rotation.
type SegmentItem struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Kind      Kind   `json:"kind"`
	DurationS int    `json:"duration_s"`
	Playlist  string `json:"playlist"`
}

// Timeline resolves m from from to to into the segments a screen plays,
// walking Resolve's Until from one change to the next: it is the very code
// the player runs, so the preview cannot disagree with the screen. Adjacent
// stretches that play the same thing (a lower priority toggled underneath)
// are merged. Times are in the manifest's zone. It returns no segments when
// to is not after from, and stops after MaxTimelineSegments, in which case
// the last segment ends before to.
func Timeline(m *Manifest, from, to time.Time) []Segment {
	out := []Segment{}
	from, to = from.Round(0), to.Round(0)
	if !to.After(from) {
		return out
	}
	loc := m.Location()
	for t := from; t.Before(to); {
		res, outranked := m.resolve(t)
		end := res.Until
		if horizon := t.Add(ResolveHorizon); end.IsZero() || end.After(horizon) {
			// Nothing changes before the horizon; look again from there.
			end = horizon
		}
		if u := m.NextUrgentChange(t); !u.IsZero() && u.Before(end) {
			end = u
		}
		if end.After(to) {
			end = to
		}
		if !end.After(t) {
			// A resolver bug must not hang the server.
			end = t.Add(time.Second)
		}
		seg := segmentOf(res, m.ActiveUrgent(t))
		seg.Start, seg.End = t.In(loc), end.In(loc)
		seg.Outranked = outranked
		if n := len(out); n > 0 && sameSegment(out[n-1], seg) {
			out[n-1].End = seg.End
			out[n-1].Outranked = unionSorted(out[n-1].Outranked, outranked)
		} else {
			slices.Sort(seg.Outranked)
			if n == MaxTimelineSegments {
				break
			}
			out = append(out, seg)
		}
		t = end
	}
	return out
}

func segmentOf(res Resolution, urgent []Urgent) Segment {
	seg := Segment{
		Priority:  res.Priority,
		Schedules: slices.Clone(res.Schedules),
		Playlists: []string{},
		Items:     make([]SegmentItem, 0, len(res.Entries)),
		Default:   res.Default,
		Fallback:  len(res.Entries) == 0,
	}
	if seg.Schedules == nil {
		seg.Schedules = []string{}
	}
	for _, e := range res.Entries {
		if !slices.Contains(seg.Playlists, e.Playlist) {
			seg.Playlists = append(seg.Playlists, e.Playlist)
		}
		seg.Items = append(seg.Items, SegmentItem{
			ID: e.Item.ID, Title: e.Item.Title, Kind: e.Item.Kind,
			DurationS: e.Item.DurationS, Playlist: e.Playlist,
		})
	}
	// Entries interleave by schedule id, so the first entry's playlist is
	// the first winner's.
	if len(seg.Playlists) > 0 {
		seg.Playlist = seg.Playlists[0]
	}
	for _, u := range urgent {
		seg.Urgent = append(seg.Urgent, u.ID)
	}
	return seg
}

func sameSegment(a, b Segment) bool {
	return a.Priority == b.Priority && a.Default == b.Default && a.Fallback == b.Fallback &&
		slices.Equal(a.Schedules, b.Schedules) && slices.Equal(a.Urgent, b.Urgent) &&
		slices.Equal(a.Items, b.Items)
}

// unionSorted adds add to the sorted set a.
func unionSorted(a, add []string) []string {
	for _, id := range add {
		if i, found := slices.BinarySearch(a, id); !found {
			a = slices.Insert(a, i, id)
		}
	}
	return a
}
