package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// auditZone is where a bare date in an audit filter starts and ends: the
// people reading the log think in Beijing time. The zone database is
// embedded (playlists imports time/tzdata), so loading cannot fail.
var auditZone = func() *time.Location {
	loc, err := time.LoadLocation(playlists.DefaultTimezone)
	if err != nil {
		panic(fmt.Sprintf("api: load %s: %v", playlists.DefaultTimezone, err))
	}
	return loc
}()

// auditExportPage is how many entries the CSV export reads per store
// transaction. Short read transactions matter: bbolt cannot grow its file
// while one is open, so a slow download must not hold one. A variable so
// tests can page through a handful of entries.
var auditExportPage = 1000

// parseAuditFilter reads the filters listAudit and exportAuditCSV share:
// user, object, action, since, until and before. Limit is left to the caller.
func parseAuditFilter(c echo.Context) (store.AuditFilter, error) {
	f := store.AuditFilter{
		User:   c.QueryParam("user"),
		Object: c.QueryParam("object"),
		Action: c.QueryParam("action"),
	}
	var err error
	if f.Since, err = parseAuditTime(c, "since", false); err != nil {
		return f, err
	}
	if f.Until, err = parseAuditTime(c, "until", true); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, playlists.FieldError{Field: "until", Problem: "must be after since"}
	}
	if s := c.QueryParam("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return f, playlists.InvalidFormat("before", fmt.Sprintf("must be a positive sequence number (got %q)", s))
		}
		f.BeforeSeq = n
	}
	return f, nil
}

// parseAuditTime reads an RFC 3339 time or a YYYY-MM-DD date in auditZone.
// A date as the upper bound means the end of that day, so since=2026-03-01
// &until=2026-03-01 is all of 1 March.
func parseAuditTime(c echo.Context, name string, endOfDay bool) (time.Time, error) {
	s := c.QueryParam(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, auditZone)
	if err != nil {
		return time.Time{}, playlists.InvalidFormat(name,
			fmt.Sprintf("%q is neither an RFC 3339 time such as 2026-03-01T09:00:00+08:00 nor a date such as 2026-03-01", s))
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// listAudit serves GET /api/v1/audit?user&object&action&since&until&limit
// &before: matching entries, newest first. The next page is before= the
// smallest seq of this one.
func (h *handler) listAudit(c echo.Context) error {
	f, err := parseAuditFilter(c)
	if err != nil {
		return err
	}
	if f.Limit, err = queryLimit(c, store.DefaultAuditLimit, store.MaxAuditLimit); err != nil {
		return err
	}
	es, err := h.store.ListAudit(f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, es)
}

// auditCSVHeader names exportAuditCSV's columns. time is exact (UTC, as
// hashed); local_time is for people and spreadsheets.
var auditCSVHeader = []string{
	"seq", "time", "local_time", "user", "user_id", "role", "via", "ip", "action", "target",
	"status", "detail", "before", "after", "prev", "hash",
}

func auditCSVRow(e store.AuditEntry) []string {
	// Every free-text cell goes through csvText: an action or detail such
	// as "=HYPERLINK(...)" must stay text in a spreadsheet. That changes
	// such cells, so recompute hashes from the JSON API, not from here.
	return []string{
		strconv.FormatUint(e.Seq, 10),
		e.Time.UTC().Format(time.RFC3339Nano),
		e.Time.In(auditZone).Format(time.DateTime),
		csvText(e.Actor), csvText(e.UserID), csvText(e.Role), csvText(e.Via), csvText(e.IP),
		csvText(e.Action), csvText(e.Target),
		strconv.Itoa(e.Status),
		csvText(e.Detail), e.Before, e.After, e.Prev, e.Hash,
	}
}

// exportAuditCSV serves GET /api/v1/audit.csv with listAudit's filters:
// every matching entry, newest first, streamed page by page. limit, when
// given, caps the rows; there is no default cap, as exporting the whole
// range is the point.
func (h *handler) exportAuditCSV(c echo.Context) error {
	f, err := parseAuditFilter(c)
	if err != nil {
		return err
	}
	maxRows := 0
	if s := c.QueryParam("limit"); s != "" {
		if maxRows, err = strconv.Atoi(s); err != nil || maxRows < 1 {
			return errorf(http.StatusBadRequest, "limit: must be a positive integer (got %q)", s)
		}
	}
	f.Limit = auditExportPage
	// The first page is read before anything is sent, so a failure still
	// gets a status and a JSON error.
	page, err := h.store.ListAudit(f)
	if err != nil {
		return err
	}

	resp := c.Response()
	name := "audit-" + h.opts.Now().In(auditZone).Format("20060102T1504") + ".csv"
	resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	resp.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	resp.WriteHeader(http.StatusOK)
	if _, err := resp.Write(utf8BOM); err != nil {
		return fmt.Errorf("write audit csv: %w", err)
	}
	w := csv.NewWriter(resp)
	// CRLF is what spreadsheet programs expect and RFC 4180 specifies.
	w.UseCRLF = true
	w.Write(auditCSVHeader)
	rows := 0
	for {
		for _, e := range page {
			if maxRows > 0 && rows == maxRows {
				break
			}
			w.Write(auditCSVRow(e))
			rows++
		}
		w.Flush()
		if err := w.Error(); err != nil {
			// The client went away; nobody is left to tell.
			return fmt.Errorf("write audit csv: %w", err)
		}
		resp.Flush()
		if len(page) < auditExportPage || maxRows > 0 && rows >= maxRows {
			return nil
		}
		f.BeforeSeq = page[len(page)-1].Seq
		if page, err = h.store.ListAudit(f); err != nil {
			// The status is sent; ending the response normally would pass
			// a truncated file off as complete, so abort the connection.
			h.log.Error("export audit csv", "rows_sent", rows, "error", err)
			panic(http.ErrAbortHandler)
		}
	}
}

// verifyAudit serves GET /api/v1/audit/verify: whether the hash chain is
// intact, and if not, the first broken link. A broken chain is a finding,
// not a failed request, so it is a 200 with ok=false.
func (h *handler) verifyAudit(c echo.Context) error {
	v, err := h.store.VerifyAudit()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
