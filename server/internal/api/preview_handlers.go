package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/screenpage"
)

// fitRequest is an item's text as the form holds it while the editor
// types; nothing is stored.
type fitRequest struct {
	Title     string `json:"title"`
	Body      string `json:"body"`
	Asset     string `json:"asset"`
	Media     bool   `json:"media"` // a file chosen but not uploaded yet
	DurationS int    `json:"duration_s"`
	// Layout to estimate for; empty: the tightest layout any screen or
	// group uses (what the item warnings use).
	Layout string `json:"layout"`
}

// fitAnswer is the estimate on both panels and what an editor should know.
type fitAnswer struct {
	Layout   string               `json:"layout"`
	Fits     []screenpage.Fit     `json:"fits"`
	Warnings []screenpage.Warning `json:"warnings"`
	// Estimate is always true: the numbers are computed from the page's
	// sizes, not measured in a browser (the preview shows the real thing).
	Estimate bool `json:"estimate"`
}

// previewFit answers POST /preview/fit: does this text fit the screens?
func (h *handler) previewFit(c echo.Context) error {
	var req fitRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := playlists.CheckLayout(req.Layout); err != nil {
		return err
	}
	if n := len([]rune(req.Title)); n > playlists.MaxTitleRunes {
		return playlists.FieldError{Field: "title", Problem: "is too long to estimate; see the item's limits"}
	}
	if n := len([]rune(req.Body)); n > playlists.MaxBodyRunes {
		return playlists.FieldError{Field: "body", Problem: "is too long to estimate; see the item's limits"}
	}
	layout := req.Layout
	if layout == "" {
		layout = h.tightestLayout()
	}
	fits, warns := screenpage.Warnings(screenpage.Text{Title: req.Title, Body: req.Body, Media: req.Asset != "" || req.Media, DurationS: req.DurationS}, layout)
	return c.JSON(http.StatusOK, fitAnswer{Layout: layout, Fits: fits, Warnings: warns, Estimate: true})
}

// itemWarnings are the fit warnings of an item as saved: saving never
// fails on them, the answer only carries them.
func (h *handler) itemWarnings(it playlists.Item) []screenpage.Warning {
	if strings.TrimSpace(it.Title) == "" {
		return []screenpage.Warning{}
	}
	_, warns := screenpage.Warnings(screenpage.Text{Title: it.Title, Body: it.Body, Media: it.Asset != "", DurationS: it.DurationS}, h.tightestLayout())
	return warns
}

// tightestLayout is the layout, among those screens and groups chose,
// that leaves the least room for text: an item must read well on every
// screen it may reach. Every item save asks, so it reads the store's
// shared screen list (no copy of 10,000 screens per save) and stops at the
// first screen or group on the tightest layout there is.
func (h *handler) tightestLayout() string {
	best := playlists.LayoutFull
	consider := func(l string) bool {
		switch l {
		case playlists.LayoutHeaderTicker:
			best = l
			return true
		case playlists.LayoutHeader:
			best = l
		}
		return false
	}
	if gs, err := h.store.ListGroups(); err == nil {
		for _, g := range gs {
			if consider(g.Layout) {
				return best
			}
		}
	}
	for _, s := range h.store.SharedScreens() {
		if consider(s.Layout) {
			return best
		}
	}
	return best
}
