package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
)

// deviceManifest serves the calling screen's current manifest. The ETag is
// the version, so a player polling with If-None-Match costs a 304.
func (h *handler) deviceManifest(c echo.Context) error {
	id := c.Get(ctxScreen).(string)
	m, ok := h.pub.Ensure(id)
	if !ok {
		return errorf(http.StatusNotFound, "no manifest published yet for this screen; retry shortly")
	}
	etag := `"` + m.Manifest.Version + `"`
	hdr := c.Response().Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "no-cache")
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if s := h.opts.Signer; s != nil {
		// Signed per request: the signature binds the bytes to this
		// screen and to a serial above any it was given before.
		sig, err := s.Sign(id, m.JSON)
		if err != nil {
			return err
		}
		for k, v := range sig.Headers() {
			hdr.Set(k, v)
		}
		hdr.Set(playlists.HeaderServerKey, playlists.EncodeKey(s.Public()))
	}
	return c.JSONBlob(http.StatusOK, m.JSON)
}

// etagMatches implements If-None-Match's weak comparison over a list.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// deviceAsset serves media only if it is in the calling screen's own
// manifest: a device token cannot be used to read other screens' content.
// On the server, the ordinary requests of this route never reach echo:
// the fast path answers them (fastMedia in asset_fast.go, which must
// keep to the same rules) and brings here only what it leaves.
func (h *handler) deviceAsset(c echo.Context) error {
	id := c.Get(ctxScreen).(string)
	sha := c.Param("sha")
	m, ok := h.pub.Ensure(id)
	if !ok {
		return errorf(http.StatusNotFound, "asset %q is not in this screen's manifest", sha)
	}
	if _, ok := m.Manifest.Asset(sha); !ok {
		return errorf(http.StatusNotFound, "asset %q is not in this screen's manifest", sha)
	}
	// A player revalidating what it holds (the ETag is the content's
	// hash, which its manifest names) is answered from the manifest: no
	// store lookup, no file opened, even for an asset not yet in the
	// store's index.
	if etag := `"` + sha + `"`; notModified(c.Request(), etag, time.Time{}) {
		return assetNotModified(c, etag)
	}
	return h.serveAsset(c, sha)
}
