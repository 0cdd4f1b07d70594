package api

// GET /reports/heatmap: the screen × day heat-map of the reports page, one
// page of screens at a time. A district's 10,000 screens over two months
// are 620,000 cells: the server reads the plays once, counts each
// screen's dark days, sorts (by name, or the darkest first) and answers
// one page of rows with the counts of all of them, so the office can page
// through the whole fleet or go straight to the screens that showed
// nothing. The CSV export (GET /reports/plays?group_by=screen_day&
// format=csv) stays the complete list.

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

const (
	// maxHeatDays is how many days the heat-map covers: a longer range
	// shows its last maxHeatDays days (two months of columns is what a
	// page can show legibly).
	maxHeatDays     = 62
	defaultHeatPage = 100
	maxHeatPage     = 500
	heatSortName    = "name"
	heatSortDark    = "dark"
)

// heatmapPage is GET /reports/heatmap's answer.
type heatmapPage struct {
	// Days are the heat-map's columns, calendar days in the report's time
	// zone, oldest first; every row's plays and seconds follow them.
	Days []string `json:"days"`
	// Capped: the range is longer than maxHeatDays; Days are its last ones.
	Capped bool `json:"capped"`
	// Today is the current day in the time zone: later days are not
	// counted dark (they have not happened).
	Today string    `json:"today"`
	Sort  string    `json:"sort"`
	Rows  []heatRow `json:"rows"`
	// Total counts the rows on all pages; Offset is this page's first.
	Total  int `json:"total"`
	Offset int `json:"offset"`
	// NextOffset is where the next page starts; absent on the last page.
	NextOffset int `json:"next_offset,omitempty"`
	// DarkCells and DarkScreens count, over all rows, the days a screen
	// showed nothing and the screens with at least one such day.
	DarkCells   int `json:"dark_cells"`
	DarkScreens int `json:"dark_screens"`
	// MaxSeconds is the most airtime of any cell of any row: the page
	// shades every page of rows on the same scale.
	MaxSeconds float64 `json:"max_seconds"`
}

// heatRow is one screen's line of the heat-map.
type heatRow struct {
	Screen string `json:"screen"`
	Name   string `json:"name"`
	Group  string `json:"group,omitempty"`
	// Gone: the screen was deleted since it played; Name is its id.
	Gone bool `json:"gone,omitempty"`
	// Since is the day the screen was created when that is after Days[0]:
	// the days before it are not counted dark.
	Since        string    `json:"since,omitempty"`
	Plays        []int64   `json:"plays"`
	Seconds      []float64 `json:"seconds"`
	DarkDays     int       `json:"dark_days"`
	TotalPlays   int64     `json:"total_plays"`
	TotalSeconds float64   `json:"total_seconds"`
}

// heatCand is a row before the page is cut: what sorting needs, and the
// screen's counts (nil: nothing played).
type heatCand struct {
	id, name, group string
	gone            bool
	since           int    // index of the first day that can be dark
	sinceDay        string // the day the screen was created, if after Days[0]
	counts          []store.DayCount
	dark            int
	ms              int64
}

// heatDays lists the calendar days in loc that [from, to) touches, the
// last maxHeatDays of them, and whether more were left off.
func heatDays(from, to time.Time, loc *time.Location) ([]string, bool) {
	y, m, d := from.In(loc).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	var days []string
	for ; day.Before(to); day = day.AddDate(0, 0, 1) {
		days = append(days, day.Format(time.DateOnly))
	}
	if len(days) > maxHeatDays {
		return days[len(days)-maxHeatDays:], true
	}
	return days, false
}

