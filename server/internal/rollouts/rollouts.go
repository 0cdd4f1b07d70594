// Package rollouts owns player updates on the server: signed player
// builds (verified with the release key before they are kept), staged
// roll-outs (the canary groups, then a stable percentage of the other
// screens, then all of them, with a pause), the offer each screen gets
// over its websocket, and where every screen stands, from the offer to
// running the new version or failing.
//
// The offer is a state, not a command: while a roll-out includes a screen
// and is not paused, every hello gets the offer again, and a pause simply
// stops offering. Remote commands are built for one-off actions (a TTL, at
// most once, a result); an update must instead reach screens that were
// offline for a week, stop when paused, and never be tried twice on a
// screen where it failed, which the player's own memory of rolled-back
// builds and this package's per-screen record both ensure.
package rollouts

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
	"kiosk/server/internal/textclip"
)

// Defaults for Options fields left zero.
const (
	// DefaultDeadline is how long a screen that downloaded the build has to
	// report the new version before it counts as failed. The player rolls
	// itself back well within it (its own trial lasts 10 minutes).
	DefaultDeadline = 15 * time.Minute
	// DefaultFlushEvery is how often changed per-screen progress is saved
	// and deadlines are checked.
	DefaultFlushEvery = time.Second
)

// Per-screen states in a roll-out's view. Offered, downloading,
// downloaded, running and failed are recorded; waiting (not in a wave
// yet) and pending (in a wave, not offered yet: offline or paused) are
// derived.
const (
	ScreenWaiting     = "waiting"
	ScreenPending     = "pending"
	ScreenOffered     = "offered"
	ScreenDownloading = playlists.UpdateDownloading
	ScreenDownloaded  = playlists.UpdateDownloaded
	ScreenRunning     = playlists.UpdateRunning
	ScreenFailed      = playlists.UpdateFailed
)

// maxReported bounds what a player's report may make the server keep.
const maxReported = 256

// DevicePath is where a player downloads an offered build (by SHA-256).
const DevicePath = "/api/v1/device/player-build/"

