package api

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/store"
)

// screenTimeline previews what a screen will play between from and to: the
// screen's manifest is cut afresh from the committed state (so a schedule
// saved a moment ago shows, without waiting for the publisher)
// and resolved with the code the player runs. The cut is taken at from when
// from is in the past, so schedules that ended since still show there.
func (h *handler) screenTimeline(c echo.Context) error {
	from, to, err := timelineRange(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if err := h.checkScreenVisible(principalOf(c), id); err != nil {
		return err
	}
	scr, err := h.store.GetScreen(id)
	if err != nil {
		return err
	}
	return h.timeline(c, scr, from, to)
}

// groupTimeline previews a group as a screen in it would play: one that
// sits directly in the group with no tags of its own and no schedule
// naming it, in the group's time zone with the group's (or the nearest
// ancestor's) default playlist. A real screen may differ through its
// tags, a schedule that names it, or its own default; its own timeline
// shows that.
func (h *handler) groupTimeline(c echo.Context) error {
	from, to, err := timelineRange(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if err := h.checkGroupVisible(principalOf(c), id); err != nil {
		return err
	}
	if _, err := h.store.GetGroup(id); err != nil {
		return err
	}
	return h.timeline(c, store.Screen{Group: id}, from, to)
}

func timelineRange(c echo.Context) (from, to time.Time, err error) {
	if from, err = queryInstant(c, "from"); err != nil {
		return
	}
	if to, err = queryInstant(c, "to"); err != nil {
		return
	}
	if !to.After(from) {
		err = playlists.FieldError{Field: "to", Problem: fmt.Sprintf("must be after from (from %s, to %s)", from.Format(time.RFC3339), to.Format(time.RFC3339))}
	} else if to.Sub(from) > playlists.MaxTimelineSpan {
		err = playlists.FieldError{Field: "to", Problem: fmt.Sprintf("is %v after from; a timeline covers at most %v", to.Sub(from), playlists.MaxTimelineSpan)}
	}
	return
}

func (h *handler) timeline(c echo.Context, scr store.Screen, from, to time.Time) error {
	snap, err := h.store.Snapshot()
	if err != nil {
		return err
	}
	cut := h.opts.Now()
	if from.Before(cut) {
		cut = from
	}
	sc := publish.Context(scr, snap.Groups)
	m := playlists.BuildManifest(sc, snap.Catalog, cut)
	segs := playlists.Timeline(&m, from, to)
	if n := len(segs); n > 0 && segs[n-1].End.Before(to) {
		// Too busy a range to list whole; say so rather than pretend the
		// rest is empty.
		c.Response().Header().Set("X-Timeline-Truncated", segs[n-1].End.Format(time.RFC3339))
	}
	// The zone the segments are in, for a page that draws days.
	c.Response().Header().Set("X-Timeline-Timezone", sc.Timezone)
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
