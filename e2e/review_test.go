package e2e

import (
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kiosk/server"
)

// Passwords of the people in these tests: 12 characters or more, none
// containing its username.
const (
	editorPW   = "Kaiyuan-Road-2024"
	reviewerPW = "Shenhe-Review-2024"
	techPW     = "Ladder-Tech-2024!"
)

// settle is how long a change would take to reach the publisher and be
// handed out: the publisher debounces for at most 200 ms, so a second is
// plenty to be sure nothing was published.
const settle = time.Second

// changeSetView is GET /changesets/{id} (summary fields plus detail).
type changeSetView struct {
	ID            string `json:"id"`
	State         string `json:"state"`
	AuthorName    string `json:"author_name"`
	DecidedByName string `json:"decided_by_name"`
	Comment       string `json:"comment"`
	Changes       []struct {
		Action string `json:"action"`
		Kind   string `json:"kind"`
		ID     string `json:"id"`
	} `json:"changes"`
	Reach struct {
		Count int `json:"count"`
	} `json:"reach"`
	Conflicts  []string `json:"conflicts"`
	CanApprove bool     `json:"can_approve"`
}

// drafted is a content write's answer as far as review cares.
type drafted struct {
	ID        string `json:"id"`
	ChangeSet string `json:"changeset"`
}

// reviewScreen is a screen with a real player behind a proxy that records
// every manifest the player is handed.
type reviewScreen struct {
	creds  screenCreds
	rec    *manifestRecorder
	player *testPlayer
}

// fleetMark is what each screen had at one moment: the server's published
// version, the player's applied version, and how many manifests the player
// had been handed.
type fleetMark struct {
	published, applied string
	handed             int
}

func markFleet(srv *testServer, screens []*reviewScreen) []fleetMark {
	srv.t.Helper()
	out := make([]fleetMark, len(screens))
	for i, s := range screens {
		out[i] = fleetMark{published: srv.status(s.creds.ID).PublishedVersion, applied: s.player.state().AppliedVersion, handed: s.rec.count()}
	}
	return out
}

// assertFleetUnchanged waits for the publisher to have had its chance,
// watching that no screen plays forbidden items meanwhile, and then checks
// that no screen's published or applied version moved and no player was
// handed a manifest.
func assertFleetUnchanged(t *testing.T, srv *testServer, screens []*reviewScreen, before []fleetMark, what string, forbidden ...string) {
	t.Helper()
	for end := time.Now().Add(settle); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for _, s := range screens {
			if cur := s.player.state().CurrentItem; slices.Contains(forbidden, cur) {
				t.Errorf("%s: screen %s plays %s", what, s.creds.ID, cur)
			}
		}
	}
	now := markFleet(srv, screens)
	for i, s := range screens {
		if now[i].published != before[i].published {
			t.Errorf("%s: screen %s published_version moved %s -> %s", what, s.creds.ID, short(before[i].published), short(now[i].published))
		}
		if now[i].applied != before[i].applied {
			t.Errorf("%s: player of %s applied_version moved %s -> %s", what, s.creds.ID, short(before[i].applied), short(now[i].applied))
		}
		if now[i].handed != before[i].handed {
			for _, m := range s.rec.since(before[i].handed) {
				t.Errorf("%s: player of %s was handed manifest %s", what, s.creds.ID, short(m.Version))
			}
		}
	}
}

// waitFleetSynced waits until every player applied what the server
// publishes for it, and that differs from before (nil: any version).
func waitFleetSynced(t *testing.T, srv *testServer, screens []*reviewScreen, before []fleetMark, what string) []fleetMark {
	t.Helper()
	waitFor(t, 10*time.Second, what, func() bool {
		for i, s := range screens {
			pub := srv.status(s.creds.ID).PublishedVersion
			if pub == "" || s.player.state().AppliedVersion != pub {
				return false
			}
			if before != nil && pub == before[i].published {
				return false
			}
		}
		return true
	})
	return markFleet(srv, screens)
}

