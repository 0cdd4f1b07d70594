package api

import (
	"net/http"

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
	limit, err := queryLimit(c, defaultAuditLimit, maxAuditLimit)
	if err != nil {
		return err
	}
	es, err := h.store.ListAudit(limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, es)
}
