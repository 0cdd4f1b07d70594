package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/store"
)

// capability is something a route needs. Roles hold capabilities
// (roleCaps); every route names exactly one (routes.go), and a route that
// names none is refused: deny by default.
type capability string

const (
	capPublic         capability = "public"       // no credential (sign-in itself)
	capSelf           capability = "self"         // any signed-in person: their own account
	capContentRead    capability = "content.read" // items, playlists, schedules, media, change sets
	capContentWrite   capability = "content.write"
	capReview         capability = "review" // approve or reject others' change sets
	capFleetRead      capability = "fleet.read"
	capFleetWrite     capability = "fleet.write" // screens, groups, tokens, commands
	capUrgent         capability = "urgent"      // send urgent notices without review
	capUrgentWithdraw capability = "urgent.withdraw"
	capReports        capability = "reports"
	capAudit          capability = "audit"
	capUsers          capability = "users"
	capWebhooksRead   capability = "webhooks.read"
	capWebhooksWrite  capability = "webhooks.write"
	capSafeMode       capability = "safe_mode" // blank screens to the neutral slate, and lift it
	capReleases       capability = "releases"  // player builds and roll-outs
	capBackup         capability = "backup"    // download a backup of everything, keys included
	capDevice         capability = "device"    // a screen's own device token
)

// roleCaps is the role × capability table (README: "Roles"). The urgent
// capabilities also follow a per-user permission (principal.can).
var roleCaps = map[store.Role][]capability{
	store.RoleAdmin: {capSelf, capContentRead, capContentWrite, capReview, capFleetRead, capFleetWrite,
		capUrgent, capUrgentWithdraw, capReports, capAudit, capUsers, capWebhooksRead, capWebhooksWrite, capSafeMode, capReleases, capBackup},
	store.RoleReviewer:   {capSelf, capContentRead, capContentWrite, capReview, capFleetRead, capUrgentWithdraw, capReports, capSafeMode},
	store.RoleEditor:     {capSelf, capContentRead, capContentWrite, capFleetRead, capReports},
	store.RoleTechnician: {capSelf, capContentRead, capFleetRead, capFleetWrite, capReports, capWebhooksRead},
	store.RoleViewer:     {capSelf, capContentRead, capFleetRead, capReports},
}

// routeRule is one row of the route table.
type routeRule struct {
	cap capability
}

// routeTable maps "METHOD /path/template" to its rule; routes.go fills it
// while registering, so a route cannot be added without a rule.
type routeTable map[string]routeRule

func routeKey(method, path string) string { return method + " " + path }

// register adds a route to e (under group g) and its rule to the table.
type registrar struct {
	g      *echo.Group
	prefix string
	table  routeTable
}

func (r registrar) add(method, path string, h echo.HandlerFunc, cap capability, m ...echo.MiddlewareFunc) {
	r.g.Add(method, path, h, m...)
	r.table[routeKey(method, r.prefix+path)] = routeRule{cap: cap}
}

func (r registrar) GET(path string, h echo.HandlerFunc, cap capability, m ...echo.MiddlewareFunc) {
	r.add(http.MethodGet, path, h, cap, m...)
}
func (r registrar) POST(path string, h echo.HandlerFunc, cap capability, m ...echo.MiddlewareFunc) {
	r.add(http.MethodPost, path, h, cap, m...)
}
func (r registrar) PUT(path string, h echo.HandlerFunc, cap capability, m ...echo.MiddlewareFunc) {
	r.add(http.MethodPut, path, h, cap, m...)
}
func (r registrar) DELETE(path string, h echo.HandlerFunc, cap capability, m ...echo.MiddlewareFunc) {
	r.add(http.MethodDelete, path, h, cap, m...)
}

// can reports whether p holds c.
func (p *principal) can(c capability) bool {
	switch c {
	case capPublic:
		return true
	case capDevice:
		return false
	case capUrgent:
		return p.Role == store.RoleAdmin || p.Urgent && p.Role != store.RoleViewer
	case capUrgentWithdraw:
		if p.Urgent && p.Role != store.RoleViewer {
			return true
		}
	}
	return slices.Contains(roleCaps[p.Role], c)
}

// capabilities lists what p may do, for the page's navigation.
func (p *principal) capabilities() []string {
	var out []string
	for _, c := range []capability{capContentRead, capContentWrite, capReview, capFleetRead, capFleetWrite,
		capUrgent, capUrgentWithdraw, capReports, capAudit, capUsers, capWebhooksRead, capWebhooksWrite, capSafeMode, capReleases} {
		if p.can(c) {
			out = append(out, string(c))
		}
	}
	return out
}

var capWords = map[capability]string{
	capContentWrite:   "change content",
	capReview:         "review change sets",
	capFleetWrite:     "manage screens, groups and commands",
	capUrgent:         "send urgent notices (an admin grants this per person)",
	capUrgentWithdraw: "withdraw urgent notices",
	capAudit:          "read the audit log",
	capUsers:          "manage users",
	capWebhooksRead:   "see webhooks",
	capWebhooksWrite:  "manage webhooks",
	capSafeMode:       "switch screens to safe mode",
	capReleases:       "manage player builds and roll-outs",
	capBackup:         "download backups",
}

func forbidden(p *principal, c capability) error {
	what := capWords[c]
	if what == "" {
		what = strings.ReplaceAll(string(c), ".", " ")
	}
	return errCode(http.StatusForbidden, "forbidden", fmt.Sprintf("the %s role may not %s", p.Role, what))
}
