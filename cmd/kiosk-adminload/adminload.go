package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds keep a mistyped flag from turning the tool into a flood.
const (
	MaxRate     = 2000
	MaxDuration = 10 * time.Minute
	MaxInFlight = 512
)

// Config is one run.
type Config struct {
	URL       string // server base, http://127.0.0.1:8080
	Token     string // admin API token (break-glass or personal)
	Rate      int    // requests per second, open loop
	Duration  time.Duration
	InFlight  int // most requests outstanding at once
	ServerPID int
	Seed      uint64
}

func (c Config) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-url %q: want http://127.0.0.1:PORT", c.URL)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-url %q: only loopback servers (127.0.0.0/8, ::1, localhost) are load-tested", c.URL)
	}
	if c.Token == "" {
		return errors.New("no API token: set KIOSK_ADMIN_TOKEN (or -token)")
	}
	if c.Rate < 1 || c.Rate > MaxRate {
		return fmt.Errorf("-rate %d: want 1..%d", c.Rate, MaxRate)
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		return fmt.Errorf("-duration %s: want up to %s", c.Duration, MaxDuration)
	}
	if c.InFlight < 1 || c.InFlight > MaxInFlight {
		return fmt.Errorf("-inflight %d: want 1..%d", c.InFlight, MaxInFlight)
	}
	return nil
}

// A kind of request in the mix, with its share of the rate. The mix is what
// an office's open admin pages ask for: the screens list a page at a time
// (walking on with the cursor), searches as someone types, filters, the
// fleet summary, content lists and one screen's detail.
type kind struct {
	Name   string
	Weight int
}

var mix = []kind{
	{"screens_page", 25},
	{"screens_search", 10},
	{"screens_filter", 10},
	{"fleet", 20},
	{"items", 10},
	{"schedules", 10},
	{"screen_detail", 15},
}

// Result is the report of one run.
type Result struct {
	Requests     int              `json:"requests"`
	Errors       int              `json:"errors"`
	ErrorSamples []string         `json:"error_samples,omitempty"`
	Seconds      float64          `json:"seconds"`
	Rate         float64          `json:"achieved_rate"`
	Overall      Percentiles      `json:"overall"`
	ByKind       map[string]Stats `json:"by_kind"`
	ServerRSSMB  float64          `json:"server_rss_mb,omitempty"`
	ServerCPU    float64          `json:"server_cpu_cores,omitempty"` // CPU seconds per second over the run
}

// Stats is one kind's figures.
type Stats struct {
	Count  int `json:"count"`
	Errors int `json:"errors"`
	Percentiles
}

// Percentiles of latency in milliseconds, measured from the instant a
// request was due (open loop), so a server that falls behind shows it
// instead of slowing the load down.
type Percentiles struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := int(q*float64(len(d))+0.5) - 1
		i = min(max(i, 0), len(d)-1)
		return float64(d[i].Microseconds()) / 1000
	}
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: at(1)}
}

type sample struct {
	kind string
	lat  time.Duration
	err  error
}

// runner holds what requests need: ids to ask for and the cursor walk.
type runner struct {
	cfg    Config
	client *http.Client
	ids    []string
	mu     sync.Mutex
	cursor string
	rng    *rand.Rand
}

