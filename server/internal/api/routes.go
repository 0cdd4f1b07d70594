package api

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kiosk/server/internal/web"
)

func (h *handler) routes(e *echo.Echo, m *httpMetrics) {
	e.Use(m.middleware, h.recoverPanics, h.accessLog)

	e.GET("/healthz", h.healthz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(h.opts.Metrics, promhttp.HandlerOpts{})))

	// The admin page is static files that hold no data: the page sends the
	// admin token to /api/v1 itself, so these routes need no auth. Every
	// method goes to the handler so that even a 405 carries its CSP.
	adminUI := echo.WrapHandler(web.Handler())
	e.Any("/admin", adminUI)
	e.Any("/admin/*", adminUI)

	admin := e.Group("/api/v1", h.throttleAdminAuth, h.requireAdmin, h.audit)
	admin.POST("/assets", h.uploadAsset)
	admin.GET("/assets", h.listAssets)
	admin.GET("/assets/:sha", h.getAsset)
	admin.GET("/assets/:sha/raw", h.rawAsset)
	admin.DELETE("/assets/:sha", h.deleteAsset)

	admin.POST("/items", h.createItem)
	admin.GET("/items", h.listItems)
	admin.GET("/items/:id", h.getItem)
	admin.PUT("/items/:id", h.updateItem)
	admin.DELETE("/items/:id", h.deleteItem)

	admin.POST("/playlists", h.createPlaylist)
	admin.GET("/playlists", h.listPlaylists)
	admin.GET("/playlists/:id", h.getPlaylist)
	admin.PUT("/playlists/:id", h.updatePlaylist)
	admin.DELETE("/playlists/:id", h.deletePlaylist)

	admin.POST("/schedules", h.createSchedule)
	admin.GET("/schedules", h.listSchedules)
	admin.GET("/schedules/:id", h.getSchedule)
	admin.PUT("/schedules/:id", h.updateSchedule)
	admin.DELETE("/schedules/:id", h.deleteSchedule)

	admin.POST("/groups", h.createGroup)
	admin.GET("/groups", h.listGroups)
	admin.GET("/groups/:id", h.getGroup)
	admin.PUT("/groups/:id", h.updateGroup)
	admin.DELETE("/groups/:id", h.deleteGroup)

	admin.POST("/screens", h.createScreen)
	admin.GET("/screens", h.listScreens)
	admin.GET("/screens/:id", h.getScreen)
	admin.PUT("/screens/:id", h.updateScreen)
	admin.DELETE("/screens/:id", h.deleteScreen)
	admin.POST("/screens/:id/token", h.rotateScreenToken)
	admin.GET("/screens/:id/manifest", h.screenManifest)
	admin.GET("/screens/:id/history", h.screenHistory)
	admin.GET("/fleet", h.fleet)
	admin.GET("/alerts", h.listAlerts)
	admin.POST("/webhooks", h.createWebhook)
	admin.GET("/webhooks", h.listWebhooks)
	admin.DELETE("/webhooks/:id", h.deleteWebhook)
	admin.GET("/screens/:id/timeline", h.screenTimeline)
	admin.GET("/screens/:id/now", h.screenNow)
	admin.POST("/screens/:id/commands", h.createScreenCommand)
	admin.GET("/screens/:id/commands", h.listScreenCommands)
	admin.GET("/screens/:id/commands/:cid", h.getScreenCommand)
	admin.GET("/screens/:id/screenshot", h.getScreenshot)
	admin.POST("/groups/:id/commands", h.createGroupCommand)

	admin.POST("/urgent", h.createUrgent)
	admin.GET("/urgent", h.listUrgent)
	admin.GET("/urgent/:id", h.getUrgent)
	admin.DELETE("/urgent/:id", h.withdrawUrgent)

	admin.GET("/audit", h.listAudit)

	admin.GET("/reports/plays", h.playReport)

	// Device routes sit outside the admin group: a device token reaches
	// only its own screen's manifest and media, and the admin token is no
	// device credential. The websocket authenticates in the hub itself;
	// the group's throttle covers its failed checks too.
	device := e.Group("/api/v1/device", h.throttleDeviceAuth)
	device.GET("/manifest", h.deviceManifest, h.requireDevice)
	device.GET("/assets/:sha", h.deviceAsset, h.requireDevice)
	device.POST("/plays", h.postPlays(newPlayMetrics(h.opts.Metrics)), h.requireDevice,
		h.limitScreen(h.limits.plays, "plays", "play uploads"))
	device.GET("/ws", echo.WrapHandler(h.hub))
	device.POST("/screenshot", h.deviceScreenshot, h.requireDevice,
		h.limitScreen(h.limits.screenshots, "screenshot", "screenshot uploads"))
}
