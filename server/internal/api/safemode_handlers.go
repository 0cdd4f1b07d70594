package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// safeModeHistory is how long lifted safe modes stay listed.
const safeModeHistory = 7 * 24 * time.Hour

type safeModeRequest struct {
	Target playlists.Target `json:"target"`
}

// startSafeMode blanks the targeted screens to the neutral slate: no
// review (it only ever takes content off screens), audited, announced to
// every webhook. Screens get it within the same 2 s as any publish.
func (h *handler) startSafeMode(c echo.Context) error {
	var req safeModeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := principalOf(c)
	if err := h.checkTargetAllowed(p, req.Target); err != nil {
		return err
	}
	m, err := h.store.StartSafeMode(req.Target, p.name())
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, m.ID)
	c.Set(ctxAuditAfter, store.HashJSON(m.SafeMode))
	c.Set(ctxAuditDetail, "safe mode on for "+describeTarget(m.Target))
	h.announce(store.Alert{Kind: "safe_mode_on",
		Summary: fmt.Sprintf("safe mode %s ON for %s by %s: screens show the neutral slate", m.ID, describeTarget(m.Target), m.By)})
	return c.JSON(http.StatusCreated, m)
}

func (h *handler) liftSafeMode(c echo.Context) error {
	p := principalOf(c)
	before, err := h.visibleSafeMode(c)
	if err != nil {
		return err
	}
	m, err := h.store.LiftSafeMode(c.Param("id"), p.name())
	if err != nil {
		return err
	}
	if before.Active() {
		c.Set(ctxAuditDetail, "safe mode lifted for "+describeTarget(m.Target))
		h.announce(store.Alert{Kind: "safe_mode_off",
			Summary: fmt.Sprintf("safe mode %s lifted for %s by %s: screens show their content again", m.ID, describeTarget(m.Target), p.name())})
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) listSafeModes(c echo.Context) error {
	ms, err := h.store.ListSafeModes(h.opts.Now().Add(-safeModeHistory))
	if err != nil {
		return err
	}
	if ms, err = visibleTo(h, principalOf(c), ms, func(m store.SafeMode) playlists.Target { return m.Target }); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ms)
}

func (h *handler) getSafeMode(c echo.Context) error {
	m, err := h.visibleSafeMode(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// visibleSafeMode loads safe mode :id, as not found for a scoped person
// when it reaches screens outside their groups (they may neither see nor
// lift another street's).
func (h *handler) visibleSafeMode(c echo.Context) (store.SafeMode, error) {
	m, err := h.store.GetSafeMode(c.Param("id"))
	if err != nil {
		return m, err
	}
	return m, h.checkVisible(principalOf(c), m.Target, "safe mode", m.ID)
}

// announce tells every webhook of a one-off event (nil: nobody wired).
func (h *handler) announce(a store.Alert) {
	if h.opts.Announce != nil {
		a.CreatedAt = h.opts.Now().UTC()
		h.opts.Announce(a)
	}
}

func describeTarget(t playlists.Target) string {
	switch {
	case t.All:
		return "all screens"
	case len(t.Groups) > 0 && len(t.Screens) == 0 && len(t.Tags) == 0:
		return fmt.Sprintf("groups %v", t.Groups)
	case len(t.Screens) > 0 && len(t.Groups) == 0 && len(t.Tags) == 0:
		return fmt.Sprintf("screens %v", t.Screens)
	}
	return fmt.Sprintf("groups %v, tags %v, screens %v", t.Groups, t.Tags, t.Screens)
}
