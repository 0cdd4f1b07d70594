package main

import (
	"math/rand/v2"
	"time"

	"kiosk/playlists"
)

// backoff is the player's own reconnect and retry wait.
var backoff = playlists.Backoff

// randFloat is the jitter source; math/rand/v2's top-level functions are
// safe for concurrent use.
var randFloat = rand.Float64

// jitter returns a uniformly random duration in [0, d): the phase of a
// screen's periodic work, so 10,000 screens do not beat in lockstep.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(randFloat() * float64(d))
}
