package playlists

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestScheduleValidate(t *testing.T) {
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	later := from.Add(time.Hour)
	valid := func() Schedule {
		return Schedule{Playlist: "pl", Target: Target{All: true}}
	}
	tests := []struct {
		name      string
		edit      func(*Schedule)
		wantField string // "" = valid
		wantIn    string // part of the problem text
	}{
		{"always on", func(s *Schedule) {}, "", ""},
		{"weekday mornings", func(s *Schedule) { s.Cron, s.DurationS = "0 7 * * 1-5", 7200 }, "", ""},
		{"descriptor", func(s *Schedule) { s.Cron, s.DurationS = "@daily", 3600 }, "", ""},
		{"week-long window", func(s *Schedule) { s.Cron, s.DurationS = "@weekly", MaxCronWindow }, "", ""},
		{"date window", func(s *Schedule) { s.From, s.To = &from, &later }, "", ""},
		{"open start", func(s *Schedule) { s.To = &later }, "", ""},
		{"open end", func(s *Schedule) { s.From = &from }, "", ""},

		{"missing playlist", func(s *Schedule) { s.Playlist = " " }, "playlist", "required"},
		{"empty target", func(s *Schedule) { s.Target = Target{} }, "target", "at least one"},
		{"bad cron", func(s *Schedule) { s.Cron, s.DurationS = "0 25 * * *", 60 }, "cron", "invalid expression"},
		{"garbage cron", func(s *Schedule) { s.Cron, s.DurationS = "weekday mornings", 60 }, "cron", "invalid expression"},
		{"six fields refused", func(s *Schedule) { s.Cron, s.DurationS = "0 0 7 * * *", 60 }, "cron", "invalid expression"},
		{"@every refused", func(s *Schedule) { s.Cron, s.DurationS = "@every 1h", 60 }, "cron", "@every"},
		{"@every with spaces refused", func(s *Schedule) { s.Cron, s.DurationS = "  @every 5m", 60 }, "cron", "@every"},
		{"CRON_TZ refused", func(s *Schedule) { s.Cron, s.DurationS = "CRON_TZ=UTC 0 7 * * *", 60 }, "cron", "time zone"},
		{"TZ refused", func(s *Schedule) { s.Cron, s.DurationS = "TZ=Asia/Tokyo 0 7 * * *", 60 }, "cron", "time zone"},
		{"cron without duration", func(s *Schedule) { s.Cron = "0 7 * * *" }, "duration_s", "between 1 and"},
		{"negative duration", func(s *Schedule) { s.Cron, s.DurationS = "0 7 * * *", -5 }, "duration_s", "got -5"},
		{"duration over a week", func(s *Schedule) { s.Cron, s.DurationS = "0 7 * * *", MaxCronWindow+1 }, "duration_s", "between 1 and"},
		{"duration without cron", func(s *Schedule) { s.DurationS = 60 }, "duration_s", "only applies with cron"},
		{"to before from", func(s *Schedule) { s.From, s.To = &later, &from }, "to", "after from"},
		{"to equal to from", func(s *Schedule) { s.From, s.To = &from, &from }, "to", "after from"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			tc.edit(&s)
			err := s.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v (%T), want a FieldError on %q", err, err, tc.wantField)
			}
			if fe.Field != tc.wantField || !strings.Contains(fe.Problem, tc.wantIn) {
				t.Errorf("Validate() = %q, want field %q with a problem mentioning %q", fe.Error(), tc.wantField, tc.wantIn)
			}
		})
	}
}

func TestParseDaypartAgreesWithValidate(t *testing.T) {
	// Resolve and Validate must agree on what a daypart is, or the server
	// would store rules that every screen ignores.
	for _, expr := range []string{"0 7 * * 1-5", "@daily", "@monthly", "@every 1m", "CRON_TZ=UTC 0 7 * * *", "bad", "0 0 30 2 *"} {
		s := Schedule{Playlist: "pl", Target: Target{All: true}, Cron: expr, DurationS: 60}
		_, perr := ParseDaypart(expr)
		verr := s.Validate()
		if (perr == nil) != (verr == nil) {
			t.Errorf("%q: ParseDaypart error %v, Validate error %v; want both nil or both set", expr, perr, verr)
		}
	}
}

