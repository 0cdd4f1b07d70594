package devices

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"kiosk/server/internal/store"
)

// State is a screen's derived health: what a technician should think of it.
type State string

// The states, from best to worst as far as the precedence in Derive goes:
// a screen that is both degraded and stale is reported degraded (a frozen
// browser matters more than old content), and offline hides everything else.
const (
	StateOnline   State = "online"
	StateStale    State = "stale"
	StateDegraded State = "degraded"
	StateOffline  State = "offline"
)

// States lists every state, for filters, fleet counts and metrics.
var States = []State{StateOnline, StateOffline, StateStale, StateDegraded}

// ParseState validates a state named in a query string.
func ParseState(s string) (State, bool) {
	for _, st := range States {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Defaults for Thresholds left zero.
const (
	DefaultStaleAfter   = 2 * time.Minute
	DefaultDiskLowBytes = 500 << 20
	// DefaultDiskLowPercent: on a small SD card 500 MB is already a fair
	// share of the disk, so "nearly full" is also judged relative to size.
	DefaultDiskLowPercent      = 5.0
	DefaultClockSkewMax        = time.Minute
	DefaultDownloadFailuresMax = 3
	// DefaultPageBootGrace: a kiosk browser needs a while after boot before
	// the page reports, so a young player without a live page is not yet
	// degraded.
	DefaultPageBootGrace = 2 * time.Minute
)

// Thresholds tune Derive. Zero fields take the defaults above.
type Thresholds struct {
	OfflineAfter        time.Duration // no heartbeat for this long → offline (0: only a gone socket counts)
	StaleAfter          time.Duration // applied ≠ published for this long → stale
	DiskLowBytes        int64         // less free disk than this → degraded
	DiskLowPercent      float64       // less free disk than this % of its size → degraded (negative: rule off)
	ClockSkewMax        time.Duration // |clock offset| above this → degraded
	DownloadFailuresMax int           // this many failed update attempts in a row → degraded
	PageBootGrace       time.Duration // page not alive only counts once the player is this old
}

func (t Thresholds) withDefaults() Thresholds {
	if t.StaleAfter <= 0 {
		t.StaleAfter = DefaultStaleAfter
	}
	if t.DiskLowBytes <= 0 {
		t.DiskLowBytes = DefaultDiskLowBytes
	}
	if t.DiskLowPercent == 0 {
		t.DiskLowPercent = DefaultDiskLowPercent
	}
	if t.ClockSkewMax <= 0 {
		t.ClockSkewMax = DefaultClockSkewMax
	}
	if t.DownloadFailuresMax <= 0 {
		t.DownloadFailuresMax = DefaultDownloadFailuresMax
	}
	if t.PageBootGrace <= 0 {
		t.PageBootGrace = DefaultPageBootGrace
	}
	return t
}

// Observation is everything Derive looks at for one screen at one instant.
type Observation struct {
	Now       time.Time
	Connected bool // the hub holds a socket for the screen
	Status    store.ScreenStatus
	Published string // version published for the screen; "" = nothing published yet
	// Reported: a heartbeat arrived on the current connection. The
	// health fields in Status are from an earlier session until then, so
	// the degraded checks wait for it.
	Reported bool
	// MismatchSince is when the applied version was first seen to differ
	// from the published one (zero: they match, or no mismatch seen yet).
	MismatchSince time.Time
}

// Derive computes a screen's state and the reasons for it. It is pure: the
// same observation always gives the same answer, which is what lets the
// table tests pin every rule. Reasons start with a stable code before the
// colon (e.g. "disk_low: ...") so a tool can match on it; the rest is for
// people.
func Derive(o Observation, th Thresholds) (State, []string) {
	th = th.withDefaults()
	st := o.Status
	if !o.Connected {
		return StateOffline, []string{"disconnected: no connection to the server"}
	}
	if silent := o.Now.Sub(st.LastSeen); th.OfflineAfter > 0 && silent > th.OfflineAfter {
		return StateOffline, []string{fmt.Sprintf("silent: no heartbeat for %s (limit %s)", round(silent), th.OfflineAfter)}
	}

	var degraded []string
	if o.Reported {
		degraded = degradedReasons(st, th)
	}

	var stale []string
	if o.Published != "" && st.AppliedVersion != o.Published && !o.MismatchSince.IsZero() {
		if lag := o.Now.Sub(o.MismatchSince); lag > th.StaleAfter {
			applied := st.AppliedVersion
			if applied == "" {
				applied = "none"
			}
			stale = append(stale, fmt.Sprintf("version_lag: applied %s, published %s, for %s (limit %s)",
				short(applied), short(o.Published), round(lag), th.StaleAfter))
		}
	}

	switch {
	case len(degraded) > 0:
		return StateDegraded, append(degraded, stale...)
	case len(stale) > 0:
		return StateStale, stale
	}
	return StateOnline, nil
}

// degradedReasons checks what a heartbeat reported.
func degradedReasons(st store.ScreenStatus, th Thresholds) []string {
	var out []string
	if !st.PageAlive && time.Duration(st.UptimeS)*time.Second >= th.PageBootGrace {
		out = append(out, "page_not_alive: the kiosk page stopped reporting (browser frozen, crashed or not started)")
	}
	if r := diskLow(st.DiskFreeBytes, st.DiskTotalBytes, th); r != "" {
		out = append(out, r)
	}
	// Compare in milliseconds: a device's absurd offset would overflow a
	// Duration and wrap back into range.
	if maxMS := th.ClockSkewMax.Milliseconds(); st.ClockOffsetMS > maxMS || st.ClockOffsetMS < -maxMS {
		off := fmt.Sprintf("%d ms", st.ClockOffsetMS)
		if st.ClockOffsetMS > -1e12 && st.ClockOffsetMS < 1e12 { // ±31 years fit a Duration
			off = (time.Duration(st.ClockOffsetMS) * time.Millisecond).String()
		}
		out = append(out, fmt.Sprintf("clock_skew: clock off by %s (limit %s)", off, th.ClockSkewMax))
	}
	if st.ManifestRejected != "" {
		// Someone may be tampering with what the screen is sent; it keeps
		// its last good content meanwhile.
		out = append(out, "manifest_rejected: "+st.ManifestRejected)
	}
	if st.DownloadFailures >= th.DownloadFailuresMax {
		r := fmt.Sprintf("download_failures: %d failed update attempts in a row", st.DownloadFailures)
		if st.LastSyncError != "" {
			r += " (last: " + st.LastSyncError + ")"
		}
		out = append(out, r)
	}
	return out
}

// diskLow returns the disk_low reason, or "" when the disk is fine or its
// free space is unknown. Either rule alone degrades: the absolute one keeps
// room for the next playlist's media on a big disk, the percentage one
// catches a small card filling up.
func diskLow(free, total int64, th Thresholds) string {
	// A player that measured its disk sends a total; without one (old
	// players, non-Linux) a zero free means "could not tell", and unknown
	// is not low. With a total, zero free is a full disk.
	if total <= 0 {
		if free > 0 && free < th.DiskLowBytes {
			return fmt.Sprintf("disk_low: %s free, below %s", bytesStr(free), bytesStr(th.DiskLowBytes))
		}
		return ""
	}
	pct := 100 * float64(free) / float64(total)
	var limits []string
	if free < th.DiskLowBytes {
		limits = append(limits, bytesStr(th.DiskLowBytes))
	}
	if th.DiskLowPercent > 0 && pct < th.DiskLowPercent {
		limits = append(limits, percentStr(th.DiskLowPercent))
	}
	if len(limits) == 0 {
		return ""
	}
	// Rounded down, so a disk just under the limit never reads "(5 %),
	// below 5 %".
	shown := math.Floor(pct*10) / 10
	return fmt.Sprintf("disk_low: %s free of %s (%s), below %s",
		bytesStr(free), bytesStr(total), percentStr(shown), strings.Join(limits, " and "))
}

// Mismatch reports whether the screen's applied version differs from the
// published one, i.e. whether a stale clock should be running.
func Mismatch(st store.ScreenStatus, published string) bool {
	return published != "" && st.AppliedVersion != published
}

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

// bytesStr keeps two or three significant figures, which is all a person
// reading a reason needs: "1.2 GB", "32 GB", "480 MB".
func bytesStr(n int64) string {
	const mb, gb = 1 << 20, 1 << 30
	switch {
	case n >= 10*gb:
		return fmt.Sprintf("%d GB", n/gb)
	case n >= gb:
		return fmt.Sprintf("%.1f GB", float64(n)/gb)
	case n >= 10*mb:
		return fmt.Sprintf("%d MB", n/mb)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/mb)
}

// percentStr prints p with one decimal, dropping a trailing ".0" so the
// default limit reads "5 %".
func percentStr(p float64) string {
	s := strconv.FormatFloat(p, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " %"
}
