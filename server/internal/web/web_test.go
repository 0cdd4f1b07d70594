package web

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantCode   int
		wantType   string // prefix of Content-Type
		wantBody   string // substring
		wantHeader map[string]string
	}{
		{name: "index", method: "GET", path: "/admin/", wantCode: 200, wantType: "text/html", wantBody: `<script type="module" src="app.js"></script>`},
		{name: "head index", method: "HEAD", path: "/admin/", wantCode: 200, wantType: "text/html"},
		{name: "script", method: "GET", path: "/admin/app.js", wantCode: 200, wantType: "text/javascript", wantBody: "sessionStorage"},
		{name: "stylesheet", method: "GET", path: "/admin/app.css", wantCode: 200, wantType: "text/css", wantBody: "system-ui"},
		{name: "icon", method: "GET", path: "/admin/icon.svg", wantCode: 200, wantType: "image/svg+xml"},
		{name: "no slash redirects", method: "GET", path: "/admin", wantCode: 301, wantHeader: map[string]string{"Location": "/admin/"}},
		{name: "unknown file", method: "GET", path: "/admin/nope.js", wantCode: 404},
		{name: "unknown dir", method: "GET", path: "/admin/static/app.js", wantCode: 404},
		{name: "index has one address", method: "GET", path: "/admin/index.html", wantCode: 404},
		{name: "outside prefix", method: "GET", path: "/adminx", wantCode: 404},
		{name: "post refused", method: "POST", path: "/admin/", wantCode: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{name: "revalidation", method: "GET", path: "/admin/app.js", header: map[string]string{"If-None-Match": "*"}, wantCode: 304},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.wantCode {
				t.Fatalf("%s %s: status %d, want %d (body %q)", tt.method, tt.path, res.StatusCode, tt.wantCode, body)
			}
			// Every answer, errors included, carries the policy.
			if got := res.Header.Get("Content-Security-Policy"); got != CSP {
				t.Errorf("Content-Security-Policy = %q, want %q", got, CSP)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if tt.wantType != "" {
				if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
					t.Errorf("Content-Type = %q, want %s...", got, tt.wantType)
				}
			}
			if tt.wantBody != "" && !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body lacks %q; got %.200q", tt.wantBody, body)
			}
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD body has %d bytes, want 0", len(body))
			}
			for k, want := range tt.wantHeader {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestPolicyLetsMediaPreviewsPlay: the media library draws video
// thumbnails from blob: URLs, which default-src 'self' would block.
func TestPolicyLetsMediaPreviewsPlay(t *testing.T) {
	for _, want := range []string{"media-src 'self' blob:", "img-src 'self' blob:", "script-src 'self';", "object-src 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP %q lacks %q", CSP, want)
		}
	}
}

func TestETagRevalidates(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/app.css", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q; want an ETag and no-cache", etag, rec.Header().Get("Cache-Control"))
	}
	req := httptest.NewRequest("GET", "/admin/app.css", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %s: status %d, want 304", etag, rec.Code)
	}
}

// TestStaticFilesStayInsideThePolicy reads the embedded files for what the
// CSP would block or what would undo textContent-only rendering, so a
// change fails here rather than silently in a technician's browser.
func TestStaticFilesStayInsideThePolicy(t *testing.T) {
	files, err := load(staticFS)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range files {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(f.data, -1) {
			if !strings.Contains(string(tag), ` src="`) {
				t.Errorf("%s: %s has no src: scripts must be files (script-src 'self')", name, tag)
			}
		}
	}
	banned := []struct {
		in  string
		re  *regexp.Regexp
		why string
	}{
		{".html", regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), "inline script (blocked by script-src 'self')"},
		{".html", regexp.MustCompile(`\sstyle=`), "inline style attribute (blocked by style-src 'self')"},
		{".html", regexp.MustCompile(`<style`), "inline style element"},
		{".html", regexp.MustCompile(`\son[a-z]+=`), "inline event handler"},
		{".js", regexp.MustCompile(`\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(`), "HTML string sinks: render with textContent"},
		{".js", regexp.MustCompile(`setTimeout\(\s*['"]`), "string timer (eval)"},
		{".js", regexp.MustCompile(`document\.cookie`), "the session cookie is HttpOnly; the token belongs in sessionStorage only"},
		{".js", regexp.MustCompile(`\.style\.`), "inline styles: use classes"},
	}
	for name, f := range files {
		for _, b := range banned {
			if !strings.HasSuffix(name, b.in) {
				continue
			}
			if loc := b.re.FindIndex(f.data); loc != nil {
				t.Errorf("%s: %s at %q", name, b.why, f.data[loc[0]:min(loc[1]+40, len(f.data))])
			}
		}
		// localStorage outlives the tab: only the language choice goes
		// there (i18n.js), never a token.
		if strings.HasSuffix(name, ".js") && name != "i18n.js" && bytes.Contains(f.data, []byte("localStorage")) {
			t.Errorf("%s: uses localStorage; the token belongs in sessionStorage only", name)
		}
	}
}

// TestModulesResolve keeps the page's modules in step: every module an
// embedded script imports must be embedded too (one missing file would
// stop the whole page from loading), and every screen in app.js's route
// table must name a view it imports.
func TestModulesResolve(t *testing.T) {
	files, err := load(staticFS)
	if err != nil {
		t.Fatal(err)
	}
	imports := regexp.MustCompile(`(?m)^import [^;]*? from '\./([a-z0-9-]+\.js)';`)
	for name, f := range files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, m := range imports.FindAllSubmatch(f.data, -1) {
			if _, ok := files[string(m[1])]; !ok {
				t.Errorf("%s imports ./%s, which is not embedded", name, m[1])
			}
		}
	}
	app := string(files["app.js"].data)
	views := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^import (\w+) from '\./[a-z0-9-]+\.js';`).FindAllStringSubmatch(app, -1) {
		views[m[1]] = true
	}
	routes := regexp.MustCompile(`\{ name: '([a-z]+)',[^}]*view: (\w+)`).FindAllStringSubmatch(app, -1)
	if len(routes) < 10 {
		t.Fatalf("app.js has %d routes, want at least 10 (fleet, screen, items, playlists, schedules, review, urgent, alerts, users, audit, account)", len(routes))
	}
	for _, r := range routes {
		if !views[r[2]] {
			t.Errorf("route %q uses view %s, which app.js does not import", r[1], r[2])
		}
	}
}
