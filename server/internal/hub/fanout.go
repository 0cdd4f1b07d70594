package hub

import (
	"sync"
	"sync/atomic"
	"time"
)

// Pushes first. A publish queues one frame to each of thousands of
// screens, and each screen answers with an applied frame as soon as its
// frame arrives. Go schedules goroutines first come, first served, so
// without a rule the read pumps handling the first answers queue up with
// the writers still to run and the push to the last screen waits behind
// the acknowledgements of the first ones (kiosk_hub_push_fanout_seconds
// times how long a push takes to leave). So while a push is leaving, a read pump that has read an
// applied or heartbeat frame waits before handling it, until every frame
// of the push has been written or DefaultHoldAcks has passed, whichever
// comes first: the frames go out first, then the answers are handled,
// none lost (they wait, read, in the pumps). A stuck socket cannot hold
// anyone longer than the cap. Other frames are handled at once: a time
// probe must be answered without delay to measure the player's clock,
// and a hello or a command result is rare and small.

// DefaultHoldAcks is how long, at most, frames read during a push wait for
// the push to finish leaving (Options.HoldAcks).
const DefaultHoldAcks = 500 * time.Millisecond

// fanOut is one push leaving: the frames still to be written, and the
// channel read pumps wait on until they are (or the cap).
type fanOut struct {
	hub   *Hub
	began time.Time
	left  atomic.Int64 // frames queued and not yet written, plus one while queueing
	once  sync.Once
	done  chan struct{}
}

// beginFanOut starts holding answers for a push about to be queued. The
// caller adds each frame it queues (add), marks it written or never sent
// (written), and calls written once more when it has queued them all.
func (h *Hub) beginFanOut() *fanOut {
	f := &fanOut{hub: h, began: time.Now(), done: make(chan struct{})}
	f.left.Store(1)
	h.fanOut.Store(f)
	time.AfterFunc(h.opts.HoldAcks, f.open) // a no-op if the frames went first
	return f
}

func (f *fanOut) add() { f.left.Add(1) }

// written counts one frame of the push as gone (written, failed, or never
// to be written). f may be nil: frames outside a push.
func (f *fanOut) written() {
	if f != nil && f.left.Add(-1) == 0 {
		f.open()
	}
}

// open ends the hold: read pumps waiting on it go on.
func (f *fanOut) open() {
	f.once.Do(func() {
		// Timed before the waiters go on, so whoever they tell sees the
		// push counted.
		f.hub.metrics.fanOut.Observe(time.Since(f.began).Seconds())
		f.hub.fanOut.CompareAndSwap(f, nil)
		close(f.done)
	})
}

// awaitFanOut makes a read pump wait, with a frame read, while a push is
// leaving; it returns at once otherwise, or when the connection ends.
func (h *Hub) awaitFanOut(connDone <-chan struct{}) {
	f := h.fanOut.Load()
	if f == nil {
		return
	}
	select {
	case <-f.done:
	case <-connDone:
	}
}