// Options configure a Manager.
type Options struct {
	Store *store.Store
	// ReleaseKey verifies uploaded builds and is sent with every offer;
	// nil: builds are refused (kiosk-server -release-key).
	ReleaseKey ed25519.PublicKey
	// Send queues a pre-encoded frame to a connected screen (hub.Send).
	Send func(screenID string, frame []byte) bool
	// Status is what a screen last reported and whether it is online
	// (devices.Registry.Status).
	Status     func(screenID string) (store.ScreenStatus, bool)
	Deadline   time.Duration
	FlushEvery time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// Manager runs player roll-outs. It is safe for concurrent use.
type Manager struct {
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	cur   *active // the roll-out not superseded, if any
	dirty map[string]bool
}

// active is the current roll-out and its screens' progress in memory; the
// store has the same, saved in batches by Flush.
type active struct {
	r       store.Rollout
	frame   []byte // the encoded offer
	builds  map[string]bool
	screens map[string]*store.RolloutScreen
}

// New loads the current roll-out, if any.
func New(opts Options) (*Manager, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Deadline <= 0 {
		opts.Deadline = DefaultDeadline
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = DefaultFlushEvery
	}
	if opts.Send == nil {
		opts.Send = func(string, []byte) bool { return false }
	}
	if opts.Status == nil {
		opts.Status = func(string) (store.ScreenStatus, bool) { return store.ScreenStatus{}, false }
	}
	m := &Manager{opts: opts, log: opts.Logger, dirty: map[string]bool{}}
	all, err := opts.Store.ListRollouts()
	if err != nil {
		return nil, fmt.Errorf("load roll-outs: %w", err)
	}
	for _, r := range all {
		if r.State != store.RolloutSuperseded {
			if err := m.load(r); err != nil {
				return nil, err
			}
			break
		}
	}
	return m, nil
}

// load makes r the current roll-out, with its saved progress.
func (m *Manager) load(r store.Rollout) error {
	a, err := m.activate(r)
	if err != nil {
		return err
	}
	saved, err := m.opts.Store.ListRolloutScreens(r.ID)
	if err != nil {
		return fmt.Errorf("load roll-out %s: %w", r.ID, err)
	}
	for i := range saved {
		a.screens[saved[i].Screen] = &saved[i]
	}
	m.cur = a
	return nil
}

// activate builds the in-memory state of r: its offer frame and builds.
func (m *Manager) activate(r store.Rollout) (*active, error) {
	offer := playlists.UpdateOffer{Rollout: r.ID, Version: r.Version}
	if m.opts.ReleaseKey != nil {
		offer.ReleaseKey = playlists.EncodeKey(m.opts.ReleaseKey)
	}
	builds := map[string]bool{}
	for _, sha := range r.Builds {
		b, err := m.opts.Store.GetPlayerBuild(sha)
		if err != nil {
			return nil, fmt.Errorf("roll-out %s: %w", r.ID, err)
		}
		builds[sha] = true
		offer.Builds = append(offer.Builds, playlists.OfferedBuild{PlayerBuild: b.PlayerBuild, URL: DevicePath + sha})
	}
	frame, err := playlists.Encode(playlists.MsgUpdate, offer)
	if err != nil {
		return nil, err
	}
	return &active{r: r, frame: frame, builds: builds, screens: map[string]*store.RolloutScreen{}}, nil
}

// CanVerify reports whether a release key is configured.
func (m *Manager) CanVerify() bool { return m.opts.ReleaseKey != nil }

// ErrNoReleaseKey refuses builds and roll-outs on a server started without
// a release key.
var ErrNoReleaseKey = errors.New("no release key configured: start kiosk-server with -release-key FILE (kiosk-release keygen makes one)")

// AddBuild keeps a staged binary as the build m describes once m's
// signature verifies with the release key (playlists.ErrBuildRefused
// otherwise) and the bytes match it. created is false when the build was
// already there.
func (m *Manager) AddBuild(staged *store.StagedBuild, b playlists.PlayerBuild, by string) (store.PlayerBuild, bool, error) {
	if m.opts.ReleaseKey == nil {
		staged.Discard()
		return store.PlayerBuild{}, false, ErrNoReleaseKey
	}
	if err := playlists.VerifyBuild(m.opts.ReleaseKey, b); err != nil {
		staged.Discard()
		return store.PlayerBuild{}, false, err
	}
	return m.opts.Store.AddPlayerBuild(staged, b, by)
}

// CreateRequest starts a roll-out of Version (or of Build's version): every
// uploaded build of it, one per platform.
type CreateRequest struct {
	Build        string   `json:"build"`
	Version      string   `json:"version"`
	CanaryGroups []string `json:"canary_groups"`
	Percent      int      `json:"percent"`
}

// Create starts a roll-out and offers the build to the canary groups'
// connected screens at once. A roll-out still running is superseded.
func (m *Manager) Create(req CreateRequest, by string) (store.Rollout, error) {
	if m.opts.ReleaseKey == nil {
		return store.Rollout{}, ErrNoReleaseKey
	}
	if req.Percent < 0 || req.Percent > 100 {
		return store.Rollout{}, playlists.FieldError{Field: "percent", Problem: fmt.Sprintf("is %d; want 0 to 100 (0 and 100: all other screens at once)", req.Percent)}
	}
	version := req.Version
	if req.Build != "" {
		b, err := m.opts.Store.GetPlayerBuild(req.Build)
		if err != nil {
			return store.Rollout{}, err
		}
		if version != "" && version != b.Version {
			return store.Rollout{}, playlists.FieldError{Field: "version", Problem: fmt.Sprintf("is %q but build %s is %q", version, req.Build, b.Version)}
		}
		version = b.Version
	}
	if version == "" {
		return store.Rollout{}, playlists.FieldError{Field: "build", Problem: "is required (the SHA-256 of an uploaded build, or give its version)"}
	}
	all, err := m.opts.Store.ListPlayerBuilds()
	if err != nil {
		return store.Rollout{}, err
	}
	r := store.Rollout{Version: version, CanaryGroups: dedupe(req.CanaryGroups), Percent: req.Percent, CreatedBy: by}
	for _, b := range all {
		if b.Version == version {
			r.Builds = append(r.Builds, b.SHA256)
		}
	}
	if len(r.Builds) == 0 {
		return store.Rollout{}, playlists.FieldError{Field: "version", Problem: fmt.Sprintf("no build of %q is uploaded", version)}
	}
	slices.Sort(r.Builds)
	r.State = store.RolloutCanary
	if len(r.CanaryGroups) == 0 {
		// No canaries: the first wave is the percentage of everyone.
		r.State, r.Coverage = store.RolloutRest, firstCoverage(r.Percent)
	}

	if err := m.Flush(); err != nil {
		m.log.Warn("saving the previous roll-out's progress", "error", err)
	}
	r, err = m.opts.Store.CreateRollout(r)
	if err != nil {
		return r, err
	}
	a, err := m.activate(r)
	if err != nil {
		return r, err
	}
	m.mu.Lock()
	m.cur = a
	m.dirty = map[string]bool{}
	m.mu.Unlock()
	m.log.Info("roll-out started", "rollout", r.ID, "version", r.Version, "builds", len(r.Builds),
		"canary_groups", r.CanaryGroups, "percent", r.Percent, "by", by)
	m.offerAll()
	return r, nil
}

// Actions on a roll-out (Act).
const (
	ActPause   = "pause"
	ActResume  = "resume"
	ActAdvance = "advance"
)

// Act pauses, resumes or advances roll-out id. Resuming and advancing offer
// the build to the screens now included at once.
func (m *Manager) Act(id, action, by string) (store.Rollout, error) {
	var step func(*store.Rollout) error
	switch action {
	case ActPause:
		step = Pause
	case ActResume:
		step = Resume
	case ActAdvance:
		step = Advance
	default:
		return store.Rollout{}, fmt.Errorf("rollouts: unknown action %q", action)
	}
	r, err := m.opts.Store.UpdateRollout(id, func(r *store.Rollout) error {
		if err := step(r); err != nil {
			return err
		}
		r.UpdatedBy = by
		return nil
	})
	if err != nil {
		return r, err
	}
	m.mu.Lock()
	if m.cur != nil && m.cur.r.ID == r.ID {
		m.cur.r = r
	}
	m.mu.Unlock()
	m.log.Info("roll-out "+action, "rollout", r.ID, "state", r.State, "coverage", r.Coverage, "paused", r.Paused, "by", by)
	if action != ActPause {
		m.offerAll()
	}
	return r, nil
}

// Advance moves r to its next wave: canary → rest (Percent of the other
// screens, or all of them when Percent is 0 or 100) → rest at 100 % → done.
func Advance(r *store.Rollout) error {
	switch r.State {
	case store.RolloutCanary:
		r.State, r.Coverage = store.RolloutRest, firstCoverage(r.Percent)
	case store.RolloutRest:
		if r.Coverage < 100 {
			r.Coverage = 100
		} else {
			r.State = store.RolloutDone
		}
	case store.RolloutDone:
		return store.ConflictError{Msg: fmt.Sprintf("roll-out %s is done: every screen is included", r.ID)}
	default:
		return store.ConflictError{Msg: fmt.Sprintf("roll-out %s was superseded by a newer one", r.ID)}
	}
	return nil
}

// Pause stops offering r's build; screens already updating carry on.
func Pause(r *store.Rollout) error {
	if r.State == store.RolloutSuperseded {
		return store.ConflictError{Msg: fmt.Sprintf("roll-out %s was superseded by a newer one", r.ID)}
	}
	r.Paused = true
	return nil
}

// Resume offers r's build again.
func Resume(r *store.Rollout) error {
	if r.State == store.RolloutSuperseded {
		return store.ConflictError{Msg: fmt.Sprintf("roll-out %s was superseded by a newer one", r.ID)}
	}
	r.Paused = false
	return nil
}

func firstCoverage(percent int) int {
	if percent <= 0 || percent >= 100 {
		return 100
	}
	return percent
}

// Included reports whether r's current wave includes a screen in group
// (canary is the set of canary groups and the groups nested under them).
func Included(r store.Rollout, screenID, group string, canary map[string]bool) bool {
	if canary[group] {
		return true
	}
	switch r.State {
	case store.RolloutRest:
		return Bucket(r.ID, screenID) < r.Coverage
	case store.RolloutDone:
		return true
	}
	return false
}

// Bucket places a screen in 0..99 for roll-out id: stable across advances
// (a screen once included stays included) and different per roll-out, so
// the same screens are not always the first after the canaries.
func Bucket(rolloutID, screenID string) int {
	sum := sha256.Sum256([]byte(rolloutID + "\x00" + screenID))
	return int(binary.BigEndian.Uint64(sum[:8]) % 100)
}

// canaryGroups expands r's canary groups to include nested groups.
func (m *Manager) canaryGroups(r store.Rollout) map[string]bool {
	out := map[string]bool{}
	if len(r.CanaryGroups) == 0 {
		return out
	}
	groups, err := m.opts.Store.ListGroups()
	if err != nil {
		m.log.Warn("listing groups for a roll-out", "error", err)
	}
	children := map[string][]string{}
	for _, g := range groups {
		children[g.Parent] = append(children[g.Parent], g.ID)
	}
	queue := slices.Clone(r.CanaryGroups)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if out[g] {
			continue
		}
		out[g] = true
		queue = append(queue, children[g]...)
	}
	return out
}

