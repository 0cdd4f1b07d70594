package devices

import (
	"sync/atomic"
	"testing"
	"time"

	"kiosk/playlists"
)

// Run with, for example:
//
//	go test -run '^$' -bench . -benchtime 2s ./server/internal/devices/
//
// Figures depend on the machine and on what else runs; nothing here is
// asserted.

const benchScreens = 10_000

// connectedFleet is benchScreens screens, all connected.
func connectedFleet(b *testing.B) (*Registry, []string) {
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	r, _, ids := fleetOf(b, benchScreens, clk, func(o *Options) {
		o.Published = func(string) string { return "v2" }
	})
	for _, id := range ids {
		if _, err := r.Hello(id, playlists.Hello{PlayerVersion: "1.0", AppliedVersion: "v1"}); err != nil {
			b.Fatal(err)
		}
	}
	return r, ids
}

// BenchmarkAppliedHeartbeat: one op is an applied frame and a heartbeat
// of one of 10,000 connected screens, from as many goroutines as
// GOMAXPROCS (hub read pumps).
func BenchmarkAppliedHeartbeat(b *testing.B) {
	r, ids := connectedFleet(b)
	hb := playlists.Heartbeat{AppliedVersion: "v2", CurrentItem: "itm_1", PageAlive: true, UptimeS: 3600,
		DiskFreeBytes: 8 << 30, DiskTotalBytes: 16 << 30, ClockOffsetMS: 12}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[int(next.Add(1))%len(ids)]
			r.Applied(id, playlists.Applied{Version: "v2"})
			r.Heartbeat(id, hb)
		}
	})
}

// BenchmarkAppliedHeartbeatWithReaders is the same while readers ask for
// one screen's status and health and the fleet counts, as the admin API
// does.
func BenchmarkAppliedHeartbeatWithReaders(b *testing.B) {
	r, ids := connectedFleet(b)
	hb := playlists.Heartbeat{AppliedVersion: "v2", CurrentItem: "itm_1", PageAlive: true, UptimeS: 3600}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := int(next.Add(1))
			id := ids[n%len(ids)]
			if n%4 == 0 {
				_, _ = r.Status(id)
				_ = r.Health(id)
				_ = r.GroupCounts()
				continue
			}
			r.Applied(id, playlists.Applied{Version: "v2"})
			r.Heartbeat(id, hb)
		}
	})
}

// BenchmarkEvaluateAll: one op is a sweep over 10,000 connected screens.
func BenchmarkEvaluateAll(b *testing.B) {
	r, _ := connectedFleet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.EvaluateAll()
	}
}

// BenchmarkFlushPublish: one op is 10,000 screens acknowledging a new
// version and the flush that saves them.
func BenchmarkFlushPublish(b *testing.B) {
	r, ids := connectedFleet(b)
	if err := r.Flush(); err != nil {
		b.Fatal(err)
	}
	v, base := 0, r.FlushStats()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		v++
		ver := "v" + string(rune('a'+v%26))
		for _, id := range ids {
			r.Applied(id, playlists.Applied{Version: ver})
		}
		if err := r.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	got := r.FlushStats()
	b.ReportMetric(float64(got.Records-base.Records)/float64(b.N), "records/op")
	b.ReportMetric(float64(got.Transactions-base.Transactions)/float64(b.N), "txs/op")
}
