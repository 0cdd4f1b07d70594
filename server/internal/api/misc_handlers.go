package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

func (h *handler) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

func (h *handler) listAudit(c echo.Context) error {
	limit := defaultAuditLimit
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAuditLimit {
			return errorf(http.StatusBadRequest, "limit: must be an integer between 1 and %d (got %q)", maxAuditLimit, s)
		}
		limit = n
	}
	es, err := h.store.ListAudit(limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, es)
}
