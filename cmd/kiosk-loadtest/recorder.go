package main

import (
	"errors"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Counters every screen adds to.
const (
	cDials = iota
	cDialFailures
	cWelcomes
	cReconnects // welcomes after a screen's first
	cDisconnects
	cVersions // version and resync notices received
	cPushes   // manifest frames received (manifests pushed in the frame)
	cManifests
	cManifest304
	cSignatures // manifest signatures verified (-verify-signatures)
	cAssets
	cAssetBytes
	cApplied // applied frames sent
	cHeartbeats
	cPings
	cTimeProbes
	cTimeAnswers
	cPlaysPosted // plays the server acknowledged
	cPlayBatches
	cPlayDuplicates // batches the server had seen already
	cPlaysDropped   // the bounded play log overflowed
	cCommands
	cCommandResults
	cUpdateOffers
	cErrorFrames
	cRestarts // restart commands carried out
	numCounters
)

var counterNames = [numCounters]string{
	"dials", "dial_failures", "welcomes", "reconnects", "disconnects", "version_notices", "manifests_pushed",
	"manifests_fetched", "manifests_not_modified", "signatures_verified", "assets_fetched", "asset_bytes", "applied_sent",
	"heartbeats_sent", "pings_sent", "time_probes_sent", "time_answers", "plays_posted",
	"play_batches_posted", "play_batches_duplicate", "plays_dropped", "commands_received",
	"command_results_sent", "update_offers_ignored", "error_frames_received", "restarts",
}

// pubRec is one publish: when the tool sent the write and how the write
// went.
type pubRec struct {
	t0      atomic.Int64 // unix ns; 0 = not made yet
	writeNS int64
	err     string
}

// event is a version notice arriving at a screen (a welcome naming a
// version counts) or an applied ack leaving it.
type event struct {
	version uint32 // interned, see recorder.intern
	ack     bool
	t       int64 // unix ns
}

// screenLog is one screen's events during the publishes.
type screenLog struct {
	mu     sync.Mutex
	events []event
	// maxAcked is the highest publish index the screen acked, -1 none;
	// maxRecv the highest it received, kept in -receive-only runs only.
	maxAcked, maxRecv atomic.Int32
}

// recorder collects everything the report says; screens call it
// concurrently.
type recorder struct {
	n        int
	counters [numCounters]atomic.Int64
	pubs     []*pubRec
	logs     []screenLog // only with publishes

	vmu      sync.Mutex
	vids     map[string]uint32
	versions []string

	online, synced atomic.Int64
	firstTry       atomic.Int64 // screens whose first connection attempt ended

	errMu sync.Mutex
	errs  map[string]int64

	// Storm: armed once every screen synced; the first disconnect after
	// that starts it, then the first welcome, every screen back and every
	// screen synced again are timed (unix ns).
	stormArmed                              atomic.Bool
	stormStart, firstBack, allBack, allSync atomic.Int64
}

func newRecorder(n, publishes int) *recorder {
	r := &recorder{n: n, errs: map[string]int64{}, vids: map[string]uint32{}}
	for range publishes {
		r.pubs = append(r.pubs, &pubRec{})
	}
	if publishes > 0 {
		r.logs = make([]screenLog, n)
		for i := range r.logs {
			r.logs[i].maxAcked.Store(-1)
			r.logs[i].maxRecv.Store(-1)
		}
	}
	return r
}

func (r *recorder) count(c int)        { r.counters[c].Add(1) }
func (r *recorder) add(c int, n int64) { r.counters[c].Add(n) }
func (r *recorder) get(c int) int64    { return r.counters[c].Load() }
func (r *recorder) fail(kind string)   { r.errMu.Lock(); r.errs[kind]++; r.errMu.Unlock() }
func (r *recorder) errorCounts() map[string]int64 {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	out := make(map[string]int64, len(r.errs))
	for k, v := range r.errs {
		out[k] = v
	}
	return out
}

// intern numbers versions, so 10,000 screens' logs hold 4 bytes each
// rather than a 64-character string.
func (r *recorder) intern(v string) uint32 {
	r.vmu.Lock()
	defer r.vmu.Unlock()
	id, ok := r.vids[v]
	if !ok {
		id = uint32(len(r.versions))
		r.vids[v] = id
		r.versions = append(r.versions, v)
	}
	return id
}

// notice books version v's notice (or its pushed manifest) arriving at
// screen idx at t: when the frame was read off the socket.
func (r *recorder) notice(idx int, v string, t time.Time) { r.log(idx, v, false, t) }

// acked books screen idx telling the server at t that it applied v, which
// carries publish k (-1: none of this run's).
func (r *recorder) acked(idx int, v string, k int, t time.Time) {
	if r.logs == nil {
		return
	}
	r.log(idx, v, true, t)
	raise(&r.logs[idx].maxAcked, k)
}

// received books screen idx reading a push that carries publish k (-1:
// none of this run's); the frame itself is booked by notice.
func (r *recorder) received(idx, k int) {
	if r.logs != nil {
		raise(&r.logs[idx].maxRecv, k)
	}
}

// raise sets v to k unless it already holds k or more.
func raise(v *atomic.Int32, k int) {
	for {
		cur := v.Load()
		if int32(k) <= cur || v.CompareAndSwap(cur, int32(k)) {
			return
		}
	}
}

func (r *recorder) log(idx int, v string, ack bool, t time.Time) {
	if r.logs == nil || v == "" {
		return
	}
	e := event{version: r.intern(v), ack: ack, t: t.UnixNano()}
	l := &r.logs[idx]
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// allAcked reports whether every screen acked publish k or a later one.
func (r *recorder) allAcked(k int) bool {
	return r.all(k, func(l *screenLog) *atomic.Int32 { return &l.maxAcked })
}

// allReceived reports whether every screen read a push carrying publish k
// or a later one (-receive-only runs).
func (r *recorder) allReceived(k int) bool {
	return r.all(k, func(l *screenLog) *atomic.Int32 { return &l.maxRecv })
}

// all reports whether every screen's mark (maxAcked or maxRecv) reached k.
func (r *recorder) all(k int, mark func(*screenLog) *atomic.Int32) bool {
	for i := range r.logs {
		if mark(&r.logs[i]).Load() < int32(k) {
			return false
		}
	}
	return true
}

// setOnline and setSynced move the fleet-wide counts and time the storm.
func (r *recorder) setOnline(on bool, now time.Time) {
	if on {
		n := r.online.Add(1)
		if r.stormStart.Load() != 0 {
			r.firstBack.CompareAndSwap(0, now.UnixNano())
			if n == int64(r.n) {
				r.allBack.CompareAndSwap(0, now.UnixNano())
			}
		}
		return
	}
	r.online.Add(-1)
	if r.stormArmed.Load() {
		r.stormStart.CompareAndSwap(0, now.UnixNano())
	}
}

func (r *recorder) setSynced(on bool, now time.Time) {
	if !on {
		r.synced.Add(-1)
		return
	}
	if r.synced.Add(1) == int64(r.n) && r.stormStart.Load() != 0 {
		r.allSync.CompareAndSwap(0, now.UnixNano())
	}
}

// Dist is a latency distribution in milliseconds.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// distOf summarises nanosecond samples (nearest-rank percentiles).
func distOf(ns []int64) Dist {
	if len(ns) == 0 {
		return Dist{}
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	at := func(p float64) float64 {
		i := int(p*float64(len(ns))+0.999999) - 1
		i = min(max(i, 0), len(ns)-1)
		return round(float64(ns[i])/1e6, 1)
	}
	return Dist{N: len(ns), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: round(float64(ns[len(ns)-1])/1e6, 1)}
}

func isConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func isConnReset(err error) bool {
	var ne *net.OpError
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || (errors.As(err, &ne) && ne.Op == "read")
}
