package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kiosk/playlists"
)

// heatText is what the heat-map paging test reads, per language.
var heatText = map[string]struct{ of, count, dark, one string }{
	"zh": {of: "共 250 个", count: "共 250 个屏幕，其中 246 个", dark: "没有播放", one: "共 1 个屏幕"},
	"en": {of: "of 250", count: "Screens: 250, of which 246", dark: "nothing played", one: "Screens: 1,"},
}

// TestReportsHeatmapPagingInChromium: a district of 250 screens, 4 of
// which played today. The reports page's heat-map shows all of them, a
// hundred rows a page in the order of names, with the count of all; the
// next page continues; "most dark days first" puts the 246 silent screens
// first and the 4 that played on the last page; a search finds one
// screen; the summary counts the dark screen-days of all 250. In Chinese
// and in English.
func TestReportsHeatmapPagingInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	srv := startServer(t)
	rows := make([]map[string]any, 250)
	names := make([]string, len(rows))
	for i := range rows {
		names[i] = fmt.Sprintf("幸福里 %03d 号屏", i) // in this order by code point
		rows[i] = map[string]any{"name": names[i]}
	}
	var imported struct {
		Screens []struct{ ID, Name, Token string } `json:"screens"`
	}
	srv.must(http.MethodPost, "/screens/import", map[string]any{"screens": rows}, &imported)
	if len(imported.Screens) != 250 {
		t.Fatalf("import gave %d screens", len(imported.Screens))
	}
	id := map[string]string{}
	for _, s := range imported.Screens {
		id[s.Name] = s.ID
	}
	bj := time.FixedZone("CST", 8*3600)
	now := time.Now().In(bj)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, bj)
	played := []int{5, 17, 123, 240}
	for n, i := range played {
		s := imported.Screens[i]
		var b playlists.PlayBatch
		b.BatchID = "b1"
		for j := range n + 1 {
			// Early in the day, so today's plays are never in the future.
			b.Plays = append(b.Plays, playlists.Play{ID: fmt.Sprintf("p%d", j), Item: "itm", Playlist: "pl",
				Start: today.Add(time.Duration(j) * time.Minute).UnixMilli(), DurationMS: 10000})
		}
		if code := callAPI(t, http.MethodPost, srv.url()+"/api/v1/device/plays", "Bearer "+s.Token, b, nil); code != http.StatusOK {
			t.Fatalf("POST /device/plays for %s: status %d", s.Name, code)
		}
	}
	todayISO := today.Format(time.DateOnly)

	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) { heatmapPaging(t, srv, lang, names, id, todayISO) })
	}
}

func heatmapPaging(t *testing.T, srv *testServer, lang string, names []string, id map[string]string, todayISO string) {
	text := heatText[lang]
	ctx := newBrowser(t)
	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	evalVoid(t, ctx, "choose the language", `localStorage.setItem('kiosk.admin.lang', `+js(lang)+`)`)
	do(t, ctx, "open /admin/ again", chromedp.Navigate(srv.url()+"/admin/"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the navigation", `document.querySelector('#nav a[data-route="reports"]') !== null`, 15*time.Second)
	evalVoid(t, ctx, "open the reports", `location.hash = '#/reports'`)
	const rowsJS = `[...document.querySelectorAll('#rep-heatmap tbody tr')]`
	shows := func(what string, want []string) {
		t.Helper()
		adminPoll(t, ctx, what, `(() => { const got = `+rowsJS+`.map((r) => r.querySelector('th').textContent); const want = `+jsList(want)+`;
			return got.length === want.length && got.every((n, i) => n === want[i])
				&& document.getElementById('rep-heat-pager-range').textContent.includes(`+js(text.of)+`); })()`, 20*time.Second)
	}

	// By name: the first 100 of 250, the count of all, then the next.
	shows("the first 100 rows", names[:100])
	adminPoll(t, ctx, "the count and the summary", `document.getElementById('rep-heat-count').textContent.includes(`+js(text.count)+`)
		&& document.querySelector('#rep-dark-cells .n').textContent === '246'
		&& document.querySelector('#rep-heatmap tr[data-screen=`+js(id[names[0]])+`] td[data-day=`+js(todayISO)+`]').title.includes(`+js(text.dark)+`)
		&& document.querySelector('#rep-heatmap tr[data-screen=`+js(id[names[5]])+`] td[data-day=`+js(todayISO)+`]').className.match(/hm-[1-4]/) !== null`, 10*time.Second)
	do(t, ctx, "next page", chromedp.Click("#rep-heat-pager-next"))
	shows("rows 101–200", names[100:200])

	// Most dark days first: a new order starts again from the first
	// page; the 4 that played are the last rows of the last page.
	evalVoid(t, ctx, "darkest first", `(() => { const s = document.getElementById('rep-heat-sort'); s.value = 'dark'; s.dispatchEvent(new Event('change')); })()`)
	adminPoll(t, ctx, "the silent screens first", `(() => { const r = `+rowsJS+`;
		return r.length === 100 && r.every((x) => x.dataset.dark === '1') && r[0].querySelector('th').textContent === `+js(names[0])+`
			&& document.getElementById('rep-heat-pager-prev').disabled; })()`, 10*time.Second)
	do(t, ctx, "next page", chromedp.Click("#rep-heat-pager-next"))
	adminPoll(t, ctx, "the second page", `document.querySelectorAll('#rep-heatmap tbody tr').length === 100
		&& !document.getElementById('rep-heat-pager-prev').disabled`, 10*time.Second)
	do(t, ctx, "last page", chromedp.Click("#rep-heat-pager-next"))
	// Least airtime first: they played 1, 2, 3 and 4 times.
	last := []string{names[5], names[17], names[123], names[240]}
	adminPoll(t, ctx, "the 4 that played last", `(() => { const r = `+rowsJS+`; const tail = r.slice(-4).map((x) => x.querySelector('th').textContent);
		return r.length === 50 && r.slice(0, 46).every((x) => x.dataset.dark === '1') && r.slice(-4).every((x) => x.dataset.dark === '0')
			&& JSON.stringify(tail) === JSON.stringify(`+jsList(last)+`)
			&& document.getElementById('rep-heat-pager-next').disabled; })()`, 10*time.Second)
	adminScreenshot(ctx, ".reports-heatmap."+lang+".png")

	// A search finds one screen among the 250.
	do(t, ctx, "search", chromedp.SendKeys("#rep-heat-q", "123 号"))
	adminPoll(t, ctx, "the one screen", `(() => { const r = `+rowsJS+`;
		return r.length === 1 && r[0].dataset.screen === `+js(id[names[123]])+`
			&& document.getElementById('rep-heat-pager-next').hidden; })()`, 10*time.Second)
	if got := evalString(t, ctx, `document.getElementById('rep-heat-count').textContent`); !strings.Contains(got, text.one) {
		t.Errorf("count %q after the search, want it to say %q", got, text.one)
	}
}