// TestReviewBeforePublish is the review promise end to end, with two real
// players: what an editor drafts reaches no screen until a second person
// approves it, and then all of it at once; a rejected set never reaches a
// screen; a set drafted against content that changed meanwhile is refused
// whole; urgent notices skip review only for those allowed to send them;
// and the audit log names everyone.
func TestReviewBeforePublish(t *testing.T) {
	srv := startServer(t)
	base := srv.item("legal_story", "每月一法：民法典", "邻里纠纷可申请人民调解。", "", 1)
	pl := srv.playlist("社区轮播", base)
	srv.scheduleAll(pl, 0)
	var screens []*reviewScreen
	for _, name := range []string{"华阳路一号屏", "翠苑二号屏"} {
		c := srv.screen(name, "")
		rec := recordManifests(t, srv.url())
		screens = append(screens, &reviewScreen{creds: c, rec: rec, player: startPlayer(t, rec.URL, c.Token, cachePath(t, c.ID))})
	}
	waitFleetSynced(t, srv, screens, nil, "both players to apply the published content")

	srv.addPerson("bianji", editorPW, "editor", nil, false)
	srv.addPerson("shenhe-a", reviewerPW, "reviewer", nil, false)
	srv.addPerson("shenhe-b", reviewerPW, "reviewer", nil, false)
	tongzhiID := srv.addPerson("tongzhi", editorPW, "editor", nil, false)
	ed := signIn(t, srv, "bianji", editorPW)
	rev1 := signIn(t, srv, "shenhe-a", reviewerPW)
	rev2 := signIn(t, srv, "shenhe-b", reviewerPW)

	t.Run("draft reaches screens only after another person approves, all at once", func(t *testing.T) {
		ed.t, rev1.t, rev2.t = t, t, t
		before := markFleet(srv, screens)

		var item drafted
		ed.must(http.StatusCreated, http.MethodPost, "/items", map[string]any{
			"kind": "notice", "title": "周六义诊", "body": "社区卫生站 9:00–11:00", "duration_s": 1,
		}, &item)
		if item.ID == "" || !strings.HasPrefix(item.ChangeSet, "cs") {
			t.Fatalf("POST /items as editor answered id %q changeset %q, want both", item.ID, item.ChangeSet)
		}
		const newName = "社区轮播（三月）"
		var plEdit drafted
		ed.must(http.StatusOK, http.MethodPut, "/playlists/"+pl, map[string]any{"name": newName, "items": []string{item.ID, base}}, &plEdit)
		if plEdit.ChangeSet != item.ChangeSet {
			t.Fatalf("PUT /playlists as editor answered changeset %q, want the item's %q", plEdit.ChangeSet, item.ChangeSet)
		}
		cs := item.ChangeSet
		assertFleetUnchanged(t, srv, screens, before, "after the editor drafted", item.ID)

		var sum changeSetView
		ed.must(http.StatusOK, http.MethodPost, "/changesets/"+cs+"/submit", nil, &sum)
		if sum.State != "submitted" {
			t.Fatalf("submit answered state %q, want submitted", sum.State)
		}
		// Editors hold no review capability at all.
		ed.refused(http.StatusForbidden, "forbidden", http.MethodPost, "/changesets/"+cs+"/approve", nil)

		// A reviewer may not approve their own set: the two-person rule.
		var own drafted
		rev1.must(http.StatusCreated, http.MethodPost, "/items", map[string]any{
			"kind": "psa", "title": "审核员自己的草稿", "body": "谨防电信诈骗。", "duration_s": 1,
		}, &own)
		if own.ChangeSet == "" || own.ChangeSet == cs {
			t.Fatalf("the reviewer's draft went to change set %q, want their own (not %q)", own.ChangeSet, cs)
		}
		rev1.must(http.StatusOK, http.MethodPost, "/changesets/"+own.ChangeSet+"/submit", nil, nil)
		rev1.refused(http.StatusForbidden, "self_approval", http.MethodPost, "/changesets/"+own.ChangeSet+"/approve", nil)
		rev1.must(http.StatusNoContent, http.MethodDelete, "/changesets/"+own.ChangeSet, nil, nil)
		assertFleetUnchanged(t, srv, screens, before, "after submission and refused approvals", item.ID, own.ID)

		// The second reviewer sees what approval would do, and does it.
		var detail changeSetView
		rev2.must(http.StatusOK, http.MethodGet, "/changesets/"+cs, nil, &detail)
		if len(detail.Changes) != 2 || detail.Reach.Count != len(screens) || len(detail.Conflicts) != 0 || !detail.CanApprove {
			t.Errorf("GET /changesets/%s as the other reviewer = %+v, want 2 changes reaching %d screens, no conflicts, can_approve", cs, detail, len(screens))
		}
		rev2.must(http.StatusOK, http.MethodPost, "/changesets/"+cs+"/approve", nil, &sum)
		if sum.State != "approved" || sum.DecidedByName != "shenhe-b" {
			t.Errorf("approve answered state %q decided by %q, want approved by shenhe-b", sum.State, sum.DecidedByName)
		}
		after := waitFleetSynced(t, srv, screens, before, "both players to apply the approved change set")
		for _, s := range screens {
			waitFor(t, 10*time.Second, "screen "+s.creds.ID+" to show the approved item", func() bool {
				return s.player.state().CurrentItem == item.ID
			})
		}
		for i, s := range screens {
			handed := s.rec.since(before[i].handed)
			if len(handed) == 0 {
				t.Errorf("player of %s applied %s without being handed a manifest", s.creds.ID, short(after[i].applied))
				continue
			}
			first := handed[0]
			if first.Version != after[i].published {
				t.Errorf("player of %s: first manifest after approval is %s, want the published %s", s.creds.ID, short(first.Version), short(after[i].published))
			}
			if _, ok := manifestItem(first, item.ID); !ok {
				t.Errorf("player of %s: first manifest after approval lacks the new item %s", s.creds.ID, item.ID)
			}
			got, ok := manifestPlaylist(first, pl)
			if !ok || got.Name != newName || !slices.Equal(got.Items, []string{item.ID, base}) {
				t.Errorf("player of %s: first manifest after approval has playlist %+v, want %q with [%s %s]", s.creds.ID, got, newName, item.ID, base)
			}
			// The version moved exactly once: every manifest handed out
			// since is that one.
			for _, m := range handed[1:] {
				if m.Version != first.Version {
					t.Errorf("player of %s was handed a second new version %s after %s", s.creds.ID, short(m.Version), short(first.Version))
				}
			}
			if st := s.player.state(); st.AppliedVersion != first.Version {
				t.Errorf("player of %s applies %s, want %s", s.creds.ID, short(st.AppliedVersion), short(first.Version))
			}
		}
	})

	t.Run("rejected change set never reaches a screen", func(t *testing.T) {
		ed.t, rev1.t, rev2.t = t, t, t
		before := markFleet(srv, screens)
		var item drafted
		ed.must(http.StatusCreated, http.MethodPost, "/items", map[string]any{
			"kind": "psa", "title": "中奖短信是骗局", "body": "不点链接，不转账。", "duration_s": 1,
		}, &item)
		var cur struct {
			Items []string `json:"items"`
			Name  string   `json:"name"`
		}
		srv.must(http.MethodGet, "/playlists/"+pl, nil, &cur)
		ed.must(http.StatusOK, http.MethodPut, "/playlists/"+pl, map[string]any{"name": cur.Name, "items": append([]string{item.ID}, cur.Items...)}, nil)
		ed.must(http.StatusOK, http.MethodPost, "/changesets/"+item.ChangeSet+"/submit", nil, nil)

		for _, body := range []map[string]any{nil, {}, {"comment": "   "}} {
			msg := rev1.refused(http.StatusBadRequest, "", http.MethodPost, "/changesets/"+item.ChangeSet+"/reject", body)
			if !strings.Contains(msg, "comment") {
				t.Errorf("reject with body %v: error %q does not name the comment", body, msg)
			}
		}
		var sum changeSetView
		ed.must(http.StatusOK, http.MethodGet, "/changesets/"+item.ChangeSet, nil, &sum)
		if sum.State != "submitted" {
			t.Errorf("after refused rejections the set is %q, want still submitted", sum.State)
		}
		const comment = "措辞需与区反诈中心的通稿一致。"
		rev1.must(http.StatusOK, http.MethodPost, "/changesets/"+item.ChangeSet+"/reject", map[string]any{"comment": comment}, &sum)
		if sum.State != "rejected" || sum.Comment != comment || sum.DecidedByName != "shenhe-a" {
			t.Errorf("reject answered %+v, want rejected by shenhe-a with the comment", sum)
		}
		assertFleetUnchanged(t, srv, screens, before, "after the rejection", item.ID)
		// A rejected set cannot be approved afterwards either.
		rev2.refused(http.StatusConflict, "", http.MethodPost, "/changesets/"+item.ChangeSet+"/approve", nil)
		if code := srv.call(http.MethodGet, "/items/"+item.ID, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET /items/%s (rejected draft) = %d, want 404", item.ID, code)
		}
		ed.must(http.StatusOK, http.MethodGet, "/changesets/"+item.ChangeSet, nil, &sum)
		if sum.State != "rejected" || sum.Comment != comment {
			t.Errorf("the author reads %+v, want rejected with the comment", sum)
		}
		assertFleetUnchanged(t, srv, screens, before, "after the refused approval of a rejected set", item.ID)
	})

	t.Run("set drafted against content changed meanwhile is refused whole", func(t *testing.T) {
		ed.t, rev1.t, rev2.t = t, t, t
		ed.must(http.StatusOK, http.MethodPut, "/items/"+base, map[string]any{
			"kind": "legal_story", "title": "每月一法：民法典（编辑稿）", "body": "邻里纠纷可申请人民调解。", "duration_s": 1,
		}, nil)
		var extra drafted
		ed.must(http.StatusCreated, http.MethodPost, "/items", map[string]any{
			"kind": "notice", "title": "法律援助时间调整", "body": "每周二、四 9:00–17:00", "duration_s": 1,
		}, &extra)
		var cur struct {
			Items []string `json:"items"`
			Name  string   `json:"name"`
		}
		srv.must(http.MethodGet, "/playlists/"+pl, nil, &cur)
		ed.must(http.StatusOK, http.MethodPut, "/playlists/"+pl, map[string]any{"name": cur.Name, "items": append(cur.Items, extra.ID)}, nil)
		cs := extra.ChangeSet
		ed.must(http.StatusOK, http.MethodPost, "/changesets/"+cs+"/submit", nil, nil)

		// Break-glass corrects the same item meanwhile; that publishes.
		const urgentFix = "每月一法：民法典（更正）"
		pre := markFleet(srv, screens)
		srv.must(http.MethodPut, "/items/"+base, map[string]any{
			"kind": "legal_story", "title": urgentFix, "body": "邻里纠纷可申请人民调解。", "duration_s": 1,
		}, nil)
		before := waitFleetSynced(t, srv, screens, pre, "both players to apply the break-glass correction")

		msg := rev2.refused(http.StatusConflict, "conflict", http.MethodPost, "/changesets/"+cs+"/approve", nil)
		if !strings.Contains(msg, base) {
			t.Errorf("the conflict %q does not name item %s", msg, base)
		}
		assertFleetUnchanged(t, srv, screens, before, "after the refused approval", extra.ID)
		for _, s := range screens {
			m := s.rec.since(0)
			last := m[len(m)-1]
			if it, _ := manifestItem(last, base); it.Title != urgentFix {
				t.Errorf("player of %s has item %s titled %q, want the correction %q", s.creds.ID, base, it.Title, urgentFix)
			}
			if _, ok := manifestItem(last, extra.ID); ok {
				t.Errorf("player of %s has the refused set's new item %s", s.creds.ID, extra.ID)
			}
		}
		var detail changeSetView
		rev2.must(http.StatusOK, http.MethodGet, "/changesets/"+cs, nil, &detail)
		if detail.State != "submitted" || len(detail.Conflicts) == 0 {
			t.Errorf("GET /changesets/%s after the conflict = state %q conflicts %q, want submitted with conflicts listed", cs, detail.State, detail.Conflicts)
		}
		if !slices.ContainsFunc(detail.Conflicts, func(c string) bool { return strings.Contains(c, base) }) {
			t.Errorf("conflicts %q do not name item %s", detail.Conflicts, base)
		}
		if code := srv.call(http.MethodGet, "/items/"+extra.ID, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET /items/%s (new item of the refused set) = %d, want 404", extra.ID, code)
		}
	})

	t.Run("urgent notices need the permission and skip review", func(t *testing.T) {
		tz := signIn(t, srv, "tongzhi", editorPW)
		notice := map[string]any{
			"title": "华阳路今晚停水", "body": "22:00 至次日 6:00，请提前储水。",
			"target": map[string]any{"all": true}, "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339),
		}
		tz.refused(http.StatusForbidden, "forbidden", http.MethodPost, "/urgent", notice)

		var u struct {
			Urgent bool `json:"urgent"`
		}
		srv.must(http.MethodPut, "/users/"+tongzhiID, map[string]any{"urgent": true}, &u)
		if !u.Urgent {
			t.Fatalf("PUT /users/%s {urgent: true} answered urgent false", tongzhiID)
		}
		var sent struct {
			ID     string `json:"id"`
			SentBy string `json:"sent_by"`
		}
		tz.must(http.StatusCreated, http.MethodPost, "/urgent", notice, &sent)
		if sent.ID == "" {
			t.Fatal("POST /urgent gave no id")
		}
		for _, s := range screens {
			waitFor(t, 10*time.Second, "screen "+s.creds.ID+" to show the urgent notice", func() bool {
				return s.player.urgentState().Urgent == sent.ID
			})
		}
		var list []struct {
			ID     string `json:"id"`
			SentBy string `json:"sent_by"`
		}
		srv.must(http.MethodGet, "/urgent", nil, &list)
		if !slices.ContainsFunc(list, func(n struct {
			ID     string `json:"id"`
			SentBy string `json:"sent_by"`
		}) bool {
			return n.ID == sent.ID && n.SentBy == "tongzhi"
		}) {
			t.Errorf("GET /urgent = %+v, want %s sent_by tongzhi", list, sent.ID)
		}
		var alerts []struct {
			Kind    string `json:"kind"`
			Summary string `json:"summary"`
		}
		srv.must(http.MethodGet, "/alerts", nil, &alerts)
		if !slices.ContainsFunc(alerts, func(a struct {
			Kind    string `json:"kind"`
			Summary string `json:"summary"`
		}) bool {
			return a.Kind == "urgent_sent" && strings.Contains(a.Summary, "tongzhi")
		}) {
			t.Errorf("GET /alerts = %+v, want an urgent_sent alert naming tongzhi", alerts)
		}
		var mine []changeSetView
		tz.must(http.StatusOK, http.MethodGet, "/changesets?mine=1", nil, &mine)
		if len(mine) != 0 {
			t.Errorf("sending an urgent notice opened change sets %+v, want none", mine)
		}
	})

	t.Run("audit names the people", func(t *testing.T) {
		stranger := newPerson(t, srv, "bianji")
		if code, raw := stranger.signIn("not-the-password-1"); code != http.StatusUnauthorized {
			t.Fatalf("sign-in with a wrong password: %d %s, want 401", code, raw)
		}
		var entries []struct {
			Actor  string `json:"actor"`
			Action string `json:"action"`
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		srv.must(http.MethodGet, "/audit?limit=1000", nil, &entries)
		find := func(what, actor string, match func(action string) bool) {
			t.Helper()
			for _, e := range entries {
				if e.Actor == actor && match(e.Action) {
					return
				}
			}
			t.Errorf("GET /audit has no %s entry by %s (%d entries)", what, actor, len(entries))
		}
		// Every entry says who: an entry without a name is no audit.
		var anonymous []string
		for _, e := range entries {
			if e.Actor == "" {
				anonymous = append(anonymous, fmt.Sprintf("%s (%d)", e.Action, e.Status))
			}
		}
		if len(anonymous) > 0 {
			t.Errorf("GET /audit has %d entries naming nobody, e.g. %q; every successful sign-in adds one beside its \"sign-in\" entry", len(anonymous), anonymous[0])
		}
		is := func(a string) func(string) bool { return func(s string) bool { return s == a } }
		find("sign-in", "bianji", is("sign-in"))
		find("sign-in", "shenhe-b", is("sign-in"))
		find("sign-in failed", "bianji", is("sign-in failed"))
		find("approval", "shenhe-b", func(a string) bool { return strings.HasSuffix(a, "/approve") })
		find("rejection", "shenhe-a", func(a string) bool { return strings.HasSuffix(a, "/reject") })

		var v struct {
			OK      bool `json:"ok"`
			Entries int  `json:"entries"`
		}
		switch code := srv.call(http.MethodGet, "/audit/verify", nil, &v); code {
		case http.StatusNotFound:
			t.Log("GET /audit/verify is not routed in this build; chain not checked")
		case http.StatusOK:
			if !v.OK || v.Entries == 0 {
				t.Errorf("GET /audit/verify = %+v, want ok over the entries", v)
			}
		default:
			t.Errorf("GET /audit/verify: status %d", code)
		}
	})
}

// TestPeopleRolesAndScope checks what each role may do, where: a
// technician keeps the fleet running but writes no content, a person
// limited to one street sees and reaches only that street's screens, a
// cookie session refuses cross-site and token-less changes, and account
// creation refuses bad input.
func TestPeopleRolesAndScope(t *testing.T) {
	srv := startServer(t)
	srv.group("street-a", "华阳街道", "")
	srv.group("street-b", "锦绣街道", "")
	scrA := srv.screen("华阳一号屏", "street-a")
	scrB := srv.screen("锦绣一号屏", "street-b")
	item := srv.item("notice", "停水通知", "明日 9:00–12:00 停水。", "", 2)
	pl := srv.playlist("社区轮播", item)
	sch := srv.scheduleAll(pl, 0)
	sha := srv.uploadPNG(color.RGBA{R: 200, A: 255})

	srv.addPerson("jishu", techPW, "technician", nil, false)
	srv.addPerson("bianji", editorPW, "editor", nil, false)
	srv.addPerson("huayang-bianji", editorPW, "editor", []string{"street-a"}, false)
	srv.addPerson("huayang-jishu", techPW, "technician", []string{"street-a"}, false)

	counts := func() [3]int {
		var items, pls, schs []json.RawMessage
		srv.must(http.MethodGet, "/items", nil, &items)
		srv.must(http.MethodGet, "/playlists", nil, &pls)
		srv.must(http.MethodGet, "/schedules", nil, &schs)
		return [3]int{len(items), len(pls), len(schs)}
	}
	noChangeSets := func(t *testing.T, what string) {
		t.Helper()
		var sets []changeSetView
		srv.must(http.MethodGet, "/changesets", nil, &sets)
		if len(sets) != 0 {
			t.Errorf("%s: change sets %+v exist, want none", what, sets)
		}
	}

	t.Run("technician writes no content but runs the fleet", func(t *testing.T) {
		session := signIn(t, srv, "jishu", techPW)
		token := session.withToken("巡检脚本")
		before := counts()
		newItem := map[string]any{"kind": "notice", "title": "技术员的条目", "body": "x", "duration_s": 2}
		writes := []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, "/items", newItem},
			{http.MethodPut, "/items/" + item, newItem},
			{http.MethodDelete, "/items/" + item, nil},
			{http.MethodPost, "/playlists", map[string]any{"name": "技术员的列表", "items": []string{item}}},
			{http.MethodPut, "/playlists/" + pl, map[string]any{"name": "改名", "items": []string{item}}},
			{http.MethodDelete, "/playlists/" + pl, nil},
			{http.MethodPost, "/schedules", map[string]any{"playlist": pl, "target": map[string]any{"all": true}}},
			{http.MethodPut, "/schedules/" + sch, map[string]any{"playlist": pl, "target": map[string]any{"all": true}, "priority": 9}},
			{http.MethodDelete, "/schedules/" + sch, nil},
			{http.MethodDelete, "/assets/" + sha, nil},
			{http.MethodPut, "/screens/" + scrA.ID, map[string]any{"name": "华阳一号屏", "group": "street-a", "default_playlist": pl}},
		}
		for _, who := range []*person{session, token} {
			who.t = t
			for _, w := range writes {
				who.refused(http.StatusForbidden, "forbidden", w.method, w.path, w.body)
			}
			if code, raw := who.upload("pic.png", pngBytes(t, 8, 8, color.RGBA{G: 200, A: 255})); code != http.StatusForbidden {
				t.Errorf("POST /assets as %s: status %d (%s), want 403", who.name, code, raw)
			}
		}
		if got := counts(); got != before {
			t.Errorf("items, playlists, schedules = %v after the technician's refused writes, want %v", got, before)
		}
		var assets []json.RawMessage
		srv.must(http.MethodGet, "/assets", nil, &assets)
		if len(assets) != 1 {
			t.Errorf("%d assets after the technician's refused upload, want 1", len(assets))
		}
		noChangeSets(t, "after the technician's refused writes")

		// The fleet is theirs.
		for _, who := range []*person{session, token} {
			var page struct {
				Screens []struct {
					ID string `json:"id"`
				} `json:"screens"`
				Total int `json:"total"`
			}
			who.must(http.StatusOK, http.MethodGet, "/screens", nil, &page)
			if len(page.Screens) != 2 || page.Total != 2 {
				t.Errorf("GET /screens as %s: %d screens (total %d), want 2", who.name, len(page.Screens), page.Total)
			}
			who.must(http.StatusOK, http.MethodGet, "/fleet", nil, nil)
			who.must(http.StatusOK, http.MethodGet, "/screens/"+scrB.ID, nil, nil)
			code, raw, _ := who.send(http.MethodPost, "/screens/"+scrA.ID+"/commands", map[string]any{"type": "identify", "ttl_s": 60}, nil)
			if code < 200 || code > 299 {
				t.Errorf("POST /screens/%s/commands as %s: status %d: %s", scrA.ID, who.name, code, raw)
			}
			who.must(http.StatusOK, http.MethodGet, "/screens/"+scrA.ID+"/commands", nil, nil)
			// Reading content is allowed.
			who.must(http.StatusOK, http.MethodGet, "/items", nil, nil)
		}
	})

	t.Run("a person limited to one street sees and reaches only it", func(t *testing.T) {
		ed := signIn(t, srv, "huayang-bianji", editorPW)
		tech := signIn(t, srv, "huayang-jishu", techPW)
		for _, who := range []*person{ed, tech} {
			who.t = t
			var page struct {
				Screens []struct {
					ID string `json:"id"`
				} `json:"screens"`
				Total int `json:"total"`
			}
			who.must(http.StatusOK, http.MethodGet, "/screens", nil, &page)
			if len(page.Screens) != 1 || page.Screens[0].ID != scrA.ID || page.Total != 1 {
				t.Errorf("GET /screens as %s = %+v, want only %s", who.name, page, scrA.ID)
			}
			who.refused(http.StatusNotFound, "", http.MethodGet, "/screens/"+scrB.ID, nil)
			who.must(http.StatusOK, http.MethodGet, "/screens/"+scrA.ID, nil, nil)
		}
		for _, target := range []map[string]any{
			{"groups": []string{"street-b"}},
			{"all": true},
			{"screens": []string{scrB.ID}},
			{"groups": []string{"street-a", "street-b"}},
		} {
			ed.refused(http.StatusForbidden, "out_of_scope", http.MethodPost, "/schedules",
				map[string]any{"playlist": pl, "target": target, "priority": 5})
		}
		noChangeSets(t, "after out-of-scope schedules")
		// Within the street the editor drafts as usual.
		var ok drafted
		ed.must(http.StatusCreated, http.MethodPost, "/schedules", map[string]any{
			"playlist": pl, "target": map[string]any{"groups": []string{"street-a"}}, "priority": 5,
		}, &ok)
		if ok.ChangeSet == "" {
			t.Errorf("an in-scope schedule by the scoped editor answered no changeset")
		}
		ed.must(http.StatusNoContent, http.MethodDelete, "/changesets/"+ok.ChangeSet, nil, nil)

		tech.refused(http.StatusNotFound, "", http.MethodPost, "/screens/"+scrB.ID+"/commands", map[string]any{"type": "identify", "ttl_s": 60})
		tech.refused(http.StatusNotFound, "", http.MethodGet, "/screens/"+scrB.ID+"/commands", nil)
		code, raw, _ := tech.send(http.MethodPost, "/screens/"+scrA.ID+"/commands", map[string]any{"type": "identify", "ttl_s": 60}, nil)
		if code < 200 || code > 299 {
			t.Errorf("POST /screens/%s/commands as the street's technician: status %d: %s", scrA.ID, code, raw)
		}
		var cmds []json.RawMessage
		srv.must(http.MethodGet, "/screens/"+scrB.ID+"/commands", nil, &cmds)
		if len(cmds) != 0 {
			t.Errorf("screen %s (street-b) has commands %s, want none", scrB.ID, cmds)
		}
	})

	t.Run("cookie session refuses cross-site and token-less changes", func(t *testing.T) {
		ed := signIn(t, srv, "bianji", editorPW)
		ed.t = t
		before := counts()
		body := map[string]any{"kind": "notice", "title": "跨站伪造的条目", "body": "x", "duration_s": 2}
		for _, tc := range []struct {
			name         string
			method, path string
			body         any
			hdr          map[string]string
		}{
			{"cross-site", http.MethodPost, "/items", body, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"no csrf header", http.MethodPost, "/items", body, map[string]string{"X-CSRF-Token": "", "Sec-Fetch-Site": "same-origin"}},
			{"cross-origin", http.MethodPost, "/items", body, map[string]string{"Origin": "https://evil.example"}},
			{"wrong csrf header", http.MethodPost, "/items", body, map[string]string{"X-CSRF-Token": "forged"}},
			{"cross-site put", http.MethodPut, "/playlists/" + pl, map[string]any{"name": "x", "items": []string{item}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"delete without csrf", http.MethodDelete, "/items/" + item, nil, map[string]string{"X-CSRF-Token": "", "Sec-Fetch-Site": "same-origin"}},
			{"sign-out without csrf", http.MethodDelete, "/session", nil, map[string]string{"X-CSRF-Token": "", "Origin": srv.url()}},
		} {
			code, raw, _ := ed.send(tc.method, tc.path, tc.body, tc.hdr)
			var e apiError
			_ = json.Unmarshal(raw, &e)
			if code != http.StatusForbidden || e.Code != "csrf" {
				t.Errorf("%s: %s %s = %d %s, want 403 code csrf", tc.name, tc.method, tc.path, code, raw)
			}
		}
		if got := counts(); got != before {
			t.Errorf("items, playlists, schedules = %v after refused cross-site writes, want %v", got, before)
		}
		var mine []changeSetView
		ed.must(http.StatusOK, http.MethodGet, "/changesets?mine=1", nil, &mine)
		if len(mine) != 0 {
			t.Errorf("after refused cross-site writes the editor has change sets %+v, want none", mine)
		}
		// The session itself still works (sign-out was refused too), and
		// the same request from the page goes through.
		ed.must(http.StatusOK, http.MethodGet, "/session", nil, nil)
		code, raw, _ := ed.send(http.MethodPost, "/items", body, map[string]string{"Sec-Fetch-Site": "same-origin"})
		if code != http.StatusCreated {
			t.Errorf("the same POST /items from the page: %d %s, want 201", code, raw)
		}
	})

	t.Run("account creation refuses bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name, field string
			body        map[string]any
		}{
			{"short password", "password", map[string]any{"username": "ruomima", "password": "abc123", "role": "editor"}},
			{"password with the username", "password", map[string]any{"username": "xiaowang", "password": "xiaowang-2024-pass", "role": "editor"}},
			{"unknown role", "role", map[string]any{"username": "chaoji", "password": editorPW, "role": "superuser"}},
			{"no role", "role", map[string]any{"username": "wujuese", "password": editorPW}},
		} {
			var e apiError
			code := srv.call(http.MethodPost, "/users", tc.body, &e)
			if code != http.StatusBadRequest || !strings.Contains(e.Error, tc.field) {
				t.Errorf("%s: POST /users = %d %+v, want 400 naming %s", tc.name, code, e, tc.field)
			}
			var users []struct {
				Username string `json:"username"`
			}
			srv.must(http.MethodGet, "/users", nil, &users)
			for _, u := range users {
				if u.Username == tc.body["username"] {
					t.Errorf("%s: user %s was created anyway", tc.name, u.Username)
				}
			}
		}
	})
}

