package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
)

type playlistRequest struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Items []string `json:"items"`
}

func (h *handler) createPlaylist(c echo.Context) error {
	var req playlistRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ID != "" {
		return playlists.FieldError{Field: "id", Problem: "is assigned by the server; leave it out"}
	}
	p, err := h.store.CreatePlaylist(playlists.Playlist{Name: req.Name, Items: req.Items})
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, p.ID)
	return c.JSON(http.StatusCreated, p)
}

// updatePlaylist replaces the playlist whole: name and item order.
func (h *handler) updatePlaylist(c echo.Context) error {
	var req playlistRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkBodyID(req.ID, c.Param("id")); err != nil {
		return err
	}
	p, err := h.store.UpdatePlaylist(c.Param("id"), playlists.Playlist{Name: req.Name, Items: req.Items})
	if err != nil {
		return err
	}
	h.changed()
	return c.JSON(http.StatusOK, p)
}

func (h *handler) listPlaylists(c echo.Context) error {
	ps, err := h.store.ListPlaylists()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ps)
}

func (h *handler) getPlaylist(c echo.Context) error {
	p, err := h.store.GetPlaylist(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *handler) deletePlaylist(c echo.Context) error {
	if err := h.store.DeletePlaylist(c.Param("id")); err != nil {
		return err
	}
	h.changed()
	return c.NoContent(http.StatusNoContent)
}
