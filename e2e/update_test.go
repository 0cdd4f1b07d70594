package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server"
)

// buildPlayer compiles kiosk-player reporting version into dir, from the
// working tree: the server runs inside this test binary, so both must come
// from the same source (a change to the wire format between compiling the
// tests and running this one shows up as a player refusing the server).
func buildPlayer(t *testing.T, goTool, dir, version string) string {
	t.Helper()
	out := filepath.Join(dir, "kiosk-player-"+version)
	cmd := exec.Command(goTool, "build", "-ldflags", "-X kiosk/player.Version="+version, "-o", out, "./cmd/kiosk-player")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", version, err, b)
	}
	return out
}

// signFile signs the binary at path as version for platform.
func signFile(t *testing.T, priv ed25519.PrivateKey, path, version, platform string) (playlists.PlayerBuild, []byte) {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	return playlists.SignBuild(priv, playlists.PlayerBuild{Version: version, Platform: platform,
		Size: int64(len(bin)), SHA256: hex.EncodeToString(sum[:])}), bin
}

// uploadBuild posts a binary and its manifest as an admin would.
func (s *testServer) uploadBuild(m playlists.PlayerBuild, bin []byte) {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	raw, _ := json.Marshal(m)
	mw.WriteField("manifest", string(raw))
	fw, _ := mw.CreateFormFile("file", "kiosk-player")
	fw.Write(bin)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.url()+"/api/v1/player-builds", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		s.t.Fatalf("upload build %s %s: %d %s", m.Version, m.Platform, resp.StatusCode, b)
	}
}

// supervised runs the launcher and, through it, the player, again and
// again after every exit: what systemd's Restart=always does.
type supervised struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	log    bytes.Buffer
	starts int
	exits  []int
}

func supervise(t *testing.T, name, launcher, dir string, args ...string) *supervised {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &supervised{name: name, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			cmd := exec.CommandContext(ctx, "sh", append([]string{launcher, dir}, args...)...)
			cmd.Env = append(os.Environ(), "KIOSK_PLAYER_SEED="+filepath.Join(dir, "..", "seed"))
			// systemd stops a unit with SIGTERM; the player shuts down cleanly.
			cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
			cmd.WaitDelay = 10 * time.Second
			w := &lockedWriter{s: s}
			cmd.Stdout, cmd.Stderr = w, w
			s.mu.Lock()
			s.starts++
			s.mu.Unlock()
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			s.mu.Lock()
			s.exits = append(s.exits, code)
			s.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond): // RestartSec, shortened
			}
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *supervised) stop() {
	s.cancel()
	<-s.done
}

func (s *supervised) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%s: %d starts, exit statuses %v\n%s", s.name, s.starts, s.exits, s.log.String())
}

type lockedWriter struct{ s *supervised }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.log.Write(p)
}

type rolloutView struct {
	ID      string         `json:"id"`
	State   string         `json:"state"`
	Counts  map[string]int `json:"counts"`
	Screens []struct {
		Screen        string `json:"screen"`
		Name          string `json:"name"`
		State         string `json:"state"`
		PlayerVersion string `json:"player_version"`
		Platform      string `json:"platform"`
		Error         string `json:"error"`
	} `json:"screens"`
}

