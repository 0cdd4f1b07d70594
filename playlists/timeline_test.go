package playlists

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// describeSegments renders segments compactly: start-end playlist/priority
// [items] !urgent.
func describeSegments(segs []Segment) string {
	var b strings.Builder
	for _, s := range segs {
		ids := make([]string, len(s.Items))
		for i, it := range s.Items {
			ids[i] = it.ID
		}
		fmt.Fprintf(&b, "%s-%s %s/%d %v", s.Start.Format("01-02T15:04"), s.End.Format("01-02T15:04"), s.Playlist, s.Priority, ids)
		if s.Default {
			b.WriteString(" default")
		}
		if s.Fallback {
			b.WriteString(" fallback")
		}
		if len(s.Urgent) > 0 {
			fmt.Fprintf(&b, " !%v", s.Urgent)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestTimeline(t *testing.T) {
	pls := map[string][]string{
		"traffic": {"t1", "t2"},
		"law":     {"l1"},
		"fraud":   {"f1"},
		"news":    {"n1", "n2"},
	}
	// Weekday mornings 07:00-09:00 traffic (priority 5); the monthly law all
	// of June (priority 5, merges with traffic); Friday nights 22:00-02:00
	// anti-fraud (priority 8); news as the default playlist.
	sched := []Schedule{
		{ID: "s1-traffic", Playlist: "traffic", Target: Target{All: true}, Cron: "0 7 * * 1-5", DurationS: 7200, Priority: 5},
		{ID: "s2-law", Playlist: "law", Target: Target{All: true}, From: tp(t, "2025-06-01T00:00:00+08:00"), To: tp(t, "2025-07-01T00:00:00+08:00"), Priority: 5},
		{ID: "s3-fraud", Playlist: "fraud", Target: Target{All: true}, Cron: "0 22 * * 5", DurationS: 4 * 3600, Priority: 8},
	}
	m := testManifest("Asia/Shanghai", pls, sched...)
	m.DefaultPlaylist = "news"

	tests := []struct {
		name     string
		from, to string
		want     string
	}{
		{
			name: "friday to saturday across midnight",
			from: "2025-06-06T06:00:00+08:00", to: "2025-06-07T08:00:00+08:00",
			want: "06-06T06:00-06-06T07:00 law/5 [l1]\n" +
				"06-06T07:00-06-06T09:00 traffic/5 [t1 l1 t2]\n" +
				"06-06T09:00-06-06T22:00 law/5 [l1]\n" +
				"06-06T22:00-06-07T02:00 fraud/8 [f1]\n" +
				"06-07T02:00-06-07T08:00 law/5 [l1]\n",
		},
		{
			name: "month end: the law ends, the default takes over",
			from: "2025-06-30T06:00:00+08:00", to: "2025-07-01T10:00:00+08:00",
			want: "06-30T06:00-06-30T07:00 law/5 [l1]\n" +
				"06-30T07:00-06-30T09:00 traffic/5 [t1 l1 t2]\n" +
				"06-30T09:00-07-01T00:00 law/5 [l1]\n" +
				"07-01T00:00-07-01T07:00 news/0 [n1 n2] default\n" +
				"07-01T07:00-07-01T09:00 traffic/5 [t1 t2]\n" +
				"07-01T09:00-07-01T10:00 news/0 [n1 n2] default\n",
		},
		{
			name: "range inside one segment",
			from: "2025-06-10T10:00:00+08:00", to: "2025-06-10T11:00:00+08:00",
			want: "06-10T10:00-06-10T11:00 law/5 [l1]\n",
		},
		{name: "empty range", from: "2025-06-10T10:00:00+08:00", to: "2025-06-10T10:00:00+08:00", want: ""},
		{name: "reversed range", from: "2025-06-10T10:00:00+08:00", to: "2025-06-10T09:00:00+08:00", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Timeline(m, ts(t, tt.from), ts(t, tt.to))
			if d := describeSegments(got); d != tt.want {
				t.Errorf("Timeline:\n%s\nwant:\n%s", d, tt.want)
			}
			for i := 1; i < len(got); i++ {
				if !got[i].Start.Equal(got[i-1].End) {
					t.Errorf("segment %d starts %v, previous ends %v: gap or overlap", i, got[i].Start, got[i-1].End)
				}
			}
		})
	}
}

// Segments agree with Resolve at every probe: the preview is the player.
func TestTimelineAgreesWithResolve(t *testing.T) {
	m := testManifest("America/New_York", map[string][]string{"a": {"a1"}, "b": {"b1"}},
		Schedule{ID: "a", Playlist: "a", Target: Target{All: true}, Cron: "30 1 * * *", DurationS: 5400, Priority: 1},
		Schedule{ID: "b", Playlist: "b", Target: Target{All: true}, Cron: "*/45 * * * *", DurationS: 600},
	)
	from, to := ts(t, "2025-11-01T00:00:00-04:00"), ts(t, "2025-11-04T00:00:00-05:00")
	segs := Timeline(m, from, to)
	if len(segs) == 0 || !segs[0].Start.Equal(from) || !segs[len(segs)-1].End.Equal(to) {
		t.Fatalf("timeline does not cover [%v, %v): %s", from, to, describeSegments(segs))
	}
	for _, s := range segs {
		for _, p := range []time.Time{s.Start, s.End.Add(-time.Second), s.Start.Add(s.End.Sub(s.Start) / 2)} {
			res := m.Resolve(p)
			var ids []string
			for _, e := range res.Entries {
				ids = append(ids, e.Item.ID)
			}
			var want []string
			for _, it := range s.Items {
				want = append(want, it.ID)
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("at %v Resolve plays %v, segment %s-%s says %v", p, ids, s.Start, s.End, want)
			}
		}
	}
}

func TestTimelineUrgentSplits(t *testing.T) {
	m := testManifest("Asia/Shanghai", map[string][]string{"a": {"a1"}},
		Schedule{ID: "a", Playlist: "a", Target: Target{All: true}})
	t0 := ts(t, "2025-06-03T10:00:00+08:00")
	m.Urgent = []Urgent{
		{ID: "u1", Title: "停水", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)},
		{ID: "u2", Title: "封路", CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)},
	}
	m.Seal()
	got := describeSegments(Timeline(m, t0, t0.Add(3*time.Hour)))
	want := "06-03T10:00-06-03T11:00 a/0 [a1] ![u2 u1]\n" +
		"06-03T11:00-06-03T12:00 a/0 [a1] ![u1]\n" +
		"06-03T12:00-06-03T13:00 a/0 [a1]\n"
	if got != want {
		t.Errorf("Timeline:\n%s\nwant:\n%s", got, want)
	}
}

