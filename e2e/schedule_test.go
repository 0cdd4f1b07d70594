package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"kiosk/player"
	"kiosk/playlists"
)

// TestScheduleBoundaryOnSkewedClock runs a player whose own clock is seven
// minutes slow. A date window that opens a few seconds from now (server
// time) must switch the screen at the real boundary, not seven minutes
// later, and close it again at its end; /state reports the measured offset.
// The timeline endpoint shows the same three segments.
func TestScheduleBoundaryOnSkewedClock(t *testing.T) {
	srv := startServer(t)
	base := srv.item("notice", "日常通知", "", "", 1)
	win := srv.item("psa", "交通安全：礼让行人", "", "", 1)
	srv.scheduleAll(srv.playlist("日常", base), 0)
	winPl := srv.playlist("交通", win)
	scr := srv.screen("华阳路一号屏", "")
	const skew = -7 * time.Minute
	p := startPlayerWith(t, srv.url(), scr.Token, cachePath(t, "skewed"), func(c *player.Config) {
		c.Now = func() time.Time { return time.Now().Add(skew) }
	})
	waitFor(t, 20*time.Second, "the skewed player to show the rotation", func() bool { return p.state().CurrentItem == base })
	waitFor(t, 10*time.Second, "the clock offset to be measured", func() bool {
		off := p.urgentState().ClockOffsetMS
		return off > 418_000 && off < 422_000
	})
	t.Logf("player clock offset: %d ms (want about +420000)", p.urgentState().ClockOffsetMS)

	from := time.Now().Add(5 * time.Second).Truncate(time.Second)
	to := from.Add(3 * time.Second)
	srv.must(http.MethodPost, "/schedules", map[string]any{
		"playlist": winPl, "target": map[string]any{"screens": []string{scr.ID}}, "priority": 5,
		"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339),
	}, nil)

	// Preview: base until from, the window, base again.
	q := url.Values{"from": {from.Add(-time.Minute).Format(time.RFC3339)}, "to": {to.Add(time.Minute).Format(time.RFC3339)}}
	var segs []playlists.Segment
	srv.must(http.MethodGet, "/screens/"+scr.ID+"/timeline?"+q.Encode(), nil, &segs)
	if len(segs) != 3 || !segs[1].Start.Equal(from) || !segs[1].End.Equal(to) || segs[1].Priority != 5 ||
		len(segs[1].Items) != 1 || segs[1].Items[0].ID != win || segs[0].Items[0].ID != base || segs[2].Items[0].ID != base {
		t.Errorf("timeline = %+v, want base / window [%v, %v) / base", segs, from, to)
	}

	waitFor(t, 15*time.Second, "the window to open on screen", func() bool { return p.state().CurrentItem == win })
	lag := time.Since(from)
	t.Logf("window opened on the skewed player %v after the real boundary (poll 25ms)", lag)
	if lag < -200*time.Millisecond || lag > 1500*time.Millisecond {
		t.Errorf("window opened %v from the real boundary, want within about a second (the clock is %v off)", lag, skew)
	}
	waitFor(t, 15*time.Second, "the window to close on screen", func() bool { return p.state().CurrentItem == base })
	lag = time.Since(to)
	t.Logf("window closed %v after the real end", lag)
	if lag < -200*time.Millisecond || lag > 1500*time.Millisecond {
		t.Errorf("window closed %v from the real end, want within about a second", lag)
	}
}
