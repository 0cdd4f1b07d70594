package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSafeModeInChromium: a reviewer switches safe mode on from the admin
// page (the button stays disabled until 安全模式 is typed), the player's
// screen goes to the slate, every page shows the banner with where and by
// whom, and lifting it brings the content back.
func TestSafeModeInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	dialogs := countDialogs(t, ctx, "safe mode")
	item := srv.item("notice", "本周通知", "正文", "", 2)
	srv.scheduleAll(srv.playlist("日常", item), 1)
	scr := srv.screen("大堂屏", "")
	p := startPlayer(t, srv.url(), scr.Token, cachePath(t, "safe-ui"))
	waitFor(t, 20*time.Second, "content on screen", func() bool { return p.safeState().CurrentItem == item })
	const pw = "reviewer-password-1"
	srv.user("shenhe", pw, "reviewer")

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/safe-mode"))
	signInAs(t, ctx, "shenhe", pw)
	evalVoid(t, ctx, "open safe mode", `location.hash = '#/safe-mode'`)
	adminPoll(t, ctx, "the safe mode form", `document.getElementById('safe-form') !== null`, 10*time.Second)
	if n := evalInt(t, ctx, `document.getElementById('safe-start').disabled ? 1 : 0`); n != 1 {
		t.Fatal("the switch-on button is enabled before the confirmation is typed")
	}
	do(t, ctx, "type the confirmation", chromedp.SendKeys("#safe-confirm", "安全模式"))
	adminPoll(t, ctx, "the button enabled", `!document.getElementById('safe-start').disabled`, 5*time.Second)
	do(t, ctx, "switch safe mode on", chromedp.Click("#safe-start"))
	waitFor(t, 10*time.Second, "the screen on the slate", func() bool {
		st := p.safeState()
		return st.SafeMode && st.CurrentItem == ""
	})
	adminPoll(t, ctx, "the banner with who switched it on", `(() => { const b = document.getElementById('safe-mode-on');
		return !b.hidden && b.textContent.includes('shenhe') && b.textContent.includes('全部屏幕'); })()`, 10*time.Second)
	evalVoid(t, ctx, "go to the fleet", `location.hash = '#/fleet'`)
	adminPoll(t, ctx, "the banner on the fleet page", `!document.getElementById('safe-mode-on').hidden`, 5*time.Second)
	adminScreenshot(ctx, ".safe-mode.png")

	evalVoid(t, ctx, "back to safe mode", `location.hash = '#/safe-mode'`)
	adminPoll(t, ctx, "the lift button", `document.querySelector('button[data-lift]') !== null`, 10*time.Second)
	do(t, ctx, "lift it", chromedp.Click("button[data-lift]"))
	waitFor(t, 10*time.Second, "content back on screen", func() bool {
		st := p.safeState()
		return !st.SafeMode && st.CurrentItem == item
	})
	adminPoll(t, ctx, "the banner gone", `document.getElementById('safe-mode-on').hidden`, 10*time.Second)
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}
