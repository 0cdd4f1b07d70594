package api

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/store"
)

// mediaEnv is the API behind a real loopback HTTP server (so that answers
// go through net/http's connection and sendfile, not a recorder), with one
// screen whose manifest names one asset of 300 KB of random bytes (a
// schedule for that screen alone).
type mediaEnv struct {
	*env
	srv      *httptest.Server
	sha      string
	data     []byte
	item     string
	playlist string
	schedule string
	screen   string
	token    string
}

func newMediaEnv(t *testing.T) *mediaEnv {
	t.Helper()
	v := newEnv(t, func(o *Options) { o.MaxUploadBytes = 1 << 20 })
	data := make([]byte, 300_000)
	rand.Read(data)
	copy(data, pngBytes(""))
	m := &mediaEnv{env: v, data: data}
	m.sha = must[store.Asset](t, upload(v, adminToken, "big.png", data), http.StatusCreated).SHA256
	m.item = must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "反诈", "asset": m.sha}), 201).ID
	sc := must[struct{ ID, Token string }](t, v.admin("POST", "/api/v1/screens", map[string]any{"name": "A"}), 201)
	m.screen, m.token = sc.ID, sc.Token
	m.playlist = must[idResp](t, v.admin("POST", "/api/v1/playlists", map[string]any{"name": "日常", "items": []string{m.item}}), 201).ID
	m.schedule = must[idResp](t, v.admin("POST", "/api/v1/schedules", map[string]any{"playlist": m.playlist, "target": map[string]any{"screens": []string{m.screen}}}), 201).ID
	if err := v.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	m.srv = httptest.NewServer(v.e)
	t.Cleanup(m.srv.Close)
	return m
}

