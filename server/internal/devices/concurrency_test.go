package devices

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
)

// TestConcurrentFrames runs many goroutines doing what hub read pumps and
// the API do at once (hello, applied, heartbeat, disconnect, status,
// health, counts, moves, the sweep, flushes, the change feed) on a shared
// set of screens; under -race it checks the per-screen locking. When all
// is done the kept counts must equal a recount, and every screen's saved
// status what it holds in memory.
func TestConcurrentFrames(t *testing.T) {
	const screens, workers, rounds = 200, 16, 400
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	var pubMu sync.Mutex
	published := "v1"
	r, st, ids := fleetOf(t, screens, clk, func(o *Options) {
		o.Published = func(string) string { pubMu.Lock(); defer pubMu.Unlock(); return published }
	})

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 10))
			for i := range rounds {
				id := ids[rnd.IntN(len(ids))]
				switch rnd.IntN(10) {
				case 0:
					_, _ = r.Hello(id, playlists.Hello{PlayerVersion: "1.0", AppliedVersion: "v1"})
				case 1:
					r.Disconnected(id)
				case 2, 3:
					r.Applied(id, playlists.Applied{Version: fmt.Sprintf("v%d", i%3)})
				case 4, 5:
					r.Heartbeat(id, playlists.Heartbeat{CurrentItem: "itm", PageAlive: i%7 != 0, UptimeS: 3600, DiskFreeBytes: 1 << 33})
				case 6:
					if st, _ := r.Status(id); st.AppliedVersion != "" && st.AppliedVersion[0] != 'v' {
						t.Errorf("torn status %+v", st)
					}
					_ = r.Health(id)
				case 7:
					r.Place(id, []string{"", "g1", "g2"}[rnd.IntN(3)])
				case 8:
					_ = r.Counts()
					_ = r.GroupCounts()
					_ = r.Online()
				case 9:
					_, seq := r.Changes()
					_, _ = r.ChangedSince(seq - min(seq, 5))
				}
			}
		}()
	}
	// The housekeeping that runs beside the frames: the sweep, flushes,
	// a clock moving, publishes.
	ctx, cancel := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			clk.add(time.Second)
			if i%10 == 0 {
				pubMu.Lock()
				published = fmt.Sprintf("v%d", i%3)
				pubMu.Unlock()
			}
			r.EvaluateAll()
			if err := r.Flush(); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	cancel()
	bg.Wait()

	r.EvaluateAll()
	recount := map[string]Tally{}
	for _, id := range ids {
		s := r.get(id)
		s.mu.Lock()
		g := s.group
		s.mu.Unlock()
		c := recount[g]
		c[stateIndex(r.Health(id).State)]++
		recount[g] = c
	}
	if got := r.GroupCounts(); fmt.Sprint(got) != fmt.Sprint(recount) {
		t.Errorf("kept counts %v, recount %v", got, recount)
	}
	if err := r.FlushAll(); err != nil {
		t.Fatal(err)
	}
	saved, err := st.Statuses()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if mem, _ := r.Status(id); !mem.LastSeen.IsZero() && fmt.Sprint(saved[id]) != fmt.Sprint(mem) {
			t.Errorf("%s saved %+v, in memory %+v", id, saved[id], mem)
		}
	}
}

// TestChangeFeedLosesNothing: while writers change screens, a watcher
// that keeps asking what changed hears of every screen's last change (it
// is reported by a call that brought the watcher past it), and no call
// names a screen twice.
func TestChangeFeedLosesNothing(t *testing.T) {
	const screens, writers, rounds = 64, 8, 300
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	r, _, ids := fleetOf(t, screens, clk)

	done := make(chan struct{})
	reported := map[string]uint64{} // id → the highest seq a call that named it reached
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		var seq uint64
		ask := func() {
			var got []string
			got, seq = r.ChangedSince(seq)
			seen := map[string]bool{}
			for _, id := range got {
				if seen[id] {
					t.Errorf("%s named twice in one answer", id)
				}
				seen[id] = true
				reported[id] = seq
			}
		}
		for {
			wake, _ := r.Changes()
			ask()
			select {
			case <-wake:
			case <-done:
				ask()
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				id := ids[(w*rounds+i)%len(ids)]
				switch i % 3 {
				case 0:
					r.Heartbeat(id, playlists.Heartbeat{UptimeS: int64(i)})
				case 1:
					r.Applied(id, playlists.Applied{Version: "v"})
				default:
					r.Touch(id)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	watcher.Wait()
	for _, id := range ids {
		last := r.get(id).changed.Load()
		if last == 0 {
			continue
		}
		if reported[id] < last {
			t.Errorf("%s last changed at %d, reported only up to %d", id, last, reported[id])
		}
	}
}
