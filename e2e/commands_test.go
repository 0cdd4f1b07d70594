package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kiosk/player"
)

// commandView is GET /screens/{id}/commands/{cid}.
type commandView struct {
	ID          string     `json:"id"`
	Type        string     `json:"type"`
	Status      string     `json:"status"`
	Result      string     `json:"result"`
	Error       string     `json:"error"`
	DeliveredAt *time.Time `json:"delivered_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	Deliveries  int        `json:"deliveries"`
}

func (s *testServer) command(screenID string, body map[string]any) commandView {
	s.t.Helper()
	var c commandView
	s.must(http.MethodPost, "/screens/"+screenID+"/commands", body, &c)
	if c.ID == "" {
		s.t.Fatalf("POST command gave no id: %+v", c)
	}
	return c
}

func (s *testServer) commandStatus(screenID, id string) commandView {
	s.t.Helper()
	var c commandView
	s.must(http.MethodGet, "/screens/"+screenID+"/commands/"+id, nil, &c)
	return c
}

func (s *testServer) waitCommand(screenID, id, status string, within time.Duration) commandView {
	s.t.Helper()
	var c commandView
	waitFor(s.t, within, "command "+id+" to be "+status, func() bool {
		c = s.commandStatus(screenID, id)
		return c.Status == status
	})
	return c
}

// identifyUntil reads the player's /state identify_until.
func (p *testPlayer) identifyUntil() *time.Time {
	p.t.Helper()
	var st struct {
		IdentifyUntil *time.Time `json:"identify_until"`
	}
	resp, err := http.Get(p.page + "/state")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if err := jsonDecode(resp.Body, &st); err != nil {
		p.t.Fatalf("decode /state: %v", err)
	}
	return st.IdentifyUntil
}

func seedContent(s *testServer) {
	s.t.Helper()
	it := s.item("notice", "停水通知", "明天 9:00-12:00 停水", "", 2)
	s.scheduleAll(s.playlist("main", it), 1)
}

func TestCommandQueuedForOfflineScreenRunsOnceOnReconnect(t *testing.T) {
	srv := startServer(t)
	seedContent(srv)
	scr := srv.screen("一号楼大厅", "")
	cache := cachePath(t, "p1")

	p := startPlayer(t, srv.url(), scr.Token, cache)
	waitFor(t, 15*time.Second, "player online", func() bool { return srv.status(scr.ID).Online })
	p.stop()
	waitFor(t, 15*time.Second, "screen offline", func() bool { return !srv.status(scr.ID).Online })

	cmd := srv.command(scr.ID, map[string]any{"type": "identify", "ttl_s": 600})
	if cmd.Status != "queued" {
		t.Fatalf("command to an offline screen: got status %q, want queued", cmd.Status)
	}
	time.Sleep(300 * time.Millisecond)
	if got := srv.commandStatus(scr.ID, cmd.ID); got.Status != "queued" {
		t.Fatalf("while offline: got status %q, want still queued", got.Status)
	}

	p2 := startPlayer(t, srv.url(), scr.Token, cache)
	took := time.Now()
	done := srv.waitCommand(scr.ID, cmd.ID, "done", 15*time.Second)
	t.Logf("queued identify done %v after the player restarted: %q", time.Since(took).Round(time.Millisecond), done.Result)
	if done.DeliveredAt == nil || done.FinishedAt == nil || done.Deliveries != 1 || !strings.Contains(done.Result, "showing name and id") {
		t.Errorf("done command: got %+v, want delivered once and finished with the identify result", done)
	}
	if u := p2.identifyUntil(); u == nil || time.Until(*u) < 20*time.Second {
		t.Errorf("player /state identify_until: got %v, want about 30 s ahead", u)
	}

	// A later reconnect does not run it again.
	p2.stop()
	p3 := startPlayer(t, srv.url(), scr.Token, cache)
	waitFor(t, 15*time.Second, "player online again", func() bool { return p3.state().Online })
	time.Sleep(500 * time.Millisecond)
	if u := p3.identifyUntil(); u != nil {
		t.Errorf("after another reconnect: identify_until %v, want null (not executed again)", u)
	}
	if got := srv.commandStatus(scr.ID, cmd.ID); got.Status != "done" || got.Deliveries != 1 {
		t.Errorf("after another reconnect: got %+v, want done, delivered once", got)
	}
}

func TestCommandExpiresWhileScreenOffline(t *testing.T) {
	srv := startServer(t)
	scr := srv.screen("二号楼", "")
	cmd := srv.command(scr.ID, map[string]any{"type": "identify", "ttl_s": 1})
	got := srv.waitCommand(scr.ID, cmd.ID, "expired", 10*time.Second)
	if got.DeliveredAt != nil || got.FinishedAt == nil || !strings.Contains(got.Error, "not delivered") {
		t.Errorf("expired command: got %+v, want never delivered, with a reason", got)
	}
	p := startPlayer(t, srv.url(), scr.Token, cachePath(t, "p2"))
	waitFor(t, 15*time.Second, "player online", func() bool { return p.state().Online })
	time.Sleep(500 * time.Millisecond)
	if u := p.identifyUntil(); u != nil {
		t.Errorf("an expired command ran: identify_until %v, want null", u)
	}
	if got := srv.commandStatus(scr.ID, cmd.ID); got.Status != "expired" {
		t.Errorf("after the screen connected: got %q, want still expired", got.Status)
	}
}

func TestCommandsOnlineScreen(t *testing.T) {
	srv := startServer(t)
	asset := srv.uploadPNG(colorRed)
	it := srv.item("psa", "防诈骗", "不要轻信陌生来电", asset, 2)
	srv.scheduleAll(srv.playlist("main", it), 1)
	scr := srv.screen("三号楼", "")
	p := startPlayer(t, srv.url(), scr.Token, cachePath(t, "p3"))
	waitFor(t, 15*time.Second, "content applied", func() bool {
		st := p.state()
		return st.Online && st.CurrentItem == it
	})

	for _, tc := range []struct {
		typ        string
		wantStatus string
		want       string
	}{
		{"reload", "done", "reload"},
		{"resync", "done", "verified 1 assets"},
		{"clear-cache", "done", "dropped 1 assets"},
		{"screenshot", "failed", "screenshot needs -devtools"},
	} {
		cmd := srv.command(scr.ID, map[string]any{"type": tc.typ})
		got := srv.waitCommand(scr.ID, cmd.ID, tc.wantStatus, 20*time.Second)
		if text := got.Result + got.Error; !strings.Contains(text, tc.want) {
			t.Errorf("%s: got %q, want it to mention %q", tc.typ, text, tc.want)
		}
	}
	// clear-cache fetched the media again: the screen still plays it.
	if st := p.state(); st.CurrentItem != it || st.LastSyncError != "" {
		t.Errorf("after clear-cache: state %+v, want item %s and no sync error", st, it)
	}

	cmd := srv.command(scr.ID, map[string]any{"type": "restart"})
	select {
	case err := <-p.done:
		p.cancel, p.done = nil, nil
		if !errors.Is(err, player.ErrRestartRequested) {
			t.Fatalf("player.Run after restart: got %v, want ErrRestartRequested", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("player did not stop for the restart command")
	}
	if got := srv.waitCommand(scr.ID, cmd.ID, "done", 10*time.Second); got.Result != "player restarting" {
		t.Errorf("restart result: got %q, want %q", got.Result, "player restarting")
	}
}

// startChromium runs headless Chromium on page with DevTools on a free
// loopback port and returns the DevTools URL.
func startChromium(t *testing.T, page string) string {
	t.Helper()
	path := chromiumPath(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path,
		"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+dir,
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--window-size=1280,720", "--hide-scrollbars",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-quic", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
		page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	// With port 0 Chromium picks a free port and writes it here.
	portFile := filepath.Join(dir, "DevToolsActivePort")
	var port string
	waitFor(t, 30*time.Second, "chromium DevToolsActivePort", func() bool {
		f, err := os.Open(portFile)
		if err != nil {
			return false
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			port = strings.TrimSpace(sc.Text())
		}
		return port != ""
	})
	return fmt.Sprintf("http://127.0.0.1:%s", port)
}

func TestScreenshotThroughDevTools(t *testing.T) {
	chromiumPath(t) // skip early without a browser
	srv := startServer(t)
	seedContent(srv)
	scr := srv.screen("四号楼", "")

	devtools := startChromium(t, "about:blank")
	p := startPlayerWith(t, srv.url(), scr.Token, cachePath(t, "p4"), func(c *player.Config) { c.DevToolsURL = devtools })
	page := p.page + "/"
	waitFor(t, 15*time.Second, "player online", func() bool { return p.state().Online })

	// Open the kiosk page in the browser's tab through DevTools' HTTP API.
	req, _ := http.NewRequest(http.MethodPut, devtools+"/json/new?"+page, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("open the page in chromium: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	waitFor(t, 30*time.Second, "the page to report alive", func() bool {
		var st struct {
			PageAlive bool `json:"page_alive"`
		}
		r, err := http.Get(p.page + "/state")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		return jsonDecode(r.Body, &st) == nil && st.PageAlive
	})

	cmd := srv.command(scr.ID, map[string]any{"type": "screenshot"})
	got := srv.waitCommand(scr.ID, cmd.ID, "done", 45*time.Second)
	if !strings.HasPrefix(got.Result, "uploaded ") {
		t.Errorf("screenshot result: got %q, want \"uploaded N bytes\"", got.Result)
	}
	r, err := http.NewRequest(http.MethodGet, srv.url()+"/api/v1/screens/"+scr.ID+"/screenshot", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("GET screenshot: %d %q (Last-Modified %q), want 200 image/jpeg with Last-Modified",
			resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Last-Modified"))
	}
	img, format, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("screenshot does not decode: %v", err)
	}
	b := img.Bounds()
	t.Logf("screenshot: %s %dx%d, %d bytes", format, b.Dx(), b.Dy(), len(body))
	if b.Dx() < 320 || b.Dy() < 180 {
		t.Errorf("screenshot size %dx%d, want at least 320x180", b.Dx(), b.Dy())
	}
}

var colorRed = color.RGBA{R: 200, G: 30, B: 30, A: 255}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
