package kioskctl

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const campaignYAML = `
items:
  - id: water-cut
    kind: notice
    title: 停水通知
    body: |
      5月3日 9:00-17:00
      东区停水
    duration_s: 15
playlists:
  - id: week-18
    name: 第18周
    items: [water-cut, itm_published]
schedules:
  - id: mornings
    playlist: week-18
    target: {groups: [east], tags: [lobby]}
    cron: "0 7 * * 1-5"
    duration_s: 7200
    from: 2026-04-27
    to: 2026-05-04T00:00:00+08:00
    priority: 2
`

const campaignJSON = `{
  "items": [{"id": "water-cut", "kind": "notice", "title": "停水通知",
             "body": "5月3日 9:00-17:00\n东区停水\n", "duration_s": 15}],
  "playlists": [{"id": "week-18", "name": "第18周", "items": ["water-cut", "itm_published"]}],
  "schedules": [{"id": "mornings", "playlist": "week-18", "target": {"groups": ["east"], "tags": ["lobby"]},
                 "cron": "0 7 * * 1-5", "duration_s": 7200,
                 "from": "2026-04-27", "to": "2026-05-04T00:00:00+08:00", "priority": 2}]
}`

func TestParseCampaignYAMLAndJSONAgree(t *testing.T) {
	y, err := parseCampaign("week.yaml", []byte(campaignYAML))
	if err != nil {
		t.Fatalf("yaml: %v", err)
	}
	j, err := parseCampaign("week.json", []byte(campaignJSON))
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	if !reflect.DeepEqual(y, j) {
		t.Errorf("YAML and JSON differ:\n%+v\n%+v", y, j)
	}
	s := y.Schedules[0]
	// Dates are Beijing time; times are kept as UTC instants.
	if s.From != "2026-04-26T16:00:00Z" || s.To != "2026-05-03T16:00:00Z" {
		t.Errorf("from/to = %s, %s", s.From, s.To)
	}
	if !reflect.DeepEqual(s.Target, target{Groups: []string{"east"}, Tags: []string{"lobby"}}) {
		t.Errorf("target = %+v", s.Target)
	}
	if y.Items[0].Body != "5月3日 9:00-17:00\n东区停水\n" {
		t.Errorf("body = %q", y.Items[0].Body)
	}
	// Without an extension, the content decides.
	if _, err := parseCampaign("-", []byte(campaignJSON)); err != nil {
		t.Errorf("JSON from stdin: %v", err)
	}
	if _, err := parseCampaign("-", []byte(campaignYAML)); err != nil {
		t.Errorf("YAML from stdin: %v", err)
	}
}

func TestParseCampaignYAMLTimestamps(t *testing.T) {
	// Unquoted YAML timestamps are read as times by the YAML parser; they
	// must come through as the same instants.
	cp, err := parseCampaign("t.yml", []byte("schedules:\n  - {id: s, playlist: p, target: {all: true}, from: 2026-04-27T08:00:00+08:00}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cp.Schedules[0].From; got != "2026-04-27T00:00:00Z" {
		t.Errorf("from = %s", got)
	}
}

func TestParseCampaignErrors(t *testing.T) {
	tests := []struct {
		name, file, body, want string
	}{
		{"unknown field", "c.yaml", "items:\n  - {id: a, titel: x}\n", `unknown field "titel"`},
		{"missing id", "c.yaml", "items:\n  - {title: x}\n", "items[0]: id is required"},
		{"duplicate id", "c.yaml", "playlists:\n  - {id: p}\n  - {id: p}\n", `playlists[1] (p): id "p" is used twice`},
		{"bad time", "c.yaml", "schedules:\n  - {id: s, from: next monday}\n", `schedules[0] (s): from/to "next monday"`},
		{"media and asset", "c.yaml", "items:\n  - {id: a, media: x.png, asset: abc}\n", "give media (a file) or asset"},
		{"empty", "c.yaml", "# nothing\n", "no items, playlists or schedules"},
		{"not YAML", "c.yaml", "items: [\n", "not valid YAML"},
		{"JSON syntax with line", "c.json", "{\n  \"items\": [\n    {\"id\": \"a\",}\n  ]\n}", "line 3"},
		{"wrong type", "c.json", `{"items": [{"id": "a", "duration_s": "15"}]}`, "field items.duration_s: expected int, got string"},
		{"list not object", "c.json", `[1, 2]`, "expected a mapping with items, playlists and schedules, got array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCampaign(tt.file, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) || ExitCode(err) != ExitUsage {
				t.Errorf("err = %v (exit %d), want a usage error containing %q", err, ExitCode(err), tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), tt.file+": ") {
				t.Errorf("err %q does not start with the file name", err)
			}
		})
	}
}

