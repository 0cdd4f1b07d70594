package update

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"kiosk/playlists"
)

// Defaults for Config fields left zero.
const (
	// DefaultTrial is how long a new version has, from its install, to
	// come back online and apply the current manifest.
	DefaultTrial = 10 * time.Minute
	// DefaultRestartGrace is how long the player waits after installing
	// for its "downloaded" report to leave before it exits.
	DefaultRestartGrace = time.Second
	// DefaultRetryMin is the first wait before retrying a failed download.
	DefaultRetryMin = 30 * time.Second
)

// downloadTimeout bounds one download; a build is some 15 MB.
const downloadTimeout = 30 * time.Minute

// retryMax bounds the wait before retrying a failure that may pass (the
// network, a full disk); the wait starts at Config.RetryMin and doubles.
const retryMax = 10 * time.Minute

// Keys keeps the pinned release key (the player's cache).
type Keys interface {
	ReleaseKey() string
	PinReleaseKey(key string) error
}

// Config is what New needs.
type Config struct {
	// Layout is the install directory; nil: the player was not started by
	// the launcher, and offers fail saying so.
	Layout   *Layout
	CacheDir string // downloads go to CacheDir/updates/<sha256>
	Platform string // RuntimePlatform() unless overridden
	Version  string // the running player's version
	Server   string // base URL
	Token    string // device token
	HTTP     *http.Client
	Keys     Keys
	Trial    time.Duration
	// Report asks for a heartbeat now, so the server sees a change before
	// the player exits; Restart ends the player for the launcher to start
	// the new binary (or, at the trial's deadline, to roll it back).
	Report       func()
	Restart      func()
	RestartGrace time.Duration
	RetryMin     time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Updater carries out update offers and confirms a new version's trial.
type Updater struct {
	cfg Config
	log *slog.Logger

	wake chan struct{} // a new offer is waiting (Run acts on it)

	mu         sync.Mutex
	offer      *playlists.UpdateOffer // the latest offer; Run carries it out
	status     *playlists.UpdateStatus
	restarting bool              // installed: waiting to exit
	refused    map[string]string // build → why it is never tried again
	trial      *Trial            // this process is the new version on trial
	confirmed  bool
}

// RuntimePlatform is the build platform of this binary: linux/amd64,
// linux/arm64 or linux/arm/v<GOARM>.
func RuntimePlatform() string {
	p := runtime.GOOS + "/" + runtime.GOARCH
	if runtime.GOARCH != "arm" {
		return p
	}
	// GOARM is recorded in the build info; Go's default is 7 when cross
	// compiling for arm, which is what release builds are.
	v := "7"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" && s.Value != "" {
				v, _, _ = strings.Cut(s.Value, ",")
			}
		}
	}
	return p + "/v" + v
}

// New reads the trial and rollback records: a trial naming this version
// means this process is the new version on trial; a rollback record is
// reported and its build never tried again.
func New(cfg Config) (*Updater, error) {
	if cfg.Platform == "" {
		cfg.Platform = RuntimePlatform()
	}
	if cfg.Trial <= 0 {
		cfg.Trial = DefaultTrial
	}
	if cfg.RestartGrace <= 0 {
		cfg.RestartGrace = DefaultRestartGrace
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ResponseHeaderTimeout: 30 * time.Second,
			TLSHandshakeTimeout:   15 * time.Second,
		}}
	}
	if cfg.Report == nil {
		cfg.Report = func() {}
	}
	if cfg.Restart == nil {
		cfg.Restart = func() {}
	}
	u := &Updater{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1), refused: map[string]string{}}
	if cfg.Layout == nil {
		return u, nil
	}
	rb, err := cfg.Layout.ReadRollback()
	if err != nil {
		u.log.Warn("unreadable rollback record ignored", "error", err)
	}
	if rb != nil {
		reason := rb.Reason
		if reason == "" {
			reason = "rolled back by the launcher"
		}
		u.refused[rb.Build] = "rolled back from it before: " + reason
		u.status = &playlists.UpdateStatus{Rollout: rb.Rollout, Version: rb.Version, Build: rb.Build,
			Platform: cfg.Platform, State: playlists.UpdateRolledBack, Error: reason}
		u.log.Warn("running the previous player after a rollback", "from", rb.Version, "reason", reason)
	}
	t, err := cfg.Layout.ReadTrial()
	if err != nil {
		u.log.Warn("unreadable update trial ignored", "error", err)
	}
	if cur, cerr := cfg.Layout.Current(); t != nil && cerr == nil && t.New == cur && t.Version == cfg.Version {
		u.trial = t
		u.status = &playlists.UpdateStatus{Rollout: t.Rollout, Version: t.Version, Build: t.Build,
			Platform: cfg.Platform, State: playlists.UpdateDownloaded}
		u.log.Info("new player version on trial: it must apply the current manifest",
			"version", t.Version, "start", t.Starts, "deadline", time.Unix(t.Deadline, 0).UTC().Format(time.RFC3339))
	}
	return u, nil
}

