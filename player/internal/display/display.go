// Package display owns what a screen shows: the "director" that decides, on
// the server-corrected clock, which item is on screen and when it changes,
// and the local HTTP surface a full-screen browser loads (the kiosk page,
// its Server-Sent Events stream, media from the local cache, and /state).
//
// The page is a thin renderer. It learns what to show from /events, preloads
// the next item into a hidden layer, swaps without a blank frame, and reports
// that it is alive; it never talks to the content server. Keeping the
// decisions in Go makes them testable without a browser.
package display

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"sync"
	"time"

	"kiosk/playlists"
)

// DefaultDistrictName is shown on the fallback screen when Options leaves
// DistrictName empty.
const DefaultDistrictName = "社区信息屏"

const (
	// aliveWindow is how recent the page's last report must be for
	// PageAlive: the page reports every 5 s, so three missed reports in a
	// row mean the browser is gone or hung.
	aliveWindow = 15 * time.Second
	// defaultMaxWait bounds how long the director sleeps without looking at
	// the clock again. The injected clock is corrected by the sync loop and
	// may jump; re-reading it every second keeps a switch from being late by
	// more than that after a correction.
	defaultMaxWait = time.Second
	// lateTolerance: a switch handled within this of its due instant is
	// anchored at the due instant, so rotations do not drift by scheduling
	// latency; later than that (the process was stopped, the clock jumped
	// forward) the switch is anchored at the present instead.
	lateTolerance = time.Second
	// backJumpTolerance: the clock reading earlier than the current item's
	// start by more than this means it was corrected backwards.
	backJumpTolerance = 2 * time.Second
	// fallbackRecheck is how often the director re-resolves while nothing
	// is scheduled and no window boundary is foreseen, as a safety net for a
	// boundary beyond the resolver's search horizon.
	fallbackRecheck = time.Minute
)

// MediaSource opens a cached asset by its SHA-256. The error wraps
// fs.ErrNotExist when the asset is absent or incomplete. A returned value
// that also implements io.Closer is closed after use.
type MediaSource interface {
	OpenAsset(sha256 string) (io.ReadSeeker, error)
}

// SyncStatus is what the player core knows about its link to the server; the
// display shows it on /state and uses the screen name on the page.
type SyncStatus struct {
	Online         bool
	AppliedVersion string
	ClockOffset    time.Duration
	LastSyncError  string
	CacheBytes     int64
	ScreenID       string
	ScreenName     string
}

// Options configures a Server.
type Options struct {
	Media        MediaSource
	Status       func() SyncStatus // may be nil
	Now          func() time.Time  // server-corrected clock; nil means time.Now
	Logger       *slog.Logger      // nil means slog.Default()
	DistrictName string            // shown on the fallback screen; default DefaultDistrictName
	// OnPlay, if set, receives a proof-of-play record each time an item
	// leaves the screen (next item, content switch, fallback, shutdown),
	// with the time it was really shown. It is called without the display's
	// lock held, one play at a time, oldest first.
	OnPlay func(playlists.Play)
}

// Server is the display: director state plus the HTTP handlers that expose
// it. Create it with New, feed it manifests with SetManifest, run the
// rotation with Run and serve Handler on a loopback listener.
type Server struct {
	media    MediaSource
	status   func() SyncStatus
	now      func() time.Time
	log      *slog.Logger
	district string
	// epoch tells show events of this process from those of an earlier
	// one: after a player restart the show counter starts again at 1, and
	// the page must not mistake the new first item for the one it shows.
	epoch   string
	maxWait time.Duration

	wake     chan struct{} // pokes Run after SetManifest
	done     chan struct{} // closed when Run returns; ends event streams
	doneOnce sync.Once

	mu       sync.Mutex
	m        *playlists.Manifest
	tz       string            // last known manifest time zone, for the page's clock
	rotation []playlists.Entry // the rotation the current entry belongs to
	pos      int               // index of cur in rotation
	cur      playlists.Entry   // what is on screen, when curOK
	curOK    bool              // false: the fallback screen is up
	since    time.Time         // when cur (or the fallback) went up
	ends     time.Time         // when cur has had its full duration
	switchAt time.Time         // next instant the director re-decides; zero: none foreseen
	next     playlists.Entry   // predicted entry after the switch, for preloading
	nextOK   bool              // whether next holds a prediction
	nextAt   time.Time         // when next is predicted to go up
	showID   uint64            // bumps whenever what is on screen changes
	subs     map[chan struct{}]struct{}
	aliveAt  time.Time    // monotonic reading of the page's last report
	pageItem string       // the item id the page last said it shows
	cmds     commandMarks // reload / identify; see commands.go
	plays    playLog      // proof of play; see plays.go
	urgent   urgentState  // urgent notice overlay; see urgent.go
	pairing  *Pairing     // waiting to be paired; see pairing.go
}

// New returns a Server showing the fallback screen until SetManifest gives
// it content.
func New(opts Options) *Server {
	s := &Server{
		media:    opts.Media,
		status:   opts.Status,
		now:      opts.Now,
		log:      opts.Logger,
		district: opts.DistrictName,
		epoch:    newEpoch(),
		maxWait:  defaultMaxWait,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		tz:       playlists.DefaultTimezone,
		subs:     map[chan struct{}]struct{}{},
		plays:    playLog{onPlay: opts.OnPlay},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.district == "" {
		s.district = DefaultDistrictName
	}
	s.log = s.log.With("component", "display")
	s.since = s.now()
	return s
}

func newEpoch() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a clock-based
		// epoch is still unique enough to tell two processes apart.
		return time.Now().Format("150405.000000")
	}
	return hex.EncodeToString(b[:])
}

// Current returns the entry on screen and since when; ok is false while the
// fallback screen is up.
func (s *Server) Current() (e playlists.Entry, since time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, since, ok := s.urgentCurrent(); ok {
		// The heartbeat tells the server the notice is up.
		return e, since, true
	}
	if !s.curOK {
		return playlists.Entry{}, time.Time{}, false
	}
	return s.cur, s.since, true
}

// PageAlive reports whether the kiosk page reported within the last ~15 s,
// that is, whether a browser is actually showing the page.
func (s *Server) PageAlive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.aliveAt.IsZero() && time.Since(s.aliveAt) < aliveWindow
}

func (s *Server) syncStatus() SyncStatus {
	if s.status == nil {
		return SyncStatus{}
	}
	return s.status()
}