func TestTimelineCapsSegments(t *testing.T) {
	m := testManifest("Asia/Shanghai", map[string][]string{"a": {"a1"}},
		Schedule{ID: "a", Playlist: "a", Target: Target{All: true}, Cron: "* * * * *", DurationS: 30})
	from := ts(t, "2025-06-03T00:00:00+08:00")
	segs := Timeline(m, from, from.Add(MaxTimelineSpan))
	if len(segs) != MaxTimelineSegments {
		t.Fatalf("got %d segments, want the cap %d", len(segs), MaxTimelineSegments)
	}
	if end := segs[len(segs)-1].End; !end.Before(from.Add(MaxTimelineSpan)) {
		t.Errorf("capped timeline ends at %v, want before the requested end", end)
	}
}

func TestTimelineLongQuietRange(t *testing.T) {
	// Nothing changes for 20 days: the walk steps over Resolve's horizon
	// and still returns one segment.
	m := testManifest("Asia/Shanghai", map[string][]string{"a": {"a1"}},
		Schedule{ID: "a", Playlist: "a", Target: Target{All: true}})
	from := ts(t, "2025-06-01T00:00:00+08:00")
	segs := Timeline(m, from, from.Add(20*24*time.Hour))
	if len(segs) != 1 || !segs[0].End.Equal(from.Add(20*24*time.Hour)) {
		t.Errorf("got %s, want one 20-day segment", describeSegments(segs))
	}
}

// Outranked names what lost to the winner: the explainer's "why not mine".
// A lower priority toggling underneath does not split the segment; the
// segment lists everything it outranked at any time.
func TestTimelineOutranked(t *testing.T) {
	m := testManifest("Asia/Shanghai", map[string][]string{"hi": {"h1"}, "traffic": {"t1"}, "law": {"l1"}, "empty": {}},
		Schedule{ID: "s-hi", Playlist: "hi", Target: Target{All: true}, Priority: 9,
			From: tp(t, "2025-06-02T06:00:00+08:00"), To: tp(t, "2025-06-02T12:00:00+08:00")},
		Schedule{ID: "s-traffic", Playlist: "traffic", Target: Target{All: true}, Cron: "0 7 * * 1-5", DurationS: 7200, Priority: 5},
		Schedule{ID: "s-law", Playlist: "law", Target: Target{All: true}, Priority: 1},
		// Empty playlists never win and never count as outranked.
		Schedule{ID: "s-empty", Playlist: "empty", Target: Target{All: true}, Priority: 3},
	)
	segs := Timeline(m, ts(t, "2025-06-02T05:00:00+08:00"), ts(t, "2025-06-02T13:00:00+08:00"))
	type row struct {
		span, winner string
		outranked    []string
	}
	var got []row
	for _, s := range segs {
		got = append(got, row{s.Start.Format("15:04") + "-" + s.End.Format("15:04"), s.Playlist, s.Outranked})
	}
	want := []row{
		{"05:00-06:00", "law", nil},
		{"06:00-12:00", "hi", []string{"s-law", "s-traffic"}},
		{"12:00-13:00", "law", nil},
	}
	if len(got) != len(want) {
		t.Fatalf("segments:\n%s\nwant %d", describeSegments(segs), len(want))
	}
	for i := range want {
		if got[i].span != want[i].span || got[i].winner != want[i].winner || !slices.Equal(got[i].outranked, want[i].outranked) {
			t.Errorf("segment %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Equal priorities merge into one rotation: nothing is outranked.
	m2 := testManifest("Asia/Shanghai", map[string][]string{"traffic": {"t1"}, "law": {"l1"}},
		Schedule{ID: "s-traffic", Playlist: "traffic", Target: Target{All: true}, Cron: "0 7 * * 1-5", DurationS: 7200, Priority: 5},
		Schedule{ID: "s-law", Playlist: "law", Target: Target{All: true}, Priority: 5},
	)
	for _, s := range Timeline(m2, ts(t, "2025-06-02T06:00:00+08:00"), ts(t, "2025-06-02T10:00:00+08:00")) {
		if len(s.Outranked) != 0 {
			t.Errorf("equal priorities merge, none outranked; segment %s-%s lists %v", s.Start, s.End, s.Outranked)
		}
	}
}
