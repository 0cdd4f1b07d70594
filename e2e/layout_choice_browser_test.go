package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLayoutChoiceInChromium: an admin gives a compound the header-and-
// ticker layout on the screens page, its screen (which chose none) says it
// now shows that layout, and the screen's own choice then wins; the
// player receives the layout in its manifest.
func TestLayoutChoiceInChromium(t *testing.T) {
	srv := startServer(t)
	srv.must(http.MethodPost, "/groups", map[string]any{"id": "xingfu", "name": "幸福里小区"}, nil)
	creds := srv.screen("东门大屏", "xingfu")
	p := startPlayer(t, srv.url(), creds.Token, cachePath(t, "layout"))
	waitFor(t, 20*time.Second, "the player online", func() bool { return p.state().Online })

	ctx := newBrowser(t)
	do(t, ctx, "open the admin page", chromedp.Navigate(srv.url()+"/admin/"))
	signInWithToken(t, ctx, adminToken)
	evalVoid(t, ctx, "open the screens page", `location.hash = '#/screens'`)
	adminPoll(t, ctx, "the compound in the tree", `[...document.querySelectorAll('button, a, li, span')].some((n) => n.textContent.trim() === '幸福里小区')`, 15*time.Second)

	// The group's edit form: find it by its layout select.
	evalVoid(t, ctx, "select the compound", `[...document.querySelectorAll('button, a, li, span')].find((n) => n.textContent.trim() === '幸福里小区').click()`)
	adminPoll(t, ctx, "the group's layout select", `[...document.querySelectorAll('select[name=layout]')].some((s) => s.id !== 'ng-layout')`, 10*time.Second)
	evalVoid(t, ctx, "choose header and ticker", `(() => {
		const s = [...document.querySelectorAll('select[name=layout]')].find((x) => x.id !== 'ng-layout');
		s.value = 'header_ticker';
		s.form.requestSubmit();
	})()`)
	waitFor(t, 15*time.Second, "the group's layout saved", func() bool {
		var g struct{ Layout string }
		srv.must(http.MethodGet, "/groups/xingfu", nil, &g)
		return g.Layout == "header_ticker"
	})

	// The screen inherits it, and says so.
	evalVoid(t, ctx, "open the screen", `location.hash = '#/screen/`+creds.ID+`'`)
	adminPoll(t, ctx, "the effective layout shown", `(document.getElementById('ss-layout-now') || {}).textContent?.includes('页眉和滚动条')
		&& document.getElementById('ss-layout').value === ''`, 15*time.Second)
	var m struct{ Layout, Header string }
	srv.must(http.MethodGet, "/screens/"+creds.ID+"/manifest", nil, &m)
	if m.Layout != "header_ticker" || m.Header != "幸福里小区" {
		t.Errorf("manifest layout %q header %q, want header_ticker and the compound's name", m.Layout, m.Header)
	}

	// The screen's own choice wins.
	evalVoid(t, ctx, "choose full screen for this screen", `(() => {
		const s = document.getElementById('ss-layout');
		s.value = 'full';
		s.form.requestSubmit();
	})()`)
	waitFor(t, 15*time.Second, "the screen's layout saved", func() bool {
		var s struct {
			Layout          string `json:"layout"`
			LayoutEffective string `json:"layout_effective"`
		}
		srv.must(http.MethodGet, "/screens/"+creds.ID, nil, &s)
		return s.Layout == "full" && s.LayoutEffective == "full"
	})
	adminScreenshot(ctx, ".layout-choice.png")
}
