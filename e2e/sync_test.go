package e2e

import (
	"bytes"
	"image/color"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kiosk/server"
)

// fleet is a server with demo-sized content and two players on it.
type fleet struct {
	srv      *testServer
	screens  [2]screenCreds
	players  [2]*testPlayer
	playlist string
	items    []string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	return newFleetWith(t, nil)
}

// newFleetWith is newFleet on a server whose configuration tune adjusts.
func newFleetWith(t *testing.T, tune func(*server.Config)) *fleet {
	t.Helper()
	f := &fleet{srv: startServerWith(t, tune)}
	pic := f.srv.uploadPNG(color.RGBA{200, 30, 30, 255})
	f.items = []string{
		f.srv.item("legal_story", "邻里纠纷怎么办", "先协商，再找人民调解委员会。", "", 1),
		f.srv.item("psa", "反诈提醒", "验证码不告诉任何人。", pic, 1),
		f.srv.item("notice", "停水通知", "3号楼明日9:00-12:00停水。", "", 1),
	}
	f.playlist = f.srv.playlist("日常轮播", f.items...)
	f.srv.scheduleAll(f.playlist, 0)
	for i := range f.players {
		f.screens[i] = f.srv.screen([]string{"一号屏", "二号屏"}[i], "")
		f.players[i] = startPlayer(t, f.srv.url(), f.screens[i].Token, cachePath(t, f.screens[i].ID))
	}
	return f
}

// waitSynced waits until every player applied what the server publishes
// for it and the server has recorded the acknowledgement.
func (f *fleet) waitSynced(t *testing.T, within time.Duration) time.Duration {
	t.Helper()
	return waitFor(t, within, "both players to apply and ack the published version", func() bool {
		for i, p := range f.players {
			st := f.srv.status(f.screens[i].ID)
			if st.PublishedVersion == "" || st.AppliedVersion != st.PublishedVersion || !st.Online {
				return false
			}
			if p.state().AppliedVersion != st.PublishedVersion {
				return false
			}
		}
		return true
	})
}

func TestPublishApplyAndEdit(t *testing.T) {
	f := newFleet(t)
	took := f.waitSynced(t, 20*time.Second)
	t.Logf("initial sync of 2 players took %v", took)

	before := f.srv.status(f.screens[0].ID).PublishedVersion
	extra := f.srv.item("psa", "文明养犬", "出门牵绳，及时清理。", "", 1)
	f.srv.must(http.MethodPut, "/playlists/"+f.playlist, map[string]any{
		"name": "日常轮播", "items": append(append([]string{}, f.items...), extra),
	}, nil)
	// The promise is 2 s; the deadline is generous for a loaded CI machine,
	// the measured figure is logged.
	took = waitFor(t, 10*time.Second, "both players to apply the edited playlist", func() bool {
		for i, p := range f.players {
			st := f.srv.status(f.screens[i].ID)
			if st.PublishedVersion == before || p.state().AppliedVersion != st.PublishedVersion || st.AppliedVersion != st.PublishedVersion {
				return false
			}
		}
		return true
	})
	t.Logf("edit → both players applied and acked in %v", took)
	if took > 2*time.Second {
		t.Logf("warning: slower than the 2 s promise (machine under load?)")
	}
	// Both players see the same content, so they share one manifest version.
	a, b := f.srv.status(f.screens[0].ID), f.srv.status(f.screens[1].ID)
	if a.PublishedVersion != b.PublishedVersion {
		t.Errorf("identically targeted screens got versions %s and %s, want one shared", short(a.PublishedVersion), short(b.PublishedVersion))
	}
	waitFor(t, 10*time.Second, "the server to learn the current item from heartbeats", func() bool {
		return f.srv.status(f.screens[0].ID).CurrentItem != ""
	})
}

// With the fast media path off (-fast-media=false) net/http serves the
// media, and players sync all the same (a version applies only once its
// image is downloaded and verified).
func TestFastMediaOff(t *testing.T) {
	f := newFleetWith(t, func(c *server.Config) { c.FastMediaOff = true })
	f.waitSynced(t, 20*time.Second)
}

