package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/rollouts"
	"kiosk/server/internal/store"
)

// maxBuildManifest bounds the "manifest" part of a build upload.
const maxBuildManifest = 8 << 10

// rolloutErr gives the roll-out manager's own refusals their status.
func rolloutErr(err error) error {
	switch {
	case errors.Is(err, playlists.ErrBuildRefused):
		return errCode(http.StatusBadRequest, "build_refused", err.Error())
	case errors.Is(err, rollouts.ErrNoReleaseKey):
		return errCode(http.StatusServiceUnavailable, "no_release_key", err.Error())
	}
	return err
}

func (h *handler) rollouts() (*rollouts.Manager, error) {
	if h.opts.Rollouts == nil {
		return nil, errCode(http.StatusServiceUnavailable, "unavailable", "player updates are not set up on this server")
	}
	return h.opts.Rollouts, nil
}

// uploadPlayerBuild takes a multipart body with the binary ("file") and
// its signed build manifest ("manifest", JSON), in either order. The
// binary is hashed on its way to disk; it is kept only if the manifest's
// signature verifies with the release key and its size and SHA-256 match.
func (h *handler) uploadPlayerBuild(c echo.Context) error {
	m, err := h.rollouts()
	if err != nil {
		return err
	}
	if !m.CanVerify() {
		return rolloutErr(rollouts.ErrNoReleaseKey)
	}
	r := c.Request()
	limit := int64(playlists.MaxBuildBytes) + multipartOverhead
	if r.ContentLength > limit {
		return store.TooLargeError{Limit: playlists.MaxBuildBytes}
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
	mr, headers, err := multipartReader(r)
	if err != nil {
		return err
	}
	var staged *store.StagedBuild
	defer func() { staged.Discard() }()
	var manifest *playlists.PlayerBuild
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if headers.exceeded {
			return errPartHeaderTooLarge(headers.max)
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return store.TooLargeError{Limit: playlists.MaxBuildBytes}
			}
			return errorf(http.StatusBadRequest, "malformed multipart body: %v", err)
		}
		switch part.FormName() {
		case "file":
			if staged != nil {
				part.Close()
				return playlists.FieldError{Field: "file", Problem: "is given twice"}
			}
			staged, err = h.store.StagePlayerBuild(part)
		case "manifest":
			var b playlists.PlayerBuild
			raw, rerr := io.ReadAll(io.LimitReader(part, maxBuildManifest+1))
			switch {
			case rerr != nil:
				err = errorf(http.StatusBadRequest, "malformed multipart body: %v", rerr)
			case len(raw) > maxBuildManifest:
				err = playlists.FieldError{Field: "manifest", Problem: fmt.Sprintf("is over %d bytes", maxBuildManifest)}
			default:
				dec := json.NewDecoder(strings.NewReader(string(raw)))
				dec.DisallowUnknownFields()
				if derr := dec.Decode(&b); derr != nil {
					err = playlists.FieldError{Field: "manifest", Problem: "is not a build manifest (kiosk-release sign writes one): " + derr.Error()}
				}
			}
			manifest = &b
		}
		part.Close()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return store.TooLargeError{Limit: playlists.MaxBuildBytes}
			}
			return err
		}
	}
	if staged == nil {
		return playlists.FieldError{Field: "file", Problem: "is required (multipart form field named \"file\": the player binary)"}
	}
	if manifest == nil {
		return playlists.FieldError{Field: "manifest", Problem: "is required (multipart form field named \"manifest\": the JSON kiosk-release sign printed)"}
	}
	b, created, err := m.AddBuild(staged, *manifest, principalOf(c).name())
	staged = nil // AddBuild has kept or removed it
	if err != nil {
		return rolloutErr(err)
	}
	c.Set(ctxAuditTarget, b.SHA256)
	c.Set(ctxAuditDetail, fmt.Sprintf("player build %s for %s, %d bytes, signed by %s", b.Version, b.Platform, b.Size, b.KeyID))
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return c.JSON(status, b)
}

func (h *handler) listPlayerBuilds(c echo.Context) error {
	m, err := h.rollouts()
	if err != nil {
		return err
	}
	bs, err := m.Builds()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, bs)
}

// playerVersions is the version distribution across the fleet.
func (h *handler) playerVersions(c echo.Context) error {
	m, err := h.rollouts()
	if err != nil {
		return err
	}
	vs, err := m.Versions()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, vs)
}

func (h *handler) createRollout(c echo.Context) error {
	m, err := h.rollouts()
	if err != nil {
		return err
	}
	var req rollouts.CreateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := m.Create(req, principalOf(c).name())
	if err != nil {
		return rolloutErr(err)
	}
	c.Set(ctxAuditTarget, r.ID)
	c.Set(ctxAuditDetail, fmt.Sprintf("roll-out of player %s (%d builds) to canary groups %v, then %d%%", r.Version, len(r.Builds), r.CanaryGroups, r.Percent))
	return c.JSON(http.StatusCreated, r)
}

func (h *handler) listRollouts(c echo.Context) error {
	m, err := h.rollouts()
	if err != nil {
		return err
	}
	rs, err := m.List()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rs)
}

func (h *handler) getRollout(c echo.Context) error {
	m, err := h.rollouts()
	if err != nil {
		return err
	}
	v, err := m.Get(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// rolloutAction pauses, resumes or advances a roll-out.
func (h *handler) rolloutAction(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		m, err := h.rollouts()
		if err != nil {
			return err
		}
		r, err := m.Act(c.Param("id"), action, principalOf(c).name())
		if err != nil {
			return rolloutErr(err)
		}
		c.Set(ctxAuditDetail, fmt.Sprintf("roll-out %s: %s (now %s, %d%% of the rest, paused %v)", r.Version, action, r.State, r.Coverage, r.Paused))
		return c.JSON(http.StatusOK, r)
	}
}

// devicePlayerBuild serves a build to a screen only if the current
// roll-out offered it to that screen.
func (h *handler) devicePlayerBuild(c echo.Context) error {
	id := c.Get(ctxScreen).(string)
	sha := strings.ToLower(c.Param("sha"))
	m, err := h.rollouts()
	if err != nil {
		return err
	}
	if !m.Offered(id, sha) {
		return errorf(http.StatusNotFound, "player build %q was not offered to this screen", sha)
	}
	f, b, err := h.store.OpenPlayerBuild(sha)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "application/octet-stream")
	hdr.Set("ETag", `"`+b.SHA256+`"`)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "private, max-age=31536000, immutable")
	serveFile(c, b.UploadedAt, f)
	return nil
}
