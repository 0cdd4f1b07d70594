package playlists

// Play is one proof-of-play record: an item (or urgent notice) that was on
// screen, from Start for DurationMS. The player gives each play an ID that
// is unique for the screen, so an upload that is retried after a lost
// answer is not counted twice.
type Play struct {
	ID         string `json:"id"`
	Item       string `json:"item"`
	Playlist   string `json:"playlist,omitempty"`
	Schedule   string `json:"schedule,omitempty"`
	Urgent     bool   `json:"urgent,omitempty"`
	Start      int64  `json:"start"`       // unix ms, server-corrected clock
	DurationMS int64  `json:"duration_ms"` // how long it was really shown
}

// PlayBatch is one upload of plays: POST /api/v1/device/plays with the
// device token. Uploading the same BatchID again is harmless.
type PlayBatch struct {
	BatchID string `json:"batch_id"`
	Plays   []Play `json:"plays"`
}

// MaxPlaysPerBatch bounds one upload so a player back from a long outage
// sends many modest requests rather than one huge one.
const MaxPlaysPerBatch = 500
