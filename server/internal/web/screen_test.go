package web

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"kiosk/screenpage"
)

// TestScreenPage: /admin/screen/ serves the players' screen page byte for
// byte, framable by the admin page only, under the players' strict policy.
func TestScreenPage(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, file string
	}{
		{"/admin/screen/", screenpage.Index},
		{"/admin/screen/?preview", screenpage.Index},
		{"/admin/screen/static/app.js", "app.js"},
		{"/admin/screen/static/app.css", "app.css"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		want, _ := screenpage.Lookup(tc.file)
		if res.StatusCode != 200 || !bytes.Equal(body, want.Body) {
			t.Errorf("GET %s: status %d, %d bytes; want 200 and the %d bytes of screenpage %s", tc.path, res.StatusCode, len(body), len(want.Body), tc.file)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if csp != screenpage.CSP("'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q, want the screen page's with frame-ancestors 'self'", tc.path, csp)
		}
		if res.Header.Get("X-Frame-Options") != "SAMEORIGIN" || res.Header.Get("ETag") != want.ETag {
			t.Errorf("GET %s: X-Frame-Options %q ETag %q, want SAMEORIGIN and %s", tc.path, res.Header.Get("X-Frame-Options"), res.Header.Get("ETag"), want.ETag)
		}
	}
	for _, p := range []string{"/admin/screen/static/index.html", "/admin/screen/static/nope.js", "/admin/screen/index.html", "/admin/screen/static/../app.js"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != 404 {
			t.Errorf("GET %s: status %d, want 404", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/admin/screen/", nil))
	if rec.Code != 405 {
		t.Errorf("POST /admin/screen/: status %d, want 405", rec.Code)
	}
}
