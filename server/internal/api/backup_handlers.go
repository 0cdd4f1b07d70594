package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/store"
)

// backup serves GET /api/v1/backup: a consistent archive of the whole data
// dir (store.WriteBackup), streamed as it is written, never buffered. The
// download is audited with its size. A failure halfway aborts the
// connection: the client gets an archive without its manifest, which
// restore refuses, never a short one that looks whole.
func (h *handler) backup(c echo.Context) error {
	name := "kiosk-backup-" + h.opts.Now().UTC().Format("20060102T150405Z") + ".tar"
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "application/x-tar")
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	m, err := h.store.WriteBackup(c.Response())
	if err != nil {
		h.log.Error("backup failed while streaming; aborting the download", "error", err)
		panic(http.ErrAbortHandler)
	}
	c.Set(ctxAuditDone, true)
	h.auditEvent(c, principalOf(c), store.AuditEntry{
		Action: "GET /api/v1/backup", Target: name, Status: http.StatusOK,
		Detail: fmt.Sprintf("%d files, %d bytes", len(m.Files), m.Bytes()),
	})
	return nil
}
