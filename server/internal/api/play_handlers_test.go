package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

type playsAnswer struct {
	BatchID   string `json:"batch_id"`
	Accepted  int    `json:"accepted"`
	Duplicate bool   `json:"duplicate"`
}

var playT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func goodBatch(id, item string, n int) playlists.PlayBatch {
	b := playlists.PlayBatch{BatchID: id}
	for i := range n {
		b.Plays = append(b.Plays, playlists.Play{
			ID: fmt.Sprintf("%s-%d", id, i), Item: item, Playlist: "pl", Schedule: "s",
			Start: playT0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), DurationMS: 10000,
		})
	}
	return b
}

func TestPostPlays(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	const path = "/api/v1/device/plays"

	got := must[playsAnswer](t, v.do("POST", path, s.tokenA, goodBatch("b1", s.item, 3)), http.StatusOK)
	if got != (playsAnswer{"b1", 3, false}) {
		t.Fatalf("first upload: got %+v, want b1 accepted 3", got)
	}
	got = must[playsAnswer](t, v.do("POST", path, s.tokenA, goodBatch("b1", s.item, 3)), http.StatusOK)
	if got != (playsAnswer{"b1", 0, true}) {
		t.Fatalf("same batch again: got %+v, want duplicate with nothing accepted", got)
	}
	// A batch cut differently on retry: its plays are still counted once.
	b2 := goodBatch("b1", s.item, 4)
	b2.BatchID = "b2"
	got = must[playsAnswer](t, v.do("POST", path, s.tokenA, b2), http.StatusOK)
	if got.Accepted != 1 || got.Duplicate {
		t.Fatalf("batch overlapping a stored one: got %+v, want 1 new play accepted", got)
	}

	long := strings.Repeat("x", 201)
	tooMany := goodBatch("big", s.item, playlists.MaxPlaysPerBatch+1)
	bad := []struct {
		name string
		body any
		want string // part of the error message
	}{
		{"not JSON", `{"batch_id":`, "invalid JSON"},
		{"empty body", ``, "empty"},
		{"screen field", `{"batch_id":"x","screen":"` + s.screenB + `","plays":[]}`, "screen"},
		{"screen field inside a play", `{"batch_id":"x","plays":[{"id":"1","item":"i","start":1,"duration_ms":1,"screen":"` + s.screenB + `"}]}`, "screen"},
		{"plays not an array", `{"batch_id":"x","plays":{}}`, "plays"},
		{"no batch id", `{"plays":[]}`, "batch_id"},
		{"batch id too long", `{"batch_id":"` + long + `","plays":[]}`, "batch_id"},
		{"too many plays", tooMany, "at most 500"},
		{"play without id", `{"batch_id":"x","plays":[{"item":"i","start":1,"duration_ms":1}]}`, "plays[0].id"},
		{"play without item", `{"batch_id":"x","plays":[{"id":"1","start":1,"duration_ms":1}]}`, "plays[0].item"},
		{"start zero", `{"batch_id":"x","plays":[{"id":"1","item":"i","start":0,"duration_ms":1}]}`, "plays[0].start"},
		{"negative duration", `{"batch_id":"x","plays":[{"id":"1","item":"i","start":1,"duration_ms":-1}]}`, "plays[0].duration_ms"},
		{"duration over a day", `{"batch_id":"x","plays":[{"id":"1","item":"i","start":1,"duration_ms":86400001}]}`, "plays[0].duration_ms"},
		{"NUL in id", `{"batch_id":"x","plays":[{"id":"a\u0000b","item":"i","start":1,"duration_ms":1}]}`, "plays[0].id"},
		{"second play bad", `{"batch_id":"x","plays":[{"id":"1","item":"i","start":1,"duration_ms":1},{"id":"2","item":"i","start":1,"duration_ms":"long"}]}`, "duration_ms"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			rec := v.do("POST", path, s.tokenA, c.body)
			e := must[map[string]string](t, rec, http.StatusBadRequest)
			if !strings.Contains(e["error"], c.want) {
				t.Fatalf("error = %q, want it to mention %q", e["error"], c.want)
			}
		})
	}
	// Auth: the token decides the screen; the admin token is no device.
	if rec := v.do("POST", path, "", goodBatch("z", s.item, 1)); rec.Code != http.StatusUnauthorized {
		t.Errorf("no token: got %d, want 401", rec.Code)
	}
	if rec := v.do("POST", path, adminToken, goodBatch("z", s.item, 1)); rec.Code != http.StatusForbidden {
		t.Errorf("admin token: got %d, want 403", rec.Code)
	}

	// Bad input changed nothing: both screens still upload.
	must[playsAnswer](t, v.do("POST", path, s.tokenA, goodBatch("b3", s.item, 1)), http.StatusOK)
	must[playsAnswer](t, v.do("POST", path, s.tokenB, goodBatch("b1", s.item, 2)), http.StatusOK)
	all, err := v.st.ListPlays(playT0.Add(-time.Hour), playT0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	perScreen := map[string]int{}
	for _, p := range all {
		perScreen[p.Screen]++
	}
	if perScreen[s.screenA] != 5 || perScreen[s.screenB] != 2 || len(perScreen) != 2 {
		t.Fatalf("stored plays per screen = %v; want A 5, B 2", perScreen)
	}

	metrics := v.do("GET", "/metrics", "", nil).Body.String()
	for _, want := range []string{
		"kiosk_plays_ingested_total 7",
		`kiosk_play_batches_total{result="duplicate"} 1`,
		`kiosk_play_batches_total{result="accepted"} 4`,
		fmt.Sprintf(`kiosk_play_batches_total{result="rejected"} %d`, len(bad)),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestPlayReportAPI(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	must[playsAnswer](t, v.do("POST", "/api/v1/device/plays", s.tokenA, goodBatch("b1", s.item, 3)), http.StatusOK)
	must[playsAnswer](t, v.do("POST", "/api/v1/device/plays", s.tokenB, goodBatch("b1", s.item, 2)), http.StatusOK)
	from, to := "2026-03-01T00:00:00%2B08:00", "2026-03-02T00:00:00%2B08:00"
	base := "/api/v1/reports/plays?from=" + from + "&to=" + to

	rows := must[[]store.ReportRow](t, v.admin("GET", base+"&group_by=screen", nil), http.StatusOK)
	if len(rows) != 2 {
		t.Fatalf("by screen: %+v, want 2 rows", rows)
	}
	for _, r := range rows {
		want := map[string]store.ReportRow{
			s.screenA: {Key: s.screenA, Label: "A", Plays: 3, Seconds: 30},
			s.screenB: {Key: s.screenB, Label: "B", Plays: 2, Seconds: 20},
		}[r.Key]
		if r != want {
			t.Errorf("row %+v, want %+v", r, want)
		}
	}
	// group_by defaults to item.
	rows = must[[]store.ReportRow](t, v.admin("GET", base, nil), http.StatusOK)
	if len(rows) != 1 || rows[0] != (store.ReportRow{Key: s.item, Label: "反诈", Plays: 5, Seconds: 50}) {
		t.Fatalf("by item: %+v, want one row 反诈 with 5 plays, 50 s", rows)
	}

	rec := v.admin("GET", base+"&group_by=item&format=csv", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("csv: status %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("csv Content-Type = %q, want text/csv", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=\"plays-by-item-20260301T0000-20260302T0000.csv") {
		t.Errorf("csv Content-Disposition = %q, want an attachment named after the query", cd)
	}
	body := rec.Body.Bytes()
	if !bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("csv starts with % x, want the UTF-8 BOM EF BB BF", body[:min(3, len(body))])
	}
	recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"item", "label", "plays", "seconds"}, {s.item, "反诈", "5", "50"}}
	if fmt.Sprint(recs) != fmt.Sprint(want) {
		t.Fatalf("csv = %q, want %q", recs, want)
	}

	bad := []struct{ name, query, want string }{
		{"no from", "?to=" + to, "from"},
		{"bad from", "?from=yesterday&to=" + to, "from"},
		{"no to", "?from=" + from, "to"},
		{"to before from", "?from=" + to + "&to=" + from, "after"},
		{"to equals from", "?from=" + from + "&to=" + from, "after"},
		{"range over a year", "?from=2025-01-01T00:00:00Z&to=2026-01-03T00:00:00Z", "366"},
		{"unknown group_by", "?from=" + from + "&to=" + to + "&group_by=week", "group_by"},
		{"unknown format", "?from=" + from + "&to=" + to + "&format=xlsx", "format"},
		{"unknown tz", "?from=" + from + "&to=" + to + "&tz=Mars/Olympus", "tz"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			e := must[map[string]string](t, v.admin("GET", "/api/v1/reports/plays"+c.query, nil), http.StatusBadRequest)
			if !strings.Contains(e["error"], c.want) {
				t.Fatalf("error = %q, want it to mention %q", e["error"], c.want)
			}
		})
	}
	if rec := v.do("GET", base, s.tokenA, nil); rec.Code != http.StatusForbidden {
		t.Errorf("report with a device token: got %d, want 403", rec.Code)
	}
}

func TestCSVText(t *testing.T) {
	for in, want := range map[string]string{
		"反诈宣传": "反诈宣传", "=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1": "'+1", "-": "'-", "@a": "'@a", "": "",
	} {
		if got := csvText(in); got != want {
			t.Errorf("csvText(%q) = %q, want %q", in, got, want)
		}
	}
}
