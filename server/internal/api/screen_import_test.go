package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type importAnswer struct {
	Screens []struct {
		ID, Name, Group, Token string
	} `json:"screens"`
}

func importCSV(v *env, csv string) *httptest.ResponseRecorder {
	v.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/screens/import", strings.NewReader(csv))
	req.Header.Set("Content-Type", "text/csv; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec
}

// TestImportScreens: a district's list of screens comes in as JSON or as
// a spreadsheet's CSV, all or nothing, each screen with a working device
// token shown once; one bad row, named by its number, creates none.
func TestImportScreens(t *testing.T) {
	v := newEnv(t)
	must[map[string]any](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "heping", "name": "和平街道"}), http.StatusCreated)

	got := must[importAnswer](t, v.admin("POST", "/api/v1/screens/import", map[string]any{"screens": []map[string]any{
		{"name": "3 号楼大堂", "group": "heping", "tags": []string{"大堂"}},
		{"name": "东门", "group": "heping", "orientation": "portrait"},
		{"name": "物业中心"},
	}}), http.StatusCreated)
	if len(got.Screens) != 3 || got.Screens[0].Name != "3 号楼大堂" || got.Screens[0].Group != "heping" {
		t.Fatalf("JSON import answered %+v", got.Screens)
	}
	for _, s := range got.Screens {
		if s.ID == "" || s.Token == "" {
			t.Errorf("imported screen without id or token: %+v", s)
		}
		if rec := v.do("GET", "/api/v1/device/manifest", s.Token, nil); rec.Code != http.StatusOK {
			t.Errorf("the token of %s does not work: %d %s", s.Name, rec.Code, rec.Body)
		}
	}

	// CSV as a spreadsheet saves it: a BOM, tags split by ";", a blank line.
	csv := "\ufeffname,group,tags,orientation\n二号楼,heping,室内;大堂,landscape\n\n\"西门, 北侧\",heping,,portrait\n"
	got = must[importAnswer](t, importCSV(v, csv), http.StatusCreated)
	if len(got.Screens) != 2 || got.Screens[1].Name != "西门, 北侧" {
		t.Fatalf("CSV import answered %+v", got.Screens)
	}
	one := must[struct {
		Tags        []string `json:"tags"`
		Orientation string   `json:"orientation"`
	}](t, v.admin("GET", "/api/v1/screens/"+got.Screens[0].ID, nil), http.StatusOK)
	if strings.Join(one.Tags, "|") != "大堂|室内" || one.Orientation != "landscape" { // tags are kept sorted
		t.Errorf("CSV row stored as tags %v orientation %q", one.Tags, one.Orientation)
	}

	count := func() int {
		return must[struct{ Total int }](t, v.admin("GET", "/api/v1/screens", nil), http.StatusOK).Total
	}
	before := count()
	refusals := []struct {
		name string
		rec  *httptest.ResponseRecorder
		want string
	}{
		{"unknown group in row 2", v.admin("POST", "/api/v1/screens/import", map[string]any{"screens": []map[string]any{
			{"name": "a", "group": "heping"}, {"name": "b", "group": "nowhere"}}}), "row 2"},
		{"a name missing in row 3", importCSV(v, "name,group\na,heping\nb,heping\n,heping\n"), "row 3"},
		{"unknown column", importCSV(v, "name,building\na,3\n"), "unknown column"},
		{"nothing to import", v.admin("POST", "/api/v1/screens/import", map[string]any{"screens": []any{}}), "empty"},
		{"unknown JSON field", v.admin("POST", "/api/v1/screens/import", map[string]any{"screens": []map[string]any{{"name": "a", "token": "x"}}}), "token"},
	}
	for _, r := range refusals {
		if r.rec.Code != http.StatusBadRequest || !strings.Contains(r.rec.Body.String(), r.want) {
			t.Errorf("%s: got %d %s, want 400 naming %q", r.name, r.rec.Code, r.rec.Body, r.want)
		}
	}
	if after := count(); after != before {
		t.Errorf("refused imports created %d screens", after-before)
	}
}

// TestImportTenThousandScreens: a district's 10,000 screens in one import
// (one transaction, one publish). The time is logged, not asserted.
func TestImportTenThousandScreens(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 screens in -short mode")
	}
	v := newEnv(t)
	var b strings.Builder
	b.WriteString("name,tags\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "屏幕 %05d,bulk\n", i)
	}
	start := time.Now()
	got := must[importAnswer](t, importCSV(v, b.String()), http.StatusCreated)
	took := time.Since(start)
	if len(got.Screens) != 10000 {
		t.Fatalf("imported %d screens, want 10000", len(got.Screens))
	}
	t.Logf("10,000 screens imported in %v (in-process, httptest)", took.Round(time.Millisecond))
}
