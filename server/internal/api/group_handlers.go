package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
)

type groupRequest struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Parent   string `json:"parent"`
	Timezone string `json:"timezone"`
	// DefaultPlaylist fills the schedule gaps of the group's screens and
	// of groups nested under it that set none.
	DefaultPlaylist string `json:"default_playlist"`
}

func (r groupRequest) group() playlists.Group {
	return playlists.Group{ID: r.ID, Name: r.Name, Parent: r.Parent, Timezone: r.Timezone, DefaultPlaylist: r.DefaultPlaylist}
}

func (h *handler) createGroup(c echo.Context) error {
	var req groupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	g, err := h.store.CreateGroup(req.group())
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, g.ID)
	return c.JSON(http.StatusCreated, g)
}

func (h *handler) updateGroup(c echo.Context) error {
	var req groupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkBodyID(req.ID, c.Param("id")); err != nil {
		return err
	}
	g, err := h.store.UpdateGroup(c.Param("id"), req.group())
	if err != nil {
		return err
	}
	h.changed() // parent and time zone change what screens get
	return c.JSON(http.StatusOK, g)
}

func (h *handler) listGroups(c echo.Context) error {
	gs, err := h.store.ListGroups()
	if err != nil {
		return err
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

func (h *handler) deleteGroup(c echo.Context) error {
	if err := h.store.DeleteGroup(c.Param("id")); err != nil {
		return err
	}
	h.changed()
	return c.NoContent(http.StatusNoContent)
}
