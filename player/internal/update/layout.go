// Package update installs new player builds on the screen and keeps the
// previous one to come back to.
//
// The installed layout, which deploy/kiosk-player-launch.sh shares:
//
//	DIR/kiosk-player                      symlink → versions/<version>/kiosk-player
//	DIR/versions/<version>/kiosk-player   one binary per version
//	DIR/update-trial.json                 a new version on trial (absent: none)
//	DIR/update-rollback.json              the last rollback the launcher did
//
// An update writes the new version's directory, records the trial
// (previous target, new target, deadline, start count), switches the
// symlink with rename(2) and exits for the supervisor to start the new
// binary through the launcher. The launcher counts starts; the new player
// clears the trial (its success marker) once it applied the current
// manifest. When the count passes 3 or the deadline passes with the trial
// still there, the launcher points the symlink back and leaves a rollback
// record, which the previous binary reports to the server. A binary that
// cannot even start is rolled back that way too, which is why the launcher
// and not the player owns that step.
package update

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kiosk/playlists"
)

// Names inside the install directory.
const (
	LinkName     = "kiosk-player"
	VersionsDir  = "versions"
	TrialFile    = "update-trial.json"
	RollbackFile = "update-rollback.json"
)

// Trial is a new version on trial. The launcher reads it with sed, so it is
// written one field per line, and every value stays in a plain alphabet.
type Trial struct {
	Previous string `json:"previous"` // symlink target before the update
	New      string `json:"new"`      // symlink target of the new version
	Version  string `json:"version"`
	Build    string `json:"build"`    // SHA-256
	Rollout  string `json:"rollout"`  // the roll-out that offered it
	Deadline int64  `json:"deadline"` // unix seconds: confirmed by then, or rolled back
	Starts   int    `json:"starts"`   // starts of New so far, counted by the launcher
}

// Rollback is what the launcher leaves after switching back.
type Rollback struct {
	From    string `json:"from"` // the target rolled back from
	To      string `json:"to"`
	Version string `json:"version"`
	Build   string `json:"build"`
	Rollout string `json:"rollout"`
	Reason  string `json:"reason"`
	At      int64  `json:"at"` // unix seconds
}

// Layout is an install directory.
type Layout struct {
	Dir string
}

// ErrNotInstalled means the directory is not in the launcher's layout.
var ErrNotInstalled = errors.New("not installed in the launcher's layout")

// Target is the symlink target, relative to Dir, of version's binary.
func Target(version string) string { return VersionsDir + "/" + version + "/" + LinkName }

// versionOf is the version a target names, "" when it is not one.
func versionOf(target string) string {
	rest, ok := strings.CutPrefix(target, VersionsDir+"/")
	if !ok {
		return ""
	}
	v, ok := strings.CutSuffix(rest, "/"+LinkName)
	if !ok || !playlists.ValidBuildVersion(v) {
		return ""
	}
	return v
}

func (l Layout) path(name string) string { return filepath.Join(l.Dir, name) }

// Current is the symlink's target, e.g. versions/1.2.0/kiosk-player.
func (l Layout) Current() (string, error) {
	t, err := os.Readlink(l.path(LinkName))
	if err != nil {
		return "", fmt.Errorf("%w: %s is not a symlink to %s: %v", ErrNotInstalled, l.path(LinkName), Target("VERSION"), err)
	}
	if versionOf(t) == "" {
		return "", fmt.Errorf("%w: %s points to %q, not %s", ErrNotInstalled, l.path(LinkName), t, Target("VERSION"))
	}
	return t, nil
}

// ReadTrial returns the trial in progress, nil when there is none.
func (l Layout) ReadTrial() (*Trial, error) {
	var t Trial
	ok, err := readJSON(l.path(TrialFile), &t)
	if !ok {
		return nil, err
	}
	return &t, nil
}

