package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/labstack/echo/v4"
)

const ctxScreen = "screen_id"

func bearer(c echo.Context) string {
	auth := c.Request().Header.Get(echo.HeaderAuthorization)
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

// isAdmin compares hashes so the comparison is constant-time whatever the
// lengths of the two tokens.
func (h *handler) isAdmin(token string) bool {
	if h.opts.AdminToken == "" || token == "" {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], h.adminHash[:]) == 1
}

// requireDevice lets through a request with a valid device token and puts
// its screen's id in the context. throttleDeviceAuth, which runs first on
// every device route, has usually found it already: the registry's
// in-memory token index is then not asked twice.
func (h *handler) requireDevice(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id, ok := c.Get(ctxScreen).(string); ok && id != "" {
			return next(c)
		}
		token := bearer(c)
		if token == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="kiosk-device"`)
			return errUnauthorized("missing device token: send Authorization: Bearer <token>")
		}
		id, err := h.devices.Authenticate(token)
		if err != nil {
			if h.isAdmin(token) {
				return errForbidden("the admin token is not a device token")
			}
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="kiosk-device", error="invalid_token"`)
			return errUnauthorized("unknown or revoked device token")
		}
		c.Set(ctxScreen, id)
		return next(c)
	}
}
