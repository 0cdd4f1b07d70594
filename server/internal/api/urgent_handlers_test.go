package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kiosk/playlists"
)

type urgentResp struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	ExpiresAt   time.Time  `json:"expires_at"`
	WithdrawnAt *time.Time `json:"withdrawn_at"`
}

func TestUrgentLifecycle(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "cuiyuan", "name": "翠苑"}), 201)
	must[map[string]any](t, v.admin("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A", "group": "cuiyuan"}), 200)
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	beforeA, beforeB := v.pub.Version(s.screenA), v.pub.Version(s.screenB)

	created := must[urgentResp](t, v.admin("POST", "/api/v1/urgent", map[string]any{
		"title": "3号楼停水", "body": "今日18:00前停水", "asset": s.sha,
		"target": map[string]any{"groups": []string{"cuiyuan"}}, "expires_at": testNow.Add(9 * time.Hour).Format(time.RFC3339),
	}), http.StatusCreated)
	if created.ID == "" || created.Status != "active" {
		t.Fatalf("created = %+v, want an id and status active", created)
	}
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	pubA, _ := v.pub.Manifest(s.screenA)
	if got := pubA.Manifest.ActiveUrgent(testNow); len(got) != 1 || got[0].ID != created.ID || got[0].Asset != s.sha {
		t.Errorf("screen A manifest urgent = %+v, want %s with its asset", got, created.ID)
	}
	if v.pub.Version(s.screenA) == beforeA {
		t.Errorf("screen A version did not change after an urgent notice targeted it")
	}
	if v.pub.Version(s.screenB) != beforeB {
		t.Errorf("screen B version changed although the notice does not target it")
	}

	got := must[urgentResp](t, v.admin("GET", "/api/v1/urgent/"+created.ID, nil), 200)
	if got.Title != "3号楼停水" || !got.ExpiresAt.Equal(testNow.Add(9*time.Hour)) {
		t.Errorf("GET = %+v, want the stored notice", got)
	}
	list := must[[]urgentResp](t, v.admin("GET", "/api/v1/urgent", nil), 200)
	if len(list) != 1 || list[0].ID != created.ID {
		t.Errorf("list = %+v, want the one notice", list)
	}
	// The asset of a notice on screens cannot be deleted from under it.
	if rec := v.admin("DELETE", "/api/v1/items/"+s.item, nil); rec.Code != http.StatusConflict {
		t.Fatalf("delete item: %d %s", rec.Code, rec.Body)
	}
	if rec := v.admin("DELETE", "/api/v1/urgent/"+created.ID, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("withdraw: got %d %s, want 204", rec.Code, rec.Body)
	}
	// Withdrawing again is harmless.
	if rec := v.admin("DELETE", "/api/v1/urgent/"+created.ID, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("withdraw again: got %d %s, want 204", rec.Code, rec.Body)
	}
	got = must[urgentResp](t, v.admin("GET", "/api/v1/urgent/"+created.ID, nil), 200)
	if got.Status != "withdrawn" || got.WithdrawnAt == nil {
		t.Errorf("after withdrawal = %+v, want status withdrawn with withdrawn_at", got)
	}
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	if v.pub.Version(s.screenA) != beforeA {
		t.Errorf("screen A version after withdrawal = %s, want the version before the notice %s", v.pub.Version(s.screenA), beforeA)
	}
	if rec := v.admin("DELETE", "/api/v1/urgent/urg_nope", nil); rec.Code != http.StatusNotFound {
		t.Errorf("withdraw unknown: got %d, want 404", rec.Code)
	}
}

