package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// Item writes answer the item with "warnings": what the fit estimator
// (screenpage/fit.go) expects on screens, such as a title cut below the
// legibility floor or a body in pages. They never refuse the write.

// itemRequest is what a client may write; ids and timestamps are the
// server's.
type itemRequest struct {
	ID        string         `json:"id"`
	Kind      playlists.Kind `json:"kind"`
	Title     string         `json:"title"`
	Body      string         `json:"body"`
	Asset     string         `json:"asset"`
	DurationS int            `json:"duration_s"`
}

func (r itemRequest) item() playlists.Item {
	return playlists.Item{Kind: r.Kind, Title: r.Title, Body: r.Body, Asset: r.Asset, DurationS: r.DurationS}
}

func (h *handler) createItem(c echo.Context) error {
	var req itemRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ID != "" {
		return playlists.FieldError{Field: "id", Problem: "is assigned by the server; leave it out"}
	}
	it := req.item()
	return h.writeWith(c, http.StatusCreated, store.Op{Action: store.OpCreate, Kind: store.KindItem, Item: &it},
		func() map[string]any { return map[string]any{"warnings": h.itemWarnings(it)} })
}

func (h *handler) updateItem(c echo.Context) error {
	var req itemRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkBodyID(req.ID, c.Param("id")); err != nil {
		return err
	}
	it := req.item()
	return h.writeWith(c, http.StatusOK, store.Op{Action: store.OpUpdate, Kind: store.KindItem, ID: c.Param("id"), Item: &it},
		func() map[string]any { return map[string]any{"warnings": h.itemWarnings(it)} })
}

func (h *handler) listItems(c echo.Context) error {
	items, err := h.store.ListItems()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items)
}

func (h *handler) getItem(c echo.Context) error {
	it, err := h.store.GetItem(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, it)
}

func (h *handler) deleteItem(c echo.Context) error {
	return h.write(c, http.StatusNoContent, store.Op{Action: store.OpDelete, Kind: store.KindItem, ID: c.Param("id")})
}
