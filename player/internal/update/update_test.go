package update

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
)

// launcher is the script the systemd unit runs (deploy/).
var launcher, _ = filepath.Abs("../../../deploy/kiosk-player-launch.sh")

// fakeBinary is a shell script standing in for a player version: it prints
// its version, or exits 1 when broken.
func fakeBinary(version string, broken bool) []byte {
	if broken {
		return []byte("#!/bin/sh\necho broken >&2\nexit 1\n")
	}
	return []byte("#!/bin/sh\necho \"" + version + " $KIOSK_PLAYER_INSTALL_DIR $*\"\n")
}

// installed makes dir a layout running version.
func installed(t *testing.T, version string) Layout {
	t.Helper()
	l := Layout{Dir: t.TempDir()}
	p := l.path(Target(version))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, fakeBinary(version, false), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(Target(version), l.path(LinkName)); err != nil {
		t.Fatal(err)
	}
	return l
}

func build(t *testing.T, priv ed25519.PrivateKey, version, platform string, bin []byte) playlists.PlayerBuild {
	sum := sha256.Sum256(bin)
	return playlists.SignBuild(priv, playlists.PlayerBuild{Version: version, Platform: platform, Size: int64(len(bin)), SHA256: hex.EncodeToString(sum[:])})
}

// launch runs the launcher once, as systemd would, and returns what the
// started binary printed and its exit status.
func launch(t *testing.T, l Layout, env ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("sh", launcher, l.Dir, "-cache", "x.db")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out)), code
}

func TestInstallConfirm(t *testing.T) {
	l := installed(t, "1.0.0")
	_, priv, _ := ed25519.GenerateKey(nil)
	bin := fakeBinary("1.1.0", false)
	src := filepath.Join(t.TempDir(), "dl")
	os.WriteFile(src, bin, 0o600)
	b := build(t, priv, "1.1.0", "linux/amd64", bin)

	tampered := b
	tampered.SHA256 = strings.Repeat("0", 64)
	if err := l.Install(src, tampered, "ro_1", time.Now().Add(time.Hour)); err == nil {
		t.Fatal("install of bytes that do not match the build: want refused")
	}
	if cur, _ := l.Current(); cur != Target("1.0.0") {
		t.Fatalf("a refused install switched the link to %s", cur)
	}

	if err := l.Install(src, b, "ro_1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if cur, _ := l.Current(); cur != Target("1.1.0") {
		t.Fatalf("link points to %s, want the new version", cur)
	}
	st, _ := os.Stat(l.path(Target("1.1.0")))
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("installed binary mode %v is not executable", st.Mode())
	}
	tr, err := l.ReadTrial()
	if err != nil || tr == nil || tr.Previous != Target("1.0.0") || tr.Starts != 0 || tr.Build != b.SHA256 || tr.Rollout != "ro_1" {
		t.Fatalf("trial %+v, %v", tr, err)
	}

	// The launcher counts the start and runs the new version.
	out, code := launch(t, l)
	if code != 0 || out != "1.1.0 "+l.Dir+" -cache x.db" {
		t.Fatalf("launch: %q (status %d), want the new version with the flags and install dir", out, code)
	}
	if tr, _ := l.ReadTrial(); tr == nil || tr.Starts != 1 {
		t.Fatalf("after one start the trial is %+v, want starts 1", tr)
	}

	// The new version confirms: no more trial, old versions pruned except
	// the one it replaced.
	os.MkdirAll(l.path(filepath.Join(VersionsDir, "0.9.0")), 0o755)
	done, err := l.Confirm()
	if err != nil || done == nil {
		t.Fatalf("confirm: %+v, %v", done, err)
	}
	if tr, _ := l.ReadTrial(); tr != nil {
		t.Error("the trial is still there after confirming")
	}
	if _, err := os.Stat(l.path(filepath.Join(VersionsDir, "0.9.0"))); !os.IsNotExist(err) {
		t.Error("an old version was not pruned")
	}
	if _, err := os.Stat(l.path(Target("1.0.0"))); err != nil {
		t.Error("the previous version was pruned; it must stay for a manual rollback")
	}
	for range 5 {
		if out, _ := launch(t, l); !strings.HasPrefix(out, "1.1.0 ") {
			t.Fatalf("after confirming: %q, want the new version for good", out)
		}
	}
}