// ReadRollback returns the last rollback record, nil when there is none.
func (l Layout) ReadRollback() (*Rollback, error) {
	var r Rollback
	ok, err := readJSON(l.path(RollbackFile), &r)
	if !ok {
		return nil, err
	}
	return &r, nil
}

func readJSON(path string, v any) (bool, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// Install puts the verified binary src in place as build b, records the
// trial and switches the symlink to it. The caller then exits for the
// launcher to start it. The binary's bytes are checked against b once more
// as they are copied.
func (l Layout) Install(src string, b playlists.PlayerBuild, rollout string, deadline time.Time) error {
	cur, err := l.Current()
	if err != nil {
		return err
	}
	target := Target(b.Version)
	if !playlists.ValidBuildVersion(b.Version) {
		return fmt.Errorf("install: version %q cannot name a directory", b.Version)
	}
	if target == cur {
		return fmt.Errorf("install: %s is the version already running", b.Version)
	}
	if err := l.copyBinary(src, target, b); err != nil {
		return err
	}
	t := Trial{Previous: cur, New: target, Version: b.Version, Build: b.SHA256, Rollout: rollout, Deadline: deadline.Unix()}
	if err := writeJSON(l.path(TrialFile), t); err != nil {
		return fmt.Errorf("install: record the trial: %w", err)
	}
	if err := l.switchTo(target); err != nil {
		os.Remove(l.path(TrialFile))
		return fmt.Errorf("install: %w", err)
	}
	return nil
}

// copyBinary writes src to target (relative to Dir) through a temporary
// file, fsync'd and renamed, checking its size and hash on the way.
func (l Layout) copyBinary(src, target string, b playlists.PlayerBuild) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	defer in.Close()
	final := l.path(target)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	tmp := final + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	defer os.Remove(tmp) // a no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(in, b.Size+1))
	if err == nil {
		err = playlists.CheckBuildBytes(b, n, hex.EncodeToString(h.Sum(nil)))
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755) // whatever the umask took away
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		return fmt.Errorf("install %s: %w", target, err)
	}
	syncDir(filepath.Dir(final))
	return nil
}

// switchTo points the symlink at target atomically: a new link renamed
// over the old one, so there is never a moment without one.
func (l Layout) switchTo(target string) error {
	tmp := l.path("." + LinkName + ".new")
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("switch to %s: %w", target, err)
	}
	if err := os.Rename(tmp, l.path(LinkName)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("switch to %s: %w", target, err)
	}
	syncDir(l.Dir)
	return nil
}

// Confirm clears the trial of the running version (the success marker)
// and the record of an earlier rollback, and removes the versions other
// than this one and the one it replaced. It returns the trial it ended,
// nil when there was none for the current target.
func (l Layout) Confirm() (*Trial, error) {
	t, err := l.ReadTrial()
	if err != nil || t == nil {
		return nil, err
	}
	cur, err := l.Current()
	if err != nil {
		return nil, err
	}
	if t.New != cur {
		return nil, nil // not this version's trial; the launcher deals with it
	}
	if err := os.Remove(l.path(TrialFile)); err != nil {
		return nil, fmt.Errorf("clear the update trial: %w", err)
	}
	os.Remove(l.path(RollbackFile))
	syncDir(l.Dir)
	l.prune(cur, t.Previous)
	return t, nil
}

// prune removes version directories other than keep.
func (l Layout) prune(keep ...string) {
	entries, err := os.ReadDir(l.path(VersionsDir))
	if err != nil {
		return
	}
	for _, e := range entries {
		t := Target(e.Name())
		if !e.IsDir() || versionOf(t) == "" {
			continue
		}
		kept := false
		for _, k := range keep {
			kept = kept || k == t
		}
		if !kept {
			os.RemoveAll(l.path(filepath.Join(VersionsDir, e.Name())))
		}
	}
}

// writeJSON writes v durably: a temporary file, fsync'd, renamed.
func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(raw, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
