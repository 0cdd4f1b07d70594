package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Report is everything one run measured; -json writes it as is.
type Report struct {
	RunID       string    `json:"run_id"`
	Server      string    `json:"server"`
	Mode        string    `json:"mode"` // publishes, storm or hold
	Screens     int       `json:"screens"`
	Started     time.Time `json:"started"`
	Seconds     float64   `json:"seconds"`
	AssetShare  float64   `json:"asset_share"`
	HTTPConns   int       `json:"http_conns"`
	PublishWith string    `json:"publish_with,omitempty"`
	// PushManifests is what the screens' hello asked for (-push-manifests);
	// ManifestsVia is what happened: manifests pushed in the frame, notice
	// then GET, or a mix of both.
	PushManifests bool   `json:"push_manifests"`
	ManifestsVia  string `json:"manifests_via"`
	// ReceiveOnly: after the first sync screens only read (-receive-only);
	// nothing is acked, so Acked and MissedAcked stay empty.
	ReceiveOnly bool `json:"receive_only,omitempty"`

	ConnectSeconds float64 `json:"connect_seconds"`    // launch of the first screen until every first attempt ended
	Welcomed       int64   `json:"welcomed_first_try"` // screens online after their first attempt
	SyncedSeconds  float64 `json:"synced_seconds"`     // until every screen acked the server's version; 0 = never
	SyncedScreens  int64   `json:"synced_screens"`

	Publishes []PublishStats `json:"publishes,omitempty"`
	Overall   *Overall       `json:"overall,omitempty"`
	// FanOut is the server's own timing of the publishes' pushes
	// (kiosk_hub_push_fanout_seconds): how much of publish → received
	// was the server writing, the rest being the screens reading.
	FanOut *FanOutStats `json:"server_fanout,omitempty"`
	Storm  *StormStats  `json:"storm,omitempty"`

	ServerPhases   []PhaseStats `json:"server_phases,omitempty"`
	SampleFailures int          `json:"sample_failures,omitempty"` // readings that found no server process
	RSSPerScreenKB float64      `json:"rss_per_screen_kb,omitempty"`
	// CPUPerPublishMS is the server's CPU time per publish beyond the
	// steady background of heartbeats and plays: (publishes phase CPU −
	// steady CPU) × the phase's length ÷ publishes. A cost that holds
	// better than latency on a box shared with other work.
	CPUPerPublishMS float64 `json:"server_cpu_ms_per_publish,omitempty"`
	ToolCPUPercent  float64 `json:"tool_cpu_percent"`

	Counters map[string]int64 `json:"counters"`
	Errors   map[string]int64 `json:"errors"`
}

// PublishStats is one publish: its write's round trip and, over screens,
// how long after the write was sent the frame naming its version (a
// version notice, or the manifest pushed in the frame) was read off the
// socket (received) and the applied ack left (acked).
type PublishStats struct {
	Index       int     `json:"index"`
	WriteMS     float64 `json:"write_ms"`
	Error       string  `json:"error,omitempty"`
	Received    Dist    `json:"received"`
	Acked       Dist    `json:"acked"`
	MissedRecv  int     `json:"missed_received"`
	MissedAcked int     `json:"missed_acked"`
	// ViaLater counts screens whose first notice covering this publish
	// was a later publish's version (the server coalesced the writes, or
	// the screen was offline meanwhile).
	ViaLater int `json:"via_later_version"`
}

// Overall pools every screen of every successful publish.
type Overall struct {
	Publishes     int  `json:"publishes"`
	Failed        int  `json:"failed_writes"`
	Received      Dist `json:"received"`
	Acked         Dist `json:"acked"`
	WriteMS       Dist `json:"write"`
	ScreensMissed int  `json:"screens_missed_any"` // screens that missed at least one publish's notice or ack
}

