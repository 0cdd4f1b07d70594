package api

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// maxImportBody bounds a bulk import's body: 20,000 rows of a district's
// spreadsheet fit well inside it.
const maxImportBody = 8 << 20

// importRow is one screen of a bulk import.
type importRow struct {
	Name        string   `json:"name"`
	Group       string   `json:"group"`
	Tags        []string `json:"tags"`
	Orientation string   `json:"orientation"`
	Timezone    string   `json:"timezone"`
}

// importedScreen is one screen of the import's answer: its token is shown
// this once.
type importedScreen struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	Token string `json:"token"`
}

// importScreens serves POST /screens/import: register many screens at
// once, as a district does from its spreadsheet of compounds. The body is
// JSON {"screens":[{"name","group","tags","orientation","timezone"}]} or
// CSV (Content-Type text/csv) with a header row naming those columns, tags
// separated by ";". All or nothing: one bad row (named by its number)
// creates none. The answer lists every screen with its device token, shown
// this once; content is published once for the whole import.
func (h *handler) importScreens(c echo.Context) error {
	rows, err := readImport(c)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return playlists.FieldError{Field: "screens", Problem: "is empty: nothing to import"}
	}
	p := principalOf(c)
	scs := make([]store.Screen, len(rows))
	for i, r := range rows {
		if err := p.checkPlacement("group", r.Group); err != nil {
			return importRowError(i+1, err)
		}
		scs[i] = store.Screen{Name: strings.TrimSpace(r.Name), Group: strings.TrimSpace(r.Group), Tags: r.Tags, Orientation: r.Orientation, Timezone: r.Timezone}
	}
	created, tokens, err := h.screens.Import(scs)
	var ie store.ImportError
	if errors.As(err, &ie) {
		return importRowError(ie.Row, ie.Err)
	}
	if err != nil {
		return err
	}
	out := make([]importedScreen, len(created))
	for i, sc := range created {
		out[i] = importedScreen{ID: sc.ID, Name: sc.Name, Group: sc.Group, Token: tokens[i]}
	}
	c.Set(ctxAuditTarget, fmt.Sprintf("%d screens", len(out)))
	body := map[string]any{"screens": out}
	if key := h.serverKey(); key != "" {
		body["server_key"] = key
	}
	return c.JSON(http.StatusCreated, body)
}

// importRowError is a refusal naming the row, with the row's own problem
// (status and words as the single create would answer).
func importRowError(row int, err error) error {
	status, msg := classify(err)
	if status >= 500 {
		return err
	}
	return errCode(http.StatusBadRequest, "import_row", fmt.Sprintf("row %d: %s; nothing was imported", row, msg))
}

func readImport(c echo.Context) ([]importRow, error) {
	r := c.Request()
	body := http.MaxBytesReader(c.Response(), r.Body, maxImportBody)
	ctype := strings.ToLower(r.Header.Get(echo.HeaderContentType))
	if strings.HasPrefix(ctype, "text/csv") {
		return readImportCSV(body)
	}
	var req struct {
		Screens []importRow `json:"screens"`
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, jsonError(err)
	}
	return req.Screens, nil
}

// importColumns are the CSV columns understood; name is required.
var importColumns = map[string]bool{"name": true, "group": true, "tags": true, "orientation": true, "timezone": true}

func readImportCSV(body io.Reader) ([]importRow, error) {
	cr := csv.NewReader(body)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, csvError(err, 0)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) // a spreadsheet's BOM
		if !importColumns[h] {
			return nil, playlists.FieldError{Field: "csv", Problem: fmt.Sprintf("unknown column %q in the header; use name, group, tags, orientation, timezone", h)}
		}
		col[h] = i
	}
	if _, ok := col["name"]; !ok {
		return nil, playlists.FieldError{Field: "csv", Problem: "the header has no name column"}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []importRow
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, csvError(err, n)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		var tags []string
		for _, t := range strings.FieldsFunc(get(rec, "tags"), func(r rune) bool { return r == ';' || r == '；' }) {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
		rows = append(rows, importRow{Name: get(rec, "name"), Group: get(rec, "group"), Tags: tags,
			Orientation: get(rec, "orientation"), Timezone: get(rec, "timezone")})
		if len(rows) > store.MaxImportScreens {
			return nil, playlists.FieldError{Field: "screens", Problem: fmt.Sprintf("more than %d rows; split the file", store.MaxImportScreens)}
		}
	}
}

func csvError(err error, row int) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	if row == 0 {
		return playlists.FieldError{Field: "csv", Problem: "no header row: " + err.Error()}
	}
	return errCode(http.StatusBadRequest, "import_row", fmt.Sprintf("row %d: not valid CSV: %v; nothing was imported", row, err))
}
