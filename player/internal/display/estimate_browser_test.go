package display

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kiosk/playlists"
	"kiosk/screenpage"
)

// TestEstimateMatchesChromium holds the fit estimator (screenpage/fit.go,
// which the server uses to warn editors) to the page itself: for texts
// from short to far too long, on both panels and in each layout, the page
// in Chromium must come out as the estimate says (ok, shrunk, paged or
// cut), with the page count at most one off.
func TestEstimateMatchesChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chrome := chromiumPath(t)
	pic := testPNG(t) // 16:9
	picRef := assetRef(pic, "image/png")
	samples := []struct {
		name        string
		title, body string
		media       bool
	}{
		{"short", "社区卫生服务站周六照常开放", "开放时间：上午 8:00 至 11:30。\n请携带医保卡。", false},
		{"long notice", "关于开展汛期排水设施专项检查的通知", longNotice, false},
		{"two notices", "关于开展汛期排水设施专项检查的通知", longNotice + "\n" + longNotice, false},
		{"very long body", "每月一法：法律援助工作站为您解答邻里纠纷", strings.Repeat(longNotice, 4), false},
		{"long title", strings.Repeat("关于进一步加强辖区居民小区消防安全管理工作的通知", 4), "请各位居民注意。", false},
		{"title only, far too long", strings.Repeat("关于进一步加强辖区居民小区消防安全管理工作的通知", 8), "", false},
		{"latin", "Free legal advice at the community centre every Saturday", "Bring your ID card and any papers about the case. Interpreters for English and Uyghur on request: call 12345 one day before.", false},
		{"picture, short", "防范电信诈骗，守护您的钱袋子", "陌生来电要求转账，先挂断再核实。", true},
		{"picture, title only", "防范电信诈骗，守护您的钱袋子", "", true},
		{"picture, long notice", "关于开展汛期排水设施专项检查的通知", longNotice, true},
		{"picture, very long body", "关于开展汛期排水设施专项检查的通知", strings.Repeat(longNotice, 3), true},
	}
	s := New(Options{Media: memMedia{picRef.SHA256: pic}, Logger: quietLogger()})
	startRun(t, s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	for _, layout := range []string{playlists.LayoutFull, playlists.LayoutHeaderTicker} {
		for _, scr := range []screenpage.Screen{screenpage.Landscape, screenpage.Portrait} {
			t.Run(layout+"/"+scr.Name, func(t *testing.T) {
				ctx := newBrowser(t, chrome)
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(scr.Width), int64(scr.Height))); err != nil {
					t.Fatal(err)
				}
				for i, sm := range samples {
					it := item(fmt.Sprintf("s%d", i), playlists.KindNotice, 600)
					it.Title, it.Body = sm.title, sm.body
					if sm.media {
						it.Asset = picRef.SHA256
					}
					m := rotationManifest(it)
					m.Assets = []playlists.AssetRef{picRef}
					if layout != playlists.LayoutFull {
						m.Layout, m.Header = layout, "阳光小区"
					}
					m.Seal()
					s.SetManifest(m)
					if i == 0 {
						if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
							t.Fatal(err)
						}
					}
					waitJS(t, ctx, sm.name, fmt.Sprintf(`(() => { const l = document.querySelector('.layer.visible');
						const im = l && l.querySelector('.media img');
						return l !== null && l.dataset.itemId === %q && !!l.dataset.fit && (im === null || im.complete); })()`, it.ID))
					raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const l = document.querySelector('.layer.visible');
						return JSON.stringify({fit: l.dataset.fit, pages: Number(l.dataset.pages || 1),
						  title: parseFloat(getComputedStyle(l.querySelector('.title')).fontSize)}); })()`))
					if err != nil {
						t.Fatal(err)
					}
					var got struct {
						Fit   string
						Pages int
						Title float64
					}
					_ = json.Unmarshal([]byte(raw), &got)
					sc := scr
					sc.Layout = layout
					est := screenpage.Estimate(screenpage.Text{Title: sm.title, Body: sm.body, Media: sm.media, DurationS: 600}, sc)
					t.Logf("%-26s page %-6s %d pages title %.0fpx | estimate %-6s %d pages title %.0fpx (%d+%d lines)",
						sm.name, got.Fit, got.Pages, got.Title, est.Status, est.Pages, est.TitlePX, est.TitleLines, est.BodyLines)
					if got.Fit != est.Status && !(closeCall(got.Fit, est.Status)) {
						t.Errorf("%s: the page says %s, the estimate %s", sm.name, got.Fit, est.Status)
					}
					if got.Fit == screenpage.FitPaged && est.Status == screenpage.FitPaged && (got.Pages-est.Pages > 1 || est.Pages-got.Pages > 1) {
						t.Errorf("%s: the page shows %d pages, the estimate says %d", sm.name, got.Pages, est.Pages)
					}
				}
			})
		}
	}
}

// closeCall: ok and shrunk differ only in size, which an estimate may get
// wrong by a step without misleading an editor.
func closeCall(a, b string) bool {
	return (a == screenpage.FitOK || a == screenpage.FitShrunk) && (b == screenpage.FitOK || b == screenpage.FitShrunk)
}
