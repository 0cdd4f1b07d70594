package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testAdminToken = "demo-test-admin-token"

// startDemo runs the demo on ports chosen by the kernel and returns its Info
// and a function that stops it and reports run's error.
func startDemo(t *testing.T, dataDir string) (Info, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan Info, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, Config{
			Addr:       "127.0.0.1:0",
			Listen:     "127.0.0.1:0",
			DataDir:    dataDir,
			AdminToken: testAdminToken,
			Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
			Out:        &out,
			Heartbeat:  time.Second,
			Started:    func(in Info) { started <- in },
		})
	}()
	var info Info
	select {
	case info = <-started:
	case err := <-done:
		cancel()
		t.Fatalf("run returned before starting: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("demo did not start within 60 s")
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("demo did not stop within 30 s of cancel")
			return nil
		}
	}
	t.Cleanup(func() { stop() })

	banner := out.String()
	if len(info.Users) != 5 {
		t.Errorf("demo accounts: got %+v, want one per role", info.Users)
	}
	wants := []string{info.ScreenURL, info.APIBase, testAdminToken, "curl -H"}
	for _, u := range info.Users {
		wants = append(wants, u.Password)
	}
	for _, want := range wants {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	return info, stop
}

// countList GETs an admin list endpoint and returns its length.
func countList(t *testing.T, info Info, path string) int {
	t.Helper()
	c := newAPIClient(info.ServerURL, info.AdminToken)
	var got []json.RawMessage
	if err := c.list(context.Background(), "/api/v1"+path, &got); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return len(got)
}

// waitApplied polls the player's /state until it reports an applied version.
func waitApplied(t *testing.T, screenURL string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(screenURL + "state")
		if err == nil {
			var st struct {
				AppliedVersion string `json:"applied_version"`
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if json.Unmarshal(b, &st) == nil && st.AppliedVersion != "" {
				return st.AppliedVersion
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("player never applied a version; last /state: %s", last)
	return ""
}

func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real server and player")
	}
	dataDir := t.TempDir()

	info, stop := startDemo(t, dataDir)
	if !info.Seeded {
		t.Error("first run: Seeded = false, want true")
	}
	if got, want := countList(t, info, "/items"), len(demoItems); got != want {
		t.Errorf("items on the server = %d, want %d", got, want)
	}
	if got, want := countList(t, info, "/playlists"), len(demoPlaylists); got != want {
		t.Errorf("playlists on the server = %d, want %d", got, want)
	}
	if got, want := countList(t, info, "/schedules"), len(demoSchedules); got != want {
		t.Errorf("schedules on the server = %d, want %d", got, want)
	}
	if got := countList(t, info, "/screens"); got != 1 {
		t.Errorf("screens on the server = %d, want 1", got)
	}
	version := waitApplied(t, info.ScreenURL)

	page, err := http.Get(info.ScreenURL)
	if err != nil {
		t.Fatalf("GET kiosk page: %v", err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Errorf("GET kiosk page: status %d, want 200", page.StatusCode)
	}

	tokenPath := filepath.Join(dataDir, tokenFileName)
	fi, err := os.Stat(tokenPath)
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("token file mode %v, want 0600", perm)
	}
	if err := stop(); err != nil {
		t.Fatalf("first run: run() = %v, want nil after cancel", err)
	}

	// A second run on the same data keeps the content and the screen.
	info2, stop2 := startDemo(t, dataDir)
	if info2.Seeded {
		t.Error("second run: Seeded = true, want false (content already there)")
	}
	if info2.ScreenID != info.ScreenID {
		t.Errorf("second run: screen %q, want the first run's %q", info2.ScreenID, info.ScreenID)
	}
	if got, want := countList(t, info2, "/items"), len(demoItems); got != want {
		t.Errorf("second run: items = %d, want %d (no duplicates)", got, want)
	}
	if got := countList(t, info2, "/screens"); got != 1 {
		t.Errorf("second run: screens = %d, want 1", got)
	}
	if v := waitApplied(t, info2.ScreenURL); v != version {
		t.Errorf("second run: applied version %s, want unchanged %s", v, version)
	}
	if err := stop2(); err != nil {
		t.Fatalf("second run: run() = %v, want nil after cancel", err)
	}

	// A lost token file is replaced by rotating the screen's token.
	if err := os.Remove(tokenPath); err != nil {
		t.Fatal(err)
	}
	info3, stop3 := startDemo(t, dataDir)
	if info3.ScreenID != info.ScreenID {
		t.Errorf("third run: screen %q, want %q", info3.ScreenID, info.ScreenID)
	}
	waitApplied(t, info3.ScreenURL)
	if _, err := os.Stat(tokenPath); err != nil {
		t.Errorf("third run: token file not rewritten: %v", err)
	}
	if err := stop3(); err != nil {
		t.Fatalf("third run: run() = %v, want nil after cancel", err)
	}
}

func TestDemoBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()

	tests := []struct {
		name, addr, listen, flag string
	}{
		{"server port", addr, "127.0.0.1:0", "-addr"},
		{"player port", "127.0.0.1:0", addr, "-listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), Config{
				Addr: tt.addr, Listen: tt.listen, DataDir: t.TempDir(),
				AdminToken: testAdminToken, Out: io.Discard,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err == nil {
				t.Fatal("run() = nil, want an error for a busy port")
			}
			for _, want := range []string{addr, "already in use", tt.flag} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestDemoNeedsAdminToken(t *testing.T) {
	err := run(context.Background(), Config{Addr: "127.0.0.1:0", Listen: "127.0.0.1:0", Out: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "admin token") {
		t.Errorf("run() without a token = %v, want an error naming the admin token", err)
	}
}

// TestDemoScreenshotThroughHeadlessChromium: with a Chromium installed the
// demo starts it headless on the screen page, the way the screen box's
// launcher does, and saves one full-HD screenshot taken through the
// player's screenshot command.
func TestDemoScreenshotThroughHeadlessChromium(t *testing.T) {
	if p, _ := findBrowser("auto"); p == "" {
		if os.Getenv("KIOSK_REQUIRE_CHROMIUM") != "" {
			t.Fatal("no Chromium on PATH and KIOSK_REQUIRE_CHROMIUM is set")
		}
		t.Skip("no Chromium on PATH")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type shot struct {
		file string
		err  error
	}
	shots := make(chan shot, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	dir := t.TempDir()
	go func() {
		done <- run(ctx, Config{
			Addr:       "127.0.0.1:0",
			Listen:     "127.0.0.1:0",
			DataDir:    dir,
			AdminToken: testAdminToken,
			Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
			Out:        &out,
			Heartbeat:  time.Second,
			Browser:    "auto",
			Screenshot: func(file string, err error) { shots <- shot{file, err} },
		})
	}()
	var got shot
	select {
	case got = <-shots:
	case err := <-done:
		t.Fatalf("run returned before the screenshot: %v", err)
	case <-time.After(120 * time.Second):
		t.Fatal("no screenshot within 120 s")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("demo did not stop within 30 s")
	}
	if got.err != nil {
		t.Fatalf("screenshot: %v", got.err)
	}
	f, err := os.Open(got.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		t.Fatalf("decode %s: %v", got.file, err)
	}
	if cfg.Width != 1920 || cfg.Height != 1080 {
		t.Errorf("screenshot is %s %d×%d, want 1920×1080", format, cfg.Width, cfg.Height)
	}
	if !strings.Contains(out.String(), "headless Chromium") || !strings.Contains(out.String(), got.file) {
		t.Errorf("banner does not name the browser and the file:\n%s", out.String())
	}
}
