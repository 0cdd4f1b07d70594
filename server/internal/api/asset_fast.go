package api

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/server/internal/fastmedia"
)

// NewWithMedia is New, also returning the device media route
// (GET /api/v1/device/assets/{sha}) as a fastmedia.Source, for the
// listener that answers players' media requests outside net/http.
func NewWithMedia(opts Options) (*echo.Echo, fastmedia.Source) {
	h, e := build(opts)
	return e, h.media
}

// deviceAssetRoute is the device media route's template, the label its
// requests are counted under.
const deviceAssetRoute = "/api/v1/device/assets/:sha"

// The headers serveAsset and assetNotModified add, as the fast path
// sends them.
const (
	assetFastHeader = "Cache-Control: " + assetCacheControl + "\r\n" +
		"Content-Security-Policy: " + assetCSP + "\r\n" +
		"X-Content-Type-Options: nosniff\r\n"
	assetFastNotModifiedHeader = "Cache-Control: " + assetCacheControl + "\r\n"
)

// fastMedia is deviceAsset for the fast path: the same device-token
// check (throttleDeviceAuth and requireDevice pass a known token without
// recording anything), the same "only assets in this screen's manifest"
// rule, the asset's metadata from the store's in-memory index. Whatever
// deviceAsset would refuse or answer otherwise goes back to net/http and
// through echo, so refusals keep one implementation.
type fastMedia struct {
	h        *handler
	requests *prometheus.CounterVec
	duration prometheus.Observer
	// the counters of the answers the fast path gives, looked up once
	ok, partial, notModified prometheus.Counter
}

func newFastMedia(h *handler, m *httpMetrics) *fastMedia {
	get := http.MethodGet
	return &fastMedia{
		h:           h,
		requests:    m.requests,
		duration:    m.duration.WithLabelValues(deviceAssetRoute, get),
		ok:          m.requests.WithLabelValues(deviceAssetRoute, get, "200"),
		partial:     m.requests.WithLabelValues(deviceAssetRoute, get, "206"),
		notModified: m.requests.WithLabelValues(deviceAssetRoute, get, "304"),
	}
}

func (f *fastMedia) Asset(token, sha string) (fastmedia.Asset, bool) {
	h := f.h
	// With requests logged (accessLog), every request goes through echo.
	if h.log.Enabled(context.Background(), slog.LevelDebug) {
		return fastmedia.Asset{}, false
	}
	id, err := h.devices.Authenticate(token)
	if err != nil {
		return fastmedia.Asset{}, false
	}
	m, ok := h.pub.Ensure(id)
	if !ok {
		return fastmedia.Asset{}, false
	}
	if _, ok := m.Manifest.Asset(sha); !ok {
		return fastmedia.Asset{}, false
	}
	a, err := h.store.AssetMeta(sha)
	if err != nil {
		return fastmedia.Asset{}, false
	}
	return fastmedia.Asset{
		MIME:              a.MIME,
		Size:              a.Size,
		ModTime:           a.CreatedAt,
		Header:            assetFastHeader,
		NotModifiedHeader: assetFastNotModifiedHeader,
	}, true
}

func (f *fastMedia) Open(sha string) (*os.File, error) { return f.h.store.OpenBlob(sha) }

// Served counts a GET the fast path answered as httpMetrics.middleware
// does.
func (f *fastMedia) Served(status int, took time.Duration) {
	switch status {
	case http.StatusOK:
		f.ok.Inc()
	case http.StatusPartialContent:
		f.partial.Inc()
	case http.StatusNotModified:
		f.notModified.Inc()
	default:
		f.requests.WithLabelValues(deviceAssetRoute, http.MethodGet, strconv.Itoa(status)).Inc()
	}
	f.duration.Observe(took.Seconds())
}
