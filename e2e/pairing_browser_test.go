package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPairingInChromium: a fresh player (no token) shows its code on the
// kiosk page in one tab; a technician reads it off that page and enters it
// in the admin page's "添加屏幕" card in another tab, naming the screen
// and putting it in a group. The kiosk page then drops the code and plays
// the schedule, and the admin page links to the new screen.
func TestPairingInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	dialogs := countDialogs(t, ctx, "pairing")
	srv := startServer(t)
	item := srv.item("psa", "防诈骗提醒", "陌生来电要求转账，一律挂断。", "", 2)
	srv.scheduleAll(srv.playlist("日常", item), 0)
	srv.must("POST", "/groups", map[string]any{"id": "xinhua", "name": "新华街道"}, nil)
	const techName, techPW = "jishu", "technician-password-1"
	srv.user(techName, techPW, "technician")
	p := startUnpaired(t, srv, cachePath(t, "fresh"))
	waitForCode(t, p)

	// The screen, as the technician in front of it sees it.
	kiosk, cancel := chromedp.NewContext(ctx)
	defer cancel()
	do(t, kiosk, "open the kiosk page", chromedp.Navigate(p.page+"/"))
	adminPoll(t, kiosk, "the pairing code on the kiosk page", `(() => { const b = document.getElementById('pairing');
		return b !== null && b.classList.contains('visible') && /^[A-Z0-9]{4} [A-Z0-9]{4}$/.test(document.getElementById('pairing-code').textContent); })()`, 15*time.Second)
	shown := evalString(t, kiosk, `document.getElementById('pairing-code').textContent`)

	// The admin page, as the technician signs in.
	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	signInAs(t, ctx, techName, techPW)
	evalVoid(t, ctx, "open the screens page", `location.hash = '#/screens'`)
	adminPoll(t, ctx, "the pair card on the screens page", `document.getElementById('pair-card') !== null`, 10*time.Second)
	do(t, ctx, "open the card", chromedp.Click("#pair-card > summary"))
	adminPoll(t, ctx, "the groups in the form", `document.querySelector('#pair-group option[value="xinhua"]') !== null`, 10*time.Second)

	// A mistyped code says so and creates nothing.
	do(t, ctx, "a wrong code", chromedp.SendKeys("#pair-code", "ZZZZ ZZZZ"), chromedp.SendKeys("#pair-name", "新华大厅"),
		chromedp.Click("#pair-submit"))
	adminPoll(t, ctx, "the unknown-code message", `!document.getElementById('pair-error').hidden
		&& document.getElementById('pair-error').textContent.includes('配对码')`, 10*time.Second)

	evalVoid(t, ctx, "clear the code", `document.getElementById('pair-code').value = ''`)
	do(t, ctx, "the code read off the screen", chromedp.SendKeys("#pair-code", strings.ToLower(shown)))
	evalVoid(t, ctx, "group and orientation", `document.getElementById('pair-group').value = 'xinhua';
		document.getElementById('pair-orientation').value = 'portrait'`)
	do(t, ctx, "pair", chromedp.Click("#pair-submit"))
	adminPoll(t, ctx, "the success line with a link to the screen", `(() => { const a = document.getElementById('pair-link');
		return !document.getElementById('pair-ok').hidden && a !== null && a.textContent === '新华大厅'
			&& a.getAttribute('href').startsWith('#/screen/scr_'); })()`, 10*time.Second)
	adminScreenshot(ctx, ".pair.png")
	href := evalString(t, ctx, `document.getElementById('pair-link').getAttribute('href')`)
	id := strings.TrimPrefix(href, "#/screen/")

	// The screen drops the code and plays.
	adminPoll(t, kiosk, "the kiosk page playing the schedule", `(() => { const b = document.getElementById('pairing');
		return (b === null || !b.classList.contains('visible')) && document.body.dataset.showing === `+js(item)+`; })()`, 20*time.Second)
	waitFor(t, 10*time.Second, "the server to see the paired screen online", func() bool { return srv.status(id).Online })
	var scr struct {
		Group       string `json:"group"`
		Orientation string `json:"orientation"`
	}
	srv.must("GET", "/screens/"+id, nil, &scr)
	if scr.Group != "xinhua" || scr.Orientation != "portrait" {
		t.Errorf("paired screen: got group %q orientation %q, want xinhua portrait", scr.Group, scr.Orientation)
	}
	adminPoll(t, ctx, "the new screen in the list", `document.querySelector('#group-screens tr[data-screen-id=`+js(id)+`]') !== null`, 15*time.Second)

	// The scripted install's way stays: create with a token, shown once.
	evalVoid(t, ctx, "the token way", `document.querySelector('input[name="pair-mode"][value="token"]').click()`)
	adminPoll(t, ctx, "the code field hidden", `document.getElementById('pair-code').closest('.pair-rows').hidden`, 5*time.Second)
	do(t, ctx, "create with a token", chromedp.SendKeys("#pair-name", "脚本屏"), chromedp.Click("#pair-submit"))
	adminPoll(t, ctx, "the token shown once", `(() => { const tok = document.getElementById('pair-token');
		return tok !== null && tok.textContent.startsWith('kdt_') && document.getElementById('pair-command') !== null; })()`, 10*time.Second)

	do(t, ctx, "open the screen", chromedp.Click("#pair-link"))
	adminPoll(t, ctx, "the screen page", `location.hash.startsWith('#/screen/scr_')`, 10*time.Second)
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}
