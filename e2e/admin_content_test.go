package e2e

import (
	"image/color"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kiosk/playlists"
)

// TestAdminContentInChromium drives the editor's side of the admin page
// in headless Chromium against a real server and player: an item titled
// with markup is created through the form with an uploaded image (shown
// literally, with its thumbnail from a blob: URL), an API refusal shows
// beside the form, a playlist is built by adding, reordering and removing
// items, a schedule for all screens is created (after the API refuses a
// bad cron), and a real player applies the new version and shows the
// item. The screen's timeline preview lists it; deleting an item in use is
// refused beside the form; a schedule is deleted with two clicks. No
// dialog ever opens.
func TestAdminContentInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	other := srv.item("psa", "垃圾分类", "请分类投放。", "", 4)
	scr := srv.screen("一号屏", "")
	p := startPlayer(t, srv.url(), scr.Token, cachePath(t, scr.ID))
	dialogs := countDialogs(t, ctx, "content ran as script")

	pic := filepath.Join(t.TempDir(), "pic.png")
	if err := os.WriteFile(pic, pngBytes(t, 320, 180, color.RGBA{30, 90, 200, 255}), 0o644); err != nil {
		t.Fatal(err)
	}

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/items"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the items page", `document.getElementById('item-form') !== null
		&& document.querySelector('#items tr[data-id=`+js(other)+`]') !== null`, 10*time.Second)

	// The API's refusal shows beside the form (maxlength only stops typing).
	const title = "<b>粗体</b>"
	do(t, ctx, "fill the item form", chromedp.SendKeys("#i-title", title))
	evalVoid(t, ctx, "an over-long body", `document.getElementById('i-body').value = 'x'.repeat(5001)`)
	do(t, ctx, "save", chromedp.Click("#i-save"))
	adminPoll(t, ctx, "the API's refusal beside the form", `(() => { const m = document.getElementById('item-error');
		return !m.hidden && m.textContent.includes('正文：最多 5000 个字'); })()`, 10*time.Second)

	evalVoid(t, ctx, "fix the body, pick the kind and duration", `(() => {
		document.getElementById('i-body').value = '第一行\n第二行';
		document.getElementById('i-kind').value = 'legal_story';
		document.getElementById('i-duration').value = '3'; })()`)
	do(t, ctx, "choose the image", chromedp.SetUploadFiles("#i-file", []string{pic}))
	do(t, ctx, "save", chromedp.Click("#i-save"))
	row := `[...document.querySelectorAll('#items tbody tr')].find((r) => r.querySelector('.item-title')?.textContent === ` + js(title) + `)`
	adminPoll(t, ctx, "the item listed literally with its thumbnail", `(() => { const r = `+row+`;
		if (!r) return false;
		const im = r.querySelector('.thumb img');
		return r.dataset.kind === 'legal_story' && im !== null && im.src.startsWith('blob:') && im.complete && im.naturalWidth === 320
			&& document.getElementById('item-error').hidden && document.getElementById('i-title').value === ''; })()`, 10*time.Second)
	if n := evalInt(t, ctx, `document.querySelectorAll('#view b').length`); n != 0 {
		t.Errorf("the item title became %d <b> elements, want 0", n)
	}
	itemID := evalString(t, ctx, row+`.dataset.id`)
	var item struct {
		Kind      string `json:"kind"`
		Title     string `json:"title"`
		Body      string `json:"body"`
		Asset     string `json:"asset"`
		DurationS int    `json:"duration_s"`
	}
	srv.must(http.MethodGet, "/items/"+itemID, nil, &item)
	if item.Kind != "legal_story" || item.Title != title || item.Body != "第一行\n第二行" || item.DurationS != 3 || len(item.Asset) != 64 {
		t.Errorf("GET /items/%s = %+v, want the form's legal_story %q, two-line body, 3 s, an asset", itemID, item, title)
	}
	adminScreenshot(ctx, ".items.png")

	// Editing keeps the media unless it is removed.
	evalVoid(t, ctx, "edit", row+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "the form in edit mode", `document.getElementById('i-title').value === `+js(title)+`
		&& !document.getElementById('i-current-media').hidden && !document.getElementById('i-cancel').hidden`, 10*time.Second)
	evalVoid(t, ctx, "change the duration", `document.getElementById('i-duration').value = '4'`)
	do(t, ctx, "save", chromedp.Click("#i-save"))
	adminPoll(t, ctx, "the edit saved", `(() => { const r = `+row+`; return !!r && r.cells[2].textContent === '4 秒'; })()`, 10*time.Second)
	asset := item.Asset
	srv.must(http.MethodGet, "/items/"+itemID, nil, &item)
	if item.DurationS != 4 || item.Asset != asset {
		t.Errorf("after the edit: duration %d asset %q, want 4 and the same asset %q", item.DurationS, item.Asset, asset)
	}

	// A playlist: add the other item, then ours, move ours up, remove the other.
	evalVoid(t, ctx, "open playlists", `location.hash = '#/playlists'`)
	adminPoll(t, ctx, "the playlist form with both items to add", `document.querySelector('#p-add option[value=`+js(itemID)+`]') !== null
		&& document.querySelector('#p-add option[value=`+js(other)+`]') !== null`, 10*time.Second)
	do(t, ctx, "name the playlist", chromedp.SendKeys("#p-name", "晨间播放"))
	for _, id := range []string{other, itemID} {
		evalVoid(t, ctx, "pick an item", `document.getElementById('p-add').value = `+js(id))
		do(t, ctx, "add it", chromedp.Click("#p-add-btn"))
	}
	adminPoll(t, ctx, "two items in order", `[...document.querySelectorAll('#p-items li')].map((l) => l.dataset.id).join() === `+js(other+","+itemID), 5*time.Second)
	do(t, ctx, "move ours up", chromedp.Click(`#p-items button[data-up="1"]`))
	adminPoll(t, ctx, "ours first", `document.querySelector('#p-items li').dataset.id === `+js(itemID)+`
		&& document.querySelector('#p-items li .p-item-title').textContent === `+js(title), 5*time.Second)
	adminScreenshot(ctx, ".playlist.png")
	do(t, ctx, "remove the other", chromedp.Click(`#p-items button[data-remove="1"]`))
	do(t, ctx, "save", chromedp.Click("#p-save"))
	plRow := `[...document.querySelectorAll('#playlists tbody tr')].find((r) => r.querySelector('.p-name')?.textContent === '晨间播放')`
	adminPoll(t, ctx, "the playlist listed", `(() => { const r = `+plRow+`;
		return !!r && r.querySelectorAll('li').length === 1 && r.querySelector('li').textContent === `+js(title)+`; })()`, 10*time.Second)
	plID := evalString(t, ctx, plRow+`.dataset.id`)
	var pl struct {
		Items []string `json:"items"`
	}
	srv.must(http.MethodGet, "/playlists/"+plID, nil, &pl)
	if len(pl.Items) != 1 || pl.Items[0] != itemID {
		t.Fatalf("GET /playlists/%s items = %v, want [%s]", plID, pl.Items, itemID)
	}

	// A schedule: a bad cron is refused beside the form, then one for all screens.
	evalVoid(t, ctx, "open schedules", `location.hash = '#/schedules'`)
	adminPoll(t, ctx, "the schedule form", `document.querySelector('#s-playlist option[value=`+js(plID)+`]') !== null`, 10*time.Second)
	evalVoid(t, ctx, "pick the playlist and a bad cron", `(() => {
		document.getElementById('s-playlist').value = `+js(plID)+`;
		document.getElementById('s-cron').value = '0 7 * *';
		document.getElementById('s-duration').value = '3600'; })()`)
	do(t, ctx, "save", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "the cron refused", `(() => { const m = document.getElementById('schedule-error');
		return !m.hidden && m.textContent.includes('cron'); })()`, 10*time.Second)
	// The screens picker lists the screen; back to all screens.
	do(t, ctx, "target screens", chromedp.Click(`input[name="s-target"][value="screens"]`))
	adminPoll(t, ctx, "the screen choices", `!document.getElementById('s-screens').hidden
		&& document.querySelector('#s-screens input[value=`+js(scr.ID)+`]') !== null`, 10*time.Second)
	do(t, ctx, "target all", chromedp.Click(`input[name="s-target"][value="all"]`))
	evalVoid(t, ctx, "all day", `document.getElementById('s-cron').value = ''; document.getElementById('s-duration').value = ''`)
	do(t, ctx, "save", chromedp.Click("#s-save"))
	schedRow := `document.querySelector('#schedules tbody tr[data-playlist=` + js(plID) + `]')`
	adminPoll(t, ctx, "the schedule listed", `(() => { const r = `+schedRow+`;
		return r !== null && r.querySelector('.s-playlist').textContent === '晨间播放'
			&& r.querySelector('.s-target').textContent === '全部屏幕' && document.getElementById('schedule-error').hidden; })()`, 10*time.Second)

	adminScreenshot(ctx, ".schedules.png")

	// The real player applies the new version and shows the item.
	waitFor(t, 20*time.Second, "the player to show the item", func() bool {
		st := p.state()
		return st.CurrentItem == itemID && st.AppliedVersion != "" && st.AppliedVersion == srv.status(scr.ID).PublishedVersion
	})

	// The screen's timeline preview names the playlist and the item.
	evalVoid(t, ctx, "open the screen", `location.hash = '#/screen/' + encodeURIComponent(`+js(scr.ID)+`)`)
	adminPoll(t, ctx, "the timeline", `(() => { const s = document.querySelector('#timeline .tl-seg');
		return s !== null && s.querySelector('.tl-playlists').textContent === '晨间播放'
			&& s.querySelector('.tl-item').textContent === `+js(title)+`; })()`, 10*time.Second)
	adminScreenshot(ctx, ".timeline.png")
	if txt := evalString(t, ctx, `document.getElementById('view').textContent`); strings.Contains(txt, "null") || strings.Contains(txt, "undefined") {
		t.Errorf("the screen page shows a missing value as text: %.300q", txt)
	}

	// Deleting an item in use is refused beside the form.
	evalVoid(t, ctx, "open items", `location.hash = '#/items'`)
	adminPoll(t, ctx, "the item", row+` !== undefined`, 10*time.Second)
	evalVoid(t, ctx, "press delete twice", `(() => { const b = `+row+`.querySelector('button[data-delete]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "the refusal", `(() => { const m = document.getElementById('item-error');
		return !m.hidden && m.textContent.includes('删除失败'); })()`, 10*time.Second)

	// Deleting the schedule takes two clicks.
	evalVoid(t, ctx, "open schedules", `location.hash = '#/schedules'`)
	adminPoll(t, ctx, "the schedule", schedRow+` !== null`, 10*time.Second)
	evalVoid(t, ctx, "press delete once", schedRow+`.querySelector('button[data-delete]').click()`)
	if got := evalString(t, ctx, schedRow+`.querySelector('button[data-delete]').textContent`); got != "确认删除？" {
		t.Errorf("after one click the button says %q, want 确认删除？", got)
	}
	evalVoid(t, ctx, "press delete again", schedRow+`.querySelector('button[data-delete]').click()`)
	adminPoll(t, ctx, "the schedule gone", schedRow+` === null`, 10*time.Second)
	var scheds []struct{}
	srv.must(http.MethodGet, "/schedules", nil, &scheds)
	if len(scheds) != 0 {
		t.Errorf("GET /schedules lists %d schedules after the delete, want 0", len(scheds))
	}

	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}

// TestAdminScheduleEditInChromium edits schedules through the admin form:
// the form shows a saved schedule (from/to as Beijing wall-clock time
// whatever the browser's zone), a refused PUT shows beside the form and
// keeps it in edit mode, a saved edit changes exactly what was changed,
// cancel returns to create mode, and a target the form cannot show whole
// (tags) is kept when left untouched.
func TestAdminScheduleEditInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	pl := srv.playlist("早间", srv.item("notice", "通知", "", "", 5))
	scr := srv.screen("一号屏", "")
	dialogs := countDialogs(t, ctx, "schedule edit")

	type schedule struct {
		ID        string           `json:"id"`
		Name      string           `json:"name"`
		Playlist  string           `json:"playlist"`
		Target    playlists.Target `json:"target"`
		Cron      string           `json:"cron"`
		DurationS int              `json:"duration_s"`
		From      *time.Time       `json:"from"`
		To        *time.Time       `json:"to"`
		Priority  int              `json:"priority"`
	}
	var sc, tagged schedule
	srv.must(http.MethodPost, "/schedules", map[string]any{
		"name": "工作日早间", "playlist": pl, "target": map[string]any{"screens": []string{scr.ID}},
		"cron": "0 7 * * 1-5", "duration_s": 3600, "priority": 1,
		"from": "2026-05-01T00:00:00Z", "to": "2026-06-01T10:30:00+08:00",
	}, &sc)
	srv.must(http.MethodPost, "/schedules", map[string]any{
		"playlist": pl, "target": map[string]any{"tags": []string{"lobby"}}, "priority": 0,
	}, &tagged)

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/schedules"))
	signInWithToken(t, ctx, adminToken)
	rowOf := func(id string) string { return `document.querySelector('#schedules tbody tr[data-id=` + js(id) + `]')` }
	adminPoll(t, ctx, "both schedules listed", rowOf(sc.ID)+` !== null && `+rowOf(tagged.ID)+` !== null
		&& document.getElementById('s-cancel').hidden`, 10*time.Second)

	// Edit fills the form with the schedule, from/to in Beijing time.
	evalVoid(t, ctx, "edit", rowOf(sc.ID)+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "the form showing the schedule", `(() => { const v = (id) => document.getElementById(id).value;
		return document.getElementById('schedule-form-title').textContent.includes(`+js(sc.ID)+`)
			&& !document.getElementById('s-cancel').hidden
			&& v('s-name') === '工作日早间' && v('s-playlist') === `+js(pl)+`
			&& document.querySelector('input[name="s-target"]:checked').value === 'screens'
			&& !document.getElementById('s-screens').hidden
			&& document.querySelector('#s-screens input[value=`+js(scr.ID)+`]').checked
			&& v('s-cron') === '0 7 * * 1-5' && v('s-duration') === '3600'
			&& v('s-from') === '2026-05-01' && v('s-from-h') === '8' && v('s-from-m') === '0'
			&& v('s-to') === '2026-06-01' && v('s-to-h') === '10' && v('s-to-m') === '30'
			&& v('s-priority') === '1' && document.getElementById('s-target-note').hidden; })()`, 10*time.Second)

	// The API's refusal shows beside the form, which stays in edit mode.
	evalVoid(t, ctx, "a bad cron", `document.getElementById('s-cron').value = '0 7 * *'`)
	do(t, ctx, "save", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "the cron refused", `(() => { const m = document.getElementById('schedule-error');
		return !m.hidden && m.textContent.includes('保存失败') && m.textContent.includes('cron')
			&& !document.getElementById('s-cancel').hidden; })()`, 10*time.Second)

	evalVoid(t, ctx, "a new cron and priority", `(() => {
		document.getElementById('s-cron').value = '30 8 * * *';
		document.getElementById('s-priority').value = '5'; })()`)
	do(t, ctx, "save", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "the edit saved and the form back in create mode", `(() => { const r = `+rowOf(sc.ID)+`;
		return r !== null && r.cells[4].textContent === '5' && r.querySelector('code')?.textContent === '30 8 * * *'
			&& document.getElementById('schedule-error').hidden && document.getElementById('s-cancel').hidden
			&& document.getElementById('s-cron').value === '' && document.getElementById('s-priority').value === '0'; })()`, 10*time.Second)
	var got schedule
	srv.must(http.MethodGet, "/schedules/"+sc.ID, nil, &got)
	from, _ := time.Parse(time.RFC3339, "2026-05-01T08:00:00+08:00")
	to, _ := time.Parse(time.RFC3339, "2026-06-01T10:30:00+08:00")
	if got.Priority != 5 || got.Cron != "30 8 * * *" {
		t.Errorf("GET /schedules/%s priority %d cron %q, want 5 and %q", sc.ID, got.Priority, got.Cron, "30 8 * * *")
	}
	if got.Name != "工作日早间" || got.Playlist != pl || got.DurationS != 3600 ||
		len(got.Target.Screens) != 1 || got.Target.Screens[0] != scr.ID || got.Target.All ||
		got.From == nil || !got.From.Equal(from) || got.To == nil || !got.To.Equal(to) {
		t.Errorf("GET /schedules/%s = %+v (from %v, to %v), want the rest unchanged: name, playlist %s, 3600 s, screens [%s], from %v, to %v",
			sc.ID, got, got.From, got.To, pl, scr.ID, from, to)
	}

	// Cancel returns to create mode; a tags target the form cannot show is
	// noted and saved as it was when left untouched.
	evalVoid(t, ctx, "edit the tagged one", rowOf(tagged.ID)+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "the note on the target", `!document.getElementById('s-target-note').hidden
		&& document.getElementById('s-target-note').textContent.includes('lobby')
		&& document.querySelector('input[name="s-target"]:checked') === null`, 10*time.Second)
	adminScreenshot(ctx, ".schedule-edit.png")
	do(t, ctx, "cancel", chromedp.Click("#s-cancel"))
	adminPoll(t, ctx, "create mode", `document.getElementById('s-cancel').hidden && document.getElementById('s-target-note').hidden
		&& document.getElementById('s-playlist').value === '' && document.getElementById('schedule-form-title').textContent.includes('新建')
		&& document.querySelector('input[name="s-target"]:checked')?.value === 'all'`, 5*time.Second)
	evalVoid(t, ctx, "edit the tagged one again", rowOf(tagged.ID)+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "edit mode", `!document.getElementById('s-cancel').hidden`, 5*time.Second)
	evalVoid(t, ctx, "a new priority", `document.getElementById('s-priority').value = '3'`)
	do(t, ctx, "save", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "the tagged edit saved", `(() => { const r = `+rowOf(tagged.ID)+`;
		return r !== null && r.cells[4].textContent === '3' && document.getElementById('s-cancel').hidden; })()`, 10*time.Second)
	var gotTagged schedule
	srv.must(http.MethodGet, "/schedules/"+tagged.ID, nil, &gotTagged)
	if tg := gotTagged.Target; gotTagged.Priority != 3 || len(tg.Tags) != 1 || tg.Tags[0] != "lobby" || tg.All || len(tg.Screens) != 0 {
		t.Errorf("GET /schedules/%s priority %d target %+v, want 3 and tags [lobby] kept", tagged.ID, gotTagged.Priority, tg)
	}
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}