// Run measures cfg's mix against the server until ctx ends or the
// duration passes.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	r := &runner{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 7)),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.InFlight}}}
	var first struct {
		Screens []struct {
			ID string `json:"id"`
		} `json:"screens"`
	}
	if err := r.getJSON(ctx, "/api/v1/screens?limit=500", &first); err != nil {
		return Result{}, fmt.Errorf("list screens to pick from: %w", err)
	}
	for _, s := range first.Screens {
		r.ids = append(r.ids, s.ID)
	}
	if len(r.ids) == 0 {
		return Result{}, errors.New("the server has no screens: import some first (POST /api/v1/screens/import)")
	}
	cpu0, _ := cpuSeconds(cfg.ServerPID)

	total := 0
	for _, k := range mix {
		total += k.Weight
	}
	samples := make(chan sample, 1024)
	var collected []sample
	done := make(chan struct{})
	go func() {
		for s := range samples {
			collected = append(collected, s)
		}
		close(done)
	}()
	sem := make(chan struct{}, cfg.InFlight)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(cfg.Rate)
	start := time.Now()
	end := start.Add(cfg.Duration)
	var peakRSS float64
	nextRSS := start
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if !due.Before(end) {
			break
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		if cfg.ServerPID > 0 && !time.Now().Before(nextRSS) {
			if mb, err := rssMB(cfg.ServerPID); err == nil {
				peakRSS = max(peakRSS, mb)
			}
			nextRSS = nextRSS.Add(time.Second)
		}
		n := r.intn(total)
		k := mix[0].Name
		for _, m := range mix {
			if n < m.Weight {
				k = m.Name
				break
			}
			n -= m.Weight
		}
		path := r.path(k)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := r.do(ctx, k, path)
			samples <- sample{kind: k, lat: time.Since(due), err: err}
		}()
	}
	wg.Wait()
	close(samples)
	<-done
	elapsed := time.Since(start)

	res := Result{Seconds: elapsed.Seconds(), ByKind: map[string]Stats{}, ServerRSSMB: peakRSS}
	var all []time.Duration
	per := map[string][]time.Duration{}
	for _, s := range collected {
		res.Requests++
		st := res.ByKind[s.kind]
		st.Count++
		if s.err != nil {
			res.Errors++
			st.Errors++
			if len(res.ErrorSamples) < 5 {
				res.ErrorSamples = append(res.ErrorSamples, s.kind+": "+s.err.Error())
			}
		}
		res.ByKind[s.kind] = st
		all = append(all, s.lat)
		per[s.kind] = append(per[s.kind], s.lat)
	}
	res.Rate = float64(res.Requests) / elapsed.Seconds()
	res.Overall = percentiles(all)
	for k, d := range per {
		st := res.ByKind[k]
		st.Percentiles = percentiles(d)
		res.ByKind[k] = st
	}
	if cpu1, err := cpuSeconds(cfg.ServerPID); err == nil && cfg.ServerPID > 0 {
		res.ServerCPU = (cpu1 - cpu0) / elapsed.Seconds()
	}
	return res, ctx.Err()
}

func (r *runner) intn(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rng.IntN(n)
}

// path picks the request of kind k.
func (r *runner) path(k string) string {
	switch k {
	case "screens_page":
		r.mu.Lock()
		c := r.cursor
		r.mu.Unlock()
		q := url.Values{"limit": {"100"}}
		if c != "" {
			q.Set("cursor", c)
		}
		return "/api/v1/screens?" + q.Encode()
	case "screens_search":
		// What someone types into the search box: part of a name or number.
		return "/api/v1/screens?" + url.Values{"q": {strconv.Itoa(r.intn(100))}, "limit": {"100"}}.Encode()
	case "screens_filter":
		return "/api/v1/screens?" + url.Values{"state": {[]string{"online", "offline", "stale"}[r.intn(3)]}, "limit": {"100"}}.Encode()
	case "fleet":
		return "/api/v1/fleet"
	case "items":
		return "/api/v1/items"
	case "schedules":
		return "/api/v1/schedules"
	default:
		return "/api/v1/screens/" + url.PathEscape(r.ids[r.intn(len(r.ids))])
	}
}

// do performs one request; a screens page moves the cursor walk on (back
// to the start at the end), as a person paging through would.
func (r *runner) do(ctx context.Context, k, path string) error {
	if k != "screens_page" {
		return r.getJSON(ctx, path, nil)
	}
	var page struct {
		Next string `json:"next_cursor"`
	}
	if err := r.getJSON(ctx, path, &page); err != nil {
		return err
	}
	r.mu.Lock()
	r.cursor = page.Next
	r.mu.Unlock()
	return nil
}

func (r *runner) getJSON(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.cfg.URL, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.Token)
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: HTTP %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// rssMB reads a process's resident set from /proc.
func rssMB(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// cpuSeconds is a process's user+system CPU time so far (/proc/PID/stat,
// in clock ticks of 1/100 s on Linux).
func cpuSeconds(pid int) (float64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	// Fields after the command name, which is in parentheses and may
	// hold spaces.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat")
	}
	return (ut + st) / 100, nil
}