func TestLauncherRollsBackABinaryThatDoesNotStart(t *testing.T) {
	l := installed(t, "1.0.0")
	_, priv, _ := ed25519.GenerateKey(nil)
	bin := fakeBinary("", true)
	src := filepath.Join(t.TempDir(), "dl")
	os.WriteFile(src, bin, 0o600)
	b := build(t, priv, "1.1.0", "linux/amd64", bin)
	if err := l.Install(src, b, "ro_9", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, code := launch(t, l); code != 1 {
			t.Fatalf("start %d of the broken version: status %d, want 1", i, code)
		}
	}
	out, code := launch(t, l)
	if code != 0 || !strings.HasPrefix(out, "1.0.0 ") {
		t.Fatalf("fourth start: %q (status %d), want the previous version", out, code)
	}
	rb, err := l.ReadRollback()
	if err != nil || rb == nil {
		t.Fatalf("rollback record: %+v, %v", rb, err)
	}
	if rb.From != Target("1.1.0") || rb.To != Target("1.0.0") || rb.Version != "1.1.0" || rb.Build != b.SHA256 ||
		rb.Rollout != "ro_9" || !strings.Contains(rb.Reason, "started 3 times") {
		t.Errorf("rollback record %+v", rb)
	}
	if tr, _ := l.ReadTrial(); tr != nil {
		t.Error("the trial is still there after the rollback")
	}

	// The previous player reports it and never tries that build again.
	var reports int
	u, _ := New(Config{Layout: &l, Version: "1.0.0", Platform: "linux/amd64", Report: func() { reports++ }})
	st := u.Status()
	if st == nil || st.State != playlists.UpdateRolledBack || st.Version != "1.1.0" || st.Build != b.SHA256 {
		t.Fatalf("status after a rollback: %+v", st)
	}
	u.Offer(playlists.UpdateOffer{Rollout: "ro_9", Version: "1.1.0", Builds: []playlists.OfferedBuild{{PlayerBuild: b, URL: "/x"}}})
	if next, _, _ := u.next(); next != nil || u.Status().State != playlists.UpdateRolledBack {
		t.Errorf("the rolled-back build was tried again: %+v", u.Status())
	}
}

func TestLauncherRollsBackAfterTheDeadline(t *testing.T) {
	l := installed(t, "1.0.0")
	_, priv, _ := ed25519.GenerateKey(nil)
	bin := fakeBinary("1.1.0", false)
	src := filepath.Join(t.TempDir(), "dl")
	os.WriteFile(src, bin, 0o600)
	if err := l.Install(src, build(t, priv, "1.1.0", "linux/amd64", bin), "", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	out, _ := launch(t, l)
	if !strings.HasPrefix(out, "1.0.0 ") {
		t.Fatalf("past the deadline: %q, want the previous version", out)
	}
	if rb, _ := l.ReadRollback(); rb == nil || !strings.Contains(rb.Reason, "deadline") {
		t.Errorf("rollback record %+v, want the deadline named", rb)
	}
}

func TestLauncherSeedsAnEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(t.TempDir(), "kiosk-player")
	os.WriteFile(seed, []byte("#!/bin/sh\nif [ \"$1\" = -version ]; then echo 2.3.4; exit 0; fi\necho \"seeded $*\"\n"), 0o755)
	out, code := launch(t, Layout{Dir: dir}, "KIOSK_PLAYER_SEED="+seed)
	if code != 0 || out != "seeded -cache x.db" {
		t.Fatalf("first start: %q (%d)", out, code)
	}
	if cur, err := (Layout{Dir: dir}).Current(); err != nil || cur != Target("2.3.4") {
		t.Errorf("seeded layout: %q, %v; want versions/2.3.4", cur, err)
	}
}

// keys is an in-memory Keys.
type keys struct {
	mu  sync.Mutex
	key string
}

