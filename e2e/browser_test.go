package e2e

import (
	"context"
	"encoding/json"
	"image/color"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestKioskPageInChromium publishes content through the admin API, lets a
// real player sync it, and looks at the player's kiosk page in headless
// Chromium: the first title is on screen, the page moves on after the
// item's duration, the image item shows its image, and a title made of
// markup shows literally and runs nothing.
func TestKioskPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)

	srv := startServer(t)
	const evilTitle = "<script>alert(1)</script>"
	pic := srv.uploadPNG(color.RGBA{30, 140, 60, 255})
	first := srv.item("legal_story", "遇到欠薪怎么办", "保留工资条和考勤记录，拨打12333咨询。", "", 2)
	second := srv.item("psa", "骑电动车请戴头盔", "一盔一带，安全常在。", pic, 2)
	evil := srv.item("notice", evilTitle, `<img src=x onerror="alert(2)">`, "", 2)
	pl := srv.playlist("浏览器测试", first, second, evil)
	srv.scheduleAll(pl, 0)
	scr := srv.screen("浏览器屏", "")
	p := startPlayer(t, srv.url(), scr.Token, cachePath(t, scr.ID))
	waitFor(t, 20*time.Second, "player to apply the published content", func() bool {
		st := srv.status(scr.ID)
		return st.PublishedVersion != "" && p.state().AppliedVersion == st.PublishedVersion
	})

	dialogs := countDialogs(t, ctx, "item text ran as script")
	if err := chromedp.Do(ctx, chromedp.Navigate(p.page+"/")); err != nil {
		t.Fatalf("open the kiosk page: %v", err)
	}

	shown := func(id, title string) string {
		return `(() => { const l = document.querySelector('.layer.visible'); const ti = document.getElementById('title');
			return l !== null && l.dataset.itemId === ` + js(id) + ` && ti !== null && ti.textContent === ` + js(title) + `; })()`
	}
	// The rotation may be anywhere when the page opens: wait until
	// something other than the first item shows, then for the first item
	// to come up, so start is when it came on screen, not when a slow
	// poll happened to see it; then check that the others follow in order.
	pollJS(t, ctx, "the page showing anything but the first item", `(() => { const l = document.querySelector('.layer.visible');
		return l !== null && l.dataset.itemId !== `+js(first)+`; })()`, 20*time.Second)
	pollJS(t, ctx, "the first item's title", shown(first, "遇到欠薪怎么办"), 20*time.Second)
	start := time.Now()
	pollJS(t, ctx, "the image item after the first item's 2 s", `(() => { const l = document.querySelector('.layer.visible');
		const im = l && l.querySelector('img');
		return l !== null && l.dataset.itemId === `+js(second)+` && im !== null && im.complete && im.naturalWidth === 320; })()`, 10*time.Second)
	if path := os.Getenv("KIOSK_SCREENSHOT"); path != "" {
		// Handy when changing the look: KIOSK_SCREENSHOT=/tmp/screen.png.
		// The pause lets the crossfade finish.
		time.Sleep(800 * time.Millisecond)
		if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(path, buf, 0o644)
		}
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("the page moved on after %v, want about the item's 2 s", took)
	}
	pollJS(t, ctx, "the markup title shown literally", shown(evil, evilTitle), 10*time.Second)
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.layer script, .layer img[src="x"]').length`))
	if err != nil || n != 0 {
		t.Errorf("item markup became %d elements (err %v), want 0", n, err)
	}
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
	// The player learned from the page what is on screen.
	waitFor(t, 10*time.Second, "the player's state to name an item", func() bool { return p.state().CurrentItem != "" })
}

func pollJS(t *testing.T, ctx context.Context, what, expr string, within time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(within))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const l = document.querySelector('.layer.visible');
			const ti = document.getElementById('title');
			return JSON.stringify({item: l && l.dataset.itemId, title: ti && ti.textContent}); })()`))
		t.Fatalf("waiting for %s: %v (page shows %s)", what, err, state)
	}
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
