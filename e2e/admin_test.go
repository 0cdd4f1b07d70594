package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAdminPageInChromium drives the technician's admin page at /admin/ in
// headless Chromium against a real server and player: a wrong token is
// refused, the right one signs in and stays out of the URL, a screen named
// with markup shows literally, its badge turns online when the player
// connects, the state filter works, the detail page shows the screen's
// screenshot and sends identify and sees it done, the urgent form reports
// an API error beside itself, sends notices (expiry in Beijing time, to all
// and to a group) and withdraws one, the alerts page renders, and a
// rejected token sends the page back to sign-in. No dialog ever opens.
func TestAdminPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	const evilName = `<img src=x onerror=alert(1)>`
	it := srv.item("notice", "停水通知", "明日 9:00–12:00 停水。", "", 2)
	srv.scheduleAll(srv.playlist("管理页测试", it), 0)
	srv.group("g-hq", "和平街道", "")
	scr := srv.screen(evilName, "g-hq")

	dialogs := countDialogs(t, ctx, "screen name ran as script")

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	adminPoll(t, ctx, "the sign-in form", `!document.getElementById('signin').hidden`, 10*time.Second)

	// A wrong token is refused on the form and not kept.
	openTokenSignIn(t, ctx)
	do(t, ctx, "type a wrong token", chromedp.SendKeys("#token", "not-the-token"), chromedp.Click("#token-submit"))
	adminPoll(t, ctx, "the refusal on the sign-in form", `(() => { const m = document.getElementById('signin-msg');
		return !m.hidden && m.textContent.includes('令牌不正确') && m.textContent.includes('令牌无效'); })()`, 10*time.Second)
	if kept := evalString(t, ctx, `sessionStorage.getItem('kiosk.admin.token') || ''`); kept != "" {
		t.Errorf("a refused token was kept in sessionStorage: %q", kept)
	}

	evalVoid(t, ctx, "clear the token field", `document.getElementById('token').value = ''`)
	do(t, ctx, "sign in", chromedp.SendKeys("#token", adminToken), chromedp.Click("#token-submit"))
	row := `document.querySelector('#screens tr[data-screen-id=` + js(scr.ID) + `]')`
	adminPoll(t, ctx, "the screen listed under its literal name, offline", `(() => { const r = `+row+`;
		return r !== null && r.querySelector('.screen-name').textContent === `+js(evilName)+`
			&& r.querySelector('.badge').dataset.state === 'offline'
			&& r.cells[1].textContent === '和平街道'; })()`, 10*time.Second)
	if n := evalInt(t, ctx, `document.querySelectorAll('img').length`); n != 0 {
		t.Errorf("the fleet page has %d img elements, want 0 (the screen name became markup)", n)
	}
	if href := evalString(t, ctx, `location.href`); strings.Contains(href, adminToken) {
		t.Errorf("the token is in the URL: %s", href)
	}
	if kept := evalString(t, ctx, `sessionStorage.getItem('kiosk.admin.token') || ''`); kept != adminToken {
		t.Errorf("sessionStorage token = %q, want the admin token", kept)
	}
	if c := evalString(t, ctx, `document.cookie`); c != "" {
		t.Errorf("document.cookie = %q, want none", c)
	}

	// The player connects; the next refresh shows the screen online.
	p := startPlayer(t, srv.url(), scr.Token, cachePath(t, scr.ID))
	waitFor(t, 15*time.Second, "the server to see the screen online", func() bool { return srv.health(scr.ID).State == "online" })
	do(t, ctx, "press refresh", chromedp.Click("#refresh"))
	adminPoll(t, ctx, "the badge to turn online", `(() => { const r = `+row+`;
		return r !== null && r.querySelector('.badge').dataset.state === 'online'; })()`, 10*time.Second)
	adminScreenshot(ctx, ".fleet.png")
	// The offline count filters the table (GET /screens?state=offline).
	do(t, ctx, "filter offline", chromedp.Click(`.count[data-state="offline"]`))
	adminPoll(t, ctx, "the filtered, empty table", `location.hash === '#/fleet?state=offline'
		&& document.getElementById('filter-state').value === 'offline'
		&& `+row+` === null && !document.querySelector('.empty').hidden`, 10*time.Second)
	do(t, ctx, "filter all", chromedp.Click(`.count[data-state="all"]`))
	adminPoll(t, ctx, "the screen back in the table", row+` !== null`, 10*time.Second)

	// A screenshot the screen uploaded shows on the detail page; the page
	// fetches it with the token and shows it from a blob: URL.
	shot := pngBytes(t, 320, 180, color.RGBA{200, 60, 40, 255})
	req, _ := http.NewRequest(http.MethodPost, srv.url()+"/api/v1/device/screenshot", bytes.NewReader(shot))
	req.Header.Set("Authorization", "Bearer "+scr.Token)
	req.Header.Set("Content-Type", "image/png")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload a screenshot as the screen: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Clicking the row (not its link) opens the detail; identify runs.
	evalVoid(t, ctx, "click the row", row+`.cells[2].click()`)
	adminPoll(t, ctx, "the screen detail", `(() => { const n = document.getElementById('screen-name');
		return n !== null && n.textContent === `+js(evilName)+` && location.hash === '#/screen/' + encodeURIComponent(`+js(scr.ID)+`); })()`, 10*time.Second)
	adminPoll(t, ctx, "the screenshot", `(() => { const im = document.querySelector('#screenshot img');
		return im !== null && im.src.startsWith('blob:') && im.complete && im.naturalWidth === 320; })()`, 10*time.Second)
	do(t, ctx, "press identify", chromedp.Click(`button[data-command="identify"]`))
	adminPoll(t, ctx, "the identify command listed as done", `document.querySelector('#commands tr[data-type="identify"][data-status="done"]') !== null`, 10*time.Second)
	if u := p.identifyUntil(); u == nil || time.Until(*u) < 10*time.Second {
		t.Errorf("player /state identify_until = %v, want about 30 s ahead", u)
	}
	if n := evalInt(t, ctx, `document.querySelectorAll('img[src="x"], #view script').length`); n != 0 {
		t.Errorf("the detail page turned the name into %d elements, want 0", n)
	}
	adminScreenshot(ctx, ".screen.png")

	// Urgent notices: an API error shows beside the form, then a notice goes out.
	evalVoid(t, ctx, "open the urgent page", `location.hash = '#/urgent'`)
	adminPoll(t, ctx, "the urgent form", `document.getElementById('urgent-form') !== null && document.querySelector('#urgent-list tbody tr') !== null`, 10*time.Second)
	const title = "<b>紧急</b> 停水通知"
	do(t, ctx, "fill the urgent form", chromedp.SendKeys("#u-title", title), chromedp.SendKeys("#u-body", "请提前储水。"))
	evalVoid(t, ctx, "set a past expiry", `document.getElementById('u-expires').value = '2020-01-01T08:00'`)
	do(t, ctx, "send", chromedp.Click("#u-send"))
	adminPoll(t, ctx, "the API's refusal beside the form", `(() => { const m = document.getElementById('urgent-error');
		return !m.hidden && m.textContent.includes('expires_at'); })()`, 10*time.Second)

	beijing := time.FixedZone("CST", 8*3600)
	want := time.Now().In(beijing).Add(2 * time.Hour).Truncate(time.Minute)
	evalVoid(t, ctx, "set the expiry", `document.getElementById('u-expires').value = `+js(want.Format("2006-01-02T15:04")))
	do(t, ctx, "send", chromedp.Click("#u-send"))
	adminPoll(t, ctx, "the notice listed as active", `(() => { const rows = [...document.querySelectorAll('#urgent-list tr[data-status="active"]')];
		return rows.some((r) => r.querySelector('.u-title').textContent === `+js(title)+`)
			&& document.getElementById('urgent-error').hidden; })()`, 10*time.Second)
	adminScreenshot(ctx, ".urgent.png")
	if n := evalInt(t, ctx, `document.querySelectorAll('#urgent-list b').length`); n != 0 {
		t.Errorf("the notice title became %d <b> elements, want 0", n)
	}
	// A second notice goes to a group picked from GET /groups.
	do(t, ctx, "target a group", chromedp.SendKeys("#u-title", "社区通知"), chromedp.Click(`input[name="target"][value="groups"]`))
	adminPoll(t, ctx, "the group choices", `!document.getElementById('u-groups').hidden
		&& document.querySelector('#u-groups input[value="g-hq"]') !== null`, 10*time.Second)
	do(t, ctx, "tick the group and send", chromedp.Click(`#u-groups input[value="g-hq"]`), chromedp.Click("#u-send"))
	adminPoll(t, ctx, "the group notice listed", `[...document.querySelectorAll('#urgent-list tr[data-status="active"]')]
		.some((r) => r.querySelector('.u-title').textContent === '社区通知' && r.cells[2].textContent === '分组：和平街道')`, 10*time.Second)

	var notices []struct {
		Title     string    `json:"title"`
		ExpiresAt time.Time `json:"expires_at"`
		Target    struct {
			All    bool     `json:"all"`
			Groups []string `json:"groups"`
		} `json:"target"`
	}
	srv.must(http.MethodGet, "/urgent", nil, &notices)
	if len(notices) != 2 {
		t.Fatalf("GET /urgent lists %d notices, want 2: %+v", len(notices), notices)
	}
	// Newest first.
	if n := notices[1]; n.Title != title || !n.Target.All || !n.ExpiresAt.Equal(want) {
		t.Errorf("first notice = %+v, want %q to all screens expiring %v (the form's time read as Beijing time)", n, title, want)
	}
	if n := notices[0]; n.Title != "社区通知" || n.Target.All || len(n.Target.Groups) != 1 || n.Target.Groups[0] != "g-hq" {
		t.Errorf("second notice = %+v, want 社区通知 to group g-hq", n)
	}

	// Withdraw asks twice, then the notice shows as withdrawn.
	withdraw := `[...document.querySelectorAll('#urgent-list tr')].find((r) => r.querySelector('.u-title')?.textContent === '社区通知')`
	evalVoid(t, ctx, "press withdraw twice", `(() => { const b = `+withdraw+`.querySelector('button[data-withdraw]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "the notice withdrawn", `(() => { const r = `+withdraw+`; return r !== undefined && r.dataset.status === 'withdrawn'; })()`, 10*time.Second)

	evalVoid(t, ctx, "open the alerts page", `location.hash = '#/alerts'`)
	adminPoll(t, ctx, "the alerts table", `document.querySelector('#alerts tbody tr') !== null`, 10*time.Second)

	// A token that stops working (rotated on the server) ends the session.
	evalVoid(t, ctx, "spoil the token", `sessionStorage.setItem('kiosk.admin.token', 'rotated-away')`)
	do(t, ctx, "press refresh", chromedp.Click("#refresh"))
	adminPoll(t, ctx, "the sign-in form with the reason", `(() => { const m = document.getElementById('signin-msg');
		return !document.getElementById('signin').hidden && document.getElementById('view').hidden
			&& !m.hidden && m.textContent.includes('令牌无效或已失效'); })()`, 10*time.Second)

	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func evalVoid(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](expr)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

func evalInt(t *testing.T, ctx context.Context, expr string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return n
}

// adminPoll waits for expr to be true on the admin page; on a timeout it
// reports what the page shows, banner and form messages included.
func adminPoll(t *testing.T, ctx context.Context, what, expr string, within time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(within))); err != nil {
		shows, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash + ' | ' + (document.getElementById('banner').hidden ? '' : document.getElementById('banner').textContent)
			+ ' | ' + document.body.innerText.slice(0, 600)`))
		t.Fatalf("waiting for %s: %v (page shows %q)", what, err, shows)
	}
}

// adminScreenshot saves what the browser shows when KIOSK_SCREENSHOT is
// set (handy when changing the look): KIOSK_SCREENSHOT=/tmp/admin gives
// /tmp/admin.fleet.png and /tmp/admin.screen.png.
func adminScreenshot(ctx context.Context, suffix string) {
	base := os.Getenv("KIOSK_SCREENSHOT")
	if base == "" {
		return
	}
	if buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(base+suffix, buf, 0o644)
	}
}

func pngBytes(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
