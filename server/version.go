package server

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// Build stamps. deploy/release.sh sets them with -ldflags "-X
// kiosk/server.Version=… -X kiosk/server.Commit=… -X kiosk/server.BuildDate=…".
var (
	// Version is the server's version; "dev" in a plain go build.
	Version = "dev"
	// Commit is the source's git commit ("" in a plain go build).
	Commit = ""
	// BuildDate is when the binary was built, UTC RFC 3339 ("" likewise).
	BuildDate = ""
)

// VersionText is what kiosk-server -version prints: the bare version on the
// first line, then commit, build date, Go version and platform.
func VersionText() string {
	return Version + "\n" + buildLine(Commit, BuildDate) + "\n"
}

// buildLine is the second line of VersionText.
func buildLine(commit, date string) string {
	return "commit " + orUnknown(commit) + ", built " + orUnknown(date) + ", " +
		runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// buildInfoCollector is kiosk_build_info{version,commit,build_date} 1 on
// /metrics, the usual way to see which build a server runs (and when a
// fleet of servers was upgraded) without a route of its own.
func buildInfoCollector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kiosk_build_info",
		Help: "Always 1; the labels name the running kiosk-server build.",
		ConstLabels: prometheus.Labels{
			"version":    Version,
			"commit":     orUnknown(Commit),
			"build_date": orUnknown(BuildDate),
			"goversion":  runtime.Version(),
		},
	})
	g.Set(1)
	return g
}
