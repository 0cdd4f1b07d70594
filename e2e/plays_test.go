package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"kiosk/player"
	"kiosk/playlists"
)

// playLedger is the players' own record of what they played, taken from
// the player's OnPlay hook (called once a play is safely in the cache).
type playLedger struct {
	mu    sync.Mutex
	plays map[string][]playlists.Play // screen id → plays
}

func (l *playLedger) hook(screen string) func(playlists.Play) {
	return func(p playlists.Play) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.plays == nil {
			l.plays = map[string][]playlists.Play{}
		}
		l.plays[screen] = append(l.plays[screen], p)
	}
}

func (l *playLedger) count(screen string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.plays[screen])
}

// perItem sums the ledger of one screen per item: plays and milliseconds.
func (l *playLedger) perItem(t *testing.T, screen string) map[string][2]int64 {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string][2]int64{}
	seen := map[string]bool{}
	for _, p := range l.plays[screen] {
		if seen[p.ID] {
			t.Fatalf("screen %s recorded play id %s twice", screen, p.ID)
		}
		seen[p.ID] = true
		v := out[p.Item]
		out[p.Item] = [2]int64{v[0] + 1, v[1] + p.DurationMS}
	}
	return out
}

// startRecordingPlayer is startPlayer with fast play uploads and every
// play the player records also handed to onPlay.
func startRecordingPlayer(t *testing.T, serverURL, token, cacheFile string, onPlay func(playlists.Play)) *testPlayer {
	t.Helper()
	return startPlayerWith(t, serverURL, token, cacheFile, func(c *player.Config) {
		c.PlayUploadInterval = 300 * time.Millisecond
		c.OnPlay = onPlay
	})
}

type reportRow struct {
	Key     string  `json:"key"`
	Label   string  `json:"label"`
	Plays   int64   `json:"plays"`
	Seconds float64 `json:"seconds"`
}

// TestProofOfPlayThroughOutageAndRestart runs two players on 1-s items
// through a server outage and a player restart on the same cache file, then
// compares the server's report per screen and item with what each player
// recorded: the same counts and seconds, nothing lost, nothing twice.
func TestProofOfPlayThroughOutageAndRestart(t *testing.T) {
	srv := startServer(t)
	srv.must(http.MethodPost, "/groups", map[string]any{"id": "east", "name": "东街道"}, nil)
	x := srv.item("psa", "反诈宣传", "", "", 1)
	y := srv.item("legal_story", "法律故事", "", "", 1)
	srv.scheduleAll(srv.playlist("轮播", x, y), 0)
	a := srv.screen("一号屏", "east")
	b := srv.screen("二号屏", "")
	began := time.Now()

	ledger := &playLedger{}
	cacheA, cacheB := cachePath(t, "a"), cachePath(t, "b")
	pa := startRecordingPlayer(t, srv.url(), a.Token, cacheA, ledger.hook(a.ID))
	pb := startRecordingPlayer(t, srv.url(), b.Token, cacheB, ledger.hook(b.ID))
	for _, p := range []*testPlayer{pa, pb} {
		waitFor(t, 15*time.Second, "players online and playing", func() bool {
			st := p.state()
			return st.Online && st.CurrentItem != ""
		})
	}
	time.Sleep(4 * time.Second)

	// Server outage: the players keep playing and keep their plays.
	srv.stop()
	duringA, duringB := ledger.count(a.ID), ledger.count(b.ID)
	time.Sleep(3 * time.Second)
	if ledger.count(a.ID) <= duringA || ledger.count(b.ID) <= duringB {
		t.Fatalf("players recorded no plays during the outage (A %d→%d, B %d→%d)",
			duringA, ledger.count(a.ID), duringB, ledger.count(b.ID))
	}
	srv.start(srv.addr)
	waitFor(t, 15*time.Second, "players back online", func() bool { return pa.state().Online && pb.state().Online })
	time.Sleep(time.Second)

	// Player A restarts on the same cache file: its pending plays and its
	// play ids carry over.
	pa.stop()
	pa = startRecordingPlayer(t, srv.url(), a.Token, cacheA, ledger.hook(a.ID))
	waitFor(t, 15*time.Second, "player A online again", func() bool { return pa.state().Online })
	time.Sleep(2 * time.Second)

	// Stopping records the item on screen and uploads what is left.
	pa.stop()
	pb.stop()

	from := url.QueryEscape(began.Add(-time.Hour).Format(time.RFC3339))
	to := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	for _, sc := range []screenCreds{a, b} {
		want := ledger.perItem(t, sc.ID)
		var total int
		for _, v := range want {
			total += int(v[0])
		}
		if total < 8 {
			t.Fatalf("screen %s recorded only %d plays in ~10 s of 1-s items", sc.ID, total)
		}
		var rows []reportRow
		var got map[string][2]int64
		// The final uploads are done by the time stop returns; the poll only
		// covers a slow machine.
		deadline := time.Now().Add(10 * time.Second)
		for {
			rows = nil
			srv.must(http.MethodGet, fmt.Sprintf("/reports/plays?from=%s&to=%s&group_by=item&screen=%s", from, to, sc.ID), nil, &rows)
			got = map[string][2]int64{}
			for _, r := range rows {
				got[r.Key] = [2]int64{r.Plays, int64(r.Seconds*1000 + 0.5)}
			}
			if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("screen %s: report per item [plays ms] = %v, players recorded %v", sc.ID, got, want)
		}
		for _, r := range rows {
			if wantLabel := map[string]string{x: "反诈宣传", y: "法律故事"}[r.Key]; r.Label != wantLabel {
				t.Errorf("row %s label %q, want %q", r.Key, r.Label, wantLabel)
			}
		}
		t.Logf("screen %s: %d plays recorded and reported (%v)", sc.ID, total, got)
	}

	// By group: A's plays under 东街道, B's under no group.
	var groups []reportRow
	srv.must(http.MethodGet, fmt.Sprintf("/reports/plays?from=%s&to=%s&group_by=group", from, to), nil, &groups)
	wantGroups := map[string]int64{"": int64(ledger.count(b.ID)), "east": int64(ledger.count(a.ID))}
	if len(groups) != 2 || groups[0].Plays != wantGroups[groups[0].Key] || groups[1].Plays != wantGroups[groups[1].Key] {
		t.Errorf("report by group = %+v, want east %d and no group %d", groups, wantGroups["east"], wantGroups[""])
	}
}
