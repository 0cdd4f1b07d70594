package hub

import (
	"errors"
	"log/slog"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
)

// Drop reasons, the values of kiosk_hub_dropped_total's "reason" label. The
// set is closed so a misbehaving player cannot grow the label space.
const (
	dropSlow        = "slow"         // send queue full: the player does not read fast enough
	dropPingTimeout = "ping_timeout" // nothing (not even a pong) arrived within PongWait
	dropProtocol    = "protocol"     // no hello in time, bad frames, oversized frame
	dropInvalidUTF8 = "invalid_utf8" // a text frame that is not UTF-8 (closed 1007)
	dropPingFlood   = "ping_flood"   // pings faster than maxPingRate (closed 1008)
)

// Frame types counted by kiosk_hub_frames_received_total. Anything a player
// invents is folded into "unknown" or "malformed" for the same reason.
var countedFrameTypes = append(slices.Clone(knownFrameTypes), frameUnknown, frameMalformed)

// knownFrameTypes are the frames a player may send, counted under their
// own name. handleFrame's switch and this list must agree, or a legitimate
// frame is counted as "unknown" and looks like a version mismatch.
var knownFrameTypes = []string{
	playlists.MsgHello, playlists.MsgApplied, playlists.MsgHeartbeat, playlists.MsgTime,
	playlists.MsgCommandResult,
}

const (
	frameUnknown   = "unknown"
	frameMalformed = "malformed"
)

type metrics struct {
	connected prometheus.Gauge
	pushes    prometheus.Counter
	inlined   prometheus.Counter
	pushAck   prometheus.Histogram
	fanOut    prometheus.Histogram
	dropped   *prometheus.CounterVec
	frames    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kiosk_hub_connected_screens",
			Help: "Screens with an open device websocket.",
		}),
		pushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_hub_pushes_total",
			Help: "Version frames queued to connected screens.",
		}),
		inlined: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_hub_pushes_with_manifest_total",
			Help: "Of those, frames that carried the manifest itself (batch-signed) instead of a version notice.",
		}),
		pushAck: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kiosk_hub_push_ack_seconds",
			Help: "Time from pushing a version to a screen until it reports the version applied.",
			// A player downloads and verifies media before acking, so the
			// tail reaches minutes on a slow uplink.
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}),
		fanOut: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kiosk_hub_push_fanout_seconds",
			Help:    "Time from queueing a push to its connected screens until the last of its frames was written (at most the hold on answers, 0.5 s).",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5},
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_hub_dropped_total",
			Help: "Device connections closed by the hub, by reason.",
		}, []string{"reason"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_hub_frames_received_total",
			Help: "Frames received from players, by type.",
		}, []string{"type"}),
	}
	// Touch every label value so dashboards see zeros instead of gaps.
	for _, r := range []string{dropSlow, dropPingTimeout, dropProtocol, dropInvalidUTF8, dropPingFlood} {
		m.dropped.WithLabelValues(r)
	}
	for _, t := range countedFrameTypes {
		m.frames.WithLabelValues(t)
	}
	if reg == nil {
		return m
	}
	m.connected = register(reg, log, m.connected)
	m.pushes = register(reg, log, m.pushes)
	m.inlined = register(reg, log, m.inlined)
	m.pushAck = register(reg, log, m.pushAck)
	m.fanOut = register(reg, log, m.fanOut)
	m.dropped = register(reg, log, m.dropped)
	m.frames = register(reg, log, m.frames)
	return m
}

// register adds c to reg. A second hub on the same registry (tests, a
// restarted subsystem) shares the collector already there instead of
// panicking like MustRegister would.
func register[C prometheus.Collector](reg prometheus.Registerer, log *slog.Logger, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Warn("hub metric not registered", "error", err)
	return c
}

// frameLabel maps a received frame type onto the closed label set.
func frameLabel(typ string) string {
	if slices.Contains(knownFrameTypes, typ) {
		return typ
	}
	return frameUnknown
}