func (k *keys) ReleaseKey() string { k.mu.Lock(); defer k.mu.Unlock(); return k.key }
func (k *keys) PinReleaseKey(s string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.key = s
	return nil
}

func TestUpdaterOffer(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	good := fakeBinary("1.1.0", false)
	var serveMu sync.Mutex
	serve := map[string][]byte{}
	setServe := func(path string, b []byte) {
		serveMu.Lock()
		defer serveMu.Unlock()
		if b == nil {
			delete(serve, path)
		} else {
			serve[path] = b
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		serveMu.Lock()
		b, ok := serve[r.URL.Path]
		serveMu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()

	offer := func(b playlists.PlayerBuild, key ed25519.PublicKey) playlists.UpdateOffer {
		return playlists.UpdateOffer{Rollout: "ro_1", Version: b.Version, ReleaseKey: playlists.EncodeKey(key),
			Builds: []playlists.OfferedBuild{{PlayerBuild: b, URL: "/b/" + b.SHA256}}}
	}
	newUpdater := func(t *testing.T, l Layout, k *keys) (*Updater, chan struct{}) {
		restarted := make(chan struct{}, 1)
		u, err := New(Config{Layout: &l, CacheDir: t.TempDir(), Platform: "linux/amd64", Version: "1.0.0",
			Server: srv.URL, Token: "tok", Keys: k, RestartGrace: time.Millisecond, RetryMin: 50 * time.Millisecond,
			Restart: func() { restarted <- struct{}{} },
			Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { u.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return u, restarted
	}
	waitStatus := func(t *testing.T, u *Updater, state string) *playlists.UpdateStatus {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if s := u.Status(); s != nil && s.State == state {
				return s
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("status %+v, want %s", u.Status(), state)
		return nil
	}

	t.Run("good build installs and restarts", func(t *testing.T) {
		l := installed(t, "1.0.0")
		b := build(t, priv, "1.1.0", "linux/amd64", good)
		setServe("/b/"+b.SHA256, good)
		u, restarted := newUpdater(t, l, &keys{key: playlists.EncodeKey(pub)})
		u.Offer(offer(b, pub))
		select {
		case <-restarted:
		case <-time.After(5 * time.Second):
			t.Fatalf("no restart; status %+v", u.Status())
		}
		if cur, _ := l.Current(); cur != Target("1.1.0") || !u.Restarting() {
			t.Errorf("after the install: link %s, restarting %v", cur, u.Restarting())
		}
		if s := u.Status(); s.State != playlists.UpdateDownloaded || s.Platform != "linux/amd64" {
			t.Errorf("status %+v, want downloaded", s)
		}

		// The new version, started on trial, confirms once synced.
		u2, err := New(Config{Layout: &l, Version: "1.1.0", Platform: "linux/amd64"})
		if err != nil {
			t.Fatal(err)
		}
		if s := u2.Status(); s == nil || s.State != playlists.UpdateDownloaded {
			t.Fatalf("on trial: status %+v", s)
		}
		u2.Synced()
		if s := u2.Status(); s.State != playlists.UpdateRunning {
			t.Errorf("after syncing: status %+v, want running", s)
		}
		if tr, _ := l.ReadTrial(); tr != nil {
			t.Error("trial not cleared")
		}
	})

	for _, tc := range []struct {
		name    string
		build   func() playlists.PlayerBuild
		key     ed25519.PublicKey
		pinned  string
		served  []byte
		wantErr string
		state   string // a tampered download may be a passing fault: retried
	}{
		{"tampered download", func() playlists.PlayerBuild { return build(t, priv, "1.1.0", "linux/amd64", good) },
			pub, playlists.EncodeKey(pub), []byte(strings.Replace(string(good), "1.1.0", "6.6.6", 1)), "SHA-256", playlists.UpdateDownloading},
		{"signed by another key", func() playlists.PlayerBuild { return build(t, otherPriv, "1.1.0", "linux/amd64", good) },
			pub, playlists.EncodeKey(pub), good, "signed by key", playlists.UpdateFailed},
		{"no release key pinned: the offer's key is not trusted", func() playlists.PlayerBuild { return build(t, priv, "1.1.0", "linux/amd64", good) },
			pub, "", good, "no release key pinned", playlists.UpdateFailed},
		{"a signed older build is no update", func() playlists.PlayerBuild { return build(t, priv, "0.9.0", "linux/amd64", good) },
			pub, playlists.EncodeKey(pub), good, "refusing to downgrade", playlists.UpdateFailed},
		{"offer with another key than the pinned one", func() playlists.PlayerBuild { return build(t, otherPriv, "1.1.0", "linux/amd64", good) },
			nil, playlists.EncodeKey(pub), good, "signed by key", playlists.UpdateFailed},
		{"no build for this platform", func() playlists.PlayerBuild { return build(t, priv, "1.1.0", "linux/arm64", good) },
			pub, "", good, "no build of 1.1.0 for linux/amd64", playlists.UpdateFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := installed(t, "1.0.0")
			b := tc.build()
			setServe("/b/"+b.SHA256, tc.served)
			key := tc.key
			if key == nil {
				key = otherPriv.Public().(ed25519.PublicKey)
			}
			u, restarted := newUpdater(t, l, &keys{key: tc.pinned})
			u.Offer(offer(b, key))
			var s *playlists.UpdateStatus
			deadline := time.Now().Add(5 * time.Second)
			for s = u.Status(); s == nil || s.State != tc.state || s.Error == ""; s = u.Status() {
				if time.Now().After(deadline) {
					t.Fatalf("status %+v, want %s with an error", s, tc.state)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if !strings.Contains(s.Error, tc.wantErr) {
				t.Errorf("error %q, want it to name %q", s.Error, tc.wantErr)
			}
			select {
			case <-restarted:
				t.Error("restarted after a refused update")
			default:
			}
			if cur, _ := l.Current(); cur != Target("1.0.0") {
				t.Errorf("link switched to %s after a refused update", cur)
			}
		})
	}

	t.Run("a download that fails is retried", func(t *testing.T) {
		l := installed(t, "1.0.0")
		b := build(t, priv, "1.1.0", "linux/amd64", good)
		setServe("/b/"+b.SHA256, nil) // 404 until the server has it
		u, restarted := newUpdater(t, l, &keys{key: playlists.EncodeKey(pub)})
		u.Offer(offer(b, pub))
		deadline := time.Now().Add(5 * time.Second)
		for s := u.Status(); s == nil || !strings.Contains(s.Error, "404"); s = u.Status() {
			if time.Now().After(deadline) {
				t.Fatalf("status %+v, want downloading with the failure and a retry", s)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if s := u.Status(); s.State != playlists.UpdateDownloading || !strings.Contains(s.Error, "retrying") {
			t.Errorf("status %+v, want still downloading, retrying", s)
		}
		setServe("/b/"+b.SHA256, good)
		select {
		case <-restarted:
		case <-time.After(5 * time.Second):
			t.Fatalf("no restart after the retry; status %+v", u.Status())
		}
	})

	t.Run("not started by the launcher", func(t *testing.T) {
		u, err := New(Config{CacheDir: t.TempDir(), Platform: "linux/amd64", Version: "1.0.0", Server: srv.URL, Token: "tok", Keys: &keys{key: playlists.EncodeKey(pub)},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go u.Run(ctx)
		b := build(t, priv, "1.1.0", "linux/amd64", good)
		u.Offer(offer(b, pub))
		if s := waitStatus(t, u, playlists.UpdateFailed); !strings.Contains(s.Error, "kiosk-player-launch.sh") {
			t.Errorf("error %q, want it to name the launcher", s.Error)
		}
	})
}

func TestVersionOf(t *testing.T) {
	for target, want := range map[string]string{
		"versions/1.2.0/kiosk-player":   "1.2.0",
		"versions/../kiosk-player":      "",
		"/usr/local/bin/kiosk-player":   "",
		"versions/1.2.0/kiosk-player-x": "",
	} {
		if got := versionOf(target); got != want {
			t.Errorf("versionOf(%q) = %q, want %q", target, got, want)
		}
	}
}
