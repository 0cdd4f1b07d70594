package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"kiosk/server"
	"kiosk/server/servertest"
)

const testToken = "adminload-test-token"

func startServer(t *testing.T) string {
	t.Helper()
	base := servertest.Start(t, server.Config{AdminToken: testToken})
	var csv bytes.Buffer
	csv.WriteString("name,group,tags\n")
	for i := range 150 {
		csv.WriteString("屏幕 " + string(rune('A'+i%26)) + ",,lobby\n")
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/screens/import", &csv)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("import: %v %v", err, resp)
	}
	resp.Body.Close()
	return base
}

// The whole mix runs against a real server without an error, every kind is
// asked for, and the counts add up. No speed is asserted.
func TestRunAgainstARealServer(t *testing.T) {
	base := startServer(t)
	res, err := Run(context.Background(), Config{URL: base, Token: testToken, Rate: 100, Duration: 2 * time.Second, InFlight: 16, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Fatalf("%d errors: %v", res.Errors, res.ErrorSamples)
	}
	if res.Requests != 200 {
		t.Errorf("%d requests, want 200 (100/s for 2 s)", res.Requests)
	}
	sum := 0
	for _, k := range mix {
		st := res.ByKind[k.Name]
		if st.Count == 0 {
			t.Errorf("kind %s never asked", k.Name)
		}
		sum += st.Count
		if st.P99 < st.P50 || st.Max < st.P99 {
			t.Errorf("%s percentiles out of order: %+v", k.Name, st.Percentiles)
		}
	}
	if sum != res.Requests {
		t.Errorf("kinds add up to %d, want %d", sum, res.Requests)
	}
	var out strings.Builder
	report(&out, Config{Rate: 100}, res)
	if !strings.Contains(out.String(), "screens_page") || !strings.Contains(out.String(), "0 errors") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestRefusesWhatIsNotLoopbackOrOutOfBounds(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://10.0.0.5:8080"},
		{"-url", "http://example.com"},
		{"-rate", "0"},
		{"-rate", "100000"},
		{"-duration", "2h"},
		{"-inflight", "0"},
	} {
		env := func(string) string { return "tok" }
		if _, _, err := parseFlags(args, env, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, _, err := parseFlags(nil, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("no token: %v", err)
	}
	if _, _, err := parseFlags([]string{"-url", "http://127.0.0.2:9"}, func(string) string { return "tok" }, io.Discard); err != nil {
		t.Errorf("127.0.0.2 refused: %v", err)
	}
}
