package api

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/publish"
)

// screenTimeline previews what a screen will play between from and to: the
// screen's manifest is cut afresh from the committed state (so a schedule
// saved a moment ago shows, without waiting for the publisher's debounce)
// and resolved with the code the player runs. The cut is taken at from when
// from is in the past, so schedules that ended since still show there.
func (h *handler) screenTimeline(c echo.Context) error {
	id := c.Param("id")
	from, err := queryInstant(c, "from")
	if err != nil {
		return err
	}
	to, err := queryInstant(c, "to")
	if err != nil {
		return err
	}
	if !to.After(from) {
		return playlists.FieldError{Field: "to", Problem: fmt.Sprintf("must be after from (from %s, to %s)", from.Format(time.RFC3339), to.Format(time.RFC3339))}
	}
	if to.Sub(from) > playlists.MaxTimelineSpan {
		return playlists.FieldError{Field: "to", Problem: fmt.Sprintf("is %v after from; a timeline covers at most %v", to.Sub(from), playlists.MaxTimelineSpan)}
	}
	scr, err := h.store.GetScreen(id)
	if err != nil {
		return err
	}
	snap, err := h.store.Snapshot()
	if err != nil {
		return err
	}
	cut := h.opts.Now()
	if from.Before(cut) {
		cut = from
	}
	m := playlists.BuildManifest(publish.Context(scr, snap.Groups), snap.Catalog, cut)
	segs := playlists.Timeline(&m, from, to)
	if n := len(segs); n > 0 && segs[n-1].End.Before(to) {
		// Too busy a range to list whole; say so rather than pretend the
		// rest is empty.
		c.Response().Header().Set("X-Timeline-Truncated", segs[n-1].End.Format(time.RFC3339))
	}
	return c.JSON(http.StatusOK, segs)
}

func queryInstant(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, playlists.FieldError{Field: name, Problem: "is required (an RFC 3339 time such as 2026-05-01T08:00:00+08:00)"}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, playlists.FieldError{Field: name, Problem: fmt.Sprintf("must be an RFC 3339 time such as 2026-05-01T08:00:00+08:00 (got %q)", v)}
	}
	return t, nil
}

// nowView is what should be on a screen at one instant, next to what the
// screen last said it shows.
type nowView struct {
	At       time.Time `json:"at"`
	Timezone string    `json:"timezone"`
	Version  string    `json:"version"` // the manifest this was resolved from
	// Resolution is the rotation the schedule asks for now.
	Resolution playlists.Resolution `json:"resolution"`
	Items      []string             `json:"items"` // ids in Resolution, in rotation order
	// Urgent are the notices that cover the rotation now, in the order the
	// screen rotates them; while any is active the screen shows them.
	Urgent []playlists.Urgent `json:"urgent"`
	// Expected is every id that may rightly be on screen now: the urgent
	// notices if any, else the rotation's items; empty: the fallback page.
	Expected []string `json:"expected"`
	// What the screen reported in its last heartbeat.
	Online         bool   `json:"online"`
	AppliedVersion string `json:"applied_version"`
	CurrentItem    string `json:"current_item"`
	// Matches: the screen runs this version and shows an expected id.
	Matches bool `json:"matches"`
}

func (h *handler) screenNow(c echo.Context) error {
	id := c.Param("id")
	if _, err := h.store.GetScreen(id); err != nil {
		return err
	}
	pub, ok := h.pub.Ensure(id)
	if !ok {
		return errorf(http.StatusNotFound, "no manifest published yet for screen %q", id)
	}
	m := &pub.Manifest
	now := h.opts.Now()
	res := m.Resolve(now)
	v := nowView{
		At: now.In(m.Location()), Timezone: m.Timezone, Version: m.Version,
		Resolution: res, Items: []string{}, Urgent: m.ActiveUrgent(now), Expected: []string{},
	}
	if v.Urgent == nil {
		v.Urgent = []playlists.Urgent{}
	}
	for _, e := range res.Entries {
		v.Items = append(v.Items, e.Item.ID)
	}
	if len(v.Urgent) > 0 {
		for _, u := range v.Urgent {
			v.Expected = append(v.Expected, u.ID)
		}
	} else {
		v.Expected = append(v.Expected, v.Items...)
	}
	st, online := h.devices.Status(id)
	v.Online, v.AppliedVersion, v.CurrentItem = online, st.AppliedVersion, st.CurrentItem
	if st.AppliedVersion == m.Version {
		if len(v.Expected) == 0 {
			v.Matches = st.CurrentItem == ""
		} else {
			v.Matches = slices.Contains(v.Expected, st.CurrentItem)
		}
	}
	return c.JSON(http.StatusOK, v)
}