// Status is what the heartbeat reports about updates; nil: nothing.
func (u *Updater) Status() *playlists.UpdateStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.status == nil {
		return nil
	}
	s := *u.status
	return &s
}

func (u *Updater) setStatus(s playlists.UpdateStatus) {
	s.Platform = u.cfg.Platform
	u.mu.Lock()
	changed := u.status == nil || *u.status != s
	u.status = &s
	u.mu.Unlock()
	if changed {
		u.cfg.Report()
	}
}

// Offer takes a roll-out's offer; Run carries out the latest one. It
// never blocks (the websocket's reader calls it).
func (u *Updater) Offer(o playlists.UpdateOffer) {
	u.mu.Lock()
	u.offer = &o
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// next decides what the latest offer asks of this player: the build to
// install and the status to report for it, or nil when there is nothing to
// do (already running it, refused before, no build for this platform).
func (u *Updater) next() (*playlists.OfferedBuild, playlists.UpdateStatus, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	o := u.offer
	if o == nil || u.restarting {
		return nil, playlists.UpdateStatus{}, ""
	}
	rollout := o.Rollout
	if !plainID(rollout) {
		rollout = ""
	}
	var b *playlists.OfferedBuild
	for i := range o.Builds {
		if o.Builds[i].Platform == u.cfg.Platform {
			b = &o.Builds[i]
		}
	}
	if b == nil {
		st := playlists.UpdateStatus{Rollout: rollout, Version: o.Version, State: playlists.UpdateFailed,
			Error: fmt.Sprintf("no build of %s for %s", o.Version, u.cfg.Platform)}
		u.unlockedSet(st)
		return nil, st, ""
	}
	st := playlists.UpdateStatus{Rollout: rollout, Version: b.Version, Build: b.SHA256}
	if b.Version == u.cfg.Version {
		if u.trial == nil || u.confirmed {
			st.State = playlists.UpdateRunning
			u.unlockedSet(st)
		}
		return nil, st, ""
	}
	if olderVersion(b.Version, u.cfg.Version) {
		// A signed old build may have a known hole; rolling a fleet back
		// is a reinstall, not an offer.
		st.State, st.Error = playlists.UpdateFailed, fmt.Sprintf("refusing to downgrade from %s to %s", u.cfg.Version, b.Version)
		u.unlockedSet(st)
		return nil, st, ""
	}
	if why, ok := u.refused[b.SHA256]; ok {
		if u.status == nil || u.status.Build != b.SHA256 {
			st.State, st.Error = playlists.UpdateFailed, why
			u.unlockedSet(st)
		}
		return nil, st, ""
	}
	return b, st, o.ReleaseKey
}

// unlockedSet sets the status with u.mu held; the report goes out after.
func (u *Updater) unlockedSet(s playlists.UpdateStatus) {
	s.Platform = u.cfg.Platform
	if u.status != nil && *u.status == s {
		return
	}
	u.status = &s
	go u.cfg.Report()
}

// refusal is a failure after which a build is never tried again: it is
// not signed right, not for this platform, or this player cannot install.
type refusal struct{ error }

// install downloads, verifies, installs b and restarts into it. A
// refusal means the build must never be tried again; other errors may pass.
func (u *Updater) install(ctx context.Context, st playlists.UpdateStatus, b playlists.OfferedBuild, offeredKey string) error {
	pub, err := u.releaseKey(offeredKey)
	if err == nil {
		err = playlists.VerifyBuildFor(pub, b.PlayerBuild, u.cfg.Platform)
	}
	if err != nil {
		return refusal{err}
	}
	if u.cfg.Layout == nil {
		return refusal{fmt.Errorf("cannot install %s: the player was not started by kiosk-player-launch.sh (no -install-dir)", b.Version)}
	}
	st.State = playlists.UpdateDownloading
	u.setStatus(st)
	path, err := u.download(ctx, b)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	deadline := u.cfg.Now().Add(u.cfg.Trial)
	if err := u.cfg.Layout.Install(path, b.PlayerBuild, st.Rollout, deadline); err != nil {
		return err
	}
	u.mu.Lock()
	u.restarting = true
	u.mu.Unlock()
	st.State = playlists.UpdateDownloaded
	u.setStatus(st)
	u.log.Warn("player update installed; restarting into it", "version", b.Version, "build", b.SHA256,
		"trial_until", deadline.UTC().Format(time.RFC3339))
	select {
	case <-time.After(u.cfg.RestartGrace):
	case <-ctx.Done():
	}
	u.cfg.Restart()
	return nil
}

// releaseKey is the pinned release key (-release-key). With none pinned
// updates are refused: trusting the key an offer names would let whoever
// controls the server, or a man in the middle on plain HTTP, install a
// binary of his own.
func (u *Updater) releaseKey(offered string) (ed25519.PublicKey, error) {
	pinned := u.cfg.Keys.ReleaseKey()
	if pinned == "" {
		return nil, errors.New("no release key pinned: start the player with -release-key (release.pub of whoever builds releases); updates are refused until then")
	}
	pub, err := playlists.DecodeKey(pinned)
	if err != nil {
		return nil, fmt.Errorf("pinned release key: %w", err)
	}
	if offered != "" && offered != pinned {
		if o, err := playlists.DecodeKey(offered); err == nil {
			u.log.Warn("the server offers builds for another release key than the pinned one",
				"offered", playlists.KeyID(o), "pinned", playlists.KeyID(pub))
		}
	}
	return pub, nil
}

// download fetches b into CacheDir/updates/<sha256>, verifying size and
// hash; a file already there and whole is used as it is.
func (u *Updater) download(ctx context.Context, b playlists.OfferedBuild) (string, error) {
	dir := filepath.Join(u.cfg.CacheDir, "updates")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	final := filepath.Join(dir, b.SHA256)
	if f, err := os.Open(final); err == nil {
		size, sha, herr := playlists.HashBuild(f)
		f.Close()
		if herr == nil && playlists.CheckBuildBytes(b.PlayerBuild, size, sha) == nil {
			return final, nil
		}
		os.Remove(final)
	}
	if !strings.HasPrefix(b.URL, "/") {
		return "", fmt.Errorf("download %s: the offer's URL %q is not a path on the server", b.Version, b.URL)
	}
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(u.cfg.Server, "/")+b.URL, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+u.cfg.Token)
	req.Header.Set("User-Agent", "kiosk-player/"+u.cfg.Version)
	resp, err := u.cfg.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", b.Version, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("download %s: server answered %s: %s", b.Version, resp.Status, strings.TrimSpace(string(msg)))
	}
	tmp := final + ".part"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp) // a no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, b.Size+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("download %s: %w", b.Version, err)
	}
	if err := playlists.CheckBuildBytes(b.PlayerBuild, n, hex.EncodeToString(h.Sum(nil))); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	return final, nil
}

