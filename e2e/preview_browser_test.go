package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestItemPreviewInChromium: in both languages an editor types into the
// item form; the live check says a short item fits, then, for an
// over-long title, that it does not (the title would go below the
// legibility floor) on both panels, before anything is saved. The preview
// frames, the screens' own page at 1920x1080 and 1080x1920, show the very
// text typed and report it cut. A long body is reported as pages. Saving
// is allowed and the API's warnings show beside the form, in the page's
// language.
func TestItemPreviewInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	srv := startServer(t)
	longTitle := strings.Repeat("关于进一步加强辖区居民小区消防安全管理工作的通知", 7)
	longBody := strings.Repeat("为进一步做好辖区防汛工作，保障居民生命财产安全，街道办事处定于本月十五日至二十日开展地下车库排水设施专项检查。", 14)

	for _, tc := range []struct {
		lang, fits, titleCut, paged, warnTitle, frameCut string
	}{
		{"zh", "放得下", "标题太长", "正文需分", "标题太长", "文字被截断"},
		{"en", "fits", "title is too long", "the body needs", "title is too long", "text cut off"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			ctx := newBrowser(t)
			dialogs := countDialogs(t, ctx, "the preview ran content as script")
			do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/items"))
			evalVoid(t, ctx, "choose the language", `localStorage.setItem('kiosk.admin.lang', `+js(tc.lang)+`)`)
			do(t, ctx, "reload", chromedp.Reload())
			signInWithToken(t, ctx, adminToken)
			adminPoll(t, ctx, "the item form and both preview frames", `document.getElementById('item-form') !== null
				&& document.querySelectorAll('#preview iframe.pv-iframe').length === 2`, 20*time.Second)

			// A short notice: fits on both panels, and shows in both frames.
			do(t, ctx, "type a short title", chromedp.SendKeys("#i-title", "3 号楼停水通知"))
			adminPoll(t, ctx, "the live check says it fits", `(() => { const f = document.getElementById('i-fit');
				const li = [...f.querySelectorAll('li')];
				return !f.hidden && li.length === 2 && li.every((l) => l.dataset.status === 'ok' && l.textContent.includes(`+js(tc.fits)+`)); })()`, 20*time.Second)
			frameTitle := `[...document.querySelectorAll('#preview iframe')].map((f) => {
				const d = f.contentDocument; const l = d && d.querySelector('.layer.visible');
				return l ? l.querySelector('.title').textContent : ''; })`
			adminPoll(t, ctx, "both frames show the title", frameTitle+`.every((x) => x === '3 号楼停水通知')`, 20*time.Second)

			// An over-long title: the warning before saving, in both panels.
			evalVoid(t, ctx, "type an over-long title", `(() => { const i = document.getElementById('i-title');
				i.value = `+js(longTitle)+`; i.dispatchEvent(new Event('input', { bubbles: true })); })()`)
			adminPoll(t, ctx, "the does-not-fit warning", `(() => { const f = document.getElementById('i-fit');
				const li = [...f.querySelectorAll('li')];
				return f.dataset.state === 'cut' && li.length === 2 && li.every((l) => l.dataset.status === 'cut' && l.dataset.titleTooLong === '1'
					&& l.textContent.includes(`+js(tc.titleCut)+`)); })()`, 20*time.Second)
			adminPoll(t, ctx, "the frames show the same text, cut", `(() => {
				const fr = [...document.querySelectorAll('#preview iframe')];
				return `+frameTitle+`.every((x) => x === `+js(longTitle)+`) && fr.every((f) => f.dataset.fit === 'cut')
					&& [...document.querySelectorAll('#preview .pv-note')].every((n) => n.textContent.includes(`+js(tc.frameCut)+`)); })()`, 20*time.Second)
			// The screens' title floor holds in the frames: 4 % of the height.
			if n := evalInt(t, ctx, `[...document.querySelectorAll('#preview iframe')].filter((f) => {
				const w = f.contentWindow; const ti = f.contentDocument.querySelector('.layer.visible .title');
				return parseFloat(w.getComputedStyle(ti).fontSize) >= 0.04 * w.innerHeight - 0.5; }).length`); n != 2 {
				t.Errorf("%d of 2 frames keep the title at 4%% of the screen height or more", n)
			}
			adminScreenshot(ctx, ".preview-"+tc.lang+"-cut.png")

			// A sensible title and a long body: paged, not cut.
			evalVoid(t, ctx, "a long body", `(() => { const i = document.getElementById('i-title'); const b = document.getElementById('i-body');
				i.value = '防汛检查通知'; b.value = `+js(longBody)+`; b.dispatchEvent(new Event('input', { bubbles: true })); })()`)
			adminPoll(t, ctx, "the body reported as pages", `(() => { const li = [...document.querySelectorAll('#i-fit li')];
				return li.length === 2 && li.some((l) => l.dataset.status === 'paged' && l.textContent.includes(`+js(tc.paged)+`)); })()`, 20*time.Second)
			adminPoll(t, ctx, "a frame shows the body in pages", `[...document.querySelectorAll('#preview iframe')].some((f) => f.dataset.fit === 'paged')`, 20*time.Second)

			// Back to the long title, and save: allowed, with the API's warning.
			evalVoid(t, ctx, "the long title again", `(() => { const i = document.getElementById('i-title');
				i.value = `+js(longTitle)+`; document.getElementById('i-body').value = '请注意。'; i.dispatchEvent(new Event('input', { bubbles: true })); })()`)
			do(t, ctx, "save", chromedp.Click("#i-save"))
			adminPoll(t, ctx, "saved, with the API's warnings", `(() => { const w = document.getElementById('item-warnings');
				const ok = document.getElementById('item-ok');
				return w !== null && !ok.hidden && [...w.querySelectorAll('li')].filter((l) => l.dataset.code === 'title_below_floor'
					&& l.textContent.includes(`+js(tc.warnTitle)+`)).length === 2; })()`, 20*time.Second)
			var items []struct{ Title string }
			srv.must(http.MethodGet, "/items", nil, &items)
			found := false
			for _, it := range items {
				found = found || it.Title == longTitle
			}
			if !found {
				t.Errorf("the item with the long title was not saved")
			}
			adminScreenshot(ctx, ".preview-"+tc.lang+"-saved.png")

			if tc.lang == "zh" {
				// On a phone the form and both frames fit the width.
				do(t, ctx, "a phone-sized window", chromedp.EmulateViewport(390, 844))
				adminPoll(t, ctx, "no sideways scroll at 390 px", `document.documentElement.scrollWidth <= window.innerWidth
					&& document.querySelector('#preview .pv-portrait .pv-box').getBoundingClientRect().right <= window.innerWidth`, 10*time.Second)
				adminScreenshot(ctx, ".preview-zh-phone.png")
			}
			if tc.lang == "en" {
				// A compound on header and ticker: the check estimates for
				// it, and the frames follow, until the editor picks one.
				srv.must(http.MethodPost, "/groups", map[string]any{"id": "sunshine", "name": "阳光小区", "layout": "header_ticker"}, nil)
				evalVoid(t, ctx, "type again", `(() => { const i = document.getElementById('i-title');
					i.value = '3 号楼停水通知'; i.dispatchEvent(new Event('input', { bubbles: true })); })()`)
				adminPoll(t, ctx, "the frames in the compound's layout", `document.getElementById('pv-layout').value === 'header_ticker'
					&& [...document.querySelectorAll('#preview iframe')].every((f) => f.contentDocument.body.dataset.layout === 'header_ticker'
						&& f.contentDocument.getElementById('ticker').textContent.includes('3 号楼停水通知'))`, 20*time.Second)
				evalVoid(t, ctx, "pick full screen", `(() => { const s = document.getElementById('pv-layout');
					s.value = 'full'; s.dispatchEvent(new Event('change', { bubbles: true })); })()`)
				adminPoll(t, ctx, "the editor's layout kept", `document.getElementById('pv-layout').value === 'full'
					&& [...document.querySelectorAll('#preview iframe')].every((f) => f.contentDocument.body.dataset.layout === 'full')`, 20*time.Second)
			}
			if d := dialogs.Load(); d != 0 {
				t.Errorf("%d dialogs opened", d)
			}
		})
	}
}

