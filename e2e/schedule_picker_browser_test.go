package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSchedulePickerInChromium schedules without cron: a technician
// picks 工作日 and 07:30–09:00 in the schedules form, and the page saves
// cron "30 7 * * 1-5" with 5400 s and lists the rule in words. Editing it
// fills the pickers again; moving the end before the start says the window
// crosses midnight and saves the longer duration. A rule the pickers
// cannot show (every 15 minutes) opens the advanced section with the raw
// values and a note. The pure functions of dayparts.js are checked in the
// same browser, since they run nowhere else.
func TestSchedulePickerInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	dialogs := countDialogs(t, ctx, "schedule picker")
	pl := srv.playlist("早间", srv.item("notice", "通知", "", "", 5))

	type schedule struct {
		ID        string `json:"id"`
		Playlist  string `json:"playlist"`
		Cron      string `json:"cron"`
		DurationS int    `json:"duration_s"`
	}
	list := func() []schedule {
		var out []schedule
		srv.must(http.MethodGet, "/schedules", nil, &out)
		return out
	}

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/schedules"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the schedule form, all day by default", `document.querySelector('#s-playlist option[value=`+js(pl)+`]') !== null
		&& document.getElementById('s-when-allday').checked && document.getElementById('s-daypart').hidden
		&& !document.getElementById('s-advanced').open && document.getElementById('s-rule').textContent.includes('全天')`, 10*time.Second)

	// The pure functions, through the module the page loads.
	evalVoid(t, ctx, "load dayparts.js", `import('./dayparts.js').then((d) => { window.dpResult = JSON.stringify({
		workdays: d.toCron({ days: d.PRESETS.workdays, start: 450, end: 540 }),
		weekend: d.toCron({ days: d.PRESETS.weekend, start: 540, end: 720 }),
		overnight: d.toCron({ days: d.PRESETS.everyday, start: 1080, end: 120 }),
		none: d.toCron({ days: [], start: 0, end: 60 }),
		words: [['30 7 * * 1-5', 5400], ['0 18 * * *', 28800], ['0 9 * * 0,6', 10800], ['0 8 * * 1,3,5', 86400],
			['*/15 * * * *', 300], ['0 7 1 * *', 3600], ['0 7 * * 1-5', 90], ['0 7 * * 1-5', 8 * 86400]].map(([c, s]) => d.describeCron(c, s)),
		back: d.fromCron('30 7 * * 1-5', 5400),
	}); }, (err) => { window.dpResult = 'error: ' + err.message; })`)
	adminPoll(t, ctx, "dayparts.js loaded", `typeof window.dpResult === 'string'`, 5*time.Second)
	var dp struct {
		Workdays, Weekend, Overnight, None *struct {
			Cron      string `json:"cron"`
			DurationS int    `json:"duration_s"`
		}
		Words []*string
		Back  struct {
			Days       []int
			Start, End int
		}
	}
	raw := evalString(t, ctx, `window.dpResult`)
	if err := json.Unmarshal([]byte(raw), &dp); err != nil {
		t.Fatalf("dayparts.js results %q: %v", raw, err)
	}
	for _, c := range []struct {
		name string
		got  *struct {
			Cron      string `json:"cron"`
			DurationS int    `json:"duration_s"`
		}
		cron string
		dur  int
	}{
		{"工作日 07:30–09:00", dp.Workdays, "30 7 * * 1-5", 5400},
		{"周末 09:00–12:00", dp.Weekend, "0 9 * * 0,6", 10800},
		{"每天 18:00–次日 02:00", dp.Overnight, "0 18 * * *", 28800},
	} {
		if c.got == nil || c.got.Cron != c.cron || c.got.DurationS != c.dur {
			t.Errorf("toCron(%s) = %+v, want %q %d", c.name, c.got, c.cron, c.dur)
		}
	}
	if dp.None != nil {
		t.Errorf("toCron(no days) = %+v, want null", dp.None)
	}
	wantWords := []string{"工作日 07:30–09:00", "每天 18:00–次日 02:00", "周六、周日 09:00–12:00", "周一、周三、周五 08:00–次日 08:00", "", "", "", ""}
	for i, w := range wantWords {
		got := ""
		if i < len(dp.Words) && dp.Words[i] != nil {
			got = *dp.Words[i]
		}
		if got != w {
			t.Errorf("describeCron case %d = %q, want %q (\"\" = the pickers cannot show it)", i, got, w)
		}
	}
	if b := dp.Back; len(b.Days) != 5 || b.Days[0] != 1 || b.Days[4] != 5 || b.Start != 450 || b.End != 540 {
		t.Errorf("fromCron(30 7 * * 1-5, 5400) = %+v, want days 1–5, 450–540", b)
	}

	// 工作日 07:30–09:00 through the pickers.
	evalVoid(t, ctx, "pick the playlist", `document.getElementById('s-playlist').value = `+js(pl))
	do(t, ctx, "weekdays and times", chromedp.Click("#s-when-daypart"))
	adminPoll(t, ctx, "the pickers", `!document.getElementById('s-daypart').hidden`, 5*time.Second)
	do(t, ctx, "the 工作日 preset", chromedp.Click(`#s-daypart button[data-preset="workdays"]`))
	setTime := func(id, hour, minute string) {
		evalVoid(t, ctx, "set "+id, `(() => { for (const [s, v] of [[`+js(id+"-h")+`, `+js(hour)+`], [`+js(id+"-m")+`, `+js(minute)+`]]) {
			const e = document.getElementById(s); e.value = v; e.dispatchEvent(new Event('change', { bubbles: true })); } })()`)
	}
	setTime("s-start", "7", "30")
	setTime("s-end", "9", "0")
	adminPoll(t, ctx, "the rule in words beside the form", `document.getElementById('s-rule').textContent.startsWith('工作日 07:30–09:00')
		&& document.getElementById('s-overnight').hidden && document.getElementById('s-cron').value === '30 7 * * 1-5'
		&& document.getElementById('s-duration').value === '5400' && !document.getElementById('s-advanced').open`, 5*time.Second)
	adminScreenshot(ctx, ".schedule-picker.png")
	do(t, ctx, "save", chromedp.Click("#s-save"))
	rowOf := func(id string) string { return `document.querySelector('#schedules tbody tr[data-id=` + js(id) + `]')` }
	adminPoll(t, ctx, "the schedule listed in words", `[...document.querySelectorAll('#schedules tbody tr[data-playlist=`+js(pl)+`] .s-rule')]
		.some((e) => e.textContent === '工作日 07:30–09:00') && document.getElementById('schedule-error').hidden`, 10*time.Second)
	got := list()
	if len(got) != 1 || got[0].Cron != "30 7 * * 1-5" || got[0].DurationS != 5400 || got[0].Playlist != pl {
		t.Fatalf("GET /schedules = %+v, want one schedule of %s with cron %q and 5400 s", got, pl, "30 7 * * 1-5")
	}
	id := got[0].ID
	if v := evalString(t, ctx, `document.getElementById('s-when-allday').checked + ' ' + document.getElementById('s-cron').value`); v != "true " {
		t.Errorf("after creating, the form shows when = %q, want all day and no cron", v)
	}
	// The playlist stays chosen for the next schedule alike, the line
	// beside the form says created, and the date's label names its input.
	if v := evalString(t, ctx, `[document.getElementById('s-playlist').value === `+js(pl)+`,
		document.getElementById('schedule-ok').textContent, !!document.querySelector('label[for="s-from"]')].join(' ')`); v != "true 已创建排期：早间。 true" {
		t.Errorf("after creating, playlist kept, message, from label = %q, want %q", v, "true 已创建排期：早间。 true")
	}

	// Edit: the pickers show it again; an end before the start crosses midnight.
	evalVoid(t, ctx, "edit", rowOf(id)+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "the pickers filled", `(() => { const v = (id) => document.getElementById(id).value;
		const days = [...document.querySelectorAll('#s-days input:checked')].map((i) => i.value).join();
		return document.getElementById('s-when-daypart').checked && !document.getElementById('s-daypart').hidden
			&& days === '1,2,3,4,5' && v('s-start-h') === '7' && v('s-start-m') === '30' && v('s-end-h') === '9' && v('s-end-m') === '0'
			&& !document.getElementById('s-advanced').open && document.getElementById('s-cron-note').hidden
			&& document.getElementById('s-rule').textContent.startsWith('工作日 07:30–09:00'); })()`, 10*time.Second)
	setTime("s-end", "2", "0")
	adminPoll(t, ctx, "the overnight note", `!document.getElementById('s-overnight').hidden
		&& document.getElementById('s-overnight').textContent.includes('次日 02:00')
		&& document.getElementById('s-rule').textContent.startsWith('工作日 07:30–次日 02:00')`, 5*time.Second)
	do(t, ctx, "save", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "the edit listed", rowOf(id)+`?.querySelector('.s-rule')?.textContent === '工作日 07:30–次日 02:00'
		&& document.getElementById('s-cancel').hidden`, 10*time.Second)
	if got := list(); len(got) != 1 || got[0].Cron != "30 7 * * 1-5" || got[0].DurationS != 66600 {
		t.Errorf("GET /schedules after the edit = %+v, want cron %q and 66600 s", got, "30 7 * * 1-5")
	}

	// A rule the pickers cannot show opens the advanced section as it is.
	var odd schedule
	srv.must(http.MethodPost, "/schedules", map[string]any{
		"playlist": pl, "target": map[string]any{"all": true}, "cron": "*/15 * * * *", "duration_s": 300,
	}, &odd)
	adminPoll(t, ctx, "the raw rule listed", rowOf(odd.ID)+`?.querySelector('code')?.textContent === '*/15 * * * *'`, 15*time.Second)
	evalVoid(t, ctx, "edit it", rowOf(odd.ID)+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "the advanced section open with a note", `document.getElementById('s-advanced').open
		&& document.getElementById('s-cron').value === '*/15 * * * *' && document.getElementById('s-duration').value === '300'
		&& !document.getElementById('s-cron-note').hidden && document.getElementById('s-cron-note').textContent.includes('无法表示')
		&& document.getElementById('s-daypart').hidden
		&& !document.getElementById('s-when-allday').checked && !document.getElementById('s-when-daypart').checked`, 10*time.Second)
	adminScreenshot(ctx, ".schedule-advanced.png")
	do(t, ctx, "save unchanged", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "saved", `document.getElementById('s-cancel').hidden && document.getElementById('schedule-error').hidden`, 10*time.Second)
	var kept schedule
	srv.must(http.MethodGet, "/schedules/"+odd.ID, nil, &kept)
	if kept.Cron != "*/15 * * * *" || kept.DurationS != 300 {
		t.Errorf("GET /schedules/%s = %+v, want the raw rule kept", odd.ID, kept)
	}

	// Weekdays and times with no day ticked is refused beside the form.
	do(t, ctx, "weekdays and times", chromedp.Click("#s-when-daypart"))
	evalVoid(t, ctx, "untick every day", `for (const i of document.querySelectorAll('#s-days input:checked')) i.click()`)
	evalVoid(t, ctx, "pick the playlist", `document.getElementById('s-playlist').value = `+js(pl))
	do(t, ctx, "save", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "no day refused", `!document.getElementById('schedule-error').hidden
		&& document.getElementById('schedule-error').textContent.includes('至少选择一天')`, 5*time.Second)
	if n := len(list()); n != 2 {
		t.Errorf("GET /schedules lists %d schedules, want 2", n)
	}
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}
