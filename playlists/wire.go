package playlists

import (
	"encoding/json"
	"fmt"
)

// Wire protocol between player and server over /api/v1/device/ws.
//
// Every frame is one JSON text message: {"type": "...", "data": {...}}.
//
//	player → server  hello      Hello       first frame after connecting
//	server → player  welcome    Welcome     answer to hello
//	server → player  version    VersionNote a new manifest version is published
//	server → player  manifest   ManifestPush a new manifest itself, batch-signed (push.go), to
//	                                         players whose hello accepts it
//	player → server  applied    Applied     the player switched to a version
//	player → server  heartbeat  Heartbeat   periodic health report
//	player → server  time       TimeSync    clock probe (T0 set)
//	server → player  time       TimeSync    answer (T0 echoed, Server set)
//	server → player  resync     VersionNote fetch this version now (players accept it; today the
//	                                         hub instead drops a client that falls behind, and
//	                                         the welcome on reconnect carries the version)
//	server → player  error      ErrorNote   the server refuses something, with a reason
//	server → player  command    Command     a remote command for this screen
//	player → server  command_result CommandResult  the outcome of a command, by id
//	server → player  update     UpdateOffer a roll-out offers this screen a new player build
//
// Assets travel over plain HTTP, not the socket; so do manifests, except
// those pushed to players that accept them (push.go):
//
//	GET /api/v1/device/manifest          (ETag = version, If-None-Match → 304)
//	GET /api/v1/device/assets/{sha256}   (ETag, Range)
//
// both with "Authorization: Bearer <device token>".
const (
	MsgHello     = "hello"
	MsgWelcome   = "welcome"
	MsgVersion   = "version"
	MsgApplied   = "applied"
	MsgHeartbeat = "heartbeat"
	MsgTime      = "time"
	MsgResync    = "resync"
	MsgError     = "error"

	MsgCommand       = "command"
	MsgCommandResult = "command_result"

	MsgUpdate = "update"
)

// Remote command types a technician can send to a screen.
const (
	CmdReload     = "reload"      // reload the kiosk page
	CmdIdentify   = "identify"    // show the screen's name and id big for 30 s
	CmdResync     = "resync"      // re-verify the cache and refetch what is wrong
	CmdClearCache = "clear-cache" // drop cached media and fetch again
	CmdRestart    = "restart"     // exit cleanly for the supervisor to restart
	CmdScreenshot = "screenshot"  // capture what the page shows
)

// ValidCommand reports whether typ is a known command type.
func ValidCommand(typ string) bool {
	switch typ {
	case CmdReload, CmdIdentify, CmdResync, CmdClearCache, CmdRestart, CmdScreenshot:
		return true
	}
	return false
}

// Command asks a player to do something. A player executes a command id
// at most once, even if the server delivers it again after a reconnect.
type Command struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Args      json.RawMessage `json:"args,omitempty"`
	ExpiresAt int64           `json:"expires_at,omitempty"` // unix ms; a player ignores expired commands
}

