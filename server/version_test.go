package server

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestVersionText(t *testing.T) {
	saved := [3]string{Version, Commit, BuildDate}
	t.Cleanup(func() { Version, Commit, BuildDate = saved[0], saved[1], saved[2] })

	Version, Commit, BuildDate = "1.4.0", "7197ac6", "2026-11-29T21:36:28Z"
	lines := strings.Split(VersionText(), "\n")
	if len(lines) != 3 || lines[0] != "1.4.0" || lines[2] != "" {
		t.Fatalf("VersionText() = %q, want the bare version on the first of two lines", VersionText())
	}
	if want := "commit 7197ac6, built 2026-11-29T21:36:28Z, go"; !strings.HasPrefix(lines[1], want) {
		t.Errorf("second line %q, want it to start with %q", lines[1], want)
	}

	Commit, BuildDate = "", ""
	if got := strings.Split(VersionText(), "\n")[1]; !strings.HasPrefix(got, "commit unknown, built unknown, ") {
		t.Errorf("unstamped second line %q", got)
	}
}

func TestBuildInfoMetric(t *testing.T) {
	saved := [3]string{Version, Commit, BuildDate}
	t.Cleanup(func() { Version, Commit, BuildDate = saved[0], saved[1], saved[2] })
	Version, Commit, BuildDate = "1.4.0", "7197ac6", "2026-11-29T21:36:28Z"

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(buildInfoCollector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "kiosk_build_info" || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v, want one kiosk_build_info sample", mfs)
	}
	m := mfs[0].GetMetric()[0]
	if got := m.GetGauge().GetValue(); got != 1 {
		t.Errorf("value %v, want 1", got)
	}
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	for k, want := range map[string]string{"version": "1.4.0", "commit": "7197ac6", "build_date": "2026-11-29T21:36:28Z"} {
		if labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, labels[k], want)
		}
	}
}
