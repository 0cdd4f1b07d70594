package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSchedulePickerInEnglishChromium: the weekday-morning slot through
// the pickers with the page in English: the presets, the rule in words
// and the refusal of no day are English, and the API gets the same cron
// rule and duration as from the Chinese page.
func TestSchedulePickerInEnglishChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	pl := srv.playlist("Mornings", srv.item("notice", "Water off in building 3", "", "", 5))

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	evalVoid(t, ctx, "English", `localStorage.setItem('kiosk.admin.lang', 'en')`)
	// A new query string: a hash change alone would not reload the page.
	do(t, ctx, "open the schedules page", chromedp.Navigate(srv.url()+"/admin/?en#/schedules"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the schedule form, all day by default", `document.documentElement.lang === 'en'
		&& document.querySelector('#s-playlist option[value=`+js(pl)+`]') !== null
		&& document.getElementById('s-when-allday').checked && document.getElementById('s-rule').textContent.includes('all day')`, 15*time.Second)

	evalVoid(t, ctx, "pick the playlist", `document.getElementById('s-playlist').value = `+js(pl))
	do(t, ctx, "weekdays and times", chromedp.Click("#s-when-daypart"))
	adminPoll(t, ctx, "the pickers", `!document.getElementById('s-daypart').hidden`, 5*time.Second)

	// No day ticked: refused in English, nothing saved.
	evalVoid(t, ctx, "untick every day", `document.querySelectorAll('#s-days input[type=checkbox]').forEach((c) => {
		if (c.checked) c.click(); })`)
	do(t, ctx, "save without a day", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "the refusal", `!document.getElementById('schedule-error').hidden
		&& document.getElementById('schedule-error').textContent.includes('Choose at least one day')`, 5*time.Second)

	do(t, ctx, "the weekdays preset", chromedp.Click(`#s-daypart button[data-preset="workdays"]`))
	for _, v := range [][3]string{{"s-start", "7", "30"}, {"s-end", "9", "0"}} {
		evalVoid(t, ctx, "set "+v[0], `(() => { for (const [s, x] of [[`+js(v[0]+"-h")+`, `+js(v[1])+`], [`+js(v[0]+"-m")+`, `+js(v[2])+`]]) {
			const e = document.getElementById(s); e.value = x; e.dispatchEvent(new Event('change', { bubbles: true })); } })()`)
	}
	adminPoll(t, ctx, "the rule in English words", `document.getElementById('s-rule').textContent.startsWith('Weekdays 07:30–09:00')
		&& document.getElementById('s-cron').value === '30 7 * * 1-5' && document.getElementById('s-duration').value === '5400'`, 5*time.Second)
	do(t, ctx, "save", chromedp.Click("#s-save"))
	adminPoll(t, ctx, "the schedule listed in English words", `[...document.querySelectorAll('#schedules tbody tr[data-playlist=`+js(pl)+`] .s-rule')]
		.some((e) => e.textContent === 'Weekdays 07:30–09:00')`, 10*time.Second)
	var got []struct {
		Cron      string `json:"cron"`
		DurationS int    `json:"duration_s"`
	}
	srv.must(http.MethodGet, "/schedules", nil, &got)
	if len(got) != 1 || got[0].Cron != "30 7 * * 1-5" || got[0].DurationS != 5400 {
		t.Fatalf("GET /schedules = %+v, want one with cron 30 7 * * 1-5 for 5400 s", got)
	}
	adminScreenshot(ctx, ".schedule-picker-en.png")
}
