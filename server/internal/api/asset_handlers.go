package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// multipartOverhead is room for the multipart envelope around a file of
// exactly MaxUploadBytes; the file's own size is enforced by the store.
const multipartOverhead = 64 << 10

// uploadAsset streams the "file" part straight to the store, which hashes
// and sniffs it on the way; the upload is never held in memory whole.
func (h *handler) uploadAsset(c echo.Context) error {
	r := c.Request()
	limit := h.opts.MaxUploadBytes
	if r.ContentLength > limit+multipartOverhead {
		return store.TooLargeError{Limit: limit}
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit+multipartOverhead)
	mr, headers, err := multipartReader(r)
	if err != nil {
		return err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return playlists.FieldError{Field: "file", Problem: "is required (multipart form field named \"file\")"}
		}
		if headers.exceeded {
			return errPartHeaderTooLarge(headers.max)
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return store.TooLargeError{Limit: limit}
			}
			return errorf(http.StatusBadRequest, "malformed multipart body: %v", err)
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		origin := store.AssetOrigin{Name: part.FileName()}
		if p := principalOf(c); p != nil {
			origin.By = p.name()
		}
		a, _, err := h.store.PutAssetFrom(part, limit, origin)
		part.Close()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return store.TooLargeError{Limit: limit}
			}
			return err
		}
		c.Set(ctxAuditTarget, a.SHA256)
		return c.JSON(http.StatusCreated, a)
	}
}

// listAssets is the media library: every asset with what uses it
// ("used_by": [{kind, id, title, changeset}]): published items, items
// drafted in open or submitted change sets (with the set's id) and urgent
// notices in force, read in one transaction. An asset with an empty
// used_by may be deleted. X-Max-Upload-Bytes tells the page the upload
// limit, so it can refuse a file that is too large before sending it.
func (h *handler) listAssets(c echo.Context) error {
	as, err := h.store.ListAssetsWithUses()
	if err != nil {
		return err
	}
	c.Response().Header().Set("X-Max-Upload-Bytes", strconv.FormatInt(h.opts.MaxUploadBytes, 10))
	return c.JSON(http.StatusOK, as)
}

// getAsset is one asset with its used_by, as in listAssets.
func (h *handler) getAsset(c echo.Context) error {
	a, err := h.store.GetAssetWithUses(c.Param("sha"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *handler) rawAsset(c echo.Context) error {
	return h.serveAsset(c, c.Param("sha"))
}

// deleteAsset removes an asset nothing uses. One in use (see listAssets)
// is refused with 409 and code "asset_in_use", the message naming the
// users; the check and the delete are one transaction.
func (h *handler) deleteAsset(c echo.Context) error {
	if err := h.store.DeleteAsset(c.Param("sha")); err != nil {
		var iu store.InUseError
		if errors.As(err, &iu) {
			return errCode(http.StatusConflict, "asset_in_use", err.Error())
		}
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
