package store

import (
	"fmt"
	"time"

	"kiosk/playlists"
)

// Screen orientations.
const (
	OrientationLandscape = "landscape"
	OrientationPortrait  = "portrait"
)

func checkOrientation(o string) error {
	switch o {
	case "", OrientationLandscape, OrientationPortrait:
		return nil
	}
	return playlists.FieldError{Field: "orientation", Problem: fmt.Sprintf("is %q; use %q or %q", o, OrientationLandscape, OrientationPortrait)}
}

// PairedDevice is the player a screen was paired with by code: the public
// half of the key the player made for itself.
type PairedDevice struct {
	Key      string    `json:"key"`    // base64 Ed25519 public key
	KeyID    string    `json:"key_id"` // playlists.KeyID of Key
	PairedAt time.Time `json:"paired_at"`
}

// RepairScreen gives screen id a new device token bound to dev, in one
// transaction: the old token (a lost or replaced player's) stops working,
// and the screen keeps its id, history, plays and schedules. A screen
// made afresh by pairing is CreateScreen with Device set.
func (s *Store) RepairScreen(id string, dev PairedDevice) (string, error) {
	return s.rotateToken(id, &dev)
}