func TestIDsFile(t *testing.T) {
	if got := defaultIDsPath("campaigns/week18.yaml"); got != "campaigns/week18.ids.json" {
		t.Errorf("defaultIDsPath = %s", got)
	}
	path := filepath.Join(t.TempDir(), "w.ids.json")
	f, err := loadIDs(path)
	if err != nil {
		t.Fatal(err)
	}
	f.server("http://a").kind("item")["x"] = "itm_1"
	f.server("http://b").kind("schedule")["s"] = "sch_2"
	if err := saveIDs(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := loadIDs(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.server("http://a").kind("item")["x"] != "itm_1" || g.server("http://b").kind("schedule")["s"] != "sch_2" {
		t.Errorf("round trip lost ids: %+v", g.Servers)
	}
	if err := os.WriteFile(path, []byte("{oops"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadIDs(path); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged ids file: %v", err)
	}
}

func TestPlan(t *testing.T) {
	item := func(title string, secs int) itemBody {
		return itemBody{Kind: "notice", Title: title, DurationS: secs}.normal()
	}
	have := map[string]remoteObj{
		"itm_1": {ID: "itm_1", Name: "停水通知", Body: item("停水通知", 15)},
		"itm_2": {ID: "itm_2", Name: "旧标题", Body: item("旧标题", 10)},
		"itm_3": {ID: "itm_3", Name: "防诈骗", Body: item("防诈骗", 0)},
		"itm_4": {ID: "itm_4", Name: "twin", Body: item("twin", 10)},
		"itm_5": {ID: "itm_5", Name: "twin", Body: item("twin", 10)},
		"itm_6": {ID: "itm_6", Name: "drafted", Body: item("drafted", 10), ChangeSet: "cs_1"},
		"itm_7": {ID: "itm_7", Name: "in review", Body: item("in review", 10), ChangeSet: "cs_2", Submitted: true},
		"itm_8": {ID: "itm_8", Name: "claimed", Body: item("claimed", 10)},
	}
	ids := map[string]string{
		"water":    "itm_1",
		"renamed":  "itm_2",
		"gone":     "itm_99",
		"draft":    "itm_6",
		"review":   "itm_7",
		"review-2": "itm_7x",
		"other":    "itm_8",
	}
	want := []wanted{
		{Key: "water", Name: "停水通知", Body: item("停水通知", 15)}, // known, same
		{Key: "renamed", Name: "新标题", Body: item("新标题", 10)}, // known, differs
		{Key: "gone", Name: "重建", Body: item("重建", 10)},      // known id vanished: create
		{Key: "fraud", Name: "防诈骗", Body: item("防诈骗", 10)},   // no id: adopted by title (duration 0 means 10)
		{Key: "twin", Name: "twin", Body: item("twin", 10)},  // two candidates: create, never guess
		{Key: "draft", Name: "drafted", Body: item("drafted", 20)},
		{Key: "review", Name: "in review", Body: item("in review", 10)},
		{Key: "review-changed", Name: "in review", Body: item("in review", 30)}, // pending objects are never adopted by name
		{Key: "steal", Name: "claimed", Body: item("claimed", 10)},              // another key owns itm_8
	}
	got := plan("item", want, ids, have)
	type row struct{ key, action, id string }
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.Key, s.Action, s.ServerID})
	}
	wantRows := []row{
		{"water", actUnchanged, "itm_1"},
		{"renamed", actUpdate, "itm_2"},
		{"gone", actCreate, ""},
		{"fraud", actUnchanged, "itm_3"},
		{"twin", actCreate, ""},
		{"draft", actUpdate, "itm_6"},
		{"review", actUnchanged, "itm_7"},
		{"review-changed", actCreate, ""},
		{"steal", actCreate, ""},
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("plan:\n got %v\nwant %v", rows, wantRows)
	}
	if got[5].ChangeSet != "cs_1" {
		t.Errorf("an update of a drafted object names its change set: %+v", got[5])
	}

	// A known object in a submitted set that differs is blocked, not
	// silently drafted again.
	blocked := plan("item", []wanted{{Key: "review", Name: "in review", Body: item("in review", 60)}}, ids, have)
	if blocked[0].Action != actBlocked || !strings.Contains(blocked[0].Note, "cs_2") {
		t.Errorf("changed object in review: %+v, want blocked naming cs_2", blocked[0])
	}
}

func TestScheduleBodiesCompareAsInstants(t *testing.T) {
	a, b := "2026-05-01T08:00:00+08:00", "2026-05-01T00:00:00Z"
	x := scheduleBody{Playlist: "p", Target: target{Groups: []string{}}, From: &a}.normal()
	y := scheduleBody{Playlist: "p", From: &b}.normal()
	if !reflect.DeepEqual(x, y) {
		t.Errorf("the same instant in two zones differs:\n%+v\n%+v", x, y)
	}
	if reflect.DeepEqual(playlistBody{Name: "n"}.normal(), playlistBody{Name: "n", Items: []string{"a"}}.normal()) {
		t.Error("playlists with different items compare equal")
	}
}

func TestPrunePlan(t *testing.T) {
	ids := map[string]string{"kept": "itm_1", "dropped": "itm_2", "gone": "itm_3", "drafted": "itm_4"}
	have := map[string]remoteObj{"itm_1": {ID: "itm_1"}, "itm_2": {ID: "itm_2"}, "itm_4": {ID: "itm_4"}}
	keep := func(k string) bool { return k == "kept" }
	steps := prunePlan("item", ids, keep, have, map[string]string{"itm_4": "cs_9"})
	got := map[string]string{}
	for _, st := range steps {
		got[st.Key] = st.Action + " " + st.ServerID + " " + st.ChangeSet
	}
	want := map[string]string{
		"dropped": "delete itm_2 ",
		"gone":    "forget itm_3 ",
		"drafted": "unchanged itm_4 cs_9",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("prunePlan = %v, want %v (the kept key never appears)", got, want)
	}
	for i := 1; i < len(steps); i++ {
		if steps[i-1].Key > steps[i].Key {
			t.Errorf("steps not in key order: %v", steps)
		}
	}
}
