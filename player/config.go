// Package player runs the Kiosk screen player: it syncs content from the
// server over a websocket, keeps it in a verified local cache, and serves the
// kiosk page a full-screen browser shows.
package player

import (
	"log/slog"
	"net"
	"runtime"
	"time"

	"kiosk/player/internal/update"
	"kiosk/playlists"
)

// Defaults for Config fields left zero.
const (
	DefaultListen            = "127.0.0.1:8090"
	DefaultCacheFile         = "kiosk-player.db"
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultBackoffMin        = 500 * time.Millisecond
	DefaultBackoffMax        = 30 * time.Second
	DefaultUpdateTrial       = update.DefaultTrial
)

// Build stamps. deploy/release.sh sets them with -ldflags "-X
// kiosk/player.Version=… -X kiosk/player.Commit=… -X kiosk/player.BuildDate=…".
var (
	// Version is the player's own version, reported in hello and
	// heartbeats; the launcher names the version's directory after it.
	Version = "0.1.0-dev"
	// Commit is the source's git commit ("" in a plain go build).
	Commit = ""
	// BuildDate is when the binary was built, UTC RFC 3339 ("" likewise).
	BuildDate = ""
)

// VersionText is what kiosk-player -version prints: the bare version alone
// on the first line (deploy/kiosk-player-launch.sh reads only that), then
// commit, build date, Go version and platform.
func VersionText() string {
	return Version + "\n" + buildLine(Commit, BuildDate) + "\n"
}

// buildLine is the second line of VersionText.
func buildLine(commit, date string) string {
	if commit == "" {
		commit = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	return "commit " + commit + ", built " + date + ", " + runtime.Version() + " " + update.RuntimePlatform()
}

// Config is everything Run needs; cmd/kiosk-player fills it from flags and
// the environment.
type Config struct {
	Server string // base URL of the server, e.g. http://127.0.0.1:8080
	Token  string // device token; empty: the one saved at pairing, else pair (pairing.go)
	// ServerKey is the server's manifest key (base64 Ed25519), pinned so
	// that only manifests it signed apply; empty: pinned at pairing or on
	// first use.
	ServerKey string
	CacheFile string // bbolt cache; created if missing
	Listen    string // local kiosk page address, used when Listener is nil

	// DistrictName is shown on the fallback screen; the display's default
	// when empty.
	DistrictName string

	Listener net.Listener // optional: tests pass one bound to 127.0.0.1:0

	HeartbeatInterval time.Duration
	BackoffMin        time.Duration
	BackoffMax        time.Duration

	Logger *slog.Logger
	Now    func() time.Time // injected clock; time.Now when nil

	// Ready, if set, receives the local page's bound address once it listens.
	Ready chan<- string

	// DevToolsURL is the local Chromium's DevTools endpoint, e.g.
	// http://127.0.0.1:9222, used by the screenshot command; loopback only.
	// Empty: screenshot commands fail with a clear reason.
	DevToolsURL string

	// Player updates (update.go). InstallDir is the directory the launcher
	// runs the player from (DIR/kiosk-player → DIR/versions/<v>/...);
	// empty: offered updates are refused with that reason. ReleaseKey
	// (base64 Ed25519) pins the key builds must be signed with; empty:
	// pinned on the first offer. Platform overrides the build platform
	// (default: this binary's). UpdateTrial is how long a new version has
	// to apply the current manifest before the launcher rolls it back;
	// zero: 10 minutes.
	InstallDir  string
	ReleaseKey  string
	Platform    string
	UpdateTrial time.Duration

	// PairPollInterval overrides how often a player without a token polls
	// to learn it was paired (tests); zero: what the server says.
	PairPollInterval time.Duration

	// PlayUploadInterval is how often recorded plays are uploaded; the
	// syncer's default (10 s) when zero.
	PlayUploadInterval time.Duration
	// OnPlay, if set, sees every play once it is recorded in the cache,
	// with its id; tests use it to compare what played with the reports.
	OnPlay func(playlists.Play)
}
