package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

type groupRequest struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Parent   string `json:"parent"`
	Timezone string `json:"timezone"`
	// DefaultPlaylist fills the schedule gaps of the group's screens and
	// of groups nested under it that set none.
	DefaultPlaylist string `json:"default_playlist"`
	// Layout frames the screens below the group (see screenRequest);
	// left out of a PUT, the group keeps its layout.
	Layout *string `json:"layout"`
}

func (r groupRequest) group() playlists.Group {
	g := playlists.Group{ID: r.ID, Name: r.Name, Parent: r.Parent, Timezone: r.Timezone, DefaultPlaylist: r.DefaultPlaylist}
	if r.Layout != nil {
		g.Layout = *r.Layout
	}
	return g
}

func (h *handler) createGroup(c echo.Context) error {
	var req groupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := principalOf(c)
	if err := p.checkPlacement("parent", req.Parent); err != nil {
		return err
	}
	if req.DefaultPlaylist != "" {
		if err := mayChangeDefault(p); err != nil {
			return err
		}
	}
	g := req.group()
	draftDefault := req.DefaultPlaylist != "" && !h.direct(p)
	if draftDefault {
		// The group is the fleet's and is created now; its default
		// playlist is content and waits for review. It must exist already,
		// or nothing is created.
		if _, err := h.store.GetPlaylist(req.DefaultPlaylist); err != nil {
			return playlists.FieldError{Field: "default_playlist", Problem: fmt.Sprintf("playlist %q does not exist (or is not published yet)", req.DefaultPlaylist)}
		}
		g.DefaultPlaylist = ""
	}
	g, err := h.store.CreateGroup(g)
	if errors.Is(err, store.ErrConflict) {
		return errCode(http.StatusConflict, "group_exists", err.Error())
	}
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, g.ID)
	if !draftDefault {
		return c.JSON(http.StatusCreated, g)
	}
	return h.setDefault(c, http.StatusCreated, store.KindGroup, g.ID, req.DefaultPlaylist)
}

func (h *handler) updateGroup(c echo.Context) error {
	var req groupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkBodyID(req.ID, c.Param("id")); err != nil {
		return err
	}
	p := principalOf(c)
	cur, err := h.store.GetGroup(c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		_, err = h.store.UpdateGroup(c.Param("id"), req.group()) // names a bad field before the missing group
		return err
	}
	if err != nil {
		return err
	}
	if req.Parent != cur.Parent {
		if err := p.checkPlacement("parent", req.Parent); err != nil {
			return err
		}
	}
	if req.DefaultPlaylist != cur.DefaultPlaylist {
		if err := mayChangeDefault(p); err != nil {
			return err
		}
	}
	g := req.group()
	g.DefaultPlaylist = cur.DefaultPlaylist // content: through review below
	if req.Layout == nil {
		g.Layout = cur.Layout
	}
	if g, err = h.store.UpdateGroup(c.Param("id"), g); err != nil {
		return err
	}
	if req.DefaultPlaylist == cur.DefaultPlaylist {
		return c.JSON(http.StatusOK, g)
	}
	return h.setDefault(c, http.StatusOK, store.KindGroup, g.ID, req.DefaultPlaylist)
}

func (h *handler) listGroups(c echo.Context) error {
	gs, err := h.store.ListGroups()
	if err != nil {
		return err
	}
	if p := principalOf(c); p.scoped() {
		gs = slices.DeleteFunc(gs, func(g playlists.Group) bool { return !p.seesGroup(g.ID) })
	}
	return c.JSON(http.StatusOK, gs)
}

func (h *handler) getGroup(c echo.Context) error {
	g, err := h.store.GetGroup(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

// mayChangeDefault refuses a default playlist change to a role that may
// not change content (technicians manage screens, not what they show).
func mayChangeDefault(p *principal) error {
	if p.can(capContentWrite) {
		return nil
	}
	return errCode(http.StatusForbidden, "forbidden", fmt.Sprintf(
		"the %s role may not change content, and a default playlist is content: leave default_playlist as it is", p.Role))
}

// setDefault changes the default playlist of a group: content, so it is
// drafted for review like any content change (published at once only for
// break-glass or with review off). The caller has already saved the fleet
// fields and checked mayChangeDefault. (A screen's default goes with its
// other fields in one commit: devices.Screens.Update.)
func (h *handler) setDefault(c echo.Context, status int, kind, id, playlist string) error {
	return h.write(c, status, store.Op{Action: store.OpSetDefault, Kind: kind, ID: id, DefaultPlaylist: &playlist})
}

func (h *handler) deleteGroup(c echo.Context) error {
	if err := h.store.DeleteGroup(c.Param("id")); err != nil {
		if errors.As(err, new(store.InUseError)) {
			// Sub-groups, screens or schedules still name it: the page
			// says so in its language, with this list as the detail.
			return errCode(http.StatusConflict, "group_in_use", err.Error())
		}
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
