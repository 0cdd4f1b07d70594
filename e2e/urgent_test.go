package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// urgentState is the part of a player's /state the urgent tests read.
type urgentState struct {
	CurrentItem   string `json:"current_item"`
	Urgent        string `json:"urgent"`
	UrgentActive  int    `json:"urgent_active"`
	ClockOffsetMS int64  `json:"clock_offset_ms"`
	Online        bool   `json:"online"`
}

func (p *testPlayer) urgentState() urgentState {
	p.t.Helper()
	var st urgentState
	resp, err := http.Get(p.page + "/state")
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		p.t.Fatalf("decode /state: %v", err)
	}
	return st
}

func (s *testServer) group(id, name, parent string) {
	s.t.Helper()
	s.must(http.MethodPost, "/groups", map[string]any{"id": id, "name": name, "parent": parent}, nil)
}

func (s *testServer) urgent(title string, target map[string]any, expires time.Time) string {
	s.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	s.must(http.MethodPost, "/urgent", map[string]any{
		"title": title, "body": "请相互转告。", "target": target, "expires_at": expires.Format(time.RFC3339),
	}, &out)
	if out.ID == "" {
		s.t.Fatal("POST /urgent gave no id")
	}
	return out.ID
}

// TestUrgentNoticeTargetsOneGroup is issue 3's end-to-end promise: a notice
// for one group shows there within 2 s and not on the other group's screen,
// withdrawal clears it within 2 s, and expiry clears it with the server
// gone.
func TestUrgentNoticeTargetsOneGroup(t *testing.T) {
	srv := startServer(t)
	srv.group("huayang", "华阳路", "")
	srv.group("cuiyuan", "翠苑小区", "huayang")
	srv.group("jinxiu", "锦绣小区", "")
	base := srv.item("notice", "社区通知", "本周六义诊。", "", 2)
	srv.scheduleAll(srv.playlist("日常", base), 0)
	scrA := srv.screen("翠苑一号屏", "cuiyuan")
	scrB := srv.screen("锦绣一号屏", "jinxiu")
	pa := startPlayer(t, srv.url(), scrA.Token, cachePath(t, "a"))
	pb := startPlayer(t, srv.url(), scrB.Token, cachePath(t, "b"))
	waitFor(t, 20*time.Second, "both players to show the rotation", func() bool {
		return pa.state().CurrentItem == base && pb.state().CurrentItem == base
	})

	// Targeting the parent street reaches the compound under it.
	start := time.Now()
	id := srv.urgent("华阳路3号楼停水", map[string]any{"groups": []string{"huayang"}}, time.Now().Add(time.Hour))
	took := waitFor(t, 10*time.Second, "the notice on the targeted screen", func() bool {
		return pa.urgentState().CurrentItem == id
	})
	t.Logf("urgent notice on the targeted screen %v after the request returned (%v after it was sent); promise: 2s",
		took, time.Since(start))
	if took > 2*time.Second {
		t.Errorf("urgent notice took %v to show, want within 2s", took)
	}
	if st := pa.urgentState(); st.Urgent != id || st.UrgentActive != 1 {
		t.Errorf("targeted /state = %+v, want urgent %s", st, id)
	}
	// The other group's screen keeps its rotation. Watch it for a while,
	// since a wrong push would arrive within the same 2 s.
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if st := pb.urgentState(); st.CurrentItem == id || st.Urgent != "" {
			t.Fatalf("untargeted screen shows the notice: %+v", st)
		}
	}
	// The server learns from the heartbeat what is on screen.
	waitFor(t, 10*time.Second, "the server to see the notice on screen A", func() bool {
		return srv.status(scrA.ID).CurrentItem == id
	})
	var now struct {
		Matches  bool     `json:"matches"`
		Expected []string `json:"expected"`
	}
	srv.must(http.MethodGet, "/screens/"+scrA.ID+"/now", nil, &now)
	if !now.Matches || len(now.Expected) != 1 || now.Expected[0] != id {
		t.Errorf("GET /screens/A/now = %+v, want the notice expected and matching", now)
	}

	// Withdrawal.
	srv.must(http.MethodDelete, "/urgent/"+id, nil, nil)
	took = waitFor(t, 10*time.Second, "withdrawal to clear the notice", func() bool {
		st := pa.urgentState()
		return st.Urgent == "" && st.CurrentItem == base
	})
	t.Logf("withdrawal cleared the notice in %v; promise: 2s", took)
	if took > 2*time.Second {
		t.Errorf("withdrawal took %v, want within 2s", took)
	}

	// Expiry with no server: a notice for 4 s, then the server goes away.
	expires := time.Now().Add(4 * time.Second).Truncate(time.Second)
	id2 := srv.urgent("临时封路", map[string]any{"screens": []string{scrA.ID}}, expires)
	waitFor(t, 10*time.Second, "the short notice on screen", func() bool { return pa.urgentState().CurrentItem == id2 })
	srv.stop()
	waitFor(t, 10*time.Second, "the player to notice the server is gone", func() bool { return !pa.urgentState().Online })
	if st := pa.urgentState(); st.CurrentItem != id2 {
		t.Fatalf("with the server down and before expiry the screen shows %+v, want the notice", st)
	}
	waitFor(t, 15*time.Second, "the notice to expire offline", func() bool {
		return pa.urgentState().CurrentItem == base
	})
	late := time.Since(expires)
	t.Logf("offline expiry: notice gone %v after expires_at (poll interval 25ms)", late)
	if late > 1500*time.Millisecond {
		t.Errorf("notice ended %v after its expiry, want within about a second", late)
	}
	if pb.urgentState().Urgent != "" {
		t.Errorf("untargeted screen shows an urgent notice")
	}
}
