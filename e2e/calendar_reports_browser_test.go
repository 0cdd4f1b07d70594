package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"kiosk/playlists"
)

// calendarFixture: group 东街道 with the default playlist 社区新闻, screens
// 一号屏 and 二号屏 in it. 交通 plays on 一号屏 every morning 07:00–09:00
// at priority 5; 每月一法 plays on the whole group 08:00–16:00 at
// priority 1, so from 08:00 to 09:00 交通 outranks it, and the default
// fills the rest of the day.
type calendarFixture struct {
	srv                    *testServer
	screenA, screenB       screenCreds
	traffic, law, news     string // playlists
	trafficItem, lawItem   string
	trafficSched, lawSched string
	trafficName, lawName   string
}

func newCalendarFixture(t *testing.T) calendarFixture {
	t.Helper()
	srv := startServer(t)
	f := calendarFixture{srv: srv, trafficName: "早间交通排期", lawName: "每月一法排期"}
	f.trafficItem = srv.item("psa", "礼让行人", "", "", 5)
	f.lawItem = srv.item("legal_story", "民法典小故事", "", "", 5)
	f.traffic = srv.playlist("交通", f.trafficItem)
	f.law = srv.playlist("每月一法", f.lawItem)
	f.news = srv.playlist("社区新闻", srv.item("notice", "社区新闻", "", "", 5))
	srv.must(http.MethodPost, "/groups", map[string]any{"id": "east", "name": "东街道", "default_playlist": f.news}, nil)
	f.screenA = srv.screen("一号屏", "east")
	f.screenB = srv.screen("二号屏", "east")
	var id struct {
		ID string `json:"id"`
	}
	srv.must(http.MethodPost, "/schedules", map[string]any{"name": f.trafficName, "playlist": f.traffic,
		"target": map[string]any{"screens": []string{f.screenA.ID}}, "cron": "0 7 * * *", "duration_s": 7200, "priority": 5}, &id)
	f.trafficSched = id.ID
	srv.must(http.MethodPost, "/schedules", map[string]any{"name": f.lawName, "playlist": f.law,
		"target": map[string]any{"groups": []string{"east"}}, "cron": "0 8 * * *", "duration_s": 8 * 3600, "priority": 1}, &id)
	f.lawSched = id.ID
	return f
}

