package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// safeState is the part of the player's /state this test reads.
type safeState struct {
	SafeMode    bool   `json:"safe_mode"`
	Fallback    bool   `json:"fallback"`
	CurrentItem string `json:"current_item"`
	Urgent      string `json:"urgent"`
}

func (p *testPlayer) safeState() safeState {
	p.t.Helper()
	var st safeState
	resp, err := http.Get(p.page + "/state")
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&st)
	return st
}

// TestSafeModeAcrossOfflinePlayer: safe mode blanks the screens it targets
// to the slate within the promise, a screen offline while it is switched
// on obeys when it reconnects (and after a restart, from its cache), an
// urgent notice sent afterwards still shows, and lifting it (again while
// one screen is offline) brings the content back everywhere.
func TestSafeModeAcrossOfflinePlayer(t *testing.T) {
	srv := startServer(t)
	item := srv.item("notice", "社区通知", "正文", "", 2)
	pl := srv.playlist("日常", item)
	srv.scheduleAll(pl, 1)
	a := srv.screen("东门屏", "")
	b := srv.screen("西门屏", "")
	pa := startPlayer(t, srv.url(), a.Token, cachePath(t, "a"))
	cacheB := cachePath(t, "b")
	pb := startPlayer(t, srv.url(), b.Token, cacheB)
	for _, p := range []*testPlayer{pa, pb} {
		waitFor(t, 20*time.Second, "content on screen", func() bool { return p.safeState().CurrentItem == item })
	}

	// B goes offline; safe mode goes on for all screens.
	pb.stop()
	var sm struct {
		ID string `json:"id"`
	}
	srv.must("POST", "/safe-mode", map[string]any{"target": map[string]any{"all": true}}, &sm)
	took := waitFor(t, 10*time.Second, "the connected screen on the slate", func() bool {
		st := pa.safeState()
		return st.SafeMode && st.Fallback && st.CurrentItem == ""
	})
	t.Logf("safe mode reached the connected screen in %v", took)
	waitFor(t, 10*time.Second, "a safe_mode_on event for the webhooks", func() bool {
		var alerts []struct {
			Kind string `json:"kind"`
		}
		srv.must("GET", "/alerts", nil, &alerts)
		return len(alerts) > 0 && alerts[0].Kind == "safe_mode_on"
	})

	// An urgent notice sent now still shows.
	var u struct {
		ID string `json:"id"`
	}
	srv.must("POST", "/urgent", map[string]any{"title": "燃气检修，请勿使用明火", "target": map[string]any{"all": true},
		"expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, &u)
	waitFor(t, 10*time.Second, "the urgent notice over the slate", func() bool { return pa.safeState().Urgent == u.ID })
	srv.must("DELETE", "/urgent/"+u.ID, nil, nil)
	waitFor(t, 10*time.Second, "the notice withdrawn", func() bool { st := pa.safeState(); return st.Urgent == "" && st.SafeMode })

	// B comes back: it obeys at once.
	pb = startPlayer(t, srv.url(), b.Token, cacheB)
	waitFor(t, 20*time.Second, "the reconnected screen on the slate", func() bool {
		st := pb.safeState()
		return st.SafeMode && st.CurrentItem == ""
	})
	// Restarted with the server gone, it stays on the slate from its cache.
	pb.stop()
	srv.stop()
	pb = startPlayer(t, srv.url(), b.Token, cacheB)
	waitFor(t, 20*time.Second, "the slate from the cache, server down", func() bool {
		st := pb.safeState()
		return st.SafeMode && st.CurrentItem == ""
	})
	srv.restart()

	// Lift it while B is offline; both come back to their content.
	pb.stop()
	srv.must("DELETE", "/safe-mode/"+sm.ID, nil, nil)
	waitFor(t, 10*time.Second, "content back on the connected screen", func() bool {
		st := pa.safeState()
		return !st.SafeMode && st.CurrentItem == item
	})
	pb = startPlayer(t, srv.url(), b.Token, cacheB)
	waitFor(t, 20*time.Second, "content back on the reconnected screen", func() bool {
		st := pb.safeState()
		return !st.SafeMode && st.CurrentItem == item
	})
}