// TestPlaylistPreviewInChromium: the preview screen rotates a playlist on
// its items' durations in both frames, and the header-and-ticker layout
// frames it with the compound's name, the clock and the ticker of its
// notices, as a screen with that layout would.
func TestPlaylistPreviewInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	srv := startServer(t)
	a := srv.item("notice", "3 号楼 12 月 5 日停水", "请提前储水。", "", 2)
	b := srv.item("legal_story", "法律援助工作站为您解答邻里纠纷", "每周六上午开放。", "", 2)
	pl := srv.playlist("晨间播放", a, b)

	ctx := newBrowser(t)
	do(t, ctx, "open the preview", chromedp.Navigate(srv.url()+"/admin/#/preview?playlist="+pl))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the playlist chosen", `(() => { const s = document.getElementById('pv-playlist');
		return s !== null && s.value === `+js(pl)+`; })()`, 20*time.Second)
	evalVoid(t, ctx, "choose header and ticker", `(() => { const s = document.getElementById('pv-layout');
		s.value = 'header_ticker'; s.dispatchEvent(new Event('change', { bubbles: true })); })()`)
	shown := func(id string) string {
		return `[...document.querySelectorAll('#preview iframe')].every((f) => { const d = f.contentDocument;
			const l = d && d.querySelector('.layer.visible'); const tk = d && d.querySelector('#ticker .tk-run');
			return l !== null && l.dataset.itemId === ` + js(id) + ` && d.body.classList.contains('layout-header')
				&& d.getElementById('hdr-place').textContent === '阳光小区' && /^\d\d:\d\d$/.test(d.getElementById('hdr-time').textContent)
				&& tk !== null && tk.textContent === '3 号楼 12 月 5 日停水'; })`
	}
	adminPoll(t, ctx, "the first item framed by the header and ticker", shown(a)+` && document.getElementById('pv-status').textContent.includes('1/2')`, 20*time.Second)
	adminPoll(t, ctx, "the rotation on to the second item", shown(b)+` && document.getElementById('pv-status').textContent.includes('2/2')`, 20*time.Second)
	adminScreenshot(ctx, ".preview-playlist.png")
}
