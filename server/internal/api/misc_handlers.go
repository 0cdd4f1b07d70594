package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/server/internal/store"
)

// healthz is 200 {"status":"ok"} while the server can do its work. When
// writes fail because the data directory's disk is full it is 503
// {"status":"degraded","reason":"disk_full",...}, until space is freed.
func (h *handler) healthz(c echo.Context) error {
	body := map[string]string{"status": "ok"}
	if h.opts.Version != "" {
		body["version"] = h.opts.Version
	}
	if d := h.store.DiskStatus(); d.Full {
		body["status"], body["reason"], body["error"], body["since"] = "degraded", "disk_full", d.Err.Error(), d.Since.Format(time.RFC3339)
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusOK, body)
}

// registerStoreMetrics exports the store's disk state.
func registerStoreMetrics(reg prometheus.Registerer, st *store.Store) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kiosk_store_disk_full",
		Help: "1 while writes fail because the disk holding the data directory is full, else 0.",
	}, func() float64 {
		if st != nil && st.DiskStatus().Full {
			return 1
		}
		return 0
	}))
}