// Synced is called whenever the player runs the server's current manifest.
// On a new version's trial it is the success: the trial is cleared and the
// launcher will not roll back.
func (u *Updater) Synced() {
	u.mu.Lock()
	t := u.trial
	done := t == nil || u.confirmed
	u.mu.Unlock()
	if done || u.cfg.Layout == nil {
		return
	}
	if _, err := u.cfg.Layout.Confirm(); err != nil {
		u.log.Error("confirming the new player version failed; the launcher may roll it back", "error", err)
		return
	}
	u.mu.Lock()
	u.confirmed = true
	u.mu.Unlock()
	u.log.Info("new player version confirmed: online and running the current manifest", "version", t.Version)
	u.setStatus(playlists.UpdateStatus{Rollout: t.Rollout, Version: t.Version, Build: t.Build, State: playlists.UpdateRunning})
}

// Run carries out offers and watches a trial's deadline until ctx ends.
// Offers are handled one at a time, the latest winning; a failure that may
// pass is retried with a growing wait. A new version that has not
// confirmed by its deadline exits, and the launcher rolls it back.
func (u *Updater) Run(ctx context.Context) {
	u.mu.Lock()
	t := u.trial
	u.mu.Unlock()
	var expire <-chan time.Time
	if t != nil {
		d := time.Unix(t.Deadline, 0).Sub(u.cfg.Now())
		timer := time.NewTimer(max(d, 0) + time.Second) // past the launcher's whole-second check
		defer timer.Stop()
		expire = timer.C
	}
	var retry <-chan time.Time
	wait := u.cfg.RetryMin
	for {
		select {
		case <-ctx.Done():
			return
		case <-expire:
			u.mu.Lock()
			ok := u.confirmed
			if !ok {
				u.restarting = true
			}
			u.mu.Unlock()
			if !ok {
				u.log.Error("the new player version did not apply the current manifest within its trial; exiting so the launcher rolls it back",
					"version", t.Version)
				u.cfg.Restart()
			}
			continue
		case <-u.wake:
		case <-retry:
		}
		retry = nil
		b, st, key := u.next()
		if b == nil {
			continue
		}
		err := u.install(ctx, st, *b, key)
		var r refusal
		switch {
		case err == nil:
			wait = u.cfg.RetryMin
		case ctx.Err() != nil:
			return
		case errors.As(err, &r):
			u.log.Error("player update refused; this version keeps running", "version", b.Version, "error", err)
			u.mu.Lock()
			u.refused[b.SHA256] = err.Error()
			u.mu.Unlock()
			st.State, st.Error = playlists.UpdateFailed, err.Error()
			u.setStatus(st)
		default:
			u.log.Warn("player update failed; retrying", "version", b.Version, "error", err, "retry_in", wait)
			st.State, st.Error = playlists.UpdateDownloading, fmt.Sprintf("%v (retrying in %s)", err, wait)
			u.setStatus(st)
			retry = time.After(wait)
			wait = min(2*wait, retryMax)
		}
	}
}

// Restarting reports whether an update was installed and the player is
// about to exit for it.
func (u *Updater) Restarting() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.restarting
}

// plainID reports whether s can go into the trial file unescaped.
func plainID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return len(s) <= 64
}

// olderVersion reports whether version a sorts before b, comparing their
// leading dot-separated numbers ("1.10.0" after "1.9.2"); a version
// without numbers (a development build) is never called older or newer.
func olderVersion(a, b string) bool {
	pa, pb := versionNumbers(a), versionNumbers(b)
	if len(pa) == 0 || len(pb) == 0 {
		return false
	}
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func versionNumbers(v string) []int {
	v = strings.TrimPrefix(v, "v")
	var out []int
	for _, part := range strings.Split(v, ".") {
		n, digits := 0, 0
		for _, r := range part {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
			digits++
			if n > 1<<30 {
				return nil
			}
		}
		if digits == 0 {
			break
		}
		out = append(out, n)
		if digits != len(part) {
			break // "0-dev": the number counts, the rest ends the version
		}
	}
	return out
}
