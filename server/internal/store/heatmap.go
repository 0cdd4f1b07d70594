package store

import (
	"fmt"
	"time"
)

// DayCount is what one screen played on one calendar day.
type DayCount struct {
	Plays int64
	MS    int64
}

// ScreenDays counts plays per screen per calendar day for the days given
// (consecutive days in loc, as time.DateOnly strings, oldest first): the
// report's screen × day grouping as per-screen slices indexed like days,
// with no labels, so a heat-map over a district's 10,000 screens reads
// the plays once and looks nothing else up. Screen and group, when set,
// keep only that screen's plays or those of screens that were in that
// group when they played (as ReportQuery's filters).
func (s *Store) ScreenDays(days []string, loc *time.Location, screen, group string) (map[string][]DayCount, error) {
	out := map[string][]DayCount{}
	if len(days) == 0 {
		return out, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	first, err := time.ParseInLocation(time.DateOnly, days[0], loc)
	if err != nil {
		return nil, fmt.Errorf("screen days: %w", err)
	}
	last, err := time.ParseInLocation(time.DateOnly, days[len(days)-1], loc)
	if err != nil {
		return nil, fmt.Errorf("screen days: %w", err)
	}
	index := make(map[string]int, len(days))
	for i, d := range days {
		index[d] = i
	}
	// Plays arrive in start order: the current day's bounds are worked out
	// once per day, not once per play.
	day := -1
	var dayFrom, dayTo int64 = 1, 0
	err = s.walkPlays(first, last.AddDate(0, 0, 1), func(v *playView) bool {
		if screen != "" && string(v.fields[fieldScreen]) != screen ||
			group != "" && string(v.fields[fieldGroup]) != group {
			return true
		}
		if v.start < dayFrom || v.start >= dayTo {
			t := time.UnixMilli(v.start).In(loc)
			y, m, d := t.Date()
			start := time.Date(y, m, d, 0, 0, 0, 0, loc)
			dayFrom, dayTo = start.UnixMilli(), start.AddDate(0, 0, 1).UnixMilli()
			i, ok := index[start.Format(time.DateOnly)]
			day = -1
			if ok {
				day = i
			}
		}
		if day < 0 {
			return true
		}
		counts := out[string(v.fields[fieldScreen])]
		if counts == nil {
			counts = make([]DayCount, len(days))
			out[string(v.fields[fieldScreen])] = counts
		}
		counts[day].Plays++
		counts[day].MS += v.durationMS
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("screen days: %w", err)
	}
	return out, nil
}
