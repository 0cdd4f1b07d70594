package playlists

import (
	"strconv"
	"time"
)

// Enrolment by pairing code. A player started without a device token asks
// the server for a code, shows it on its kiosk page, and polls until a
// technician adopts the code in the admin page; the poll then answers once
// with the screen's device token and the server's manifest signing key.
//
//	player → POST /api/v1/device/pair         PairStart    → 201 PairTicket
//	player → GET  /api/v1/device/pair/{poll}  (signed)     → 202 PairPending
//	                                                        | 200 PairAdopted (once)
//	                                                        | 410 expired, used or unknown
//
// The poll id is a secret only the player knows (the code is on a public
// screen); each poll also carries HeaderPairTime and HeaderPairSignature,
// an Ed25519 signature of PairProofMessage by the key the player sent in
// PairStart, so the token goes only to the holder of the key the screen
// record is bound to. Neither request carries a credential.
const (
	PathDevicePair = "/api/v1/device/pair"

	HeaderPairTime      = "Kiosk-Pair-Time"      // unix seconds, decimal
	HeaderPairSignature = "Kiosk-Pair-Signature" // base64 Ed25519 signature

	// PairStatePending is PairPending's state until the code is adopted.
	PairStatePending = "pending"
)

// PairStart asks for a pairing code.
type PairStart struct {
	PublicKey string `json:"public_key"` // base64 Ed25519 public key (EncodeKey)
}

// PairTicket is a pairing code and how to wait for it.
type PairTicket struct {
	Code       string    `json:"code"`         // 8 characters, shown grouped 4-4
	Poll       string    `json:"poll"`         // secret poll id
	ExpiresAt  time.Time `json:"expires_at"`   // server clock
	PollEveryS int       `json:"poll_every_s"` // how often to poll
}

// PairPending answers a poll before adoption.
type PairPending struct {
	State string `json:"state"`
}

// PairAdopted answers the first poll after adoption, and only that one.
type PairAdopted struct {
	ScreenID   string `json:"screen_id"`
	ScreenName string `json:"screen_name"`
	Token      string `json:"token"`
	// ServerKey is the server's manifest signing key (EncodeKey), to pin;
	// empty when the server does not sign.
	ServerKey string `json:"server_key,omitempty"`
}

// PairProofMessage is what a player signs to poll: the poll id and the
// time, so a captured proof goes stale within minutes.
func PairProofMessage(poll string, unix int64) []byte {
	return []byte("kiosk-pair-poll-v1\n" + poll + "\n" + strconv.FormatInt(unix, 10))
}