// TestCalendarInChromium reads a screen's week: blocks coloured per
// playlist with the default filling the gaps, a click explains the
// 08:00–09:00 block (交通, priority 5, over 每月一法 at 1); the group's
// week says how it is computed and lacks the screen's own schedule; the
// schedules list links to the calendar; an urgent notice sent now shows
// on the blocks it covers. Then the same in English.
func TestCalendarInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	f := newCalendarFixture(t)
	srv := f.srv
	dialogs := countDialogs(t, ctx, "calendar")
	srv.addPerson("planner", "correct horse battery", "editor", nil, false)
	srv.urgent("停水通知", map[string]any{"screens": []string{f.screenA.ID}}, time.Now().Add(2*time.Hour))

	do(t, ctx, "open the calendar", chromedp.Navigate(srv.url()+"/admin/#/calendar?screen="+f.screenA.ID))
	signInAs(t, ctx, "planner", "correct horse battery")

	block := func(sched string) string {
		return `[...document.querySelectorAll('#cal-grid g.cal-block')].find((g) => g.dataset.schedules.split(' ').includes(` + js(sched) + `) && g.dataset.priority === '5')`
	}
	adminPoll(t, ctx, "the week drawn", `document.querySelectorAll('#cal-grid g.cal-block').length >= 7 * 3
		&& document.querySelectorAll('#cal-days .cal-day').length === 7
		&& document.querySelector('#cal-days .cal-day strong').textContent === '周一'
		&& document.querySelectorAll('#cal-grid g.cal-default').length >= 7
		&& `+block(f.trafficSched)+` !== undefined`, 20*time.Second)
	// One colour per playlist, the same on every day, with a legend.
	colours := evalString(t, ctx, `(() => { const c = (p) => new Set([...document.querySelectorAll('#cal-grid g.cal-block[data-playlist=`+"\"'+p+'\""+`]')]
			.map((g) => [...g.classList].find((k) => k.startsWith('pl-c')))); 
		return [`+js(f.traffic)+`, `+js(f.law)+`, `+js(f.news)+`].map((p) => [...c(p)].join('|')).join(' '); })()`)
	parts := strings.Fields(colours)
	if len(parts) != 3 || strings.Contains(colours, "|") || parts[0] == parts[1] && parts[1] == parts[2] {
		t.Errorf("colour classes per playlist = %q, want one stable class each", colours)
	}
	// The urgent notice shows as a red edge on the blocks it covers now.
	adminPoll(t, ctx, "the urgent notice", `document.querySelectorAll('#cal-grid rect.cal-urgent').length >= 1`, 5*time.Second)
	evalVoid(t, ctx, "click the block under it", `document.querySelector('#cal-grid rect.cal-urgent').parentNode.dispatchEvent(new MouseEvent('click', { bubbles: true }))`)
	adminPoll(t, ctx, "the notice explained", `document.querySelector('#cal-explain .cal-ex-urgent')?.textContent.includes('停水通知')`, 5*time.Second)
	legend := evalString(t, ctx, `document.getElementById('cal-legend').textContent`)
	for _, w := range []string{"交通", "每月一法", "社区新闻", "默认播放列表", "紧急通知"} {
		if !strings.Contains(legend, w) {
			t.Errorf("legend %q lacks %q", legend, w)
		}
	}

	// The 07:00–09:00 block: 交通 wins over 每月一法, which is on from 08:00.
	evalVoid(t, ctx, "click the traffic block that outranks the law", `(() => {
		const g = [...document.querySelectorAll('#cal-grid g.cal-block')].find((g) => g.dataset.schedules === `+js(f.trafficSched)+`
			&& g.getAttribute('aria-label').includes('07:00–09:00'));
		g.dispatchEvent(new MouseEvent('click', { bubbles: true })); })()`)
	adminPoll(t, ctx, "the explainer", `(() => { const x = document.getElementById('cal-explain');
		return x.querySelector('.cal-ex-schedule[data-schedule=`+js(f.trafficSched)+`] .cal-ex-name')?.textContent === `+js(f.trafficName)+`
			&& x.querySelector('.cal-ex-priority').textContent === '5'
			&& x.querySelector('.cal-ex-rule').textContent === '每天 07:00–09:00'
			&& x.querySelector('.cal-why').textContent.includes('最高') && x.querySelector('.cal-why').textContent.includes('较低')
			&& x.querySelector('.cal-why').textContent.includes(`+js(f.lawName+"（优先级 1）")+`)
			&& x.textContent.includes('礼让行人'); })()`, 10*time.Second)
	adminScreenshot(ctx, ".calendar.png")

	// A default block explains itself as the gap filler.
	evalVoid(t, ctx, "click a default block", `document.querySelector('#cal-grid g.cal-default').dispatchEvent(new MouseEvent('click', { bubbles: true }))`)
	adminPoll(t, ctx, "the default explained", `document.querySelector('#cal-explain .cal-why').textContent.includes('默认播放列表“社区新闻”填补空档')`, 5*time.Second)

	// Next week, then back to this week, through the address.
	monday := evalString(t, ctx, `document.querySelector('#cal-days .cal-day').dataset.date`)
	do(t, ctx, "next week", chromedp.Click("#cal-next"))
	adminPoll(t, ctx, "next week", `document.querySelector('#cal-days .cal-day')?.dataset.date !== `+js(monday)+`
		&& location.hash.includes('week=') && document.querySelectorAll('#cal-grid g.cal-block').length > 0`, 10*time.Second)
	do(t, ctx, "this week", chromedp.Click("#cal-this"))
	adminPoll(t, ctx, "this week again", `document.querySelector('#cal-days .cal-day')?.dataset.date === `+js(monday), 10*time.Second)

	// The group's week: the note, the group's schedule, not the screen's.
	evalVoid(t, ctx, "pick the group", `(() => { const s = document.getElementById('cal-subject'); s.value = 'group:east';
		s.dispatchEvent(new Event('change')); })()`)
	adminPoll(t, ctx, "the group's week", `!document.getElementById('cal-note').hidden
		&& document.getElementById('cal-note').textContent.includes('没有标签')
		&& document.querySelectorAll('#cal-grid g.cal-block[data-playlist=`+js(f.law)+`]').length >= 7
		&& document.querySelectorAll('#cal-grid g.cal-block[data-playlist=`+js(f.traffic)+`]').length === 0`, 10*time.Second)

	// From the schedules list to the week the schedule plays, highlighted.
	evalVoid(t, ctx, "open schedules", `location.hash = '#/schedules'`)
	adminPoll(t, ctx, "the calendar link", `document.querySelector('a.s-calendar[data-calendar=`+js(f.trafficSched)+`]') !== null`, 10*time.Second)
	evalVoid(t, ctx, "follow it", `document.querySelector('a.s-calendar[data-calendar=`+js(f.trafficSched)+`]').click()`)
	adminPoll(t, ctx, "the schedule's week", `location.hash.includes('screen=`+f.screenA.ID+`')
		&& document.getElementById('cal-subject').value === 'screen:`+f.screenA.ID+`'
		&& document.querySelectorAll('#cal-grid g.cal-hl').length >= 7`, 10*time.Second)

	// English: the same page in the other language.
	evalVoid(t, ctx, "switch to English", `localStorage.setItem('kiosk.admin.lang', 'en')`)
	do(t, ctx, "reload", chromedp.Reload())
	adminPoll(t, ctx, "the English week", `document.documentElement.lang === 'en'
		&& document.querySelector('#cal-days .cal-day strong')?.textContent === 'Mon'
		&& `+block(f.trafficSched)+` !== undefined`, 20*time.Second)
	evalVoid(t, ctx, "click the block", `(() => {
		const g = [...document.querySelectorAll('#cal-grid g.cal-block')].find((g) => g.dataset.schedules === `+js(f.trafficSched)+`
			&& g.getAttribute('aria-label').includes('07:00–09:00'));
		g.dispatchEvent(new MouseEvent('click', { bubbles: true })); })()`)
	adminPoll(t, ctx, "the English explainer", `(() => { const x = document.getElementById('cal-explain');
		return x.querySelector('h2').textContent === 'Why this plays'
			&& x.querySelector('.cal-ex-priority')?.textContent === '5'
			&& x.querySelector('.cal-ex-rule').textContent === 'Every day 07:00–09:00'
			&& x.querySelector('.cal-why').textContent.includes('Its priority, 5, is the highest')
			&& x.querySelector('.cal-why').textContent.includes(`+js(f.lawName+" (priority 1)")+`); })()`, 10*time.Second)
	adminScreenshot(ctx, ".calendar-en.png")
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}

