package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// maxReportRange bounds a report's time range: a year answers any question
// the district office asks, and the bound keeps one request from walking
// the whole history.
const maxReportRange = 366 * 24 * time.Hour

// utf8BOM starts every CSV: without it, spreadsheet programs on Chinese
// Windows read UTF-8 as GBK and show titles as mojibake.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// playReport serves GET /api/v1/reports/plays?from&to&group_by&tz&format
// (&screen, &group to narrow it).
func (h *handler) playReport(c echo.Context) error {
	q, format, err := parseReportQuery(c)
	if err != nil {
		return err
	}
	if err := h.scopeReport(c, &q); err != nil {
		return err
	}
	rows, err := h.store.PlayReport(q)
	if err != nil {
		return err
	}
	if format == "csv" {
		return writeReportCSV(c, q, rows)
	}
	return c.JSON(http.StatusOK, rows)
}

func parseReportQuery(c echo.Context) (store.ReportQuery, string, error) {
	q, err := parseReportWindow(c)
	if err != nil {
		return q, "", err
	}
	q.GroupBy = c.QueryParam("group_by")
	switch q.GroupBy {
	case "":
		q.GroupBy = store.GroupByItem
	case store.GroupByItem, store.GroupByScreen, store.GroupByGroup, store.GroupByDay, store.GroupByKind, store.GroupByScreenDay:
	default:
		return q, "", errorf(http.StatusBadRequest, "group_by: %q is not one of item, screen, group, day, kind, screen_day", q.GroupBy)
	}
	format := c.QueryParam("format")
	switch format {
	case "", "json":
		format = "json"
	case "csv":
	default:
		return q, "", errorf(http.StatusBadRequest, "format: %q is not json or csv", format)
	}
	return q, format, nil
}

// parseReportWindow reads what every report shares: from, to, tz and the
// optional screen and group filters.
func parseReportWindow(c echo.Context) (store.ReportQuery, error) {
	var q store.ReportQuery
	parseTime := func(name string) (time.Time, error) {
		s := c.QueryParam(name)
		if s == "" {
			return time.Time{}, errorf(http.StatusBadRequest, "%s: required, an RFC 3339 time such as 2026-05-01T00:00:00+08:00", name)
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, errorf(http.StatusBadRequest, "%s: %q is not an RFC 3339 time such as 2026-05-01T00:00:00+08:00", name, s)
		}
		return t, nil
	}
	var err error
	if q.From, err = parseTime("from"); err != nil {
		return q, err
	}
	if q.To, err = parseTime("to"); err != nil {
		return q, err
	}
	if !q.To.After(q.From) {
		return q, errorf(http.StatusBadRequest, "to: must be after from")
	}
	if q.To.Sub(q.From) > maxReportRange {
		return q, errorf(http.StatusBadRequest, "to: the range is %s, at most 366 days allowed", q.To.Sub(q.From).Round(time.Hour))
	}
	tz := c.QueryParam("tz")
	if tz == "" {
		tz = playlists.DefaultTimezone
	}
	if q.Loc, err = time.LoadLocation(tz); err != nil || tz == "Local" {
		return q, errorf(http.StatusBadRequest, "tz: %q is not an IANA time zone such as Asia/Shanghai", tz)
	}
	// Optional filters; ids that match nothing give an empty report, as an
	// id of a screen deleted since must still find its past plays.
	q.Screen, q.Group = c.QueryParam("screen"), c.QueryParam("group")
	return q, nil
}

func writeReportCSV(c echo.Context, q store.ReportQuery, rows []store.ReportRow) error {
	var buf bytes.Buffer
	buf.Write(utf8BOM)
	w := csv.NewWriter(&buf)
	// CRLF is what spreadsheet programs expect and RFC 4180 specifies.
	w.UseCRLF = true
	twoKeys := q.GroupBy == store.GroupByScreenDay
	if twoKeys {
		w.Write([]string{"day", "screen", "label", "plays", "seconds"})
	} else {
		w.Write([]string{q.GroupBy, "label", "plays", "seconds"})
	}
	for _, r := range rows {
		keys := []string{csvText(r.Key)}
		if twoKeys {
			keys = []string{r.Day, csvText(r.Screen)}
		}
		w.Write(append(keys, csvText(r.Label),
			strconv.FormatInt(r.Plays, 10),
			strconv.FormatFloat(r.Seconds, 'f', -1, 64),
		))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write report csv: %w", err)
	}
	name := fmt.Sprintf("plays-by-%s-%s-%s.csv", q.GroupBy,
		q.From.In(q.Loc).Format("20060102T1504"), q.To.In(q.Loc).Format("20060102T1504"))
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvText keeps a title like "=HYPERLINK(...)" from running as a formula
// when the office opens the report: a leading quote makes it plain text.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// scopeReport limits a scoped person's report to their groups: a screen
// or group outside them is not found; with neither given, the report
// covers their one group, or asks which when they have several.
func (h *handler) scopeReport(c echo.Context, q *store.ReportQuery) error {
	p := principalOf(c)
	if !p.scoped() {
		return nil
	}
	switch {
	case q.Screen != "":
		return h.checkScreenVisible(p, q.Screen)
	case q.Group != "":
		return h.checkGroupVisible(p, q.Group)
	case len(p.User.Groups) == 1:
		q.Group = p.User.Groups[0]
		return nil
	}
	return errorf(http.StatusBadRequest, "group: required for an account limited to several groups (one of %s)", p.scopeNames())
}