// TestUpdateRolloutWithRollback builds the player twice (1.0.0 and 1.1.0)
// and signs a broken "1.1.0" too (a shell script that exits 1), runs two
// players of a canary group as real processes through the launcher, and
// rolls 1.1.0 out: one screen updates and reports it, the other gets the
// broken build, is rolled back to 1.0.0 by the launcher on its fourth
// start, and the server shows which screen failed and why.
func TestUpdateRolloutWithRollback(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go tool to build player versions: ", err)
	}
	launcher, err := filepath.Abs("../deploy/kiosk-player-launch.sh")
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	work := t.TempDir()
	v1 := buildPlayer(t, goTool, work, "1.0.0")
	v2 := buildPlayer(t, goTool, work, "1.1.0")
	broken := filepath.Join(work, "broken")
	os.WriteFile(broken, []byte("#!/bin/sh\necho 'broken build: cannot start' >&2\nexit 1\n"), 0o755)
	t.Logf("built two player versions in %s", time.Since(began).Round(time.Millisecond))

	pub, priv, _ := ed25519.GenerateKey(nil)
	pubFile := filepath.Join(work, "release.pub")
	os.WriteFile(pubFile, []byte(playlists.EncodeKey(pub)+"\n"), 0o644)
	srv := startServerWith(t, func(c *server.Config) { c.ReleaseKey = playlists.EncodeKey(pub) })
	seedContent(srv)
	srv.must(http.MethodPost, "/groups", map[string]any{"id": "canary", "name": "试点小区"}, nil)
	a := srv.screen("试点一号", "canary")
	b := srv.screen("试点二号", "canary")
	c := srv.screen("主街", "")

	// Screen A calls itself linux/amd64 and screen B linux/arm64: one
	// roll-out of 1.1.0 then gives A the real binary and B the broken
	// one, as a fleet with a bad build for one platform would see it.
	good, goodBin := signFile(t, priv, v2, "1.1.0", "linux/amd64")
	bad, badBin := signFile(t, priv, broken, "1.1.0", "linux/arm64")
	srv.uploadBuild(good, goodBin)
	srv.uploadBuild(bad, badBin)

	start := func(name string, scr screenCreds, platform string) (*supervised, string) {
		root := filepath.Join(work, name)
		dir := filepath.Join(root, "bin")
		os.MkdirAll(root, 0o755)
		// The launcher installs the seed as versions/1.0.0 on first start.
		if err := os.Link(v1, filepath.Join(root, "seed")); err != nil {
			t.Fatal(err)
		}
		return supervise(t, name, launcher, dir,
			"-server", srv.url(), "-token", scr.Token, "-cache", filepath.Join(root, "cache.db"),
			"-listen", "127.0.0.1:0", "-platform", platform, "-release-key", pubFile,
			"-heartbeat", "300ms", "-backoff-min", "100ms", "-backoff-max", "1s"), dir
	}
	pa, dirA := start("a", a, "linux/amd64")
	pb, dirB := start("b", b, "linux/arm64")
	dump := func() {
		t.Log(pa.output())
		t.Log(pb.output())
	}
	playerVersion := func(id string) string {
		var st struct {
			PlayerVersion string `json:"player_version"`
			Online        bool   `json:"online"`
		}
		srv.must(http.MethodGet, "/screens/"+id, nil, &st)
		if !st.Online {
			return ""
		}
		return st.PlayerVersion
	}
	waitFor(t, 20*time.Second, "both players online on 1.0.0", func() bool {
		return playerVersion(a.ID) == "1.0.0" && playerVersion(b.ID) == "1.0.0"
	})

	var r struct{ ID string }
	srv.must(http.MethodPost, "/rollouts", map[string]any{"build": good.SHA256, "canary_groups": []string{"canary"}, "percent": 50}, &r)
	rollout := func() rolloutView {
		var v rolloutView
		srv.must(http.MethodGet, "/rollouts/"+r.ID, nil, &v)
		return v
	}
	find := func(v rolloutView, id string) (state, version, reason string) {
		for _, s := range v.Screens {
			if s.Screen == id {
				return s.State, s.PlayerVersion, s.Error
			}
		}
		return "", "", ""
	}
	deadline := time.Now().Add(40 * time.Second)
	var v rolloutView
	for {
		v = rollout()
		sa, verA, _ := find(v, a.ID)
		sb, _, _ := find(v, b.ID)
		if sa == "running" && verA == "1.1.0" && sb == "failed" {
			break
		}
		if time.Now().After(deadline) {
			dump()
			t.Fatalf("roll-out did not settle: %+v", v)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("roll-out settled %s after the start: %v", time.Since(began).Round(time.Millisecond), v.Counts)

	_, verB, reason := find(v, b.ID)
	if !strings.Contains(reason, "rolled back from 1.1.0") || !strings.Contains(reason, "started 3 times") {
		t.Errorf("screen B's reason %q, want the rollback and why", reason)
	}
	if verB != "1.0.0" {
		t.Errorf("screen B runs %q, want the previous 1.0.0", verB)
	}
	if sc, _, _ := find(v, c.ID); sc != "waiting" {
		t.Errorf("the screen outside the canary group is %q, want waiting", sc)
	}
	// B came back on 1.0.0 and stays online there.
	waitFor(t, 10*time.Second, "screen B online on 1.0.0", func() bool { return playerVersion(b.ID) == "1.0.0" })

	// On disk: A on the new version with its trial cleared, B back on
	// the old one with the launcher's record of why.
	if target, _ := os.Readlink(filepath.Join(dirA, "kiosk-player")); target != "versions/1.1.0/kiosk-player" {
		t.Errorf("A's link points to %q", target)
	}
	if _, err := os.Stat(filepath.Join(dirA, "update-trial.json")); !os.IsNotExist(err) {
		t.Errorf("A's trial is still there (%v)", err)
	}
	if target, _ := os.Readlink(filepath.Join(dirB, "kiosk-player")); target != "versions/1.0.0/kiosk-player" {
		t.Errorf("B's link points to %q", target)
	}
	if raw, err := os.ReadFile(filepath.Join(dirB, "update-rollback.json")); err != nil || !bytes.Contains(raw, []byte(`"version": "1.1.0"`)) {
		t.Errorf("B's rollback record: %s, %v", raw, err)
	}

	var versions []struct {
		Version string `json:"version"`
		Screens int    `json:"screens"`
	}
	srv.must(http.MethodGet, "/player-versions", nil, &versions)
	got := map[string]int{}
	for _, pv := range versions {
		got[pv.Version] = pv.Screens
	}
	if got["1.1.0"] != 1 || got["1.0.0"] != 1 {
		t.Errorf("version distribution %v, want one screen on each", got)
	}
	if t.Failed() || os.Getenv("KIOSK_E2E_LOG") != "" {
		dump()
	}
	t.Logf("whole test: %s", time.Since(began).Round(time.Millisecond))
}