// TestReportsInChromium posts plays through the device API for 一号屏 on
// three days and none for 二号屏, then reads the reports page: the totals,
// the bar charts per day and per kind, the heat-map with today's gap for
// the dark screen, and the CSV export fetched as the browser would. The
// date picker picks a day by mouse and by keyboard. Then in English.
func TestReportsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	f := newCalendarFixture(t)
	srv := f.srv
	dialogs := countDialogs(t, ctx, "reports")
	srv.addPerson("office", "correct horse battery", "viewer", nil, false)

	bj := time.FixedZone("CST", 8*3600)
	now := time.Now().In(bj)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, bj)
	var plays []playlists.Play
	for i, back := range []int{2, 1, 0} {
		day := today.AddDate(0, 0, -back)
		for j := 0; j < 3+i; j++ {
			// Early in the day, so today's plays are never in the future.
			start := day.Add(time.Duration(j) * time.Minute)
			plays = append(plays, playlists.Play{ID: fmt.Sprintf("p%d-%d", back, j), Item: f.trafficItem, Playlist: f.traffic,
				Schedule: f.trafficSched, Start: start.UnixMilli(), DurationMS: 5000})
		}
		plays = append(plays, playlists.Play{ID: fmt.Sprintf("l%d", back), Item: f.lawItem, Playlist: f.law,
			Schedule: f.lawSched, Start: day.Add(30 * time.Minute).UnixMilli(), DurationMS: 5000})
	}
	if code := callAPI(t, http.MethodPost, srv.url()+"/api/v1/device/plays", "Bearer "+f.screenA.Token,
		playlists.PlayBatch{BatchID: "b1", Plays: plays}, nil); code != http.StatusOK {
		t.Fatalf("POST /device/plays: status %d", code)
	}
	todayISO := today.Format(time.DateOnly)

	do(t, ctx, "open reports", chromedp.Navigate(srv.url()+"/admin/#/reports"))
	signInAs(t, ctx, "office", "correct horse battery")
	adminPoll(t, ctx, "the charts and the heat-map", `(() => {
		const bars = document.querySelectorAll('#rep-day-plays rect.ch-bar');
		const a = document.querySelector('#rep-heatmap tr[data-screen=`+js(f.screenA.ID)+`]');
		const b = document.querySelector('#rep-heatmap tr[data-screen=`+js(f.screenB.ID)+`]');
		return bars.length === 7 && [...bars].filter((r) => r.dataset.value !== '0').length === 3
			&& document.querySelector('#rep-day-plays rect[data-day=`+js(todayISO)+`]').dataset.value === '6'
			&& document.querySelector('#rep-kind rect[data-key="psa"]')?.dataset.value === '12'
			&& document.querySelector('#rep-kind rect[data-key="legal_story"]')?.dataset.value === '3'
			&& document.querySelector('#rep-group-chart rect[data-key="east"]')?.dataset.value === '15'
			&& document.getElementById('rep-total-plays').textContent.includes('15')
			&& a && b && a.querySelector('td[data-day=`+js(todayISO)+`]').className.match(/hm-[1-4]/)
			&& b.querySelector('td[data-day=`+js(todayISO)+`]').classList.contains('hm-dark')
			&& b.querySelector('td[data-day=`+js(todayISO)+`]').title.includes('没有播放'); })()`, 20*time.Second)
	if got := evalString(t, ctx, `document.querySelector('#rep-kind').textContent`); !strings.Contains(got, "公益广告") || !strings.Contains(got, "法律故事") {
		t.Errorf("kind chart text %q, want the kinds named 公益广告 and 法律故事", got)
	}
	adminScreenshot(ctx, ".reports.png")

	// The CSV export: the link the browser follows with its session cookie.
	evalVoid(t, ctx, "export by screen and day", `(() => { const s = document.getElementById('rep-csv-by'); s.value = 'screen_day';
		s.dispatchEvent(new Event('change')); })()`)
	evalVoid(t, ctx, "fetch the CSV link", `window.csvText = null; fetch(document.getElementById('rep-csv').href, { credentials: 'same-origin' })
		.then((r) => r.ok ? r.arrayBuffer() : new TextEncoder().encode('HTTP ' + r.status))
		.then((b) => { window.csvText = new TextDecoder('utf-8', { ignoreBOM: true }).decode(b); })`)
	adminPoll(t, ctx, "the CSV", `typeof window.csvText === 'string'`, 10*time.Second)
	csvText := evalString(t, ctx, `window.csvText`)
	if !strings.HasPrefix(csvText, "\ufeffday,screen,label,plays,seconds\r\n") || !strings.Contains(csvText, todayISO+","+f.screenA.ID+",一号屏,6,30") {
		t.Errorf("CSV = %q, want the BOM, the header day,screen,label,plays,seconds and today's row for 一号屏 (6 plays, 30 s)", csvText)
	}
	if dl := evalString(t, ctx, `document.getElementById('rep-csv').getAttribute('download')`); !strings.HasPrefix(dl, "plays-by-screen_day-") {
		t.Errorf("download name %q, want plays-by-screen_day-…", dl)
	}

	// The date picker: today's month, a click on the 1st, then the
	// keyboard: one day on, Enter.
	do(t, ctx, "open the picker", chromedp.Click(`#rep-from + .dp-toggle`))
	first := today.Format("2006-01") + "-01"
	adminPoll(t, ctx, "the month grid", `!document.querySelector('#rep-from ~ .dp-pop').hidden
		&& document.querySelector('#rep-from ~ .dp-pop button[data-date=`+js(first)+`]') !== null
		&& document.querySelector('#rep-from ~ .dp-pop .dp-title').textContent === `+js(fmt.Sprintf("%d年%d月", today.Year(), today.Month())), 5*time.Second)
	do(t, ctx, "pick the 1st", chromedp.Click(`#rep-from ~ .dp-pop button[data-date="`+first+`"]`))
	adminPoll(t, ctx, "the 1st picked", `document.getElementById('rep-from').value === `+js(first)+`
		&& document.querySelector('#rep-from ~ .dp-pop').hidden`, 5*time.Second)
	do(t, ctx, "open it again", chromedp.Click(`#rep-from + .dp-toggle`))
	adminPoll(t, ctx, "focus on the picked day", `document.activeElement?.dataset.date === `+js(first), 5*time.Second)
	do(t, ctx, "a day on, a week on, Enter", chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.Enter))
	second := today.Format("2006-01") + "-09"
	adminPoll(t, ctx, "the 9th picked by keyboard", `document.getElementById('rep-from').value === `+js(second), 5*time.Second)
	// A typed date in another spelling is read and normalised; nonsense is marked.
	evalVoid(t, ctx, "type a date", `(() => { const i = document.getElementById('rep-to'); i.value = '`+fmt.Sprintf("%d/%d/%d", today.Year(), int(today.Month()), today.Day())+`';
		i.dispatchEvent(new Event('change')); })()`)
	adminPoll(t, ctx, "normalised", `document.getElementById('rep-to').value === `+js(todayISO), 5*time.Second)
	evalVoid(t, ctx, "type nonsense", `(() => { const i = document.getElementById('rep-to'); i.value = '2026-02-30';
		i.dispatchEvent(new Event('change')); })()`)
	adminPoll(t, ctx, "marked invalid", `document.getElementById('rep-to').getAttribute('aria-invalid') === 'true'`, 5*time.Second)
	do(t, ctx, "apply", chromedp.Click("#rep-apply"))
	adminPoll(t, ctx, "refused beside the form", `!document.getElementById('rep-error').hidden
		&& document.getElementById('rep-error').textContent.includes('年-月-日')`, 5*time.Second)

	// An empty range reads as such.
	evalVoid(t, ctx, "a range without plays", `(() => { for (const [id, v] of [['rep-from', '2020-01-01'], ['rep-to', '2020-01-07']]) {
		const i = document.getElementById(id); i.value = v; i.dispatchEvent(new Event('change')); } })()`)
	do(t, ctx, "apply", chromedp.Click("#rep-apply"))
	adminPoll(t, ctx, "the empty state", `document.getElementById('rep-no-plays')?.textContent.includes('没有播放记录')`, 10*time.Second)

	// English.
	evalVoid(t, ctx, "switch to English", `localStorage.setItem('kiosk.admin.lang', 'en')`)
	do(t, ctx, "reload", chromedp.Reload())
	adminPoll(t, ctx, "the English report", `document.documentElement.lang === 'en'
		&& document.querySelector('#rep-day-plays figcaption')?.textContent === 'Plays per day'
		&& document.querySelector('#rep-kind').textContent.includes('Public-service ad')
		&& document.querySelector('#rep-heatmap tr[data-screen=`+js(f.screenB.ID)+`] td[data-day=`+js(todayISO)+`]')?.title.includes('nothing played')
		&& document.getElementById('rep-csv').textContent === 'Download CSV'`, 20*time.Second)
	do(t, ctx, "open the picker", chromedp.Click(`#rep-from + .dp-toggle`))
	adminPoll(t, ctx, "the English month", `document.querySelector('#rep-from ~ .dp-pop .dp-title').textContent === `+js(today.Month().String()+fmt.Sprintf(" %d", today.Year()))+`
		&& document.querySelector('#rep-from ~ .dp-pop th').textContent === 'Mo'`, 5*time.Second)
	do(t, ctx, "close it", chromedp.KeyEvent(kb.Escape))
	adminPoll(t, ctx, "closed", `document.querySelector('#rep-from ~ .dp-pop').hidden && document.activeElement?.id === 'rep-from'`, 5*time.Second)
	adminScreenshot(ctx, ".reports-en.png")
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}

