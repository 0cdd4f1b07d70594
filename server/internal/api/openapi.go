package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDoc is the OpenAPI 3.1 description of the whole API, written by
// hand. openapi_test.go keeps it in step with the router (every route
// described, nothing described that is not routed, the same capability),
// and the end-to-end tests validate their traffic against it.
//
// Its paths follow routes.go's order. To describe a new route, copy a
// neighbouring operation: give it a unique operationId, a tag, the route's
// capability as x-kiosk-capability, the CSRF parameter if it writes, and
// reuse components/schemas for its bodies.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPIETag names this build's description: clients revalidate cheaply.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDoc)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

// openAPI serves the description. It is not secret, so it needs no
// credential; it changes only with the server's version, so clients may
// keep it and revalidate with If-None-Match.
func (h *handler) openAPI(c echo.Context) error {
	hdr := c.Response().Header()
	hdr.Set("ETag", openAPIETag)
	hdr.Set("Cache-Control", "public, no-cache")
	if etagMatches(c.Request().Header.Get("If-None-Match"), openAPIETag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDoc)
}