func TestPlayersKeepPlayingThroughOutageAndResync(t *testing.T) {
	f := newFleet(t)
	f.waitSynced(t, 20*time.Second)

	f.srv.stop()
	for i, p := range f.players {
		waitFor(t, 10*time.Second, "player to notice the server is gone", func() bool { return !p.state().Online })
		seen := map[string]bool{}
		waitFor(t, 15*time.Second, "player to keep rotating from cache", func() bool {
			if id := p.state().CurrentItem; id != "" {
				seen[id] = true
			}
			return len(seen) >= 2
		})
		t.Logf("player %d rotated %d items while the server was down", i, len(seen))
	}

	f.srv.start(f.srv.addr)
	f.waitSynced(t, 20*time.Second)
	// A change made after the restart reaches the reconnected players.
	before := f.players[0].state().AppliedVersion
	f.srv.must(http.MethodPut, "/playlists/"+f.playlist, map[string]any{"name": "日常轮播", "items": f.items[:2]}, nil)
	waitFor(t, 10*time.Second, "reconnected players to apply a post-restart edit", func() bool {
		for i, p := range f.players {
			st := f.srv.status(f.screens[i].ID)
			if st.PublishedVersion == before || p.state().AppliedVersion != st.PublishedVersion {
				return false
			}
		}
		return true
	})
}

// corruptingProxy forwards to the server but flips bytes in asset bodies
// while corrupt is true.
func corruptingProxy(t *testing.T, target string, corrupt *atomic.Bool) *httptest.Server {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if !corrupt.Load() || !strings.Contains(resp.Request.URL.Path, "/device/assets/") {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if len(b) > 0 {
			b[len(b)/2] ^= 0xFF
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return nil
	}
	ts := httptest.NewServer(rp)
	t.Cleanup(ts.Close)
	return ts
}

func TestCorruptBytesAreRejected(t *testing.T) {
	srv := startServer(t)
	good := srv.item("notice", "法律援助时间", "每周二、四 9:00-17:00", "", 1)
	pl := srv.playlist("基础", good)
	srv.scheduleAll(pl, 0)
	scr := srv.screen("三号屏", "")

	var corrupt atomic.Bool
	proxy := corruptingProxy(t, srv.url(), &corrupt)
	p := startPlayer(t, proxy.URL, scr.Token, cachePath(t, scr.ID))
	waitFor(t, 20*time.Second, "player to apply the first version", func() bool {
		st := srv.status(scr.ID)
		return st.PublishedVersion != "" && p.state().AppliedVersion == st.PublishedVersion
	})
	oldVersion := p.state().AppliedVersion

	corrupt.Store(true)
	pic := srv.uploadPNG(color.RGBA{20, 90, 200, 255})
	withPic := srv.item("psa", "交通安全", "礼让斑马线。", pic, 1)
	srv.must(http.MethodPut, "/playlists/"+pl, map[string]any{"name": "基础", "items": []string{good, withPic}}, nil)

	waitFor(t, 20*time.Second, "player to report the failed download", func() bool {
		return p.state().LastSyncError != ""
	})
	st := p.state()
	if st.AppliedVersion != oldVersion {
		t.Fatalf("after corrupt download applied_version = %s, want old %s kept", short(st.AppliedVersion), short(oldVersion))
	}
	if st.CurrentItem != good {
		t.Errorf("current_item = %q, want the old content %q still playing", st.CurrentItem, good)
	}
	t.Logf("player refused corrupt bytes: %s", st.LastSyncError)

	// Once the bytes are right again the player catches up.
	corrupt.Store(false)
	waitFor(t, 30*time.Second, "player to apply the new version once bytes are intact", func() bool {
		st := srv.status(scr.ID)
		return p.state().AppliedVersion == st.PublishedVersion && st.PublishedVersion != oldVersion
	})
}

func TestDeviceTokenCannotUseAdminAPI(t *testing.T) {
	srv := startServer(t)
	scr := srv.screen("四号屏", "")
	other := srv.screen("五号屏", "")
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/items"},
		{http.MethodPost, "/api/v1/items"},
		{http.MethodGet, "/api/v1/screens"},
		{http.MethodGet, "/api/v1/screens/" + other.ID},
		{http.MethodDelete, "/api/v1/screens/" + other.ID},
	} {
		var e struct{ Error string }
		code := callAPI(t, tc.method, srv.url()+tc.path, "Bearer "+scr.Token, map[string]any{}, &e)
		if code != http.StatusUnauthorized && code != http.StatusForbidden {
			t.Errorf("%s %s with a device token: status %d, want 401 or 403", tc.method, tc.path, code)
		}
		if e.Error == "" {
			t.Errorf("%s %s with a device token: no JSON error message", tc.method, tc.path)
		}
	}
	// And the device token does reach its own manifest.
	code := callAPI(t, http.MethodGet, srv.url()+"/api/v1/device/manifest", "Bearer "+scr.Token, nil, nil)
	if code != http.StatusOK {
		t.Errorf("GET /device/manifest with own token: status %d, want 200", code)
	}
	code = callAPI(t, http.MethodGet, srv.url()+"/api/v1/device/manifest", "Bearer "+adminToken+"x", nil, nil)
	if code != http.StatusUnauthorized {
		t.Errorf("GET /device/manifest with a bad token: status %d, want 401", code)
	}
}