// TestPeopleSessionIdleTimeout: a session unused for longer than the idle
// timeout is refused with session_expired, and the person can sign in again.
func TestPeopleSessionIdleTimeout(t *testing.T) {
	const idle = 2 * time.Second
	srv := startServerWith(t, func(c *server.Config) { c.SessionIdle = idle })
	srv.addPerson("bianji", editorPW, "editor", nil, false)
	p := signIn(t, srv, "bianji", editorPW)
	var sess struct {
		IdleTimeoutS int `json:"idle_timeout_s"`
	}
	p.must(http.StatusOK, http.MethodGet, "/session", nil, &sess)
	if sess.IdleTimeoutS != int(idle/time.Second) {
		t.Errorf("GET /session idle_timeout_s = %d, want %d", sess.IdleTimeoutS, int(idle/time.Second))
	}
	time.Sleep(idle + 500*time.Millisecond)
	p.refused(http.StatusUnauthorized, "session_expired", http.MethodGet, "/session", nil)
	// The session is gone server-side: even its CSRF token does not help.
	p.refused(http.StatusUnauthorized, "", http.MethodPost, "/items", map[string]any{"kind": "notice", "title": "过期会话", "body": "x", "duration_s": 2})
	if code, raw := p.signIn(editorPW); code != http.StatusOK {
		t.Fatalf("signing in again: %d %s", code, raw)
	}
	p.must(http.StatusOK, http.MethodGet, "/session", nil, nil)
}