// Deliver offers the current roll-out's build to a screen that just said
// hello, if its wave includes it and it has not finished with it. The hub
// queues the frame behind the welcome.
func (m *Manager) Deliver(screenID string) {
	m.mu.Lock()
	a := m.cur
	if a == nil || a.r.Paused {
		m.mu.Unlock()
		return
	}
	r := a.r
	m.mu.Unlock()
	scr, err := m.opts.Store.GetScreen(screenID)
	if err != nil {
		return
	}
	m.offer(r, scr, m.canaryGroups(r), true)
}

// offerAll offers the build to every connected screen the current wave
// includes (after a start, resume or advance).
func (m *Manager) offerAll() {
	m.mu.Lock()
	a := m.cur
	if a == nil || a.r.Paused {
		m.mu.Unlock()
		return
	}
	r := a.r
	m.mu.Unlock()
	screens, err := m.opts.Store.ListScreens()
	if err != nil {
		m.log.Error("listing screens for a roll-out", "error", err)
		return
	}
	canary := m.canaryGroups(r)
	n := 0
	for _, s := range screens {
		if m.offer(r, s, canary, false) {
			n++
		}
	}
	m.log.Info("roll-out offered", "rollout", r.ID, "screens", n)
}

// offer sends r's offer to scr if the wave includes it, it does not run
// the version yet and has not failed with it; it reports whether it sent.
// again also sends it to a screen offered before (a new connection).
func (m *Manager) offer(r store.Rollout, scr store.Screen, canary map[string]bool, again bool) bool {
	if !Included(r, scr.ID, scr.Group, canary) {
		return false
	}
	st, _ := m.opts.Status(scr.ID)
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.cur
	if a == nil || a.r.ID != r.ID || a.r.Paused {
		return false
	}
	p := a.screens[scr.ID]
	if p != nil && (!again || p.State == ScreenFailed || p.State == ScreenRunning) {
		return false
	}
	if p == nil && st.PlayerVersion == r.Version {
		return false // already there
	}
	if !m.opts.Send(scr.ID, a.frame) {
		return false // not connected: offered at its next hello
	}
	if p == nil {
		now := m.opts.Now().UTC()
		a.screens[scr.ID] = &store.RolloutScreen{Rollout: r.ID, Screen: scr.ID, State: ScreenOffered,
			From: st.PlayerVersion, OfferedAt: now, UpdatedAt: now}
		m.dirty[scr.ID] = true
	}
	return true
}