// StormStats times the return of every screen after the server went away.
type StormStats struct {
	Happened         bool    `json:"happened"`
	FirstBackS       float64 `json:"first_back_s"`   // first disconnect → first welcome again
	AllBackS         float64 `json:"all_back_s"`     // → every screen welcomed again
	AllSyncedS       float64 `json:"all_synced_s"`   // → every screen acked the server's version
	SteadyRSSMB      float64 `json:"steady_rss_mb"`  // median before the outage
	StormPeakMB      float64 `json:"storm_peak_mb"`  // the new process's peak (VmHWM) until all synced
	AfterRSSMB       float64 `json:"after_rss_mb"`   // median once settled again
	PeakVsSteady     float64 `json:"peak_vs_steady"` // goal ≤ 1.5
	DialFailures     int64   `json:"dial_failures"`
	ScreensNotBack   int64   `json:"screens_not_back"`
	ScreensNotSynced int64   `json:"screens_not_synced"`
}

func (r *runner) report(started time.Time, phases []PhaseStats, sampleFails int, toolCPU float64) Report {
	cfg := r.cfg
	rec := r.rec
	rep := Report{
		RunID: r.runID, Server: r.base, Mode: r.mode(), Screens: rec.n, Started: started.UTC(),
		Seconds: round(time.Since(started).Seconds(), 1), AssetShare: cfg.AssetShare, HTTPConns: cfg.HTTPConns,
		ConnectSeconds: round(r.connectTook.Seconds(), 2), Welcomed: r.welcomedFirst,
		SyncedSeconds: round(r.syncTook.Seconds(), 2), SyncedScreens: r.syncedAtStart,
		ServerPhases: phases, SampleFailures: sampleFails, ToolCPUPercent: toolCPU,
		Counters: map[string]int64{}, Errors: rec.errorCounts(),
		PushManifests: cfg.PushManifests, ManifestsVia: manifestsVia(cfg.PushManifests, rec.get(cPushes), rec.get(cVersions)),
		ReceiveOnly: cfg.ReceiveOnly,
	}
	if cfg.Publishes > 0 {
		rep.PublishWith = "PUT /api/v1/items/{id}: the title of a notice on a playlist scheduled for all screens"
	}
	for i, name := range counterNames {
		rep.Counters[name] = rec.get(i)
	}
	if len(rec.pubs) > 0 {
		rep.Publishes, rep.Overall = r.publishStats()
		rep.FanOut = r.fanOut
	}
	if cfg.Storm {
		rep.Storm = r.stormStats(phases)
	}
	var idle, steady, pubs *PhaseStats
	for i := range phases {
		switch phases[i].Phase {
		case phaseIdle:
			idle = &phases[i]
		case phaseSteady:
			steady = &phases[i]
		case phasePublishes:
			pubs = &phases[i]
		}
	}
	if idle != nil && steady != nil && idle.Samples > 0 && steady.Samples > 0 && rec.n > 0 {
		rep.RSSPerScreenKB = round((steady.RSSMedMB-idle.RSSMedMB)*1024/float64(rec.n), 1)
	}
	if steady != nil && pubs != nil && steady.Samples > 0 && pubs.Samples > 0 && len(rec.pubs) > 0 && pubs.Restarts == 0 {
		extra := (pubs.CPUPercent - steady.CPUPercent) / 100 * pubs.Seconds * 1000 / float64(len(rec.pubs))
		rep.CPUPerPublishMS = round(max(extra, 0), 0)
	}
	return rep
}

// manifestsVia says how the screens got new manifests: pushed (frames
// carrying them) and notices (version notices, each followed by a GET).
func manifestsVia(accepted bool, pushed, notices int64) string {
	switch {
	case pushed > 0 && notices == 0:
		return "manifests pushed in the frame"
	case pushed > 0:
		return fmt.Sprintf("mixed: %d manifests pushed in the frame, %d version notices then GET", pushed, notices)
	case notices == 0:
		return "no new version announced during the run (welcome then GET)"
	case accepted:
		return "notice then GET (the hello accepted pushed manifests; the server sent none)"
	}
	return "notice then GET"
}