// get sends a GET over the loopback connection with token (if any) and
// the headers given as name, value pairs, and reads the whole answer.
func (m *mediaEnv) get(path, token string, headers ...string) (*http.Response, []byte) {
	m.t.Helper()
	req, err := http.NewRequest("GET", m.srv.URL+path, nil)
	if err != nil {
		m.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := m.srv.Client().Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		m.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp, body
}

func (m *mediaEnv) blob() string {
	return filepath.Join(m.st.Dir(), "assets", m.sha[:2], m.sha)
}

func TestDeviceAssetBytesAndHeaders(t *testing.T) {
	m := newMediaEnv(t)
	path := "/api/v1/device/assets/" + m.sha
	resp, body := m.get(path, m.token)
	if resp.StatusCode != 200 || !bytes.Equal(body, m.data) {
		t.Fatalf("GET: got %d with %d bytes (identical: %v), want 200 with the %d uploaded bytes",
			resp.StatusCode, len(body), bytes.Equal(body, m.data), len(m.data))
	}
	for name, want := range map[string]string{
		"ETag":                    `"` + m.sha + `"`,
		"Content-Length":          strconv.Itoa(len(m.data)),
		"Content-Type":            "image/png",
		"Accept-Ranges":           "bytes",
		"Cache-Control":           assetCacheControl,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
		"Last-Modified":           testNow.Format(http.TimeFormat),
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	// The admin page's raw route serves the same bytes the same way.
	resp, body = m.get("/api/v1/assets/"+m.sha+"/raw", adminToken)
	if resp.StatusCode != 200 || !bytes.Equal(body, m.data) || resp.Header.Get("ETag") != `"`+m.sha+`"` {
		t.Errorf("raw GET: got %d with %d bytes, ETag %q", resp.StatusCode, len(body), resp.Header.Get("ETag"))
	}
}

func TestDeviceAssetRanges(t *testing.T) {
	m := newMediaEnv(t)
	path := "/api/v1/device/assets/" + m.sha
	n := len(m.data)
	for _, tt := range []struct {
		name, rng    string
		from, to     int // inclusive
		contentRange string
	}{
		{"first bytes", "bytes=0-99", 0, 99, fmt.Sprintf("bytes 0-99/%d", n)},
		{"middle", "bytes=100000-165535", 100000, 165535, fmt.Sprintf("bytes 100000-165535/%d", n)},
		{"open end", fmt.Sprintf("bytes=%d-", n-1000), n - 1000, n - 1, fmt.Sprintf("bytes %d-%d/%d", n-1000, n-1, n)},
		{"suffix", "bytes=-512", n - 512, n - 1, fmt.Sprintf("bytes %d-%d/%d", n-512, n-1, n)},
		{"past the end is cut", fmt.Sprintf("bytes=%d-%d", n-10, n+1000), n - 10, n - 1, fmt.Sprintf("bytes %d-%d/%d", n-10, n-1, n)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := m.get(path, m.token, "Range", tt.rng)
			if resp.StatusCode != 206 || !bytes.Equal(body, m.data[tt.from:tt.to+1]) {
				t.Fatalf("Range %s: got %d with %d bytes, want 206 with bytes %d-%d", tt.rng, resp.StatusCode, len(body), tt.from, tt.to)
			}
			if got := resp.Header.Get("Content-Range"); got != tt.contentRange {
				t.Errorf("Content-Range: got %q, want %q", got, tt.contentRange)
			}
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(tt.to-tt.from+1) {
				t.Errorf("Content-Length: got %q, want %d", got, tt.to-tt.from+1)
			}
		})
	}
	t.Run("unsatisfiable", func(t *testing.T) {
		for _, rng := range []string{fmt.Sprintf("bytes=%d-", n), fmt.Sprintf("bytes=%d-%d", n+5, n+10)} {
			resp, _ := m.get(path, m.token, "Range", rng)
			if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", n) {
				t.Errorf("Range %s: got %d Content-Range %q, want 416 with bytes */%d", rng, resp.StatusCode, resp.Header.Get("Content-Range"), n)
			}
		}
		if resp, _ := m.get(path, m.token, "Range", "bytes=9-2"); resp.StatusCode != 416 {
			t.Errorf("Range bytes=9-2: got %d, want 416", resp.StatusCode)
		}
	})
	t.Run("several ranges", func(t *testing.T) {
		resp, body := m.get(path, m.token, "Range", "bytes=0-9,200000-200099")
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 206 || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("two ranges: got %d %q, want 206 multipart/byteranges", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for _, want := range [][2]int{{0, 9}, {200000, 200099}} {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %v: %v", want, err)
			}
			got, _ := io.ReadAll(p)
			if !bytes.Equal(got, m.data[want[0]:want[1]+1]) || p.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", want[0], want[1], n) {
				t.Errorf("part %v: got %d bytes, Content-Range %q", want, len(got), p.Header.Get("Content-Range"))
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Errorf("after two parts: got %v, want the end", err)
		}
	})
	t.Run("If-Range", func(t *testing.T) {
		resp, body := m.get(path, m.token, "Range", "bytes=0-9", "If-Range", `"`+m.sha+`"`)
		if resp.StatusCode != 206 || len(body) != 10 {
			t.Errorf("If-Range with the ETag: got %d with %d bytes, want 206 with 10", resp.StatusCode, len(body))
		}
		resp, body = m.get(path, m.token, "Range", "bytes=0-9", "If-Range", `"something else"`)
		if resp.StatusCode != 200 || !bytes.Equal(body, m.data) {
			t.Errorf("If-Range with another ETag: got %d with %d bytes, want 200 with all", resp.StatusCode, len(body))
		}
	})
	// echo's bookkeeping saw what was sent: the metrics count each
	// status under the route.
	rec := m.do("GET", "/metrics", "", nil)
	for _, code := range []string{"206", "416", "200"} {
		if want := fmt.Sprintf(`kiosk_http_requests_total{code=%q,method="GET",route="/api/v1/device/assets/:sha"}`, code); !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics: no %s", want)
		}
	}
}

