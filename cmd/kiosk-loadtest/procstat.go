package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// sampleEvery is how often the server's RSS and CPU are read.
const sampleEvery = 250 * time.Millisecond

// procSample is one reading of a process from /proc.
type procSample struct {
	pid      int
	rss, hwm uint64 // bytes: VmRSS, and VmHWM (the kernel's own peak)
	cpuTicks uint64 // utime + stime
}

// readProc reads pid's memory and CPU counters from /proc.
func readProc(pid int) (procSample, error) {
	s := procSample{pid: pid}
	dir := "/proc/" + strconv.Itoa(pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, fmt.Errorf("server process: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		for _, f := range []struct {
			prefix string
			dst    *uint64
		}{{"VmRSS:", &s.rss}, {"VmHWM:", &s.hwm}} {
			rest, ok := strings.CutPrefix(line, f.prefix)
			if !ok {
				continue
			}
			kib, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return s, fmt.Errorf("server process: %s/status: parse %q: %w", dir, line, err)
			}
			*f.dst = kib << 10
		}
	}
	if s.rss == 0 {
		return s, fmt.Errorf("server process: %s/status has no VmRSS line", dir)
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, fmt.Errorf("server process: %w", err)
	}
	// The command name may hold spaces and parentheses; fields count from
	// the last ')'. utime and stime are fields 14 and 15 of the line.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return s, fmt.Errorf("server process: %s/stat: no command name", dir)
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return s, fmt.Errorf("server process: %s/stat: %d fields", dir, len(fields))
	}
	for _, f := range fields[11:13] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return s, fmt.Errorf("server process: %s/stat: parse %q: %w", dir, f, err)
		}
		s.cpuTicks += n
	}
	return s, nil
}

// pidSource names the process to sample: a fixed PID, or a PID file read
// again at every sample, so a server restarted during a storm is followed.
type pidSource struct {
	pid  int
	file string
}

func (p pidSource) enabled() bool { return p.pid > 0 || p.file != "" }

func (p pidSource) current() (int, error) {
	if p.file == "" {
		return p.pid, nil
	}
	b, err := os.ReadFile(p.file)
	if err != nil {
		return 0, fmt.Errorf("server pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("server pid file %s: %q is not a process id", p.file, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// PhaseStats is what the server process did during one phase of the run.
type PhaseStats struct {
	Phase     string  `json:"phase"`
	Seconds   float64 `json:"seconds"`
	Samples   int     `json:"samples"`
	RSSPeakMB float64 `json:"rss_peak_mb"`
	RSSMedMB  float64 `json:"rss_median_mb"`
	// HWMMB is the kernel's peak RSS of the process (VmHWM) at the end of
	// the phase: it catches a peak shorter than the sampling interval.
	HWMMB float64 `json:"hwm_mb"`
	// CPUPercent is CPU time over wall time; 200 is both cores busy.
	CPUPercent float64 `json:"cpu_percent"`
	Restarts   int     `json:"restarts,omitempty"` // the PID changed during the phase
}

// sampler reads the server process every sampleEvery and keeps, per
// phase, what PhaseStats reports.
type sampler struct {
	src pidSource

	mu     sync.Mutex
	phase  *phaseAcc
	done   []PhaseStats
	last   procSample
	errors int
}

type phaseAcc struct {
	name     string
	began    time.Time
	rss      []uint64
	hwm      uint64
	cpuTicks uint64
	restarts int
}

func newSampler(src pidSource) *sampler { return &sampler{src: src} }

// begin closes the current phase and starts one named name.
func (s *sampler) begin(name string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
	s.phase = &phaseAcc{name: name, began: time.Now()}
}

func (s *sampler) closeLocked() {
	p := s.phase
	if p == nil {
		return
	}
	s.phase = nil
	wall := time.Since(p.began)
	st := PhaseStats{Phase: p.name, Seconds: round(wall.Seconds(), 1), Samples: len(p.rss), HWMMB: mb(p.hwm), Restarts: p.restarts}
	if len(p.rss) > 0 {
		sorted := slices.Clone(p.rss)
		slices.Sort(sorted)
		st.RSSPeakMB = mb(sorted[len(sorted)-1])
		st.RSSMedMB = mb(sorted[len(sorted)/2])
	}
	if wall > 0 {
		st.CPUPercent = round(100*float64(p.cpuTicks)/clockTicks/wall.Seconds(), 1)
	}
	s.done = append(s.done, st)
}

// sample takes one reading and books it to the current phase.
func (s *sampler) sample() {
	pid, err := s.src.current()
	var cur procSample
	if err == nil {
		cur, err = readProc(pid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errors++ // the server is down (a storm) or not started yet
		return
	}
	p := s.phase
	if p != nil {
		p.rss = append(p.rss, cur.rss)
		p.hwm = max(p.hwm, cur.hwm)
		switch {
		case s.last.pid == cur.pid && cur.cpuTicks >= s.last.cpuTicks:
			p.cpuTicks += cur.cpuTicks - s.last.cpuTicks
		case s.last.pid != 0 && s.last.pid != cur.pid:
			p.restarts++
			p.cpuTicks += cur.cpuTicks // a new process: all its CPU is new
		}
	}
	s.last = cur
}

// run samples until stop is closed.
func (s *sampler) run(stop <-chan struct{}) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	s.sample()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.sample()
		}
	}
}

// finish closes the last phase and returns every phase's figures.
func (s *sampler) finish() ([]PhaseStats, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
	return s.done, s.errors
}

func mb(b uint64) float64 { return round(float64(b)/(1<<20), 1) }

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}
