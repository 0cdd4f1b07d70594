package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/store"
)

// auditEnv serves only the audit handlers, so these tests do not depend on
// the route table or on authentication.
type auditEnv struct {
	t  *testing.T
	e  *echo.Echo
	st *store.Store
}

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	now := func() time.Time { return testNow }
	st, err := store.Open(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &handler{opts: Options{Now: now}, store: st, log: slog.New(slog.DiscardHandler)}
	e := echo.New()
	e.HTTPErrorHandler = h.handleError
	e.GET("/audit", h.listAudit)
	e.GET("/audit.csv", h.exportAuditCSV)
	e.GET("/audit/verify", h.verifyAudit)
	return &auditEnv{t: t, e: e, st: st}
}

func (v *auditEnv) get(path string) *httptest.ResponseRecorder {
	v.t.Helper()
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

func (v *auditEnv) seed(es ...store.AuditEntry) {
	v.t.Helper()
	for _, e := range es {
		if err := v.st.AppendAudit(e); err != nil {
			v.t.Fatal(err)
		}
	}
}

func seqsOf(es []store.AuditEntry) string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprint(e.Seq))
	}
	return strings.Join(out, ",")
}

// at is an instant in Beijing time, where the date filters are read.
func at(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, auditZone)
	if err != nil {
		panic(err)
	}
	return t
}

func TestListAuditHandler(t *testing.T) {
	v := newAuditEnv(t)
	v.seed(
		store.AuditEntry{Time: at("2026-02-28 23:59:00"), Actor: "alice", UserID: "usr_a", Action: "signin"},                          // 1
		store.AuditEntry{Time: at("2026-03-01 00:00:00"), Actor: "alice", UserID: "usr_a", Action: "item.create", Target: "itm_1"},    // 2
		store.AuditEntry{Time: at("2026-03-01 23:59:59"), Actor: "bob", UserID: "usr_b", Action: "changeset.approve", Target: "cs_1"}, // 3
		store.AuditEntry{Time: at("2026-03-02 00:00:00"), Actor: "bob", UserID: "usr_b", Action: "item.update", Target: "itm_1"},      // 4
	)
	tests := []struct {
		query string
		want  string
	}{
		{"", "4,3,2,1"},
		{"?user=alice", "2,1"},
		{"?user=usr_b", "4,3"},
		{"?object=itm_1", "4,2"},
		{"?action=item.", "4,2"},
		// A date is a whole day in Beijing, whatever the server's zone.
		{"?since=2026-03-01", "4,3,2"},
		{"?until=2026-03-01", "3,2,1"},
		{"?since=2026-03-01&until=2026-03-01", "3,2"},
		{"?since=2026-03-01T00:00:00%2B08:00&until=2026-03-01T16:00:00Z", "3,2"},
		{"?since=2026-02-28T16:00:00Z", "4,3,2"},
		{"?limit=2", "4,3"},
		{"?limit=2&before=3", "2,1"},
		{"?user=bob&object=itm_1&action=item.update&since=2026-03-02", "4"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			es := must[[]store.AuditEntry](t, v.get("/audit"+tt.query), 200)
			if got := seqsOf(es); got != tt.want {
				t.Errorf("GET /audit%s: got seqs %s, want %s", tt.query, got, tt.want)
			}
		})
	}
	if rec := v.get("/audit?user=nobody"); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("no match: got %d %s, want 200 []", rec.Code, rec.Body)
	}
	es := must[[]store.AuditEntry](t, v.get("/audit?limit=1"), 200)
	if es[0].Hash == "" || es[0].Prev == "" || es[0].UserID != "usr_b" {
		t.Errorf("entry fields: got %+v, want user id, prev and hash", es[0])
	}
}

func TestAuditHandlersRejectBadQueries(t *testing.T) {
	v := newAuditEnv(t)
	tests := []struct{ query, mention string }{
		{"since=yesterday", "since"},
		{"since=2026-3-1", "since"},
		{"until=2026-13-01", "until"},
		{"since=2026-03-02&until=2026-03-01", "until"},
		{"since=2026-03-01T10:00:00Z&until=2026-03-01T10:00:00Z", "until"},
		{"before=0", "before"},
		{"before=-1", "before"},
		{"before=x", "before"},
		{"limit=0", "limit"},
		{"limit=x", "limit"},
	}
	for _, path := range []string{"/audit", "/audit.csv"} {
		for _, tt := range tests {
			t.Run(path+"?"+tt.query, func(t *testing.T) {
				rec := v.get(path + "?" + tt.query)
				var body map[string]string
				json.Unmarshal(rec.Body.Bytes(), &body)
				if rec.Code != 400 || !strings.HasPrefix(body["error"], tt.mention+":") {
					t.Errorf("got %d %s, want 400 with an error about %s", rec.Code, rec.Body, tt.mention)
				}
			})
		}
	}
	if rec := v.get("/audit?limit=5001"); rec.Code != 400 {
		t.Errorf("limit above the maximum: got %d, want 400", rec.Code)
	}
	if rec := v.get("/audit.csv?limit=5001"); rec.Code != 200 {
		t.Errorf("CSV limit above the list maximum: got %d, want 200 (an export has no cap)", rec.Code)
	}
}