// publishStats times every screen for every publish: received is the
// first notice of a version that carries the publish or a later one (a
// server that coalesces two quick writes sends only the later version,
// and the screen then shows both), acked the first ack of such a version.
func (r *runner) publishStats() ([]PublishStats, *Overall) {
	rec := r.rec
	rec.vmu.Lock()
	kOf := make([]int, len(rec.versions))
	for i, v := range rec.versions {
		kOf[i] = r.manifests.publishOf(v)
	}
	rec.vmu.Unlock()
	np := len(rec.pubs)
	t0 := make([]int64, np)
	for k, p := range rec.pubs {
		if p.err == "" {
			t0[k] = p.t0.Load()
		}
	}
	recv := make([][]int64, np)
	ack := make([][]int64, np)
	out := make([]PublishStats, np)
	recvAt := make([]int64, np)
	ackAt := make([]int64, np)
	missed := 0
	for i := range rec.logs {
		l := &rec.logs[i]
		l.mu.Lock()
		clear(recvAt)
		clear(ackAt)
		for _, e := range l.events {
			ke := kOf[e.version]
			for k := 0; k <= ke && k < np; k++ {
				if t0[k] == 0 {
					continue
				}
				at := recvAt
				if e.ack {
					at = ackAt
				}
				if at[k] == 0 {
					at[k] = max(e.t-t0[k], 0) + 1
					if !e.ack && k < ke {
						out[k].ViaLater++
					}
				}
			}
		}
		l.mu.Unlock()
		screenMissed := false
		for k := range np {
			if t0[k] == 0 {
				continue
			}
			if recvAt[k] > 0 {
				recv[k] = append(recv[k], recvAt[k]-1)
			} else {
				out[k].MissedRecv++
				screenMissed = true
			}
			switch {
			case ackAt[k] > 0:
				ack[k] = append(ack[k], ackAt[k]-1)
			case !r.cfg.ReceiveOnly:
				out[k].MissedAcked++
				screenMissed = true
			}
		}
		if screenMissed {
			missed++
		}
	}
	ov := &Overall{ScreensMissed: missed}
	var allRecv, allAck, writes []int64
	var shown []PublishStats
	for k, p := range rec.pubs {
		if p.t0.Load() == 0 {
			continue // never made (the run was cut short)
		}
		ps := out[k]
		ps.Index, ps.WriteMS, ps.Error = k+1, round(float64(p.writeNS)/1e6, 1), p.err
		if p.err != "" {
			ov.Failed++
			shown = append(shown, PublishStats{Index: ps.Index, WriteMS: ps.WriteMS, Error: ps.Error})
			continue
		}
		ov.Publishes++
		writes = append(writes, p.writeNS)
		allRecv = append(allRecv, recv[k]...)
		allAck = append(allAck, ack[k]...)
		ps.Received, ps.Acked = distOf(recv[k]), distOf(ack[k])
		shown = append(shown, ps)
	}
	ov.Received, ov.Acked, ov.WriteMS = distOf(allRecv), distOf(allAck), distOf(writes)
	return shown, ov
}

func (r *runner) stormStats(phases []PhaseStats) *StormStats {
	rec := r.rec
	st := &StormStats{}
	start := rec.stormStart.Load()
	if start == 0 {
		return st
	}
	st.Happened = true
	since := func(t int64) float64 {
		if t == 0 {
			return 0
		}
		return round(float64(t-start)/1e9, 2)
	}
	st.FirstBackS, st.AllBackS, st.AllSyncedS = since(rec.firstBack.Load()), since(rec.allBack.Load()), since(rec.allSync.Load())
	st.DialFailures = r.stormDialFailures
	st.ScreensNotBack, st.ScreensNotSynced = r.stormNotBack, r.stormNotSynced
	for _, p := range phases {
		switch p.Phase {
		case phaseSteady:
			st.SteadyRSSMB = p.RSSMedMB
		case phaseStorm:
			st.StormPeakMB = max(st.StormPeakMB, p.HWMMB, p.RSSPeakMB)
		case phaseAfterStorm:
			// The new process's peak counts until it settled: the
			// backlog the outage left (plays) lands after the screens.
			st.StormPeakMB = max(st.StormPeakMB, p.HWMMB, p.RSSPeakMB)
			st.AfterRSSMB = p.RSSMedMB
		}
	}
	if st.SteadyRSSMB > 0 {
		st.PeakVsSteady = round(st.StormPeakMB/st.SteadyRSSMB, 2)
	}
	return st
}

