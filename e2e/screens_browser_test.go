package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kiosk/server"
)

// screensText is what the screens test expects to read, per language.
var screensText = map[string]struct {
	hasChildren, inUse, moved string
}{
	"zh": {hasChildren: "分组下还有 1 个下级分组", inUse: "该分组仍被下级分组、屏幕或排期使用", moved: "已移到「新华街道」"},
	"en": {hasChildren: "a sub-group is still inside", inUse: "sub-groups, screens or schedules still use this group", moved: `moved to "新华街道"`},
}

// TestScreensPageInChromium is a new admin running the fleet from the
// admin page alone, in Chinese and in English: they add a street and a
// compound inside it, add a screen by the token way and read the token
// and the exact player command line (with the server's key to pin),
// start that player and watch the fleet page turn it online live (the
// page's timed refresh is a minute apart while the stream is on), move
// the screen to another street from the list, send "identify" to the
// whole street and see it reach the player, are told in their language
// why a group cannot be deleted (by the page, and by the API's refusal),
// and use the fleet, screens and screen pages on a 390 px wide phone
// without the page scrolling sideways.
func TestScreensPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) { screensPage(t, lang) })
	}
}

func screensPage(t *testing.T, lang string) {
	text := screensText[lang]
	ctx := newBrowser(t)
	srv := startServer(t)
	const password = "correct horse battery"
	srv.addPerson("ada", password, "admin", nil, false)
	dialogs := countDialogs(t, ctx, "the screens page opened a dialog")

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	adminPoll(t, ctx, "the sign-in form", `!document.getElementById('signin').hidden`, 15*time.Second)
	evalVoid(t, ctx, "choose the language", `localStorage.setItem('kiosk.admin.lang', `+js(lang)+`)`)
	do(t, ctx, "open /admin/ again", chromedp.Navigate(srv.url()+"/admin/"))
	signInAs(t, ctx, "ada", password)
	if got := evalString(t, ctx, `document.documentElement.lang`); !strings.HasPrefix(got, lang) {
		t.Fatalf("page language %q, want %s", got, lang)
	}

	// The nav leads to the screens page.
	adminPoll(t, ctx, "the screens link", `document.querySelector('#nav a[data-route="screens"]') !== null`, 10*time.Second)
	do(t, ctx, "open the screens page", chromedp.Click(`#nav a[data-route="screens"]`))
	adminPoll(t, ctx, "the group tree", `document.querySelector('#group-tree li[data-group=""]') !== null`, 10*time.Second)

	// A street, then a compound inside it.
	do(t, ctx, "open the new group form", chromedp.Click("#new-group-card > summary"))
	do(t, ctx, "a street", chromedp.SendKeys("#ng-id", "heping"), chromedp.SendKeys("#ng-name", "和平街道"), chromedp.Click("#ng-submit"))
	adminPoll(t, ctx, "the street in the tree", `document.querySelector('#group-tree li[data-group="heping"]') !== null
		&& !document.getElementById('ng-ok').hidden`, 10*time.Second)
	// A bad id is refused by the page, in its language.
	do(t, ctx, "a bad id", chromedp.SendKeys("#ng-id", "和平"), chromedp.SendKeys("#ng-name", "x"), chromedp.Click("#ng-submit"))
	adminPoll(t, ctx, "the id refused", `!document.getElementById('ng-error').hidden`, 5*time.Second)
	evalVoid(t, ctx, "clear the form", `document.getElementById('ng-id').value = ''; document.getElementById('ng-name').value = ''`)
	// The same id twice: the API's refusal (409 group_exists) in words.
	do(t, ctx, "the same id again", chromedp.SendKeys("#ng-id", "heping"), chromedp.SendKeys("#ng-name", "重复"), chromedp.Click("#ng-submit"))
	adminPoll(t, ctx, "the duplicate refused", `(() => { const m = document.getElementById('ng-error');
		return !m.hidden && m.textContent.length > 0 && !m.textContent.includes('HTTP'); })()`, 10*time.Second)
	evalVoid(t, ctx, "clear the form", `document.getElementById('ng-id').value = ''; document.getElementById('ng-name').value = ''`)

	evalVoid(t, ctx, "select the street", `document.querySelector('#group-tree li[data-group="heping"] > button').click()`)
	adminPoll(t, ctx, "the street selected", `location.hash === '#/screens?group=heping'
		&& !document.getElementById('group-panel').hidden && document.getElementById('ng-parent') !== null`, 10*time.Second)
	do(t, ctx, "open the new group form", chromedp.Click("#new-group-card > summary"))
	evalVoid(t, ctx, "inside the street", `document.getElementById('ng-parent').value = 'heping'`)
	do(t, ctx, "a compound", chromedp.SendKeys("#ng-id", "heping-3"), chromedp.SendKeys("#ng-name", "和平 3 号小区"), chromedp.Click("#ng-submit"))
	adminPoll(t, ctx, "the compound under the street", `(() => { const li = document.querySelector('#group-tree li[data-group="heping-3"]');
		return li !== null && li.dataset.depth === '2'; })()`, 10*time.Second)
	srv.group("xinhua", "新华街道", "")

	// Add a screen the scripted way, into the compound.
	evalVoid(t, ctx, "select the compound", `document.querySelector('#group-tree li[data-group="heping-3"] > button').click()`)
	adminPoll(t, ctx, "the compound selected", `location.hash === '#/screens?group=heping-3' && document.getElementById('pair-card') !== null`, 10*time.Second)
	do(t, ctx, "open the pair card", chromedp.Click("#pair-card > summary"))
	adminPoll(t, ctx, "the compound preselected", `document.getElementById('pair-group').value === 'heping-3'`, 10*time.Second)
	evalVoid(t, ctx, "the token way", `document.querySelector('input[name="pair-mode"][value="token"]').click()`)
	do(t, ctx, "create", chromedp.SendKeys("#pair-name", "3 号楼大堂"), chromedp.Click("#pair-submit"))
	adminPoll(t, ctx, "the token and the command line", `(() => { const tok = document.getElementById('pair-token');
		const cmd = document.getElementById('pair-command');
		return tok !== null && tok.textContent.startsWith('kdt_') && cmd !== null; })()`, 10*time.Second)
	token := evalString(t, ctx, `document.getElementById('pair-token').textContent`)
	cmd := evalString(t, ctx, `document.getElementById('pair-command').textContent`)
	want := "kiosk-player -server " + srv.url() + " -token " + token + " -server-key server.key"
	if !strings.HasPrefix(cmd, want) {
		t.Errorf("command line %q, want it to start %q", cmd, want)
	}
	if key := evalString(t, ctx, `document.getElementById('pair-key').textContent`); !strings.HasPrefix(key, "echo '") || !strings.HasSuffix(key, "' > server.key") {
		t.Errorf("key line %q, want echo 'KEY' > server.key", key)
	}
	if n := evalInt(t, ctx, `document.querySelectorAll('#pair-token-box button[data-copy]').length`); n != 3 {
		t.Errorf("%d copy buttons, want 3 (token, key, command)", n)
	}
	id := evalString(t, ctx, `decodeURIComponent(document.getElementById('pair-link').getAttribute('href').split('/').pop())`)
	adminPoll(t, ctx, "the screen in the compound's list", `document.querySelector('#group-screens tr[data-screen-id=`+js(id)+`]') !== null`, 10*time.Second)
	adminScreenshot(ctx, ".screens."+lang+".png")

	// The fleet, live: the player starts and the row turns online with
	// no refresh (the timed one is a minute away while live).
	evalVoid(t, ctx, "open the fleet", `location.hash = '#/fleet'`)
	row := `document.querySelector('#screens tr[data-screen-id=` + js(id) + `]')`
	adminPoll(t, ctx, "the fleet live", `document.getElementById('live') !== null && document.getElementById('live').dataset.live === 'on' && `+row+` !== null`, 15*time.Second)
	p := startPlayer(t, srv.url(), token, cachePath(t, id))
	start := time.Now()
	adminPoll(t, ctx, "the row online, live", `(() => { const r = `+row+`; return r !== null && r.dataset.state === 'online'; })()`, 20*time.Second)
	t.Logf("%s: the fleet page showed the screen online %s after the player started", lang, time.Since(start).Round(100*time.Millisecond))
	if live := evalString(t, ctx, `document.getElementById('live').dataset.live`); live != "on" {
		t.Errorf("the fleet page fell back to polling (live=%s)", live)
	}
	// A rename elsewhere shows too.
	start = time.Now()
	srv.must(http.MethodPut, "/screens/"+id, map[string]any{"name": "3 号楼北门", "group": "heping-3"}, nil)
	adminPoll(t, ctx, "the new name, live", row+` !== null && `+row+`.querySelector('.screen-name').textContent === '3 号楼北门'`, 10*time.Second)
	t.Logf("%s: a rename reached the fleet page in %s", lang, time.Since(start).Round(10*time.Millisecond))
	adminScreenshot(ctx, ".fleet-live."+lang+".png")

	// Move the screen to the other street from the list.
	evalVoid(t, ctx, "open the screens page", `location.hash = '#/screens'`)
	pick := `document.querySelector('#group-screens input[data-pick=` + js(id) + `]')`
	adminPoll(t, ctx, "the screen's tick box", pick+` !== null && document.querySelector('#bulk-move-to option[value="xinhua"]') !== null`, 10*time.Second)
	evalVoid(t, ctx, "tick it and choose the street", pick+`.click(); document.getElementById('bulk-move-to').value = 'xinhua'`)
	do(t, ctx, "move", chromedp.Click("#bulk-move"))
	adminPoll(t, ctx, "the move reported per screen", `(() => { const li = document.querySelector('#bulk-results li[data-screen=`+js(id)+`]');
		return li !== null && li.dataset.ok === '1' && li.textContent.includes(`+js(text.moved)+`); })()`, 10*time.Second)
	var got struct {
		Group string `json:"group"`
		Name  string `json:"name"`
	}
	srv.must(http.MethodGet, "/screens/"+id, nil, &got)
	if got.Group != "xinhua" || got.Name != "3 号楼北门" {
		t.Errorf("after the move: group %q name %q, want xinhua and the name kept", got.Group, got.Name)
	}

	// Identify, to the whole street.
	evalVoid(t, ctx, "select the street", `document.querySelector('#group-tree li[data-group="xinhua"] > button').click()`)
	adminPoll(t, ctx, "the street's button", `location.hash === '#/screens?group=xinhua' && !document.getElementById('bulk-send-group').hidden`, 10*time.Second)
	evalVoid(t, ctx, "choose identify", `document.getElementById('bulk-command').value = 'identify'`)
	do(t, ctx, "send to the street", chromedp.Click("#bulk-send-group"))
	adminPoll(t, ctx, "the command reported per screen", `(() => { const li = document.querySelector('#bulk-results li[data-screen=`+js(id)+`]');
		return li !== null && li.dataset.ok === '1'; })()`, 10*time.Second)
	waitFor(t, 15*time.Second, "the player to identify itself", func() bool {
		u := p.identifyUntil()
		return u != nil && time.Until(*u) > 5*time.Second
	})

	// The same from a selection: tick the screen, send "screenshot".
	evalVoid(t, ctx, "tick the screen", `document.querySelector('#group-screens input[data-pick=`+js(id)+`]').click();
		document.getElementById('bulk-command').value = 'screenshot'`)
	do(t, ctx, "send to the selection", chromedp.Click("#bulk-send"))
	adminPoll(t, ctx, "the screenshot command reported", `(() => { const s = document.getElementById('bulk-summary');
		const li = document.querySelector('#bulk-results li[data-screen=`+js(id)+`]');
		return s !== null && li !== null && li.dataset.ok === '1' && s.textContent.includes('1'); })()`, 10*time.Second)

	// Rename the compound and move it to the other street.
	evalVoid(t, ctx, "select the compound", `location.hash = '#/screens?group=heping-3'`)
	adminPoll(t, ctx, "its edit form", `document.getElementById('eg-form') !== null && document.getElementById('eg-name').value === '和平 3 号小区'`, 10*time.Second)
	evalVoid(t, ctx, "rename and move", `document.getElementById('edit-group').open = true;
		document.getElementById('eg-name').value = '新华 3 号小区'; document.getElementById('eg-parent').value = 'xinhua'`)
	do(t, ctx, "save the group", chromedp.Click("#eg-submit"))
	adminPoll(t, ctx, "the compound under the other street", `(() => { const items = [...document.querySelectorAll('#group-tree li')].map((li) => li.dataset.group);
		const li = document.querySelector('#group-tree li[data-group="heping-3"]');
		return li !== null && li.textContent.includes('新华 3 号小区') && items.indexOf('heping-3') === items.indexOf('xinhua') + 1
			&& !document.getElementById('eg-ok').hidden; })()`, 10*time.Second)
	// It cannot go inside itself: the parent list leaves it out.
	if n := evalInt(t, ctx, `document.querySelectorAll('#eg-parent option[value="heping-3"]').length`); n != 0 {
		t.Errorf("the compound is offered as its own parent")
	}
	evalVoid(t, ctx, "select the street", `location.hash = '#/screens?group=xinhua'`)
	adminPoll(t, ctx, "the street's panel", `document.querySelector('button[data-delete-group="xinhua"]') !== null`, 10*time.Second)

	// Deleting a street with a compound inside: the page says why.
	evalVoid(t, ctx, "press delete twice", `(() => { const b = document.querySelector('button[data-delete-group="xinhua"]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "the page's refusal", `(() => { const m = document.getElementById('gdel-error');
		return !m.hidden && m.textContent.includes(`+js(text.hasChildren)+`); })()`, 10*time.Second)
	// A compound a schedule targets: the API's refusal, in words.
	pl := srv.playlist("小区通知", srv.item("notice", "停水", "明天停水。", "", 2))
	srv.must(http.MethodPost, "/schedules", map[string]any{"playlist": pl, "target": map[string]any{"groups": []string{"heping-3"}}}, nil)
	evalVoid(t, ctx, "select the compound", `location.hash = '#/screens?group=heping-3'`)
	adminPoll(t, ctx, "its delete button", `document.querySelector('button[data-delete-group="heping-3"]') !== null`, 10*time.Second)
	evalVoid(t, ctx, "press delete twice", `(() => { const b = document.querySelector('button[data-delete-group="heping-3"]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "the API's refusal in words", `(() => { const m = document.getElementById('gdel-error');
		return !m.hidden && m.textContent.includes(`+js(text.inUse)+`) && m.textContent.includes('schedule'); })()`, 10*time.Second)

	// The emptied street goes.
	evalVoid(t, ctx, "select the emptied street", `location.hash = '#/screens?group=heping'`)
	adminPoll(t, ctx, "its delete button", `document.querySelector('button[data-delete-group="heping"]') !== null`, 10*time.Second)
	evalVoid(t, ctx, "press delete twice", `(() => { const b = document.querySelector('button[data-delete-group="heping"]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "the street gone", `location.hash === '#/screens' && document.querySelector('#group-tree li[data-group=""]') !== null
		&& document.querySelector('#group-tree li[data-group="heping"]') === null`, 10*time.Second)
	if code := srv.call(http.MethodGet, "/groups/heping", nil, nil); code != http.StatusNotFound {
		t.Errorf("GET /groups/heping after the delete: %d, want 404", code)
	}

	// A technician's phone: nothing scrolls the page sideways.
	do(t, ctx, "a 390 px phone", chromedp.EmulateViewport(390, 844))
	for _, page := range []struct{ hash, ready, shot string }{
		{"#/fleet", `document.querySelector('#screens tbody tr') !== null`, "fleet"},
		{"#/screens?group=xinhua", `document.querySelector('#group-screens tbody tr') !== null`, "screens"},
		{"#/screen/" + id, `document.getElementById('status').children.length > 0 && document.getElementById('ss-form') !== null`, "screen"},
	} {
		evalVoid(t, ctx, "open "+page.hash, `location.hash = `+js(page.hash))
		adminPoll(t, ctx, page.hash+" at 390 px", page.ready, 10*time.Second)
		// Layout settles after the content arrives.
		adminPoll(t, ctx, page.hash+" without sideways scrolling", `innerWidth === 390 && document.documentElement.scrollWidth <= innerWidth`, 5*time.Second)
		adminScreenshot(ctx, "."+page.shot+".390."+lang+".png")
	}
	// Commands from the phone.
	do(t, ctx, "identify from the phone", chromedp.Click(`button[data-command="identify"]`))
	adminPoll(t, ctx, "the command listed", `document.querySelector('#commands tr[data-type="identify"]') !== null
		&& document.documentElement.scrollWidth <= innerWidth`, 10*time.Second)
	do(t, ctx, "back to the desktop", chromedp.EmulateViewport(1280, 720))

	// Edit the screen on its page: tags, orientation; rotate its token.
	// Values set as a person would: with input events (the form keeps
	// what someone is typing across the page's refreshes).
	evalVoid(t, ctx, "tags and orientation", `document.getElementById('ss-tags').value = '大堂, 室内'; document.getElementById('ss-orientation').value = 'portrait';
		document.getElementById('ss-orientation').dispatchEvent(new Event('input', { bubbles: true }))`)
	do(t, ctx, "save", chromedp.Click("#ss-submit"))
	adminPoll(t, ctx, "saved", `!document.getElementById('ss-ok').hidden`, 10*time.Second)
	var edited struct {
		Tags        []string `json:"tags"`
		Orientation string   `json:"orientation"`
		Group       string   `json:"group"`
	}
	srv.must(http.MethodGet, "/screens/"+id, nil, &edited)
	if strings.Join(edited.Tags, "|") != "大堂|室内" || edited.Orientation != "portrait" || edited.Group != "xinhua" {
		t.Errorf("after the edit: %+v, want tags 大堂, 室内, portrait, group kept", edited)
	}
	// A default playlist is content: it goes to review, and the page says so.
	adminPoll(t, ctx, "the playlist offered", `document.querySelector('#ss-default option[value=`+js(pl)+`]') !== null`, 10*time.Second)
	evalVoid(t, ctx, "choose a default playlist", `document.getElementById('ss-default').value = `+js(pl)+`;
		document.getElementById('ss-default').dispatchEvent(new Event('input', { bubbles: true }))`)
	do(t, ctx, "save", chromedp.Click("#ss-submit"))
	adminPoll(t, ctx, "the change set named", `document.querySelector('#ss-ok .changeset-note a') !== null`, 10*time.Second)
	evalVoid(t, ctx, "rotate the token", `(() => { const b = document.querySelector('button[data-rotate]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "the new token and command line", `(() => { const tok = document.getElementById('rotate-token');
		const cmd = document.getElementById('rotate-command');
		return tok !== null && tok.textContent.startsWith('kdt_') && tok.textContent !== `+js(token)+` && cmd.textContent.includes(tok.textContent); })()`, 10*time.Second)
	adminScreenshot(ctx, ".screen-settings."+lang+".png")

	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}

// TestAlertsLinkToScreenInChromium: a screen goes offline, the alerts
// page lists it in the page's language, and its name leads to the
// screen's page. Signed in with a token, the fleet page polls.
func TestAlertsLinkToScreenInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServerWith(t, func(c *server.Config) {
		c.OfflineAfter = 2 * time.Second
		c.HealthEvalEvery = 100 * time.Millisecond
		c.AlertDebounce = alertDebounce
		c.AlertGroupWindow = alertWindow
	})
	scr := srv.screen("<b>北门</b>", "")
	p := startPlayer(t, srv.url(), scr.Token, cachePath(t, scr.ID))
	keepPageAlive(t, p)
	waitFor(t, 15*time.Second, "the screen online", func() bool { return srv.health(scr.ID).State == "online" })
	p.stop()
	waitFor(t, 20*time.Second, "an offline alert", func() bool {
		var list []struct{ Kind string }
		srv.must(http.MethodGet, "/alerts", nil, &list)
		return len(list) > 0
	})

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	evalVoid(t, ctx, "English", `localStorage.setItem('kiosk.admin.lang', 'en')`)
	do(t, ctx, "open the page again", chromedp.Navigate(srv.url()+"/admin/?en#/alerts"))
	adminPoll(t, ctx, "the page in English", `document.documentElement.lang === 'en'`, 10*time.Second)
	signInWithToken(t, ctx, adminToken)
	link := `document.querySelector('#alerts a.alert-screen[data-screen=` + js(scr.ID) + `]')`
	adminPoll(t, ctx, "the alert linking to the screen", link+` !== null && `+link+`.textContent === '<b>北门</b>'
		&& document.querySelector('#alerts thead th').textContent === 'Time'`, 15*time.Second)
	// The summary is the page's sentence in English, from the alert's kind
	// and screens, not the server's text.
	if got := evalString(t, ctx, `document.querySelector('#alerts tbody tr td[data-label="Summary"] span').textContent`); got != "Screen <b>北门</b> is offline" {
		t.Errorf("alert summary %q, want the page's English sentence", got)
	}
	evalVoid(t, ctx, "follow the link", link+`.click()`)
	adminPoll(t, ctx, "the screen's page", `location.hash === '#/screen/' + encodeURIComponent(`+js(scr.ID)+`)
		&& document.getElementById('screen-name') !== null && document.getElementById('screen-name').textContent === '<b>北门</b>'`, 10*time.Second)

	// Signed in with a token, the fleet cannot use the stream
	// (EventSource sends no Authorization header): it says it polls.
	evalVoid(t, ctx, "open the fleet", `location.hash = '#/fleet'`)
	adminPoll(t, ctx, "the fleet polling", `(() => { const l = document.getElementById('live');
		return l !== null && !l.hidden && l.dataset.live === 'off' && l.textContent === 'Every 10 s'
			&& document.querySelector('#screens tr[data-screen-id=`+js(scr.ID)+`]') !== null; })()`, 10*time.Second)
}
