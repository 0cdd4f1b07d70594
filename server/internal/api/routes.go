package api

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kiosk/server/internal/rollouts"
	"kiosk/server/internal/web"
)

func (h *handler) routes(e *echo.Echo, m *httpMetrics) {
	e.Use(m.middleware, h.recoverPanics, h.accessLog, h.bodyDeadlines)

	e.GET("/healthz", h.healthz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(h.opts.Metrics, promhttp.HandlerOpts{})))

	// The admin page is static files that hold no data: the page sends its
	// credentials (session cookie or token) to /api/v1 itself, so these
	// routes need no auth. Every method goes to the handler so that even a
	// 405 carries its CSP.
	adminUI := echo.WrapHandler(web.Handler())
	e.Any("/admin", adminUI)
	e.Any("/admin/*", adminUI)

	// Every /api/v1 route is registered through a registrar, which records
	// the capability it needs in h.table; guard refuses a route missing
	// from it. README "Roles" has the role × capability table.
	api := registrar{g: e.Group("/api/v1", h.guard, h.audit), prefix: "/api/v1", table: h.table}

	api.GET("/openapi.json", h.openAPI, capPublic) // openapi.go
	api.POST("/session", h.signIn, capPublic)
	api.GET("/session", h.getSession, capSelf)
	api.DELETE("/session", h.signOut, capSelf)
	api.GET("/me", h.getMe, capSelf)
	api.PUT("/me/password", h.changeMyPassword, capSelf)
	api.POST("/me/totp", h.startTOTP, capSelf)
	api.POST("/me/totp/confirm", h.confirmTOTP, capSelf)
	api.DELETE("/me/totp", h.disableTOTP, capSelf)
	api.GET("/me/tokens", h.listMyTokens, capSelf)
	api.POST("/me/tokens", h.createMyToken, capSelf)
	api.DELETE("/me/tokens/:id", h.revokeMyToken, capSelf)

	api.GET("/users", h.listUsers, capUsers)
	api.POST("/users", h.createUser, capUsers)
	api.GET("/users/:id", h.getUser, capUsers)
	api.PUT("/users/:id", h.updateUser, capUsers)
	api.POST("/users/:id/password", h.resetUserPassword, capUsers)
	api.DELETE("/users/:id/totp", h.resetUserTOTP, capUsers)

	api.GET("/changesets", h.listChangeSets, capContentRead)
	api.GET("/changesets/:id", h.getChangeSet, capContentRead)
	api.PUT("/changesets/:id", h.renameChangeSet, capContentWrite)
	api.DELETE("/changesets/:id", h.discardChangeSet, capContentWrite)
	api.POST("/changesets/:id/submit", h.submitChangeSet, capContentWrite)
	api.POST("/changesets/:id/approve", h.approveChangeSet, capReview)
	api.POST("/changesets/:id/reject", h.rejectChangeSet, capReview)

	api.POST("/assets", h.uploadAsset, capContentWrite, h.uploadBody)
	api.GET("/assets", h.listAssets, capContentRead)
	api.GET("/assets/:sha", h.getAsset, capContentRead)
	api.GET("/assets/:sha/raw", h.rawAsset, capContentRead)
	api.DELETE("/assets/:sha", h.deleteAsset, capContentWrite)

	api.POST("/items", h.createItem, capContentWrite)
	api.GET("/items", h.listItems, capContentRead)
	api.GET("/items/:id", h.getItem, capContentRead)
	api.PUT("/items/:id", h.updateItem, capContentWrite)
	api.DELETE("/items/:id", h.deleteItem, capContentWrite)
	// Does an item's text fit the screens? An estimate for the form while
	// the editor types; the preview itself is the page at /admin/screen/.
	api.POST("/preview/fit", h.previewFit, capContentRead)

	api.POST("/playlists", h.createPlaylist, capContentWrite)
	api.GET("/playlists", h.listPlaylists, capContentRead)
	api.GET("/playlists/:id", h.getPlaylist, capContentRead)
	api.PUT("/playlists/:id", h.updatePlaylist, capContentWrite)
	api.DELETE("/playlists/:id", h.deletePlaylist, capContentWrite)

	api.POST("/schedules", h.createSchedule, capContentWrite)
	api.GET("/schedules", h.listSchedules, capContentRead)
	api.GET("/schedules/:id", h.getSchedule, capContentRead)
	api.PUT("/schedules/:id", h.updateSchedule, capContentWrite)
	api.DELETE("/schedules/:id", h.deleteSchedule, capContentWrite)

	// Groups and screens are the fleet's; their default playlists are
	// content and go through review (the handlers check content.write).
	api.POST("/groups", h.createGroup, capFleetWrite)
	api.GET("/groups", h.listGroups, capFleetRead)
	api.GET("/groups/:id", h.getGroup, capFleetRead)
	api.PUT("/groups/:id", h.updateGroup, capFleetWrite)
	api.DELETE("/groups/:id", h.deleteGroup, capFleetWrite)
	api.POST("/groups/:id/commands", h.createGroupCommand, capFleetWrite)
	api.GET("/groups/:id/timeline", h.groupTimeline, capFleetRead)

	api.POST("/screens", h.createScreen, capFleetWrite)
	api.POST("/screens/pair", h.pairScreen, capFleetWrite)
	api.POST("/screens/import", h.importScreens, capFleetWrite, h.uploadBody)
	api.GET("/screens", h.listScreens, capFleetRead)
	api.GET("/screens/:id", h.getScreen, capFleetRead)
	api.PUT("/screens/:id", h.updateScreen, capFleetWrite)
	api.DELETE("/screens/:id", h.deleteScreen, capFleetWrite)
	api.POST("/screens/:id/token", h.rotateScreenToken, capFleetWrite)
	api.GET("/screens/:id/manifest", h.screenManifest, capFleetRead)
	api.GET("/screens/:id/history", h.screenHistory, capFleetRead)
	api.GET("/screens/:id/timeline", h.screenTimeline, capFleetRead)
	api.GET("/screens/:id/now", h.screenNow, capFleetRead)
	api.POST("/screens/:id/commands", h.createScreenCommand, capFleetWrite)
	api.GET("/screens/:id/commands", h.listScreenCommands, capFleetRead)
	api.GET("/screens/:id/commands/:cid", h.getScreenCommand, capFleetRead)
	api.GET("/screens/:id/screenshot", h.getScreenshot, capFleetRead)
	api.GET("/fleet", h.fleet, capFleetRead)
	api.GET("/fleet/events", h.fleetEvents, capFleetRead) // server-sent events (fleet_events.go)
	api.GET("/alerts", h.listAlerts, capFleetRead)

	api.POST("/webhooks", h.createWebhook, capWebhooksWrite)
	api.GET("/webhooks", h.listWebhooks, capWebhooksRead)
	api.DELETE("/webhooks/:id", h.deleteWebhook, capWebhooksWrite)
	api.POST("/webhooks/:id/test", h.testWebhook, capWebhooksWrite)
	api.GET("/webhooks/:id/deliveries", h.webhookDeliveries, capWebhooksRead)

	// Urgent notices bypass review: they are emergencies. Sending needs
	// the per-person permission; withdrawing is open to reviewers too.
	api.POST("/urgent", h.createUrgent, capUrgent)
	api.GET("/urgent", h.listUrgent, capFleetRead)
	api.GET("/urgent/:id", h.getUrgent, capFleetRead)
	api.DELETE("/urgent/:id", h.withdrawUrgent, capUrgentWithdraw)

	// Safe mode takes content off screens at once, so it needs no review;
	// admins and reviewers may switch it on and off.
	api.POST("/safe-mode", h.startSafeMode, capSafeMode)
	api.GET("/safe-mode", h.listSafeModes, capFleetRead)
	api.GET("/safe-mode/:id", h.getSafeMode, capFleetRead)
	api.DELETE("/safe-mode/:id", h.liftSafeMode, capSafeMode)

	// Player updates: builds signed with the offline release key and
	// staged roll-outs (rollout_handlers.go); admins only.
	api.POST("/player-builds", h.uploadPlayerBuild, capReleases, h.uploadBody)
	api.GET("/player-builds", h.listPlayerBuilds, capReleases)
	api.GET("/player-versions", h.playerVersions, capFleetRead)
	api.POST("/rollouts", h.createRollout, capReleases)
	api.GET("/rollouts", h.listRollouts, capReleases)
	api.GET("/rollouts/:id", h.getRollout, capReleases)
	api.POST("/rollouts/:id/pause", h.rolloutAction(rollouts.ActPause), capReleases)
	api.POST("/rollouts/:id/resume", h.rolloutAction(rollouts.ActResume), capReleases)
	api.POST("/rollouts/:id/advance", h.rolloutAction(rollouts.ActAdvance), capReleases)

	api.GET("/audit", h.listAudit, capAudit)
	api.GET("/audit.csv", h.exportAuditCSV, capAudit)
	api.GET("/audit/verify", h.verifyAudit, capAudit)

	api.GET("/reports/plays", h.playReport, capReports)
	api.GET("/reports/heatmap", h.heatmapReport, capReports)

	api.GET("/backup", h.backup, capBackup)

	// Device routes sit outside the guarded group: a device token reaches
	// only its own screen's manifest and media, and no person's credential
	// is a device credential. The websocket authenticates in the hub
	// itself; the group's throttle covers its failed checks too.
	device := registrar{g: e.Group("/api/v1/device", h.throttleDeviceAuth), prefix: "/api/v1/device", table: h.table}
	device.GET("/manifest", h.deviceManifest, capDevice, h.requireDevice)
	device.GET("/assets/:sha", h.deviceAsset, capDevice, h.requireDevice)
	device.POST("/plays", h.postPlays(newPlayMetrics(h.opts.Metrics)), capDevice, h.requireDevice,
		h.limitScreen(h.limits.plays, "plays", "play uploads"), h.uploadBody)
	device.GET("/ws", echo.WrapHandler(h.hub), capDevice)
	// Pairing: a player with no token yet asks for a code and polls with
	// a secret poll id and a signature (pairing_handlers.go); throttled
	// per address, and a code grants nothing until a person adopts it.
	device.POST("/pair", h.startPairing, capDevice)
	device.GET("/pair/:poll", h.pollPairing, capDevice)
	device.POST("/screenshot", h.deviceScreenshot, capDevice, h.requireDevice,
		h.limitScreen(h.limits.screenshots, "screenshot", "screenshot uploads"), h.uploadBody)
	// Only the build the current roll-out offered this screen.
	device.GET("/player-build/:sha", h.devicePlayerBuild, capDevice, h.requireDevice)
}
