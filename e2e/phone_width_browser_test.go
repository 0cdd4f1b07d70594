package e2e

import (
	"fmt"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// overflowJS lists what sticks out past the right edge of the viewport
// outside a box that scrolls sideways on its own (a wide table in its
// scroller is fine; the page itself must not scroll sideways).
const overflowJS = `(() => {
	const w = document.documentElement.clientWidth;
	const scrolls = (n) => { for (let p = n.parentElement; p; p = p.parentElement) {
		const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
	const out = [];
	for (const n of document.querySelectorAll('body *')) {
		const r = n.getBoundingClientRect();
		if (r.width === 0 || r.right <= w + 1 || scrolls(n)) continue;
		out.push(n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') + (n.className && typeof n.className === 'string' ? '.' + n.className.trim().split(/\s+/).join('.') : '') + ' right=' + Math.round(r.right));
		if (out.length >= 5) break;
	}
	return JSON.stringify({ scroll: document.documentElement.scrollWidth, width: w, out });
})()`

// TestEveryPageFitsAPhone: a technician on a 390 px wide phone can use
// every page of the admin page without scrolling it sideways. The pages
// are the ones the navigation offers an admin, plus a screen's detail.
func TestEveryPageFitsAPhone(t *testing.T) {
	srv := startServer(t)
	img := srv.uploadPNG(color.RGBA{R: 30, G: 90, B: 200, A: 255})
	it := srv.item("notice", "3 号楼电梯检修通知：本周六 9:00 至 17:00 暂停使用", "请住户提前安排出行，给您带来不便敬请谅解。", img, 10)
	srv.scheduleAll(srv.playlist("物业通知", it), 1)
	creds := srv.screen("幸福里小区 东门大屏（法律援助工作站旁）", "")
	p := startPlayer(t, srv.url(), creds.Token, cachePath(t, "phone"))
	waitFor(t, 20*time.Second, "the player online", func() bool { return p.state().Online })

	ctx := newBrowser(t)
	do(t, ctx, "a phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(3)),
		chromedp.Navigate(srv.url()+"/admin/"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the navigation", `document.querySelectorAll('#nav a').length > 5`, 15*time.Second)
	routes := strings.Split(evalString(t, ctx, `[...document.querySelectorAll('#nav a')].map((a) => a.getAttribute('href')).join(' ')`), " ")
	routes = append(routes, "#/screen/"+creds.ID)
	for _, r := range routes {
		evalVoid(t, ctx, "open "+r, fmt.Sprintf(`location.hash = %q`, r))
		// Each page renders into #view; give it its first load.
		adminPoll(t, ctx, r+" rendered", `document.getElementById('view').children.length > 0
			&& !document.body.innerText.includes('加载中')`, 15*time.Second)
		time.Sleep(300 * time.Millisecond)
		got := evalString(t, ctx, overflowJS)
		if !strings.Contains(got, `"out":[]`) {
			t.Errorf("%s scrolls sideways at 390 px: %s", r, got)
		}
		adminScreenshot(ctx, ".phone."+strings.TrimPrefix(strings.ReplaceAll(r, "/", "-"), "#-")+".png")
	}
}
