package main

import (
	"fmt"
	"strings"
	"testing"
)

const fanOutSample = `# HELP kiosk_hub_push_fanout_seconds Time from queueing a push ...
# TYPE kiosk_hub_push_fanout_seconds histogram
kiosk_hub_push_fanout_seconds_bucket{le="0.005"} %d
kiosk_hub_push_fanout_seconds_bucket{le="0.1"} %d
kiosk_hub_push_fanout_seconds_bucket{le="0.25"} %d
kiosk_hub_push_fanout_seconds_bucket{le="0.5"} %d
kiosk_hub_push_fanout_seconds_bucket{le="+Inf"} %d
kiosk_hub_push_fanout_seconds_sum %s
kiosk_hub_push_fanout_seconds_count %d
kiosk_hub_pushes_total 12
`

func sample(b005, b01, b025, b05, inf int, sum string) string {
	return fmt.Sprintf(fanOutSample, b005, b01, b025, b05, inf, sum, inf)
}

// The tool reads the server's fan-out histogram from /metrics and reports
// what the publishes added: the mean and the buckets of the median and the
// 99th percentile.
func TestFanOutFromMetrics(t *testing.T) {
	before, err := parseHistogram(strings.NewReader(sample(1, 1, 1, 1, 1, "0.002")), fanOutMetric)
	if err != nil {
		t.Fatal(err)
	}
	// Ten more pushes: 6 under 100 ms, 3 more under 250 ms, 1 at 400 ms.
	after, err := parseHistogram(strings.NewReader(sample(1, 7, 10, 11, 11, "1.402")), fanOutMetric)
	if err != nil {
		t.Fatal(err)
	}
	got := after.since(before).stats()
	want := FanOutStats{Pushes: 10, MeanMS: 140, P50LeMS: 100, P99LeMS: 500}
	if got != want {
		t.Fatalf("fan-out stats: got %+v, want %+v", got, want)
	}
	// A quantile beyond the last finite bucket has no bound.
	late, _ := parseHistogram(strings.NewReader(sample(1, 7, 10, 11, 21, "9.402")), fanOutMetric)
	if got := late.since(before).stats(); got.P99LeMS != 0 || bucketBound(got.P99LeMS) != "above the largest bucket" {
		t.Fatalf("p99 beyond the buckets: got %+v", got)
	}
	if _, err := parseHistogram(strings.NewReader("kiosk_hub_pushes_total 3\n"), fanOutMetric); err == nil {
		t.Fatal("a server without the histogram gave no error")
	}
}
