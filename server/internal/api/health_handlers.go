package api

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/devices"
)

const (
	defaultHistoryLimit = 200
	maxHistoryLimit     = 5000
)

// queryLimit parses ?limit, bounded to [1, max].
func queryLimit(c echo.Context, def, max int) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, errorf(http.StatusBadRequest, "limit: must be an integer between 1 and %d (got %q)", max, s)
	}
	return n, nil
}

// groupSubtrees maps each group id to itself and every group nested below
// it, so a filter or a count for "xinhua-street" includes its compounds.
func groupSubtrees(groups []playlists.Group) map[string]map[string]bool {
	children := map[string][]string{}
	for _, g := range groups {
		if g.Parent != "" {
			children[g.Parent] = append(children[g.Parent], g.ID)
		}
	}
	out := make(map[string]map[string]bool, len(groups))
	for _, g := range groups {
		set := map[string]bool{}
		stack := []string{g.ID}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if set[id] {
				continue // a cycle in stored data must not loop forever
			}
			set[id] = true
			stack = append(stack, children[id]...)
		}
		out[g.ID] = set
	}
	return out
}

// screenHistory is GET /screens/{id}/history: state transitions, newest
// first, optionally since an RFC 3339 instant.
func (h *handler) screenHistory(c echo.Context) error {
	id := c.Param("id")
	if _, err := h.store.GetScreen(id); err != nil {
		return err
	}
	limit, err := queryLimit(c, defaultHistoryLimit, maxHistoryLimit)
	if err != nil {
		return err
	}
	var since time.Time
	if s := c.QueryParam("since"); s != "" {
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			return errorf(http.StatusBadRequest, "since: must be an RFC 3339 time such as 2026-03-01T02:00:00+08:00 (got %q)", s)
		}
	}
	// Transitions not yet flushed are in memory; flushing first makes the
	// answer include a change that happened a moment ago.
	if err := h.devices.Flush(); err != nil {
		h.log.Warn("flush before history", "error", err)
	}
	trs, err := h.store.History(id, since, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, trs)
}

// stateCounts is a count per state with every state present.
type stateCounts map[devices.State]int

type groupCounts struct {
	Group string      `json:"group"`
	Name  string      `json:"name"`
	Total int         `json:"total"`
	State stateCounts `json:"by_state"`
}

type fleetView struct {
	Total     int           `json:"total"`
	State     stateCounts   `json:"by_state"`
	Groups    []groupCounts `json:"groups"`    // each group counts its nested groups' screens too
	Ungrouped stateCounts   `json:"ungrouped"` // screens in no group
}

// fleet is GET /fleet: counts by state, overall and per group.
func (h *handler) fleet(c echo.Context) error {
	v, err := h.fleetCounts(principalOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// fleetCounts counts the screens p may see by state, overall and per
// group (GET /fleet, and every event of GET /fleet/events). The registry
// keeps the counts per group a screen is directly in, moved as screens
// change state, are created, moved and deleted; this adds them up along
// the group tree, so the answer costs the number of groups, not screens.
func (h *handler) fleetCounts(p *principal) (fleetView, error) {
	groups, err := h.store.ListGroups()
	if err != nil {
		return fleetView{}, err
	}
	direct := h.devices.GroupCounts()
	if p.scoped() {
		groups = slices.DeleteFunc(groups, func(g playlists.Group) bool { return !p.seesGroup(g.ID) })
	}
	var total, ungrouped devices.Tally
	for g, t := range direct {
		if !p.seesScreen(g) {
			continue
		}
		total.Add(t)
		if g == "" {
			ungrouped.Add(t)
		}
	}
	subtrees := groupSubtrees(groups)
	v := fleetView{Total: total.Total(), State: total.Map(), Ungrouped: ungrouped.Map(), Groups: make([]groupCounts, len(groups))}
	for i, g := range groups {
		var t devices.Tally
		for member := range subtrees[g.ID] {
			t.Add(direct[member])
		}
		v.Groups[i] = groupCounts{Group: g.ID, Name: g.Name, Total: t.Total(), State: t.Map()}
	}
	sort.Slice(v.Groups, func(i, j int) bool { return v.Groups[i].Group < v.Groups[j].Group })
	return v, nil
}