// CommandResult reports how a command ended.
type CommandResult struct {
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// MaxMessageBytes is the largest frame either side accepts.
const MaxMessageBytes = 16 << 10

// Envelope is one websocket frame.
type Envelope struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Encode wraps v in an envelope of type typ. The bytes are those of
// json.Marshal(Envelope{typ, json.Marshal(v)}), built without marshalling
// the payload a second time (the envelope's RawMessage would be scanned
// and copied again); TestEncodeIsMarshalOfEnvelope holds them equal.
func Encode(typ string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	t, err := json.Marshal(typ)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	out := make([]byte, 0, len(`{"type":,"data":}`)+len(t)+len(data))
	out = append(append(out, `{"type":`...), t...)
	out = append(append(out, `,"data":`...), data...)
	return append(out, '}'), nil
}

// Decode splits a frame into its envelope; DecodeData fills the payload.
func Decode(frame []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(frame, &e); err != nil {
		return e, fmt.Errorf("decode frame: %w", err)
	}
	if e.Type == "" {
		return e, fmt.Errorf("decode frame: missing type")
	}
	return e, nil
}

// DecodeData unmarshals the envelope's payload into v.
func (e Envelope) DecodeData(v any) error {
	if len(e.Data) == 0 {
		return fmt.Errorf("decode %s: missing data", e.Type)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode %s: %w", e.Type, err)
	}
	return nil
}

// Hello is the player's first frame. The screen is known from the token.
type Hello struct {
	PlayerVersion  string `json:"player_version"`
	AppliedVersion string `json:"applied_version"`
	// Accept lists what the player takes beyond the basic protocol:
	// AcceptManifest asks for new manifests inside the push (push.go).
	Accept []string `json:"accept,omitempty"`
}

// Welcome answers Hello with who the screen is and what it should run.
type Welcome struct {
	ScreenID   string `json:"screen_id"`
	ScreenName string `json:"screen_name"`
	Version    string `json:"version"`     // current manifest version for this screen
	ServerTime int64  `json:"server_time"` // unix milliseconds
	// Accept lists what the server takes beyond the basic protocol:
	// AcceptAppliedHeartbeat, a heartbeat inside the applied frame.
	Accept []string `json:"accept,omitempty"`
}

// AcceptAppliedHeartbeat in a welcome: the player may send the heartbeat
// that follows an apply inside the applied frame (Applied.Heartbeat)
// instead of as a frame of its own, one frame per screen and publish
// instead of two.
const AcceptAppliedHeartbeat = "applied_heartbeat"

// VersionNote tells the player which version to fetch.
type VersionNote struct {
	Version string `json:"version"`
}

// Applied acknowledges that the player now plays Version.
type Applied struct {
	Version string `json:"version"`
	// Heartbeat, to a server whose welcome accepts it, is the health
	// report that follows the apply; the server handles it as if it came
	// in a heartbeat frame right after.
	Heartbeat *Heartbeat `json:"heartbeat,omitempty"`
}

// TimeSync measures the clock offset: the player sends T0 (its clock, unix
// ms); the server echoes T0 with Server (its clock). With T1 the player's
// clock at receipt, offset = Server - (T0+T1)/2.
type TimeSync struct {
	T0     int64 `json:"t0"`
	Server int64 `json:"server,omitempty"`
}

// Heartbeat is the player's periodic health report.
type Heartbeat struct {
	CurrentItem    string `json:"current_item"`
	CurrentSince   int64  `json:"current_since,omitempty"` // unix ms
	AppliedVersion string `json:"applied_version"`
	UptimeS        int64  `json:"uptime_s"`
	CacheBytes     int64  `json:"cache_bytes"`
	DiskFreeBytes  int64  `json:"disk_free_bytes,omitempty"`
	DiskTotalBytes int64  `json:"disk_total_bytes,omitempty"` // size of the cache's file system; 0 = unknown
	PlayerVersion  string `json:"player_version"`
	ClockOffsetMS  int64  `json:"clock_offset_ms"`
	PageAlive      bool   `json:"page_alive"`
	LastSyncError  string `json:"last_sync_error,omitempty"`
	// ManifestRejected says why the player refused the last manifest it
	// was served (bad signature, unknown key, older serial); empty once a
	// manifest applied. The server shows the screen degraded meanwhile.
	ManifestRejected string `json:"manifest_rejected,omitempty"`
	DownloadFailures int    `json:"download_failures,omitempty"`
	// The player's proof-of-play log: plays waiting for upload, and plays
	// ever lost because the log hit its size bound while the server was
	// out of reach (the oldest go first). Non-zero dropped means the
	// screen's play reports have a gap.
	PlaysPending int64 `json:"plays_pending,omitempty"`
	PlaysDropped int64 `json:"plays_dropped,omitempty"`
	// Update is where the player stands with the last build a roll-out
	// offered it, or the rollback it did; nil: nothing to say.
	Update *UpdateStatus `json:"update,omitempty"`
}

// ErrorNote carries a reason the server refused a frame or closed the socket.
type ErrorNote struct {
	Error string `json:"error"`
}

// UpdateOffer tells a player which build a roll-out offers it. It is a
// state, not an order: the server repeats it after every hello while the
// roll-out includes the screen and is not paused, and the player acts on
// it once per build. The player takes the build for its own platform,
// verifies it with ReleaseKey (which it pins on the first offer, unless
// -release-key pinned one already) and reports in its heartbeats' Update.
type UpdateOffer struct {
	Rollout    string         `json:"rollout"`
	Version    string         `json:"version"`
	ReleaseKey string         `json:"release_key"` // base64 Ed25519 public key
	Builds     []OfferedBuild `json:"builds"`      // at most one per platform
}

// OfferedBuild is a signed build and where the player downloads it: a
// path on the server (/api/v1/device/player-build/{sha256}), with the
// device token.
type OfferedBuild struct {
	PlayerBuild
	URL string `json:"url"`
}

// Player update states (UpdateStatus.State).
const (
	UpdateDownloading = "downloading" // fetching the offered build
	UpdateDownloaded  = "downloaded"  // verified; installing and restarting into it
	UpdateRunning     = "running"     // the new version runs and applied the current manifest
	UpdateFailed      = "failed"      // the offer could not be carried out (Error says why)
	UpdateRolledBack  = "rolled_back" // the new version was rolled back to the previous one
)

// UpdateStatus is a player's report on an update. After a rollback it is
// "rolled back from Version: Error", sent by the previous binary.
type UpdateStatus struct {
	Rollout  string `json:"rollout,omitempty"`
	Version  string `json:"version"`
	Build    string `json:"build,omitempty"`    // SHA-256 of the build
	Platform string `json:"platform,omitempty"` // the player's own, e.g. linux/arm/v7
	State    string `json:"state"`
	Error    string `json:"error,omitempty"`
}