// TestPeopleSessionIdleCountsFromLastRequest: the idle timeout is time
// without a request (server.Config.SessionIdle), so a session in steady use
// outlives it.
func TestPeopleSessionIdleCountsFromLastRequest(t *testing.T) {
	const idle = time.Second
	srv := startServerWith(t, func(c *server.Config) { c.SessionIdle = idle })
	srv.addPerson("bianji", editorPW, "editor", nil, false)
	p := signIn(t, srv, "bianji", editorPW)
	start := time.Now()
	for time.Since(start) < 3*idle {
		code, raw, _ := p.send(http.MethodGet, "/session", nil, nil)
		if code != http.StatusOK {
			t.Fatalf("a session used every %v was refused %v after sign-in (idle timeout %v): %d %s",
				idle/4, time.Since(start).Round(10*time.Millisecond), idle, code, raw)
		}
		time.Sleep(idle / 4)
	}
}

// TestPeopleSignInThrottle: a hundred wrong passwords from one address
// slow the guesser down but do not lock out the account's owner, whose
// browser carries the device cookie of an earlier sign-in.
func TestPeopleSignInThrottle(t *testing.T) {
	srv := startServer(t)
	srv.addPerson("bianji", editorPW, "editor", nil, false)

	owner := signIn(t, srv, "bianji", editorPW)
	if owner.cookie("kiosk_device") == "" {
		t.Fatal("sign-in set no kiosk_device cookie")
	}
	owner.must(http.StatusNoContent, http.MethodDelete, "/session", nil, nil)
	owner.csrf = ""
	owner.refused(http.StatusUnauthorized, "", http.MethodGet, "/session", nil)

	attacker := newPerson(t, srv, "bianji")
	statuses := map[int]int{}
	last := 0
	for i := range 100 {
		code, raw := attacker.signIn("guess-number-" + strconv.Itoa(i))
		if code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
			t.Fatalf("wrong password #%d: status %d %s, want 401 or 429", i+1, code, raw)
		}
		statuses[code]++
		last = code
	}
	t.Logf("100 wrong passwords from loopback: %d × 401, %d × 429", statuses[http.StatusUnauthorized], statuses[http.StatusTooManyRequests])
	if last != http.StatusTooManyRequests {
		t.Errorf("the 100th wrong password got %d, want 429", last)
	}

	// The owner's browser, with its device cookie, gets in.
	if code, raw := owner.signIn(editorPW); code != http.StatusOK {
		t.Fatalf("the owner with the device cookie after the attack: %d %s, want 200", code, raw)
	}
	owner.must(http.StatusOK, http.MethodGet, "/session", nil, nil)

	// The attacker stays throttled even with the right password.
	code, raw, hdr := attacker.send(http.MethodPost, "/session", map[string]any{"username": "bianji", "password": editorPW}, nil)
	var e apiError
	_ = json.Unmarshal(raw, &e)
	if code != http.StatusTooManyRequests || e.Code != "too_many_attempts" {
		t.Errorf("the right password from the attacker's client: %d %s, want 429 too_many_attempts", code, raw)
	}
	if secs, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || secs <= 0 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", hdr.Get("Retry-After"))
	}
	if attacker.cookie("kiosk_session") != "" {
		t.Error("the throttled client got a session cookie")
	}
}
