package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// fanOutMetric is the server's own timing of a push: from queueing it to
// its connected screens until the last of its frames was written
// (server/internal/hub/fanout.go). Read before and after the publishes,
// it splits publish → received into the server's part and the rest: the
// screens' (here, this tool's) reading, on the same cores.
const fanOutMetric = "kiosk_hub_push_fanout_seconds"

// FanOutStats is the server's fan-out time over the publishes, from its
// histogram: the mean, and the upper bound of the bucket holding the
// median and the 99th percentile (0 if the quantile is above every
// bucket).
type FanOutStats struct {
	Pushes  int     `json:"pushes"`
	MeanMS  float64 `json:"mean_ms"`
	P50LeMS float64 `json:"p50_le_ms"`
	P99LeMS float64 `json:"p99_le_ms"`
}

// histogram is one Prometheus histogram: cumulative bucket counts by upper
// bound, the count and the sum.
type histogram struct {
	buckets     map[float64]float64
	count, sum  float64
	found, sumd bool
}

// parseHistogram reads histogram name from Prometheus text exposition.
func parseHistogram(r io.Reader, name string) (histogram, error) {
	h := histogram{buckets: map[float64]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		key, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(val)[0], 64)
		if err != nil {
			return h, fmt.Errorf("%s: %q: %w", name, line, err)
		}
		switch {
		case key == name+"_count":
			h.count, h.found = v, true
		case key == name+"_sum":
			h.sum, h.sumd = v, true
		case strings.HasPrefix(key, name+`_bucket{le="`):
			le := strings.TrimSuffix(strings.TrimPrefix(key, name+`_bucket{le="`), `"}`)
			bound, err := strconv.ParseFloat(le, 64) // "+Inf" parses as infinity
			if err != nil {
				return h, fmt.Errorf("%s: bucket %q: %w", name, le, err)
			}
			h.buckets[bound] = v
		}
	}
	if err := sc.Err(); err != nil {
		return h, err
	}
	if !h.found || !h.sumd {
		return h, fmt.Errorf("no histogram %s", name)
	}
	return h, nil
}

// since is what h counted after earlier.
func (h histogram) since(earlier histogram) histogram {
	d := histogram{buckets: map[float64]float64{}, count: h.count - earlier.count, sum: h.sum - earlier.sum, found: true, sumd: true}
	for b, n := range h.buckets {
		d.buckets[b] = n - earlier.buckets[b]
	}
	return d
}

// stats gives h's mean and the bucket bounds of its median and 99th
// percentile, in milliseconds.
func (h histogram) stats() FanOutStats {
	s := FanOutStats{Pushes: int(h.count)}
	if h.count <= 0 {
		return s
	}
	s.MeanMS = round(h.sum/h.count*1000, 1)
	bounds := make([]float64, 0, len(h.buckets))
	for b := range h.buckets {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	le := func(q float64) float64 {
		for _, b := range bounds {
			if h.buckets[b] >= q*h.count && !math.IsInf(b, 1) {
				return round(b*1000, 1)
			}
		}
		return 0
	}
	s.P50LeMS, s.P99LeMS = le(0.5), le(0.99)
	return s
}

// readFanOut reads the server's fan-out histogram from /metrics.
func (r *runner) readFanOut(ctx context.Context) (histogram, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/metrics", nil)
	if err != nil {
		return histogram{}, err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.AdminToken)
	resp, err := r.adminHTTP.Do(req)
	if err != nil {
		return histogram{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return histogram{}, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseHistogram(resp.Body, fanOutMetric)
}