// Offered reports whether the current roll-out offered build sha to the
// screen: a device may download only that.
func (m *Manager) Offered(screenID, sha string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.cur
	return a != nil && a.builds[sha] && a.screens[screenID] != nil
}

// Report takes a player's heartbeat: the version it runs and its update
// status (nil: nothing to say).
func (m *Manager) Report(screenID, version string, u *playlists.UpdateStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.cur
	if a == nil {
		return
	}
	p := a.screens[screenID]
	ours := u != nil && a.builds[u.Build]
	if p == nil {
		// Only screens this roll-out offered the build to have a record
		// (kept across restarts by Flush); a device naming the build in
		// its heartbeat must not make itself one, or it could download a
		// build outside its wave. A screen the record was lost for gets
		// its offer, and its record, at its next hello (Deliver).
		return
	}
	now := m.opts.Now().UTC()
	before := *p
	if ours {
		p.Platform = clip(u.Platform)
		switch u.State {
		case playlists.UpdateDownloading:
			// Error says why a download is being retried.
			if p.State == ScreenOffered || p.State == ScreenDownloading {
				p.State, p.Error = ScreenDownloading, clip(u.Error)
			}
		case playlists.UpdateDownloaded:
			if p.State == ScreenOffered || p.State == ScreenDownloading {
				p.State, p.Error, p.DownloadedAt = ScreenDownloaded, "", &now
			}
		case playlists.UpdateRunning:
			if version == a.r.Version {
				p.State, p.Error = ScreenRunning, ""
			}
		case playlists.UpdateFailed:
			if p.State != ScreenRunning {
				p.State, p.Error = ScreenFailed, clip(u.Error)
			}
		case playlists.UpdateRolledBack:
			p.State, p.Error = ScreenFailed, clip(fmt.Sprintf("rolled back from %s: %s", u.Version, u.Error))
		}
	}
	if u == nil && version == a.r.Version && p.State != ScreenRunning {
		// Runs the version with nothing pending: updated, whichever way.
		p.State, p.Error = ScreenRunning, ""
	}
	if *p != before {
		p.UpdatedAt = now
		m.dirty[screenID] = true
		if p.State != before.State {
			m.log.Info("roll-out progress", "rollout", a.r.ID, "screen", screenID, "state", p.State, "error", p.Error)
		}
	}
}

