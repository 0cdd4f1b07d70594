package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pagingText is what the paging test reads, per language.
var pagingText = map[string]struct{ of, next string }{
	"zh": {of: "共 250 个", next: "下一页"},
	"en": {of: "of 250", next: "Next"},
}

// TestScreensPagingInChromium: a district with 250 screens. The screens
// page shows the first 100 (by name, as the API pages them) with the
// count from the API's total, goes to the next pages and back, and a
// search (English, case ignored, and Chinese) and a tag narrow the list;
// the fleet page pages too. In Chinese and in English.
func TestScreensPagingInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) { screensPaging(t, lang) })
	}
}

func pagingName(i int) string {
	switch i % 10 {
	case 0:
		return fmt.Sprintf("Lobby %03d 大堂", i)
	case 1:
		return fmt.Sprintf("东门 %03d", i)
	}
	return fmt.Sprintf("幸福里 %03d 号屏", i)
}

func screensPaging(t *testing.T, lang string) {
	text := pagingText[lang]
	srv := startServer(t)
	rows := make([]map[string]any, 250)
	names := make([]string, len(rows))
	for i := range rows {
		names[i] = pagingName(i)
		tags := []string{}
		if i%10 == 0 {
			tags = []string{"大堂"}
		}
		rows[i] = map[string]any{"name": names[i], "tags": tags}
	}
	srv.must(http.MethodPost, "/screens/import", map[string]any{"screens": rows}, nil)
	slices.Sort(names) // the API's order: by name (code points), names unique here

	ctx := newBrowser(t)
	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	evalVoid(t, ctx, "choose the language", `localStorage.setItem('kiosk.admin.lang', `+js(lang)+`)`)
	do(t, ctx, "open /admin/ again", chromedp.Navigate(srv.url()+"/admin/"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the navigation", `document.querySelector('#nav a[data-route="screens"]') !== null`, 15*time.Second)
	if got := evalString(t, ctx, `document.documentElement.lang`); !strings.HasPrefix(got, lang) {
		t.Fatalf("page language %q, want %s", got, lang)
	}

	const rowsJS = `[...document.querySelectorAll('#group-screens tbody tr .screen-name')].map((a) => a.textContent)`
	shows := func(what string, want []string, rangeHas string) {
		t.Helper()
		adminPoll(t, ctx, what, `(() => { const got = `+rowsJS+`; const want = `+jsList(want)+`;
			return got.length === want.length && got.every((n, i) => n === want[i])
				&& document.getElementById('scr-pager-range').textContent.includes(`+js(rangeHas)+`); })()`, 10*time.Second)
	}

	// The first page: 100 screens in the API's order, counted from total.
	evalVoid(t, ctx, "open the screens page", `location.hash = '#/screens'`)
	shows("the first 100 of 250", names[:100], text.of)
	if got := evalString(t, ctx, `document.getElementById('scr-pager-range').textContent`); !strings.Contains(got, "100") {
		t.Errorf("range %q does not say 1–100", got)
	}
	if !strings.Contains(evalString(t, ctx, `document.getElementById('scr-pager-next').textContent`), text.next) {
		t.Errorf("the next button is not in %s", lang)
	}
	adminScreenshot(ctx, ".paging."+lang+".png")

	// Next, next (the last 50, no further), back.
	do(t, ctx, "next page", chromedp.Click("#scr-pager-next"))
	shows("the second page", names[100:200], text.of)
	do(t, ctx, "next page", chromedp.Click("#scr-pager-next"))
	shows("the last page", names[200:], text.of)
	if evalString(t, ctx, `String(document.getElementById('scr-pager-next').disabled)`) != "true" {
		t.Error("next is offered on the last page")
	}
	do(t, ctx, "previous page", chromedp.Click("#scr-pager-prev"))
	shows("the second page again", names[100:200], text.of)

	// A search narrows the list and starts from its first page: English
	// with its case ignored, then Chinese.
	var lobbies, gates []string
	for _, n := range names {
		if strings.HasPrefix(n, "Lobby") {
			lobbies = append(lobbies, n)
		}
		if strings.HasPrefix(n, "东门") {
			gates = append(gates, n)
		}
	}
	do(t, ctx, "search LOBBY", chromedp.SendKeys("#scr-q", "LOBBY"))
	shows("the 25 lobbies", lobbies, "25")
	if evalString(t, ctx, `String(document.getElementById('scr-pager-next').hidden)`) != "true" {
		t.Error("a one-page result still offers paging")
	}
	evalVoid(t, ctx, "clear the search", `document.getElementById('scr-q').value = ''`)
	do(t, ctx, "search 东门", chromedp.SendKeys("#scr-q", "东门"))
	shows("the 25 gates", gates, "25")
	do(t, ctx, "search 东门 02", chromedp.SendKeys("#scr-q", " 02"))
	shows("the one gate 02x", []string{"东门 021"}, "1")

	// The clear button brings back everything; a tag filter narrows it.
	do(t, ctx, "clear", chromedp.Click("#scr-clear"))
	shows("all again", names[:100], text.of)
	do(t, ctx, "tag 大堂", chromedp.SendKeys("#scr-tag", "大堂"))
	shows("the tagged lobbies", lobbies, "25")
	do(t, ctx, "clear", chromedp.Click("#scr-clear"))
	shows("all again", names[:100], text.of)

	// The fleet page pages the same screens.
	evalVoid(t, ctx, "open the fleet", `location.hash = '#/fleet'`)
	const fleetJS = `[...document.querySelectorAll('#screens tbody tr .screen-name')].map((a) => a.textContent)`
	adminPoll(t, ctx, "the fleet's first page", `(() => { const r = document.getElementById('fleet-pager-range');
		return `+fleetJS+`.length === 100 && r !== null && r.textContent.includes(`+js(text.of)+`); })()`, 15*time.Second)
	do(t, ctx, "the fleet's next page", chromedp.Click("#fleet-pager-next"))
	adminPoll(t, ctx, "the fleet's second page", `(() => { const got = `+fleetJS+`; return got.length === 100 && got[0] === `+js(names[100])+`; })()`, 10*time.Second)
	do(t, ctx, "the fleet's last page", chromedp.Click("#fleet-pager-next"))
	adminPoll(t, ctx, "50 on the last page", `(() => { const got = `+fleetJS+`; return got.length === 50 && got[0] === `+js(names[200])+`; })()`, 10*time.Second)
	do(t, ctx, "search the fleet", chromedp.SendKeys("#fleet-q", "lobby"))
	adminPoll(t, ctx, "the fleet's lobbies", `(() => { const got = `+fleetJS+`; return got.length === 25 && got.every((n) => n.startsWith('Lobby')); })()`, 10*time.Second)
}

func jsList(s []string) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = js(x)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
