package playlists

import "time"

// Backoff is a player's wait before reconnect or retry attempt n
// (0-based): uniformly random between min and min·2^(n+1), capped at max,
// with rnd giving a number in [0, 1). The randomness spreads 10,000
// screens reconnecting after a server restart; the floor keeps a broken
// server from being hammered. Shared, so the load tool's simulated
// players wait exactly as real ones do.
func Backoff(minD, maxD time.Duration, attempt int, rnd func() float64) time.Duration {
	ceil := maxD
	if attempt < 32 {
		if c := minD << (attempt + 1); c > 0 && c < maxD {
			ceil = c
		}
	}
	if ceil <= minD {
		return minD
	}
	return minD + time.Duration(rnd()*float64(ceil-minD))
}
