package devices

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

func TestDerive(t *testing.T) {
	now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	healthy := store.ScreenStatus{
		LastSeen: now.Add(-10 * time.Second), AppliedVersion: "v1", PageAlive: true,
		UptimeS: 3600, DiskFreeBytes: 10 << 30, ClockOffsetMS: 120,
	}
	with := func(f func(*store.ScreenStatus)) store.ScreenStatus { s := healthy; f(&s); return s }
	th := Thresholds{OfflineAfter: 90 * time.Second}
	tests := []struct {
		name string
		o    Observation
		want State
		// codes are the reasons' stable prefixes, in order.
		codes []string
	}{
		{"healthy", Observation{Connected: true, Reported: true, Status: healthy, Published: "v1"}, StateOnline, nil},
		{"socket gone", Observation{Connected: false, Reported: true, Status: healthy, Published: "v1"}, StateOffline, []string{"disconnected"}},
		{"silent past offline-after", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.LastSeen = now.Add(-91 * time.Second) })}, StateOffline, []string{"silent"}},
		{"silent exactly offline-after is still online", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.LastSeen = now.Add(-90 * time.Second) })}, StateOnline, nil},
		{"offline hides degraded", Observation{Connected: false, Reported: true,
			Status: with(func(s *store.ScreenStatus) { s.PageAlive = false })}, StateOffline, []string{"disconnected"}},
		{"page not alive", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.PageAlive = false })}, StateDegraded, []string{"page_not_alive"}},
		{"page not alive during boot grace", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.PageAlive = false; s.UptimeS = 30 })}, StateOnline, nil},
		{"disk nearly full", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.DiskFreeBytes = 100 << 20 })}, StateDegraded, []string{"disk_low"}},
		{"disk free unknown is not low", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.DiskFreeBytes = 0 })}, StateOnline, nil},
		{"small card under 5 % free", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.DiskFreeBytes = 700 << 20; s.DiskTotalBytes = 16 << 30 })}, StateDegraded, []string{"disk_low"}},
		{"big disk over 5 % free", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.DiskFreeBytes = 10 << 30; s.DiskTotalBytes = 100 << 30 })}, StateOnline, nil},
		{"measured full disk", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.DiskFreeBytes = 0; s.DiskTotalBytes = 8 << 30 })}, StateDegraded, []string{"disk_low"}},
		{"clock ahead by more than a minute", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.ClockOffsetMS = 61_000 })}, StateDegraded, []string{"clock_skew"}},
		{"clock behind by more than a minute", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.ClockOffsetMS = -61_000 })}, StateDegraded, []string{"clock_skew"}},
		{"clock off by exactly a minute", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.ClockOffsetMS = -60_000 })}, StateOnline, nil},
		// ms × time.Millisecond would overflow a Duration and wrap into range.
		{"absurd clock offset from a device", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.ClockOffsetMS = 9_300_000_000_000_000 })}, StateDegraded, []string{"clock_skew"}},
		{"repeated download errors", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.DownloadFailures = 3; s.LastSyncError = "asset abc: 503" })}, StateDegraded, []string{"download_failures"}},
		{"manifest rejected", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.ManifestRejected = "manifest rejected: bad signature" })}, StateDegraded, []string{"manifest_rejected"}},
		{"two download errors are tolerated", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.DownloadFailures = 2 })}, StateOnline, nil},
		{"several problems, all listed", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.PageAlive = false; s.DiskFreeBytes = 1 << 20; s.DownloadFailures = 9 })},
			StateDegraded, []string{"page_not_alive", "disk_low", "download_failures"}},
		{"no heartbeat yet on this connection: health fields not judged", Observation{Connected: true, Reported: false, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.PageAlive = false; s.DiskFreeBytes = 1 })}, StateOnline, nil},
		{"version lags within grace", Observation{Connected: true, Reported: true, Published: "v2", Status: healthy,
			MismatchSince: now.Add(-time.Minute)}, StateOnline, nil},
		{"version lags past grace", Observation{Connected: true, Reported: true, Published: "v2", Status: healthy,
			MismatchSince: now.Add(-3 * time.Minute)}, StateStale, []string{"version_lag"}},
		{"nothing published is never stale", Observation{Connected: true, Reported: true, Published: "", Status: healthy,
			MismatchSince: now.Add(-time.Hour)}, StateOnline, nil},
		{"degraded wins over stale, both reasons kept", Observation{Connected: true, Reported: true, Published: "v2",
			Status: with(func(s *store.ScreenStatus) { s.PageAlive = false }), MismatchSince: now.Add(-time.Hour)},
			StateDegraded, []string{"page_not_alive", "version_lag"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Now = now
			got, reasons := Derive(tc.o, th)
			var codes []string
			for _, r := range reasons {
				code, _, ok := strings.Cut(r, ":")
				if !ok {
					t.Errorf("reason %q has no code prefix", r)
				}
				codes = append(codes, code)
			}
			if got != tc.want || fmt.Sprint(codes) != fmt.Sprint(tc.codes) {
				t.Errorf("got %s %q, want %s with codes %v", got, reasons, tc.want, tc.codes)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	for _, s := range States {
		if got, ok := ParseState(string(s)); !ok || got != s {
			t.Errorf("ParseState(%q): got %q, %v", s, got, ok)
		}
	}
	for _, bad := range []string{"", "Online", "down"} {
		if _, ok := ParseState(bad); ok {
			t.Errorf("ParseState(%q) accepted, want rejected", bad)
		}
	}
}

func TestDiskLowReason(t *testing.T) {
	const mb, gb = int64(1) << 20, int64(1) << 30
	tests := []struct {
		name        string
		free, total int64
		th          Thresholds
		want        string // "" = not low
	}{
		{"unknown (old player, nothing measured)", 0, 0, Thresholds{}, ""},
		{"no total, plenty free", 2 * gb, 0, Thresholds{}, ""},
		{"no total, under the bytes limit", 100 * mb, 0, Thresholds{}, "disk_low: 100 MB free, below 500 MB"},
		{"percentage only", 1229 * mb, 32 * gb, Thresholds{}, "disk_low: 1.2 GB free of 32 GB (3.7 %), below 5 %"},
		{"bytes only on a big disk", 400 * mb, 4 * gb, Thresholds{}, "disk_low: 400 MB free of 4.0 GB (9.7 %), below 500 MB"},
		{"both rules", 100 * mb, 4 * gb, Thresholds{}, "disk_low: 100 MB free of 4.0 GB (2.4 %), below 500 MB and 5 %"},
		{"full disk with a total is measured, not unknown", 0, 8 * gb, Thresholds{}, "disk_low: 0.0 MB free of 8.0 GB (0 %), below 500 MB and 5 %"},
		{"exactly 5 % is not below", 5 * gb, 100 * gb, Thresholds{}, ""},
		{"just under 5 %", 5*gb - mb, 100 * gb, Thresholds{}, "disk_low: 5.0 GB free of 100 GB (4.9 %), below 5 %"},
		{"custom percentage", 12 * gb, 100 * gb, Thresholds{DiskLowPercent: 12.5}, "disk_low: 12 GB free of 100 GB (12 %), below 12.5 %"},
		{"negative percentage turns the rule off", 1 * gb, 100 * gb, Thresholds{DiskLowPercent: -1}, ""},
		{"custom bytes limit", 900 * mb, 100 * gb, Thresholds{DiskLowBytes: gb}, "disk_low: 900 MB free of 100 GB (0.8 %), below 1.0 GB and 5 %"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := diskLow(tc.free, tc.total, tc.th.withDefaults()); got != tc.want {
				t.Errorf("diskLow(%d, %d): got %q, want %q", tc.free, tc.total, got, tc.want)
			}
		})
	}
}

// TestHeartbeatCarriesDiskTotal goes through the registry: the total a
// player reports must reach Derive, or the percentage rule never fires.
func TestHeartbeatCarriesDiskTotal(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)}
	st, err := store.Open(t.TempDir(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	scr, _, err := st.CreateScreen(store.Screen{Name: "小卡"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Store: st, Now: clk.now, OfflineAfter: 90 * time.Second,
		Published: func(string) string { return "v1" }, Logger: healthTestLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r.Hello(scr.ID, playlists.Hello{AppliedVersion: "v1"})
	// 600 MB free clears the 500 MB rule; on an 8 GB card it is 7.3 %.
	hb := playlists.Heartbeat{AppliedVersion: "v1", PageAlive: true, UptimeS: 3600,
		DiskFreeBytes: 600 << 20, DiskTotalBytes: 8 << 30}
	r.Heartbeat(scr.ID, hb)
	if h := r.Health(scr.ID); h.State != StateOnline {
		t.Errorf("7.3 %% free: got %s %q, want online", h.State, h.Reasons)
	}
	hb.DiskTotalBytes = 16 << 30 // 3.6 %
	r.Heartbeat(scr.ID, hb)
	want := "disk_low: 600 MB free of 16 GB (3.6 %), below 5 %"
	if h := r.Health(scr.ID); h.State != StateDegraded || fmt.Sprint(h.Reasons) != fmt.Sprint([]string{want}) {
		t.Errorf("3.6 %% free: got %s %q, want degraded [%q]", h.State, h.Reasons, want)
	}
}