func TestTargetMatches(t *testing.T) {
	// A screen in compound 翠苑小区 on street 华阳路, tagged elderly.
	screen := ScreenContext{ID: "scr-7", Groups: []string{"cuiyuan", "huayang-rd", "district"}, Tags: []string{"elderly", "lobby"}}
	tests := []struct {
		name   string
		target Target
		want   bool
	}{
		{"all", Target{All: true}, true},
		{"own group", Target{Groups: []string{"cuiyuan"}}, true},
		{"parent street reaches its compounds", Target{Groups: []string{"huayang-rd"}}, true},
		{"grandparent", Target{Groups: []string{"district"}}, true},
		{"sibling compound", Target{Groups: []string{"jinxiu"}}, false},
		{"any tag", Target{Tags: []string{"school", "elderly"}}, true},
		{"no tag", Target{Tags: []string{"school"}}, false},
		{"screen id", Target{Screens: []string{"scr-1", "scr-7"}}, true},
		{"other screen", Target{Screens: []string{"scr-1"}}, false},
		{"any field suffices", Target{Groups: []string{"jinxiu"}, Screens: []string{"scr-7"}}, true},
		{"empty", Target{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.target.Matches(screen); got != tc.want {
				t.Errorf("%+v.Matches(%+v) = %v, want %v", tc.target, screen, got, tc.want)
			}
		})
	}
}

// "First Monday of the month" cannot be written in standard cron: with both
// day fields restricted robfig/cron (like cron(8)) fires on either. The
// D#N weekday form says it.
func TestNthWeekday(t *testing.T) {
	loc := mustLoc(t, "Asia/Shanghai")
	first := Schedule{Playlist: "p", Target: Target{All: true}, Cron: "0 8 * * 1#1", DurationS: 3600}
	if err := first.Validate(); err != nil {
		t.Fatalf("Validate(%q) = %v, want nil", first.Cron, err)
	}
	// December 2026 starts on a Tuesday: its first Monday is the 7th.
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-12-07T08:30:00+08:00", true},
		{"2026-12-07T09:00:00+08:00", false},
		{"2026-12-14T08:30:00+08:00", false},
		{"2026-12-01T08:30:00+08:00", false}, // a Tuesday in the first week
		{"2026-11-02T08:30:00+08:00", true},  // November's first Monday
		{"2027-02-01T08:30:00+08:00", true},
	} {
		if got := first.Active(ts(t, tc.at), loc); got != tc.want {
			t.Errorf("%s at %s: active %v, want %v", first.Cron, tc.at, got, tc.want)
		}
	}
	if got, want := first.NextChange(ts(t, "2026-12-30T00:00:00+08:00"), loc), ts(t, "2027-01-04T08:00:00+08:00"); !got.Equal(want) {
		t.Errorf("NextChange from 30 December = %v, want %v", got, want)
	}
	// The fifth Friday exists only in some months.
	fifth := Schedule{Playlist: "p", Target: Target{All: true}, Cron: "0 20 * * 5#5", DurationS: 3600}
	if !fifth.Active(ts(t, "2026-10-30T20:30:00+08:00"), loc) || fifth.Active(ts(t, "2026-11-27T20:30:00+08:00"), loc) {
		t.Errorf("5#5: want active on 30 October 2026 (fifth Friday), not on 27 November (fourth)")
	}
	// The trap the form avoids: both day fields restricted means either.
	or := Schedule{Playlist: "p", Target: Target{All: true}, Cron: "0 8 1-7 * 1", DurationS: 3600}
	if !or.Active(ts(t, "2026-12-14T08:30:00+08:00"), loc) {
		t.Errorf("%q on Monday 14 December: robfig/cron ORs the day fields, want active (documents why D#N exists)", or.Cron)
	}
	for _, bad := range []string{"0 8 1 * 1#1", "0 8 * * 1#6", "0 8 * * 1#0", "0 8 * * 7#1", "0 8 * * 1-5#1", "0 8 * * #1", "0 8 * * 1#"} {
		s := Schedule{Playlist: "p", Target: Target{All: true}, Cron: bad, DurationS: 3600}
		if err := s.Validate(); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", bad)
		}
	}
}