// TestScheduleNthWeekdayInChromium schedules "the first Monday of the
// month, 08:00–12:00" through the form's preset, with the window's first
// day typed into the date picker, and reads it back in words; the cron
// the page writes is the D#N form the server understands. Signed in with
// a token, the reports page's CSV export fetches with the token.
func TestScheduleNthWeekdayInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	pl := srv.playlist("法律援助日", srv.item("notice", "法律援助", "", "", 5))

	do(t, ctx, "open schedules", chromedp.Navigate(srv.url()+"/admin/#/schedules"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the form", `document.querySelector('#s-playlist option[value=`+js(pl)+`]') !== null`, 10*time.Second)

	// The words, through the module the page loads.
	evalVoid(t, ctx, "load dayparts.js", `import('./dayparts.js').then((d) => { window.nth = JSON.stringify([
		d.describeCron('0 8 * * 1#1', 14400), d.describeCron('30 19 * * 5#3', 3600), d.describeCron('0 8 1-7 * 1', 3600),
		d.toCron({ days: [1], start: 480, end: 720, nth: 1 }), d.toCron({ days: [1, 2], start: 480, end: 720, nth: 1 }),
		d.fromCron('0 8 * * 1#1', 14400)]); })`)
	adminPoll(t, ctx, "dayparts.js", `typeof window.nth === 'string'`, 5*time.Second)
	if got, want := evalString(t, ctx, `window.nth`),
		`["每月第一个周一 08:00–12:00","每月第三个周五 19:30–20:30",null,{"cron":"0 8 * * 1#1","duration_s":14400},null,{"days":[1],"start":480,"end":720,"nth":1}]`; got != want {
		t.Errorf("dayparts.js nth rules = %s\nwant %s", got, want)
	}

	evalVoid(t, ctx, "pick the playlist", `document.getElementById('s-playlist').value = `+js(pl))
	do(t, ctx, "weekdays and times", chromedp.Click("#s-when-daypart"))
	do(t, ctx, "the first-Monday preset", chromedp.Click(`#s-daypart button[data-preset="firstMonday"]`))
	evalVoid(t, ctx, "08:00–12:00", `(() => { for (const [s, v] of [['s-start-h', '8'], ['s-start-m', '0'], ['s-end-h', '12'], ['s-end-m', '0']]) {
		const e = document.getElementById(s); e.value = v; e.dispatchEvent(new Event('change', { bubbles: true })); } })()`)
	adminPoll(t, ctx, "the rule in words", `document.getElementById('s-rule').textContent === '每月第一个周一 08:00–12:00'
		&& document.getElementById('s-cron').value === '0 8 * * 1#1' && document.getElementById('s-duration').value === '14400'`, 5*time.Second)
	// Ticking a second day is refused: "the first" needs one weekday.
	evalVoid(t, ctx, "tick Tuesday too", `document.querySelector('#s-days input[value="2"]').click()`)
	adminPoll(t, ctx, "one day needed", `document.getElementById('s-rule').textContent.includes('只勾选一个')`, 5*time.Second)
	evalVoid(t, ctx, "untick Tuesday", `document.querySelector('#s-days input[value="2"]').click()`)
	do(t, ctx, "type the first day", chromedp.SendKeys("#s-from", "2027/1/1"))
	evalVoid(t, ctx, "leave the field", `document.getElementById('s-from').dispatchEvent(new Event('change'))`)
	adminPoll(t, ctx, "normalised", `document.getElementById('s-from').value === '2027-01-01'`, 5*time.Second)
	adminScreenshot(ctx, ".schedule-nth.png")
	do(t, ctx, "save", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "listed in words", `[...document.querySelectorAll('#schedules tbody tr[data-playlist=`+js(pl)+`] .s-rule')]
		.some((e) => e.textContent === '每月第一个周一 08:00–12:00') && document.getElementById('schedule-error').hidden`, 10*time.Second)
	var got []struct {
		Cron      string     `json:"cron"`
		DurationS int        `json:"duration_s"`
		From      *time.Time `json:"from"`
	}
	srv.must(http.MethodGet, "/schedules", nil, &got)
	want, _ := time.Parse(time.RFC3339, "2027-01-01T00:00:00+08:00")
	if len(got) != 1 || got[0].Cron != "0 8 * * 1#1" || got[0].DurationS != 14400 || got[0].From == nil || !got[0].From.Equal(want) {
		t.Errorf("GET /schedules = %+v, want cron 0 8 * * 1#1, 14400 s, from %v", got, want)
	}

	// With a token there is no cookie for a plain link: the reports page
	// fetches the CSV with the token and hands the browser a blob.
	evalVoid(t, ctx, "open reports", `location.hash = '#/reports'`)
	adminPoll(t, ctx, "the export link", `document.getElementById('rep-csv')?.getAttribute('href')?.includes('format=csv')`, 10*time.Second)
	evalVoid(t, ctx, "catch the blob", `(() => { const orig = URL.createObjectURL; window.csvBlob = null;
		URL.createObjectURL = (b) => { window.csvBlob = b; return orig.call(URL, b); };
		HTMLAnchorElement.prototype.click = function () { window.csvName = this.download; }; })()`)
	do(t, ctx, "download", chromedp.Click("#rep-csv"))
	adminPoll(t, ctx, "the blob", `window.csvBlob !== null`, 10*time.Second)
	evalVoid(t, ctx, "read it", `window.csvBlob.text().then((s) => { window.csvText = s; })`)
	adminPoll(t, ctx, "its text", `typeof window.csvText === 'string'`, 5*time.Second)
	if got := evalString(t, ctx, `window.csvText`); !strings.HasPrefix(got, "item,label,plays,seconds") {
		t.Errorf("CSV fetched with the token = %q, want the report's header", got)
	}
	if name := evalString(t, ctx, `window.csvName`); !strings.HasPrefix(name, "plays-by-item-") {
		t.Errorf("download name %q, want plays-by-item-…", name)
	}
}
