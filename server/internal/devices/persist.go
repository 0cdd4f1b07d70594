package devices

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"kiosk/server/internal/store"
)

// statusChunk bounds one status transaction: a publish that 10,000 screens
// acknowledge is saved in transactions of this many records, so the
// store's single writer is never held for the whole fleet at once, and
// never one fsync per screen either. The records go in key order
// (sortByScreen), so each chunk rewrites its own run of the bucket's
// pages; in map order every chunk touched nearly all of them. With both,
// BenchmarkFlushPublish (10,000 acks and their flush) takes about 77 ms
// in 10 transactions of some 8 ms, where 2,500 records in map order took
// 117 ms in 4 of nearly 30 ms, a person's write (the next publish)
// waiting behind one of them.
const statusChunk = 1000

// sortByScreen puts recs in key order, taken (the registry's screens for
// them, index for index) along.
func sortByScreen(recs []store.StatusRecord, taken []*screen) {
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(recs[a].Screen, recs[b].Screen) })
	r2, t2 := make([]store.StatusRecord, len(recs)), make([]*screen, len(taken))
	for i, j := range idx {
		r2[i], t2[i] = recs[j], taken[j]
	}
	copy(recs, r2)
	copy(taken, t2)
}

// persisted is the part of a status whose change makes it worth saving
// at the next flush. What a person was shown and would miss after a
// restart is here exactly: the applied version and when (an admin watched
// it being acknowledged), the session start, the player version, and
// every fact the degraded checks read (page alive, errors, failures,
// rejected manifests, dropped plays). Disk, cache and clock offset are
// here coarsely (they drift a little with every heartbeat; a restart
// showing a value a few MB or a second off says the same thing). Left
// out, and saved along whenever the record is written: last-seen (see
// Options.LastSeenEvery), uptime, the current item and its start, and the
// plays pending, which change with every heartbeat and are stale the
// moment the player reconnects and reports again.
type persisted struct {
	connectedAt, appliedAt int64
	applied, player        string
	syncError, rejected    string
	failures               int
	pageAlive              bool
	dropped                int64
	diskMB, diskTotalMB    int64 // in 64 MiB steps
	cacheMB                int64 // in 64 MiB steps
	clockS                 int64 // whole seconds
	lastSeen               time.Time
}

func persistedOf(st store.ScreenStatus) persisted {
	const step = 64 << 20
	return persisted{
		connectedAt: st.ConnectedAt.UnixNano(), appliedAt: st.AppliedAt.UnixNano(),
		applied: st.AppliedVersion, player: st.PlayerVersion,
		syncError: st.LastSyncError, rejected: st.ManifestRejected,
		failures: st.DownloadFailures, pageAlive: st.PageAlive, dropped: st.PlaysDropped,
		diskMB: st.DiskFreeBytes / step, diskTotalMB: st.DiskTotalBytes / step, cacheMB: st.CacheBytes / step,
		clockS:   st.ClockOffsetMS / 1000,
		lastSeen: st.LastSeen,
	}
}

// worthSaving compares now with what was saved: a persisted field
// changed, or last-seen moved at least every.
func (p persisted) worthSaving(now persisted, every time.Duration) bool {
	seen := now.lastSeen.Sub(p.lastSeen)
	p.lastSeen, now.lastSeen = time.Time{}, time.Time{}
	return p != now || seen >= every || seen <= -every
}

// markLocked notes what s's latest change means for the next flush.
// session forces a save. s.mu must be held.
func (r *Registry) markLocked(s *screen, session bool) {
	s.unsaved.Store(true)
	if session || s.saved.worthSaving(persistedOf(s.status), r.opts.LastSeenEvery) {
		s.dirty.Store(true)
	}
}

// FlushStats counts what flushes wrote since the registry started.
type FlushStats struct {
	Records      int64 // status records written
	Transactions int64 // status transactions committed
}

// FlushStats reports what flushes wrote so far.
func (r *Registry) FlushStats() FlushStats {
	return FlushStats{Records: r.saved.Load(), Transactions: r.saves.Load()}
}

// Flush saves queued state transitions, and every status with a change
// worth saving since the last flush, in bounded chunks of one transaction
// each.
func (r *Registry) Flush() error { return r.flush(false) }

// FlushAll is Flush for shutdown: every status that changed at all,
// last-seen and the heartbeat's passing fields included, so a clean stop
// loses nothing.
func (r *Registry) FlushAll() error { return r.flush(true) }

func (r *Registry) flush(all bool) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if err := r.flushHistory(); err != nil {
		r.opts.Logger.Error("save screen history", "error", err)
	}
	var recs []store.StatusRecord
	var taken []*screen
	r.screens.Range(func(_, v any) bool {
		s := v.(*screen)
		// Lock-free look first: an idle flush touches no lock.
		if !s.dirty.Load() && !(all && s.unsaved.Load()) {
			return true
		}
		s.mu.Lock()
		if !s.gone && (s.dirty.Load() || all && s.unsaved.Load()) {
			recs = append(recs, store.StatusRecord{Screen: s.id, Status: s.status})
			taken = append(taken, s)
			s.saved = persistedOf(s.status)
			s.dirty.Store(false)
			s.unsaved.Store(false)
		}
		s.mu.Unlock()
		return true
	})
	sortByScreen(recs, taken)
	for i := 0; i < len(recs); i += statusChunk {
		end := min(i+statusChunk, len(recs))
		n, err := r.opts.Store.SaveStatuses(recs[i:end])
		if err != nil {
			// Mark what was not written for the next flush to retry.
			for _, s := range taken[i:] {
				s.mu.Lock()
				if !s.gone {
					s.dirty.Store(true)
					s.unsaved.Store(true)
				}
				s.mu.Unlock()
			}
			return fmt.Errorf("save screen status: %w", err)
		}
		r.saved.Add(int64(n))
		r.saves.Add(1)
	}
	return nil
}

// Run flushes every FlushEvery, and re-derives health every EvalEvery,
// until ctx ends, then saves everything that changed once more.
func (r *Registry) Run(ctx context.Context) {
	healthDone := make(chan struct{})
	go func() { defer close(healthDone); r.runHealth(ctx) }()
	t := time.NewTicker(r.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-healthDone // its last transitions go in the final flush
			if err := r.FlushAll(); err != nil {
				r.opts.Logger.Error("final status flush", "error", err)
			}
			return
		case <-t.C:
			if err := r.Flush(); err != nil {
				r.opts.Logger.Error("status flush", "error", err)
			}
		}
	}
}