// TestIssue3BadInput covers the refusals issue 3 lists: each is a 400 that
// names the field, and nothing is stored.
func TestIssue3BadInput(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	in := func(d time.Duration) string { return testNow.Add(d).Format(time.RFC3339) }
	all := map[string]any{"all": true}
	tests := []struct {
		name, method, path string
		body               any
		want               int
		mention            string
	}{
		{"urgent no title", "POST", "/api/v1/urgent", map[string]any{"target": all, "expires_at": in(time.Hour)}, 400, "title"},
		{"urgent no expiry", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": all}, 400, "expires_at"},
		{"urgent bad expiry", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": all, "expires_at": "18:00"}, 400, "expires_at"},
		{"urgent expired", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": all, "expires_at": in(-time.Minute)}, 400, "expires_at"},
		{"urgent too far", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": all, "expires_at": in(8 * 24 * time.Hour)}, 400, "expires_at"},
		{"urgent no target", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": map[string]any{}, "expires_at": in(time.Hour)}, 400, "target"},
		{"urgent unknown group", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": map[string]any{"groups": []string{"nope"}}, "expires_at": in(time.Hour)}, 400, "target.groups[0]"},
		{"urgent unknown screen", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": map[string]any{"screens": []string{s.screenA, "scr_nope"}}, "expires_at": in(time.Hour)}, 400, "target.screens[1]"},
		{"urgent missing asset", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": all, "asset": strings.Repeat("e", 64), "expires_at": in(time.Hour)}, 400, "asset"},
		{"urgent unknown field", "POST", "/api/v1/urgent", map[string]any{"title": "x", "target": all, "expires_at": in(time.Hour), "colour": "red"}, 400, "colour"},
		{"schedule unknown screen", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": map[string]any{"screens": []string{"scr_nope"}}}, 400, "target.screens[0]"},
		{"schedule zero duration", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": all, "cron": "0 7 * * *", "duration_s": 0}, 400, "duration_s"},
		{"schedule negative duration", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": all, "cron": "0 7 * * *", "duration_s": -60}, 400, "duration_s"},
		{"schedule duration without cron", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": all, "duration_s": 60}, 400, "duration_s"},
		{"schedule six-field cron", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": all, "cron": "0 0 7 * * *", "duration_s": 60}, 400, "cron"},
		{"schedule @every", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": all, "cron": "@every 1h", "duration_s": 60}, 400, "cron"},
		{"schedule to equals from", "POST", "/api/v1/schedules", map[string]any{"playlist": s.playlist, "target": all, "from": in(0), "to": in(0)}, 400, "to"},
		{"screen bad timezone", "POST", "/api/v1/screens", map[string]any{"name": "x", "timezone": "Mars/Olympus"}, 400, "timezone"},
		{"screen PUT bad timezone", "PUT", "/api/v1/screens/" + s.screenA, map[string]any{"name": "A", "timezone": "Local"}, 400, "timezone"},
		{"group PUT bad timezone", "PUT", "/api/v1/groups/nope", map[string]any{"name": "g", "timezone": "Nowhere/Land"}, 400, "timezone"},
		{"screen missing default", "POST", "/api/v1/screens", map[string]any{"name": "x", "default_playlist": "pl_nope"}, 400, "default_playlist"},
		{"group missing default", "POST", "/api/v1/groups", map[string]any{"id": "g", "name": "g", "default_playlist": "pl_nope"}, 400, "default_playlist"},
		{"timeline no from", "GET", "/api/v1/screens/" + s.screenA + "/timeline?to=" + in(time.Hour), nil, 400, "from"},
		{"timeline bad to", "GET", "/api/v1/screens/" + s.screenA + "/timeline?from=" + in(0) + "&to=tomorrow", nil, 400, "to"},
		{"timeline reversed", "GET", "/api/v1/screens/" + s.screenA + "/timeline?from=" + in(time.Hour) + "&to=" + in(0), nil, 400, "after from"},
		{"timeline too long", "GET", "/api/v1/screens/" + s.screenA + "/timeline?from=" + in(0) + "&to=" + in(32*24*time.Hour), nil, 400, "at most"},
		{"timeline unknown screen", "GET", "/api/v1/screens/scr_nope/timeline?from=" + in(0) + "&to=" + in(time.Hour), nil, 404, "scr_nope"},
		{"now unknown screen", "GET", "/api/v1/screens/scr_nope/now", nil, 404, "scr_nope"},
		{"urgent unknown", "GET", "/api/v1/urgent/urg_nope", nil, 404, "urg_nope"},
	}
	before := counts(t, v)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := v.admin(tt.method, tt.path, tt.body)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			var e map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.Contains(e["error"], tt.mention) {
				t.Errorf("error body: got %s, want {\"error\"} mentioning %q", rec.Body, tt.mention)
			}
		})
	}
	if after := counts(t, v); after != before {
		t.Errorf("refused requests changed the store: before %s, after %s", before, after)
	}
	if list := must[[]urgentResp](t, v.admin("GET", "/api/v1/urgent", nil), 200); len(list) != 0 {
		t.Errorf("refused urgent notices were stored: %+v", list)
	}
}

func TestDefaultPlaylist(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	item := must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "社区新闻", "duration_s": 5}), 201).ID
	news := must[idResp](t, v.admin("POST", "/api/v1/playlists", map[string]any{"name": "新闻", "items": []string{item}}), 201).ID
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "street", "name": "华阳路", "default_playlist": news}), 201)
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "compound", "name": "翠苑", "parent": "street"}), 201)
	must[map[string]any](t, v.admin("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A", "group": "compound"}), 200)
	// Screen B's own default wins over any group's.
	must[map[string]any](t, v.admin("PUT", "/api/v1/screens/"+s.screenB, map[string]any{"name": "B", "default_playlist": s.playlist}), 200)
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	pa, _ := v.pub.Manifest(s.screenA)
	pb, _ := v.pub.Manifest(s.screenB)
	if pa.Manifest.DefaultPlaylist != news {
		t.Errorf("screen A default = %q, want the parent group's %q", pa.Manifest.DefaultPlaylist, news)
	}
	if pb.Manifest.DefaultPlaylist != s.playlist {
		t.Errorf("screen B default = %q, want its own %q", pb.Manifest.DefaultPlaylist, s.playlist)
	}
	// With the schedule gone, the default fills the gap.
	if rec := v.admin("DELETE", "/api/v1/schedules/"+s.schedule, nil); rec.Code != 204 {
		t.Fatalf("delete schedule: %d %s", rec.Code, rec.Body)
	}
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	now := must[struct {
		Items    []string `json:"items"`
		Expected []string `json:"expected"`
	}](t, v.admin("GET", "/api/v1/screens/"+s.screenA+"/now", nil), 200)
	if len(now.Items) != 1 || now.Items[0] != item {
		t.Errorf("now on A = %+v, want the default's item %s", now, item)
	}
	// A playlist used as a default cannot be deleted; the answer names users.
	rec := v.admin("DELETE", "/api/v1/playlists/"+news, nil)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "street") {
		t.Errorf("delete default playlist: got %d %s, want 409 naming group street", rec.Code, rec.Body)
	}
	rec = v.admin("DELETE", "/api/v1/playlists/"+s.playlist, nil)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), s.screenB) {
		t.Errorf("delete screen default: got %d %s, want 409 naming %s", rec.Code, rec.Body, s.screenB)
	}
}