// Run saves progress and checks deadlines every FlushEvery until ctx ends,
// then saves once more.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := m.Flush(); err != nil {
				m.log.Error("final roll-out progress save", "error", err)
			}
			return
		case <-t.C:
			m.sweep()
			if err := m.Flush(); err != nil {
				m.log.Error("roll-out progress save", "error", err)
			}
		}
	}
}

// sweep fails screens that downloaded the build but do not report the new
// version within the deadline.
func (m *Manager) sweep() {
	m.mu.Lock()
	a := m.cur
	if a == nil {
		m.mu.Unlock()
		return
	}
	var waiting []string
	now := m.opts.Now()
	for id, p := range a.screens {
		if p.State == ScreenDownloaded && p.DownloadedAt != nil && now.Sub(*p.DownloadedAt) > m.opts.Deadline {
			waiting = append(waiting, id)
		}
	}
	m.mu.Unlock()
	for _, id := range waiting {
		st, _ := m.opts.Status(id)
		m.mu.Lock()
		if p := a.screens[id]; p != nil && p.State == ScreenDownloaded && st.PlayerVersion != a.r.Version {
			p.State = ScreenFailed
			p.Error = fmt.Sprintf("still reports %s %s after downloading %s", orUnknown(st.PlayerVersion), m.opts.Deadline, a.r.Version)
			p.UpdatedAt = now.UTC()
			m.dirty[id] = true
			m.log.Warn("roll-out screen missed its deadline", "rollout", a.r.ID, "screen", id, "error", p.Error)
		}
		m.mu.Unlock()
	}
}

// Flush saves every screen's progress changed since the last flush, in
// one transaction.
func (m *Manager) Flush() error {
	m.mu.Lock()
	a := m.cur
	if a == nil || len(m.dirty) == 0 {
		m.mu.Unlock()
		return nil
	}
	batch := make([]store.RolloutScreen, 0, len(m.dirty))
	for id := range m.dirty {
		if p := a.screens[id]; p != nil {
			batch = append(batch, *p)
		}
	}
	m.dirty = map[string]bool{}
	m.mu.Unlock()
	if err := m.opts.Store.PutRolloutScreens(batch); err != nil {
		m.mu.Lock()
		if m.cur == a {
			for _, p := range batch {
				m.dirty[p.Screen] = true
			}
		}
		m.mu.Unlock()
		return fmt.Errorf("save roll-out progress: %w", err)
	}
	return nil
}

func clip(s string) string { return textclip.Clip(s, maxReported) }

func orUnknown(v string) string {
	if v == "" {
		return "an unknown version"
	}
	return v
}

func dedupe(in []string) []string {
	out := []string{}
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
