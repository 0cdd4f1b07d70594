package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// scheduleRequest takes from/to as strings so a bad timestamp is reported
// against its field with the expected format.
type scheduleRequest struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Playlist  string           `json:"playlist"`
	Target    playlists.Target `json:"target"`
	Cron      string           `json:"cron"`
	DurationS int              `json:"duration_s"`
	From      *string          `json:"from"`
	To        *string          `json:"to"`
	Priority  int              `json:"priority"`
}

func parseInstant(field string, s *string) (*time.Time, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil, playlists.FieldError{Field: field, Problem: fmt.Sprintf("must be an RFC 3339 time such as 2026-05-01T08:00:00+08:00 (got %q)", *s)}
	}
	return &t, nil
}

func (r scheduleRequest) schedule() (playlists.Schedule, error) {
	from, err := parseInstant("from", r.From)
	if err != nil {
		return playlists.Schedule{}, err
	}
	to, err := parseInstant("to", r.To)
	if err != nil {
		return playlists.Schedule{}, err
	}
	return playlists.Schedule{
		Name: r.Name, Playlist: r.Playlist, Target: r.Target, Cron: r.Cron,
		DurationS: r.DurationS, From: from, To: to, Priority: r.Priority,
	}, nil
}

func (h *handler) createSchedule(c echo.Context) error {
	var req scheduleRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ID != "" {
		return playlists.FieldError{Field: "id", Problem: "is assigned by the server; leave it out"}
	}
	sc, err := req.schedule()
	if err != nil {
		return err
	}
	if err := h.checkScheduleScope(c, sc.Target, ""); err != nil {
		return err
	}
	return h.write(c, http.StatusCreated, store.Op{Action: store.OpCreate, Kind: store.KindSchedule, Schedule: &sc})
}

func (h *handler) updateSchedule(c echo.Context) error {
	var req scheduleRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkBodyID(req.ID, c.Param("id")); err != nil {
		return err
	}
	sc, err := req.schedule()
	if err != nil {
		return err
	}
	if err := h.checkScheduleScope(c, sc.Target, c.Param("id")); err != nil {
		return err
	}
	return h.write(c, http.StatusOK, store.Op{Action: store.OpUpdate, Kind: store.KindSchedule, ID: c.Param("id"), Schedule: &sc})
}

func (h *handler) listSchedules(c echo.Context) error {
	scs, err := h.store.ListSchedules()
	if err != nil {
		return err
	}
	if scs, err = visibleTo(h, principalOf(c), scs, func(sc playlists.Schedule) playlists.Target { return sc.Target }); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, scs)
}

func (h *handler) getSchedule(c echo.Context) error {
	sc, err := h.store.GetSchedule(c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.checkVisible(principalOf(c), sc.Target, "schedule", sc.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sc)
}

// checkScheduleScope refuses a scoped person a schedule reaching screens
// outside their groups: the new target, and the published schedule being
// changed or deleted (id non-empty).
func (h *handler) checkScheduleScope(c echo.Context, target playlists.Target, id string) error {
	p := principalOf(c)
	if !p.scoped() {
		return nil
	}
	groupOf, err := h.screenGroups()
	if err != nil {
		return err
	}
	if id != "" {
		if old, err := h.store.GetSchedule(id); err == nil && !p.targetVisible(old.Target, groupOf) {
			return store.NotFoundError{Kind: "schedule", ID: id}
		}
	}
	if id != "" && c.Request().Method == http.MethodDelete {
		return nil
	}
	return p.checkTarget(target, groupOf)
}

func (h *handler) deleteSchedule(c echo.Context) error {
	if err := h.checkScheduleScope(c, playlists.Target{}, c.Param("id")); err != nil {
		return err
	}
	return h.write(c, http.StatusNoContent, store.Op{Action: store.OpDelete, Kind: store.KindSchedule, ID: c.Param("id")})
}