func TestTimelineAndNow(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	// testNow is 17:00 in Shanghai. Mornings 07:00-09:00 a traffic playlist
	// at priority 5 over the seeded always-on playlist.
	traffic := must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "礼让行人", "duration_s": 5}), 201).ID
	pl := must[idResp](t, v.admin("POST", "/api/v1/playlists", map[string]any{"name": "交通", "items": []string{traffic}}), 201).ID
	must[idResp](t, v.admin("POST", "/api/v1/schedules", map[string]any{"playlist": pl, "target": map[string]any{"all": true}, "cron": "0 7 * * *", "duration_s": 7200, "priority": 5}), 201)
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	from, to := "2026-03-02T06:00:00+08:00", "2026-03-02T10:00:00+08:00"
	rec := v.admin("GET", "/api/v1/screens/"+s.screenA+"/timeline?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), nil)
	segs := must[[]playlists.Segment](t, rec, 200)
	type seg struct{ start, end, playlist string }
	want := []seg{
		{"2026-03-02T06:00:00+08:00", "2026-03-02T07:00:00+08:00", s.playlist},
		{"2026-03-02T07:00:00+08:00", "2026-03-02T09:00:00+08:00", pl},
		{"2026-03-02T09:00:00+08:00", "2026-03-02T10:00:00+08:00", s.playlist},
	}
	if len(segs) != len(want) {
		t.Fatalf("timeline = %s, want %d segments", rec.Body, len(want))
	}
	for i, w := range want {
		g := segs[i]
		if g.Start.Format(time.RFC3339) != w.start || g.End.Format(time.RFC3339) != w.end || g.Playlist != w.playlist {
			t.Errorf("segment %d = %s-%s %s, want %s-%s %s", i, g.Start.Format(time.RFC3339), g.End.Format(time.RFC3339), g.Playlist, w.start, w.end, w.playlist)
		}
	}
	if segs[1].Priority != 5 || len(segs[1].Items) != 1 || segs[1].Items[0].ID != traffic {
		t.Errorf("morning segment = %+v, want priority 5 with item %s", segs[1], traffic)
	}

	type nowResp struct {
		Items       []string `json:"items"`
		Expected    []string `json:"expected"`
		CurrentItem string   `json:"current_item"`
		Matches     bool     `json:"matches"`
		Urgent      []struct {
			ID string `json:"id"`
		} `json:"urgent"`
	}
	now := must[nowResp](t, v.admin("GET", "/api/v1/screens/"+s.screenA+"/now", nil), 200)
	if len(now.Items) != 1 || now.Items[0] != s.item || now.Matches {
		t.Errorf("now = %+v, want the seeded item and no match (the screen never reported)", now)
	}
	u := must[urgentResp](t, v.admin("POST", "/api/v1/urgent", map[string]any{
		"title": "封路", "target": map[string]any{"screens": []string{s.screenA}}, "expires_at": testNow.Add(time.Hour).Format(time.RFC3339),
	}), 201)
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	now = must[nowResp](t, v.admin("GET", "/api/v1/screens/"+s.screenA+"/now", nil), 200)
	if len(now.Urgent) != 1 || now.Urgent[0].ID != u.ID || len(now.Expected) != 1 || now.Expected[0] != u.ID {
		t.Errorf("now with a notice = %+v, want urgent and expected = [%s]", now, u.ID)
	}
}
