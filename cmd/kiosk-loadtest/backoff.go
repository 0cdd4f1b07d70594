package main

import (
	"math/rand/v2"
	"time"
)

// backoff is the player's reconnect wait, copied from
// player/internal/syncer/syncer.go (an internal package the tool cannot
// import); TestBackoffIsThePlayers fails when the two drift apart.
//
// backoff is the wait before reconnect attempt n (0-based): uniformly random
// between min and min·2^(n+1), capped at max. The randomness spreads 10,000
// screens reconnecting after a server restart; the floor keeps a broken
// server from being hammered.
func backoff(minD, maxD time.Duration, attempt int, rnd func() float64) time.Duration {
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