// writeText renders the report as Markdown, ready for docs/BENCHMARKS.md.
func (rep Report) writeText(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("kiosk-loadtest run %s: %d screens against %s, mode %s, %s UTC, %.0f s\n\n",
		rep.RunID, rep.Screens, rep.Server, rep.Mode, rep.Started.Format("2006-01-02 15:04"), rep.Seconds)
	p("- connect: %d of %d screens welcomed on the first attempt, all attempts done in %.1f s\n", rep.Welcomed, rep.Screens, rep.ConnectSeconds)
	if rep.SyncedSeconds > 0 {
		p("- initial sync: every screen acked the server's version after %.1f s\n", rep.SyncedSeconds)
	} else {
		p("- initial sync: only %d of %d screens synced before the tool moved on\n", rep.SyncedScreens, rep.Screens)
	}
	if rep.ReceiveOnly {
		p("- each screen: hello and the first sync as a player, then receive only: reads every push and checks the manifest's hash, sends pings; no acks, heartbeats, plays, clock probes or downloads\n")
	} else {
		p("- each screen: hello, heartbeat every 30 s, plays every 10 s, each new manifest, assets for %.0f %% of screens per version; HTTP over %d shared keep-alive connections\n",
			rep.AssetShare*100, rep.HTTPConns)
	}
	p("- manifests: %s\n", rep.ManifestsVia)
	if rep.PublishWith != "" {
		p("- publish = %s\n", rep.PublishWith)
	}
	if len(rep.Publishes) > 0 {
		writePublishes(p, rep)
	}
	if f := rep.FanOut; f != nil && f.Pushes > 0 {
		p("\nServer fan-out, by its own clock (%s: from queueing a push until its last frame was written), %d pushes: mean %.0f ms, p50 %s, p99 %s (histogram buckets)\n",
			fanOutMetric, f.Pushes, f.MeanMS, bucketBound(f.P50LeMS), bucketBound(f.P99LeMS))
	}
	if s := rep.Storm; s != nil {
		p("\nReconnect storm (times from the first disconnect):\n\n")
		if !s.Happened {
			p("- no outage happened before the tool stopped\n")
		} else {
			p("| first back | all back | all acked current version | dial failures | not back | not synced | steady RSS before | peak RSS, restart → settled | settled RSS | peak / steady |\n")
			p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
			p("| %.2f s | %.2f s | %.2f s | %d | %d | %d | %.0f MB | %.0f MB | %.0f MB | %.2f× |\n",
				s.FirstBackS, s.AllBackS, s.AllSyncedS, s.DialFailures, s.ScreensNotBack, s.ScreensNotSynced,
				s.SteadyRSSMB, s.StormPeakMB, s.AfterRSSMB, s.PeakVsSteady)
		}
	}
	if len(rep.ServerPhases) > 0 {
		p("\nServer process (/proc, sampled every %s; CPU 200 %% = both cores):\n\n", sampleEvery)
		p("| phase | seconds | RSS median | RSS peak | VmHWM | CPU |\n|---|---:|---:|---:|---:|---:|\n")
		for _, ph := range rep.ServerPhases {
			restarts := ""
			if ph.Restarts > 0 {
				restarts = fmt.Sprintf(" (restarted %d×)", ph.Restarts)
			}
			p("| %s%s | %.1f | %.1f MB | %.1f MB | %.1f MB | %.0f %% |\n", ph.Phase, restarts, ph.Seconds, ph.RSSMedMB, ph.RSSPeakMB, ph.HWMMB, ph.CPUPercent)
		}
		if rep.RSSPerScreenKB > 0 {
			p("\nRSS per connected screen (steady median − before connecting, over screens): %.1f KB\n", rep.RSSPerScreenKB)
		}
		if rep.CPUPerPublishMS > 0 {
			p("\nServer CPU per publish beyond the steady background ((publishes − steady CPU) × seconds ÷ publishes): %.0f ms\n", rep.CPUPerPublishMS)
		}
	}
	p("\nLoad tool's own CPU: %.0f %%\n", rep.ToolCPUPercent)
	p("\nCounters: %s\n", joinCounts(rep.Counters))
	if len(rep.Errors) == 0 {
		p("Errors: none\n")
	} else {
		p("Errors: %s\n", joinCounts(rep.Errors))
	}
}

func joinCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func (rep Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// bucketBound prints a histogram bucket's upper bound; 0 is above them all.
func bucketBound(ms float64) string {
	if ms == 0 {
		return "above the largest bucket"
	}
	return fmt.Sprintf("≤ %.0f ms", ms)
}

// writePublishes is the publishes table: each publish's write, received
// and acked, and the pooled row; a -receive-only run acked nothing and
// has no acked columns.
func writePublishes(p func(string, ...any), rep Report) {
	acked := !rep.ReceiveOnly
	if acked {
		p("\nPublish → received (the frame naming a version carrying it, or a later one — its notice, or the manifest itself when pushed — was read off the socket) and → acked (applied sent, after the manifest, fetched or pushed, and the assets), ms from the write being sent, by the tool's clock:\n\n")
	} else {
		p("\nPublish → received (the frame pushing a version that carries it, or a later one, was read off the socket), ms from the write being sent, by the tool's clock; receive only, so nothing acked:\n\n")
	}
	// either adds the acked part of a row when there is one.
	either := func(row, ackedPart, rest string) string {
		if acked {
			row += ackedPart
		}
		return row + rest
	}
	dist := func(d Dist, bold bool) string {
		if bold {
			return fmt.Sprintf(" **%.0f** | %.0f | **%.0f** | %.0f |", d.P50, d.P90, d.P99, d.Max)
		}
		return fmt.Sprintf(" %.0f | %.0f | %.0f | %.0f |", d.P50, d.P90, d.P99, d.Max)
	}
	head := either("| publish | write | recv p50 | p90 | p99 | max |", " acked p50 | p90 | p99 | max |", " missed recv |")
	head = either(head, " missed ack |", " via later version |")
	cols := strings.Count(head, "|") - 1
	p("%s\n|%s\n", head, strings.Repeat("---:|", cols))
	for _, ps := range rep.Publishes {
		if ps.Error != "" {
			p("| %d | failed: %s %s\n", ps.Index, ps.Error, strings.Repeat("|", cols-1))
			continue
		}
		row := either(fmt.Sprintf("| %d | %.0f |", ps.Index, ps.WriteMS)+dist(ps.Received, false), dist(ps.Acked, false), fmt.Sprintf(" %d |", ps.MissedRecv))
		p("%s\n", either(row, fmt.Sprintf(" %d |", ps.MissedAcked), fmt.Sprintf(" %d |", ps.ViaLater)))
	}
	if o := rep.Overall; o != nil {
		row := either(fmt.Sprintf("| **all %d** | p50 %.0f |", o.Publishes, o.WriteMS.P50)+dist(o.Received, true), dist(o.Acked, true), "")
		p("%s\n", either(row+fmt.Sprintf(" %d screens missed any | %d failed writes |", o.ScreensMissed, o.Failed), " |", ""))
	}
}