func TestExportAuditCSV(t *testing.T) {
	old := auditExportPage
	auditExportPage = 2 // several pages for a handful of entries
	t.Cleanup(func() { auditExportPage = old })

	v := newAuditEnv(t)
	v.seed(
		store.AuditEntry{Time: at("2026-03-01 08:00:00"), Actor: "alice", UserID: "usr_a", Role: "editor", Via: "session",
			IP: "10.0.0.7", Action: "item.update", Target: "itm_1", Status: 200, Detail: "标题 \"停水\", 改了",
			Before: store.HashJSON("a"), After: store.HashJSON("b")},
		store.AuditEntry{Time: at("2026-03-01 09:00:00"), Actor: "=cmd|'/c calc'!A1", Action: "+1", Target: "-2", Detail: "@SUM(A1)"},
		store.AuditEntry{Time: at("2026-03-01 10:00:00"), Actor: "bob", Action: "signin.failed", Status: 401, Detail: "\tx"},
		store.AuditEntry{Time: at("2026-03-01 11:00:00"), Actor: "bob", Action: "signin", Status: 200},
		store.AuditEntry{Time: at("2026-03-01 12:00:00"), Actor: "carol", Action: "signin", Status: 200},
	)

	rec := v.get("/audit.csv")
	if rec.Code != 200 {
		t.Fatalf("GET /audit.csv: got %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type: got %q, want text/csv; charset=utf-8", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="audit-20260301T1700.csv"` {
		t.Errorf("Content-Disposition: got %q, want an attachment named after the Beijing time", cd)
	}
	body, ok := bytes.CutPrefix(rec.Body.Bytes(), utf8BOM)
	if !ok {
		t.Error("CSV does not start with a UTF-8 byte order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, body)
	}
	if len(rows) != 6 || strings.Join(rows[0], ",") != strings.Join(auditCSVHeader, ",") {
		t.Fatalf("CSV: got %d rows, header %v; want the header and 5 entries", len(rows), rows[0])
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	var seqs []string
	for _, r := range rows[1:] {
		seqs = append(seqs, r[col["seq"]])
	}
	if got := strings.Join(seqs, ","); got != "5,4,3,2,1" {
		t.Errorf("CSV seqs: got %s, want 5,4,3,2,1 (every page, newest first)", got)
	}

	first := rows[5]
	want := map[string]string{
		"time": "2026-03-01T00:00:00Z", "local_time": "2026-03-01 08:00:00", "user": "alice", "user_id": "usr_a",
		"role": "editor", "via": "session", "ip": "10.0.0.7", "action": "item.update", "target": "itm_1",
		"status": "200", "detail": "标题 \"停水\", 改了", "before": store.HashJSON("a"), "after": store.HashJSON("b"), "prev": "",
	}
	for name, w := range want {
		if got := first[col[name]]; got != w {
			t.Errorf("CSV seq 1 %s: got %q, want %q", name, got, w)
		}
	}
	if len(first[col["hash"]]) != 64 {
		t.Errorf("CSV seq 1 hash: got %q, want 64 hex digits", first[col["hash"]])
	}
	// Cells a spreadsheet would run as formulas start with a quote.
	inj := rows[4]
	for name, w := range map[string]string{"user": "'=cmd|'/c calc'!A1", "action": "'+1", "target": "'-2", "detail": "'@SUM(A1)"} {
		if got := inj[col[name]]; got != w {
			t.Errorf("CSV formula cell %s: got %q, want %q", name, got, w)
		}
	}
	if got := rows[3][col["detail"]]; got != "'\tx" {
		t.Errorf("CSV cell starting with a tab: got %q, want it quoted", got)
	}

	// Filters and limit apply to the export too.
	rec = v.get("/audit.csv?user=bob&limit=1")
	rows, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), utf8BOM))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][col["seq"]] != "4" {
		t.Errorf("GET /audit.csv?user=bob&limit=1: got %v %v, want the header and seq 4", rows, err)
	}
	rec = v.get("/audit.csv?user=nobody")
	rows, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rec.Body.Bytes(), utf8BOM))).ReadAll()
	if err != nil || len(rows) != 1 {
		t.Errorf("GET /audit.csv with no match: got %v %v, want only the header", rows, err)
	}
}

func TestVerifyAuditHandler(t *testing.T) {
	v := newAuditEnv(t)
	v.seed(store.AuditEntry{Actor: "alice", Action: "signin"}, store.AuditEntry{Actor: "alice", Action: "item.create"})
	got := must[store.AuditVerify](t, v.get("/audit/verify"), 200)
	es, _ := v.st.ListAudit(store.AuditFilter{Limit: 1})
	if want := (store.AuditVerify{Entries: 2, OK: true, Last: 2, Head: es[0].Hash}); got != want {
		t.Errorf("GET /audit/verify: got %+v, want %+v", got, want)
	}
	// The JSON names are part of the API.
	rec := v.get("/audit/verify")
	for _, key := range []string{`"entries":2`, `"ok":true`, `"broken_at":0`, `"head":"`} {
		if !strings.Contains(rec.Body.String(), key) {
			t.Errorf("GET /audit/verify body %s: missing %s", rec.Body, key)
		}
	}
}