func (h *handler) heatmapReport(c echo.Context) error {
	q, err := parseReportWindow(c)
	if err != nil {
		return err
	}
	qp := c.QueryParams()
	sortBy := qp.Get("sort")
	switch sortBy {
	case "":
		sortBy = heatSortName
	case heatSortName, heatSortDark:
	default:
		return playlists.InvalidFormat("sort", fmt.Sprintf("must be name or dark (got %q)", sortBy))
	}
	limit := defaultHeatPage
	if s := qp.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxHeatPage {
			return playlists.FieldError{Field: "limit", Problem: fmt.Sprintf("must be between 1 and %d (got %q)", maxHeatPage, s),
				Reason: playlists.ReasonOutOfRange, Min: 1, Limit: maxHeatPage}
		}
		limit = n
	}
	offset := 0
	if s := qp.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return playlists.FieldError{Field: "offset", Problem: fmt.Sprintf("must be a whole number, 0 or more (got %q)", s),
				Reason: playlists.ReasonOutOfRange, Min: 0}
		}
		offset = n
	}
	search := strings.TrimSpace(qp.Get("q"))
	if n := utf8.RuneCountInString(search); n > maxScreenQuery {
		return playlists.TooLong("q", n, maxScreenQuery)
	}
	if err := h.scopeReport(c, &q); err != nil {
		return err
	}

	days, capped := heatDays(q.From, q.To, q.Loc)
	counts, err := h.store.ScreenDays(days, q.Loc, q.Screen, q.Group)
	if err != nil {
		return err
	}
	// A day that has not begun is not dark yet.
	today := h.opts.Now().In(q.Loc).Format(time.DateOnly)
	future := slices.IndexFunc(days, func(d string) bool { return d > today })
	if future < 0 {
		future = len(days)
	}
	cands := h.heatCandidates(principalOf(c), &q, days, counts, newFoldNeedle(search))
	out := heatmapPage{Days: days, Capped: capped, Today: today, Sort: sortBy, Total: len(cands), Offset: offset, Rows: []heatRow{}}
	if out.Days == nil {
		out.Days = []string{}
	}
	var maxMS int64
	for i := range cands {
		cd := &cands[i]
		for d := cd.since; d < future; d++ {
			if cd.counts == nil || cd.counts[d].Plays == 0 {
				cd.dark++
			}
		}
		for _, n := range cd.counts {
			cd.ms += n.MS
			maxMS = max(maxMS, n.MS)
		}
		out.DarkCells += cd.dark
		if cd.dark > 0 {
			out.DarkScreens++
		}
	}
	out.MaxSeconds = float64(maxMS) / 1000
	byName := func(a, b *heatCand) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	}
	slices.SortFunc(cands, func(a, b heatCand) int {
		if sortBy == heatSortDark {
			if a.dark != b.dark {
				return b.dark - a.dark
			}
			if a.ms != b.ms {
				return int(min(max(a.ms-b.ms, -1), 1))
			}
		}
		return byName(&a, &b)
	})
	if offset < len(cands) {
		end := min(offset+limit, len(cands))
		for _, cd := range cands[offset:end] {
			out.Rows = append(out.Rows, cd.row(days))
		}
		if end < len(cands) {
			out.NextOffset = end
		}
	}
	return c.JSON(http.StatusOK, out)
}

// heatCandidates lists the heat-map's screens: those the query covers
// (the one screen; the screens directly in the group; every screen the
// caller may see), plus any that played there and have moved or gone
// since, matching the search in name or id.
func (h *handler) heatCandidates(p *principal, q *store.ReportQuery, days []string, counts map[string][]store.DayCount, search foldNeedle) []heatCand {
	found := make(map[string]bool, len(counts))
	var out []heatCand
	for _, s := range h.store.SharedScreens() {
		played := counts[s.ID]
		if played != nil {
			found[s.ID] = true
		}
		if played == nil && (!p.seesScreen(s.Group) || q.Screen != "" && s.ID != q.Screen || q.Group != "" && s.Group != q.Group) {
			continue
		}
		if search.text != "" && !search.in(s.Name) && !search.in(s.ID) {
			continue
		}
		cd := heatCand{id: s.ID, name: s.Name, group: s.Group, counts: played}
		if !s.CreatedAt.IsZero() {
			created := s.CreatedAt.In(q.Loc).Format(time.DateOnly)
			cd.since, _ = slices.BinarySearch(days, created)
			if cd.since > 0 {
				cd.sinceDay = created
			}
		}
		out = append(out, cd)
	}
	for id, played := range counts {
		if found[id] || search.text != "" && !search.in(id) {
			continue
		}
		out = append(out, heatCand{id: id, name: id, gone: true, counts: played})
	}
	return out
}

// row is the page's line for cd.
func (cd *heatCand) row(days []string) heatRow {
	r := heatRow{Screen: cd.id, Name: cd.name, Group: cd.group, Gone: cd.gone, DarkDays: cd.dark,
		Plays: make([]int64, len(days)), Seconds: make([]float64, len(days)), TotalSeconds: float64(cd.ms) / 1000}
	r.Since = cd.sinceDay
	for i, n := range cd.counts {
		r.Plays[i], r.Seconds[i] = n.Plays, float64(n.MS)/1000
		r.TotalPlays += n.Plays
	}
	return r
}