// A revalidation is answered from memory: with the blob gone from the
// disk, 304s still come for both routes, so no file was opened; a full
// GET (which must open it) does not succeed.
func TestAssetRevalidationOpensNoFile(t *testing.T) {
	m := newMediaEnv(t)
	device := "/api/v1/device/assets/" + m.sha
	raw := "/api/v1/assets/" + m.sha + "/raw"
	etag := `"` + m.sha + `"`
	// Preconditions ServeContent orders before If-None-Match still apply.
	if resp, _ := m.get(raw, adminToken, "If-Match", `"other"`, "If-None-Match", etag); resp.StatusCode != 412 {
		t.Errorf("If-Match another ETag: got %d, want 412", resp.StatusCode)
	}
	if resp, body := m.get(raw, adminToken, "If-None-Match", `"other"`); resp.StatusCode != 200 || !bytes.Equal(body, m.data) {
		t.Errorf("If-None-Match another ETag: got %d, want 200 with the bytes", resp.StatusCode)
	}

	if err := os.Rename(m.blob(), m.blob()+".hidden"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, token string
		headers           []string
	}{
		{"device If-None-Match", device, m.token, []string{"If-None-Match", etag}},
		{"device If-None-Match in a list", device, m.token, []string{"If-None-Match", `"a", W/` + etag}},
		{"device If-None-Match *", device, m.token, []string{"If-None-Match", "*"}},
		{"device If-Modified-Since", device, m.token, []string{"If-Modified-Since", testNow.Format(http.TimeFormat)}},
		{"raw If-None-Match", raw, adminToken, []string{"If-None-Match", etag}},
		{"raw If-Modified-Since", raw, adminToken, []string{"If-Modified-Since", testNow.Add(3600e9).Format(http.TimeFormat)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := m.get(tt.path, tt.token, tt.headers...)
			if resp.StatusCode != 304 || len(body) != 0 {
				t.Fatalf("got %d with %d bytes, want an empty 304", resp.StatusCode, len(body))
			}
			if resp.Header.Get("ETag") != etag || resp.Header.Get("Cache-Control") != assetCacheControl {
				t.Errorf("304 headers: ETag %q Cache-Control %q", resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "" {
				t.Errorf("304 Content-Type: got %q, want none", ct)
			}
		})
	}
	// What needs the bytes does not succeed without them.
	for _, tt := range []struct{ path, token string }{{device, m.token}, {raw, adminToken}} {
		for _, h := range [][]string{nil, {"If-Modified-Since", testNow.Add(-3600e9).Format(http.TimeFormat)}, {"Range", "bytes=0-9"}} {
			if resp, _ := m.get(tt.path, tt.token, h...); resp.StatusCode < 400 {
				t.Errorf("%s %v with the blob off the disk: got %d, want a failure", tt.path, h, resp.StatusCode)
			}
		}
	}
}

// A device request is authenticated before anything is looked up, the
// revalidation from memory included.
func TestDeviceAssetNeedsItsScreensToken(t *testing.T) {
	m := newMediaEnv(t)
	path := "/api/v1/device/assets/" + m.sha
	other := must[struct{ ID, Token string }](t, m.admin("POST", "/api/v1/screens", map[string]any{"name": "B"}), 201)
	for _, tt := range []struct {
		name, token string
		headers     []string
		want        int
	}{
		{"no token", "", nil, 401},
		{"no token, revalidating", "", []string{"If-None-Match", `"` + m.sha + `"`}, 401},
		{"unknown token", "kdt_not-a-token", nil, 401},
		{"unknown token, revalidating", "kdt_not-a-token", []string{"If-None-Match", `"` + m.sha + `"`}, 401},
		{"admin token", adminToken, nil, 403},
		{"own token", m.token, nil, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := m.get(path, tt.token, tt.headers...)
			if resp.StatusCode != tt.want {
				t.Fatalf("got %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want != 200 && bytes.Contains(body, m.data[:64]) {
				t.Errorf("refusal carries the asset's bytes")
			}
		})
	}
	// A screen whose manifest does not name the asset (no content
	// published for it yet, or other content) cannot read it, nor learn
	// that it holds it.
	for _, h := range [][]string{nil, {"If-None-Match", `"` + m.sha + `"`}} {
		if resp, _ := m.get(path, other.Token, h...); resp.StatusCode != 404 {
			t.Errorf("another screen's token (%v): got %d, want 404", h, resp.StatusCode)
		}
	}
}

// A deleted asset is gone at once, even to a screen whose manifest has
// not been recomputed yet, and even after it was served from memory.
func TestDeletedAssetNotServed(t *testing.T) {
	m := newMediaEnv(t)
	device := "/api/v1/device/assets/" + m.sha
	raw := "/api/v1/assets/" + m.sha + "/raw"
	if resp, _ := m.get(device, m.token); resp.StatusCode != 200 {
		t.Fatalf("before delete: got %d", resp.StatusCode)
	}
	if resp, _ := m.get(raw, adminToken); resp.StatusCode != 200 {
		t.Fatalf("raw before delete: got %d", resp.StatusCode)
	}
	for _, p := range []string{"schedules/" + m.schedule, "playlists/" + m.playlist, "items/" + m.item} {
		if rec := m.admin("DELETE", "/api/v1/"+p, nil); rec.Code != 204 {
			t.Fatalf("delete %s: got %d %s", p, rec.Code, rec.Body)
		}
	}
	if rec := m.admin("DELETE", "/api/v1/assets/"+m.sha, nil); rec.Code != 204 {
		t.Fatalf("delete asset: got %d %s", rec.Code, rec.Body)
	}
	// The publisher has not run: the screen's manifest still names it.
	if mf, ok := m.pub.Manifest(m.screen); !ok {
		t.Fatal("no manifest")
	} else if _, ok := mf.Manifest.Asset(m.sha); !ok {
		t.Fatal("the manifest was recomputed already; this test wants it stale")
	}
	for _, tt := range []struct{ path, token string }{{device, m.token}, {raw, adminToken}} {
		if resp, _ := m.get(tt.path, tt.token); resp.StatusCode != 404 {
			t.Errorf("%s after delete: got %d, want 404", tt.path, resp.StatusCode)
		}
		if resp, _ := m.get(tt.path, tt.token, "Range", "bytes=0-9"); resp.StatusCode != 404 {
			t.Errorf("%s Range after delete: got %d, want 404", tt.path, resp.StatusCode)
		}
	}
	if resp, _ := m.get(raw, adminToken, "If-None-Match", `"`+m.sha+`"`); resp.StatusCode != 404 {
		t.Errorf("raw revalidation after delete: got %d, want 404", resp.StatusCode)
	}
	if _, err := os.Stat(m.blob()); !os.IsNotExist(err) {
		t.Errorf("blob after delete: %v, want it gone", err)
	}
	if err := m.pub.Publish(); err != nil {
		t.Fatal(err)
	}
	if resp, _ := m.get(device, m.token, "If-None-Match", `"`+m.sha+`"`); resp.StatusCode != 404 {
		t.Errorf("device revalidation once the manifest no longer names it: got %d, want 404", resp.StatusCode)
	}
}

// readFromRecorder is a ResponseWriter with ReadFrom, like net/http's
// own, that records what it was handed.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	srcs []string // the type of each ReadFrom source, and what it wraps
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	desc := fmt.Sprintf("%T", src)
	if lr, ok := src.(*io.LimitedReader); ok {
		desc += fmt.Sprintf("(%T, %d)", lr.R, lr.N)
	}
	r.srcs = append(r.srcs, desc)
	return io.Copy(r.ResponseRecorder, src)
}

// serveFile hands the connection the *os.File itself, at the offset the
// request asks for, so net/http can use sendfile; and echo's Response
// still knows the status and size sent.
func TestServeFileHandsTheFileToSendfile(t *testing.T) {
	data := make([]byte, 100_000)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	for _, tt := range []struct {
		name, rng string
		code      int
		from, to  int
	}{
		{"whole", "", 200, 0, len(data)},
		{"range", "bytes=70000-79999", 206, 70000, 80000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			req := httptest.NewRequest("GET", "/x", nil)
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			w := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
			c := e.NewContext(req, w)
			c.Response().Header().Set("Content-Type", "image/png")
			serveFile(c, testNow, &blobReader{f: f, size: int64(len(data))})
			if w.Code != tt.code || !bytes.Equal(w.Body.Bytes(), data[tt.from:tt.to]) {
				t.Fatalf("got %d with %d bytes, want %d with bytes %d-%d", w.Code, w.Body.Len(), tt.code, tt.from, tt.to)
			}
			if want := fmt.Sprintf("*io.LimitedReader(*os.File, %d)", tt.to-tt.from); len(w.srcs) != 1 || w.srcs[0] != want {
				t.Errorf("ReadFrom sources: got %v, want [%s]", w.srcs, want)
			}
			if r := c.Response(); r.Status != tt.code || r.Size != int64(tt.to-tt.from) || !r.Committed {
				t.Errorf("echo's Response: status %d size %d committed %v, want %d, %d, true", r.Status, r.Size, r.Committed, tt.code, tt.to-tt.from)
			}
		})
	}
}
