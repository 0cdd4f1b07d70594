package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// TestGroupTimeline previews a group as a tag-less screen in it would
// play: group-targeted schedules and the group's default count, a
// schedule for a tag does not, and the segments say what they outranked.
func TestGroupTimeline(t *testing.T) {
	v := newEnv(t)
	s := v.seed() // an always-on priority-0 schedule for all screens
	news := must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "社区新闻", "duration_s": 5}), 201).ID
	newsPl := must[idResp](t, v.admin("POST", "/api/v1/playlists", map[string]any{"name": "新闻", "items": []string{news}}), 201).ID
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "street", "name": "新华街道", "default_playlist": newsPl}), 201)
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "c1", "name": "一小区", "parent": "street"}), 201)
	law := must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "legal_story", "title": "每月一法", "duration_s": 5}), 201).ID
	lawPl := must[idResp](t, v.admin("POST", "/api/v1/playlists", map[string]any{"name": "法", "items": []string{law}}), 201).ID
	// Mornings for the street (reaches c1), priority 5; a lobby-tag
	// schedule at priority 9 that a tag-less screen never plays.
	morning := must[idResp](t, v.admin("POST", "/api/v1/schedules", map[string]any{"playlist": lawPl, "target": map[string]any{"groups": []string{"street"}}, "cron": "0 7 * * *", "duration_s": 7200, "priority": 5}), 201).ID
	must[idResp](t, v.admin("POST", "/api/v1/schedules", map[string]any{"playlist": newsPl, "target": map[string]any{"tags": []string{"lobby"}}, "priority": 9}), 201)

	q := "?from=" + url.QueryEscape("2026-03-02T06:00:00+08:00") + "&to=" + url.QueryEscape("2026-03-02T10:00:00+08:00")
	rec := v.admin("GET", "/api/v1/groups/c1/timeline"+q, nil)
	segs := must[[]playlists.Segment](t, rec, 200)
	if tz := rec.Header().Get("X-Timeline-Timezone"); tz != "Asia/Shanghai" {
		t.Errorf("X-Timeline-Timezone = %q, want Asia/Shanghai", tz)
	}
	type seg struct {
		span, playlist string
		priority       int
		outranked      []string
	}
	var got []seg
	for _, g := range segs {
		got = append(got, seg{g.Start.Format("15:04") + "-" + g.End.Format("15:04"), g.Playlist, g.Priority, g.Outranked})
	}
	want := []seg{
		{"06:00-07:00", s.playlist, 0, nil},
		{"07:00-09:00", lawPl, 5, []string{s.schedule}},
		{"09:00-10:00", s.playlist, 0, nil},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("group timeline = %v, want %v", got, want)
	}
	if segs[1].Schedules[0] != morning {
		t.Errorf("morning segment won by %v, want %s", segs[1].Schedules, morning)
	}

	// Without the always-on schedule the street's default fills the gaps.
	if rec := v.admin("DELETE", "/api/v1/schedules/"+s.schedule, nil); rec.Code >= 300 {
		t.Fatalf("delete schedule: %d %s", rec.Code, rec.Body)
	}
	segs = must[[]playlists.Segment](t, v.admin("GET", "/api/v1/groups/c1/timeline"+q, nil), 200)
	if len(segs) != 3 || !segs[0].Default || segs[0].Playlist != newsPl || segs[1].Default {
		t.Errorf("after delete: %+v, want the default %s around the morning", segs, newsPl)
	}

	for _, c := range []struct {
		name, path string
		code       int
	}{
		{"unknown group", "/api/v1/groups/nope/timeline" + q, 404},
		{"no from", "/api/v1/groups/c1/timeline?to=2026-03-02T10:00:00Z", 400},
		{"too long", "/api/v1/groups/c1/timeline?from=2026-03-01T00:00:00Z&to=2026-04-15T00:00:00Z", 400},
	} {
		if rec := v.admin("GET", c.path, nil); rec.Code != c.code {
			t.Errorf("%s: got %d %s, want %d", c.name, rec.Code, rec.Body, c.code)
		}
	}
}

// TestPlayReportKindAndScreenDay covers the groupings the reports page
// draws: per kind and the screen × day heat-map, in JSON and CSV.
func TestPlayReportKindAndScreenDay(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	must[playsAnswer](t, v.do("POST", "/api/v1/device/plays", s.tokenA, goodBatch("b1", s.item, 3)), http.StatusOK)
	must[playsAnswer](t, v.do("POST", "/api/v1/device/plays", s.tokenB, goodBatch("b1", s.item, 2)), http.StatusOK)
	base := "/api/v1/reports/plays?from=2026-03-01T00:00:00%2B08:00&to=2026-03-02T00:00:00%2B08:00"

	rows := must[[]store.ReportRow](t, v.admin("GET", base+"&group_by=kind", nil), http.StatusOK)
	if len(rows) != 1 || rows[0].Key != "psa" || rows[0].Plays != 5 {
		t.Fatalf("by kind = %+v, want one psa row with 5 plays", rows)
	}
	rows = must[[]store.ReportRow](t, v.admin("GET", base+"&group_by=screen_day", nil), http.StatusOK)
	if len(rows) != 2 {
		t.Fatalf("by screen and day = %+v, want 2 rows", rows)
	}
	for _, r := range rows {
		if r.Day == "" || r.Screen == "" || r.Key != r.Day+"/"+r.Screen || !slices.Contains([]string{s.screenA, s.screenB}, r.Screen) {
			t.Errorf("row %+v: want day, screen and key day/screen", r)
		}
	}
	rec := v.admin("GET", base+"&group_by=screen_day&format=csv", nil)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), utf8BOM))).ReadAll()
	if err != nil || rec.Code != 200 {
		t.Fatalf("csv: %d %v %s", rec.Code, err, rec.Body)
	}
	if len(recs) != 3 || fmt.Sprint(recs[0]) != "[day screen label plays seconds]" || recs[1][0] != rows[0].Day {
		t.Errorf("csv = %q, want a header day,screen,label,plays,seconds and two rows", recs)
	}
}
