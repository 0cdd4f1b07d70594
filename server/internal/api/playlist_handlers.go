package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
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
	p := playlists.Playlist{Name: req.Name, Items: req.Items}
	return h.write(c, http.StatusCreated, store.Op{Action: store.OpCreate, Kind: store.KindPlaylist, Playlist: &p})
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
	p := playlists.Playlist{Name: req.Name, Items: req.Items}
	return h.write(c, http.StatusOK, store.Op{Action: store.OpUpdate, Kind: store.KindPlaylist, ID: c.Param("id"), Playlist: &p})
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
	return h.write(c, http.StatusNoContent, store.Op{Action: store.OpDelete, Kind: store.KindPlaylist, ID: c.Param("id")})
}
