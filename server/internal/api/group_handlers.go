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
	dc, err := h.defaultOnCreate(p, req.DefaultPlaylist)
	if err != nil {
		return err
	}
	g, res, err := h.store.CreateGroupWith(g, dc)
	if errors.As(err, new(store.ExistsError)) {
		return errCode(http.StatusConflict, "group_exists", err.Error())
	}
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, g.ID)
	if res == nil {
		return c.JSON(http.StatusCreated, g)
	}
	return groupDefaultAnswer(c, http.StatusCreated, res)
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
	dc := h.defaultChange(p, cur.DefaultPlaylist, req.DefaultPlaylist)
	g, res, err := h.store.UpdateGroupWith(c.Param("id"), g, dc)
	if err != nil {
		return err
	}
	if res == nil {
		return c.JSON(http.StatusOK, g)
	}
	c.Set(ctxAuditTarget, g.ID)
	return groupDefaultAnswer(c, http.StatusOK, res)
}

// groupDefaultAnswer answers a group write that changed its default
// playlist as every content write is answered (write.go): the group as
// the change makes it, plus the change set it waits in when drafted.
func groupDefaultAnswer(c echo.Context, status int, res *store.GroupDefaultResult) error {
	c.Set(ctxAuditBefore, store.HashJSON(res.Before))
	c.Set(ctxAuditAfter, store.HashJSON(res.Group))
	fields := map[string]any{}
	if res.ChangeSet != "" {
		c.Set(ctxAuditDetail, "drafted into change set "+res.ChangeSet)
		fields["changeset"] = res.ChangeSet
	}
	return c.JSON(status, withFields(res.Group, fields))
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
