package devices

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
		{"clock ahead by more than a minute", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.ClockOffsetMS = 61_000 })}, StateDegraded, []string{"clock_skew"}},
		{"clock behind by more than a minute", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.ClockOffsetMS = -61_000 })}, StateDegraded, []string{"clock_skew"}},
		{"clock off by exactly a minute", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.ClockOffsetMS = -60_000 })}, StateOnline, nil},
		{"repeated download errors", Observation{Connected: true, Reported: true, Published: "v1",
			Status: with(func(s *store.ScreenStatus) { s.DownloadFailures = 3; s.LastSyncError = "asset abc: 503" })}, StateDegraded, []string{"download_failures"}},
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
