package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"kiosk/player"
)

// pairingState is the pairing part of a player's /state.
type pairingState struct {
	Online           bool       `json:"online"`
	AppliedVersion   string     `json:"applied_version"`
	CurrentItem      string     `json:"current_item"`
	ScreenID         string     `json:"screen_id"`
	PairingCode      string     `json:"pairing_code"`
	PairingExpiresAt *time.Time `json:"pairing_expires_at"`
}

func (p *testPlayer) pairingState() pairingState {
	p.t.Helper()
	var st pairingState
	resp, err := http.Get(p.page + "/state")
	if err != nil {
		return st // not listening yet
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		p.t.Fatalf("decode /state: %v", err)
	}
	return st
}

// startUnpaired starts a player with no token on cacheFile.
func startUnpaired(t *testing.T, s *testServer, cacheFile string) *testPlayer {
	t.Helper()
	return startPlayerWith(t, s.url(), "", cacheFile, func(c *player.Config) {
		c.PairPollInterval = 200 * time.Millisecond
	})
}

// waitForCode waits until p shows a pairing code and returns it.
func waitForCode(t *testing.T, p *testPlayer) string {
	t.Helper()
	var code string
	waitFor(t, 15*time.Second, "the player to show a pairing code", func() bool {
		st := p.pairingState()
		code = st.PairingCode
		return code != "" && st.PairingExpiresAt != nil
	})
	return code
}

// TestPairingFromFreshPlayer: a player started with no token shows a code
// on its page; a technician adopts it through the API; the player syncs
// and plays the schedule, comes back paired after a restart without a new
// code, and a replacement device re-paired onto the same screen takes
// over while the old one is cut off.
func TestPairingFromFreshPlayer(t *testing.T) {
	s := startServer(t)
	item := s.item("notice", "配对后播放", "新屏幕的第一条内容", "", 2)
	s.scheduleAll(s.playlist("日常", item), 0)
	s.must(http.MethodPost, "/groups", map[string]any{"id": "xinhua", "name": "新华街道"}, nil)
	s.addPerson("tech", "correct horse battery", "technician", nil, false)
	tech := signIn(t, s, "tech", "correct horse battery")

	cache := cachePath(t, "paired")
	p := startUnpaired(t, s, cache)
	code := waitForCode(t, p)
	if st := p.pairingState(); st.Online || st.ScreenID != "" {
		t.Fatalf("before adoption: got online=%v screen=%q, want neither", st.Online, st.ScreenID)
	}

	// A wrong code first: 404 with the stable code, nothing created.
	var refusal apiError
	if got := tech.call(http.MethodPost, "/screens/pair", map[string]any{"code": "ZZZZZZZZ", "name": "x"}, &refusal); got != http.StatusNotFound || refusal.Code != "pairing_code_unknown" {
		t.Fatalf("wrong code: got %d %+v, want 404 pairing_code_unknown", got, refusal)
	}

	var scr struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	tech.must(http.StatusCreated, http.MethodPost, "/screens/pair", map[string]any{"code": code, "name": "新华大厅", "group": "xinhua"}, &scr)
	if scr.ID == "" || scr.Token != "" {
		t.Fatalf("adoption answer: got %+v, want an id and no token", scr)
	}

	start := time.Now()
	waitFor(t, 20*time.Second, "the paired player to play the schedule", func() bool {
		st := p.pairingState()
		return st.Online && st.PairingCode == "" && st.ScreenID == scr.ID && st.CurrentItem == item
	})
	t.Logf("adoption to playing: %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "the server to see the screen online with its version", func() bool {
		st := s.status(scr.ID)
		return st.Online && st.AppliedVersion != "" && st.AppliedVersion == st.PublishedVersion
	})

	// Restart on the same cache: paired at once, no new code.
	p.stop()
	p = startUnpaired(t, s, cache)
	waitFor(t, 20*time.Second, "the restarted player online without pairing", func() bool {
		st := p.pairingState()
		if st.PairingCode != "" {
			t.Fatalf("restarted player shows pairing code %q; it was paired already", st.PairingCode)
		}
		return st.Online && st.ScreenID == scr.ID && st.CurrentItem == item
	})

	// New hardware for the same screen: re-paired onto it, same id.
	q := startUnpaired(t, s, cachePath(t, "replacement"))
	code2 := waitForCode(t, q)
	var re struct {
		ID       string `json:"id"`
		Repaired bool   `json:"repaired"`
	}
	tech.must(http.StatusCreated, http.MethodPost, "/screens/pair", map[string]any{"code": code2, "screen": scr.ID}, &re)
	if re.ID != scr.ID || !re.Repaired {
		t.Fatalf("re-pair answer: got %+v, want screen %s repaired", re, scr.ID)
	}
	waitFor(t, 20*time.Second, "the replacement player to play as the same screen", func() bool {
		st := q.pairingState()
		return st.Online && st.ScreenID == scr.ID && st.CurrentItem == item
	})
	waitFor(t, 10*time.Second, "the old player to be cut off", func() bool { return !p.pairingState().Online })

	// The old device, refused again and again, forgets its credential and
	// exits for a restart (systemd starts it again); started again it
	// shows a fresh code, ready to be adopted as another screen.
	select {
	case err := <-p.done:
		if !errors.Is(err, player.ErrRestartRequested) {
			t.Fatalf("old player's Run returned %v, want ErrRestartRequested after forgetting its credential", err)
		}
		p.cancel()
		p.cancel = nil
	case <-time.After(30 * time.Second):
		t.Fatal("the refused player did not give up its credential within 30 s")
	}
	p = startUnpaired(t, s, cache)
	if code3 := waitForCode(t, p); code3 == "" || code3 == code || code3 == code2 {
		t.Fatalf("the unpaired player shows code %q, want a fresh one", code3)
	}
}
