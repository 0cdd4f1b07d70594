package display

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/screenpage"
)

func get(t *testing.T, h http.Handler, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestState(t *testing.T) {
	clk := newFakeClock(T0)
	s := New(Options{
		Now:    clk.Now,
		Logger: quietLogger(),
		Status: func() SyncStatus {
			return SyncStatus{Online: true, AppliedVersion: "v-applied", ClockOffset: 1500 * time.Millisecond,
				LastSyncError: "dial tcp: refused", CacheBytes: 4096, ScreenID: "scr-1", ScreenName: "幸福小区 1 号楼"}
		},
	})
	h := s.Handler()

	decode := func() map[string]any {
		t.Helper()
		rec := get(t, h, "/state", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /state status %d, want 200", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("GET /state Content-Type %q, want application/json", ct)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("GET /state body is not JSON: %v\n%s", err, rec.Body)
		}
		return m
	}

	m := decode()
	if m["fallback"] != true || m["current_item"] != "" || m["current_since"] != nil {
		t.Errorf("before content: fallback=%v current_item=%q current_since=%v, want true, \"\", null",
			m["fallback"], m["current_item"], m["current_since"])
	}

	s.SetManifest(rotationManifest(item("a", playlists.KindNotice, 10), item("b", playlists.KindPSA, 10)))
	m = decode()
	want := map[string]any{
		"online":          true,
		"applied_version": "v-applied",
		"current_item":    "a",
		"current_title":   "标题 a",
		"current_kind":    "notice",
		"current_since":   T0.Format(time.RFC3339),
		"next_item":       "b",
		"screen_id":       "scr-1",
		"screen_name":     "幸福小区 1 号楼",
		"clock_offset_ms": float64(1500),
		"last_sync_error": "dial tcp: refused",
		"cache_bytes":     float64(4096),
		"page_alive":      false,
		"fallback":        false,
	}
	for k, w := range want {
		if got, ok := m[k]; !ok || got != w {
			t.Errorf("/state %s = %#v (present %v), want %#v", k, got, ok, w)
		}
	}
	if _, ok := m["display_version"]; !ok {
		t.Error("/state lacks display_version")
	}
}

func TestStateWithoutStatusUsesDisplayedVersion(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	m := rotationManifest(item("a", playlists.KindNotice, 10))
	s.SetManifest(m)
	var got stateView
	rec := get(t, s.Handler(), "/state", nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode /state: %v", err)
	}
	if got.AppliedVersion != m.Version || got.DisplayVersion != m.Version {
		t.Errorf("applied_version %q display_version %q, want both %q", got.AppliedVersion, got.DisplayVersion, m.Version)
	}
}

func TestAlive(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	h := s.Handler()
	if s.PageAlive() {
		t.Fatal("PageAlive() = true before any report")
	}
	tests := []struct {
		name string
		body string
		want int
	}{
		{"report", `{"item":"a","key":"x-1"}`, http.StatusNoContent},
		{"empty body", ``, http.StatusNoContent},
		{"not json", `{"item":`, http.StatusBadRequest},
		{"too large", `{"item":"` + strings.Repeat("x", 8<<10) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/alive", strings.NewReader(tt.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("POST /alive %s: status %d, want %d", tt.name, rec.Code, tt.want)
			}
		})
	}
	if !s.PageAlive() {
		t.Error("PageAlive() = false right after a report")
	}
	s.mu.Lock()
	s.aliveAt = time.Now().Add(-aliveWindow - time.Second)
	s.mu.Unlock()
	if s.PageAlive() {
		t.Error("PageAlive() = true with the last report older than the window")
	}
	if rec := get(t, h, "/alive", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /alive status %d, want 405", rec.Code)
	}
}

// Any page open on the device could post to /alive and fake a live page;
// only the kiosk page's own requests (and tools sending no browser
// headers) are taken. httptest's requests have Host example.com.
func TestAliveRefusesOtherOrigins(t *testing.T) {
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"the page itself", map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, http.StatusNoContent},
		{"older browser, own origin", map[string]string{"Origin": "http://example.com"}, http.StatusNoContent},
		{"a tool without browser headers", nil, http.StatusNoContent},
		{"another site", map[string]string{"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another local port", map[string]string{"Origin": "http://example.com:9999", "Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"another origin, older browser", map[string]string{"Origin": "http://evil.test"}, http.StatusForbidden},
		{"a file:// page", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"https origin on the same host", map[string]string{"Origin": "https://example.com"}, http.StatusForbidden},
		{"cross-site without Origin", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Logger: quietLogger()})
			req := httptest.NewRequest(http.MethodPost, "/alive", strings.NewReader(`{"item":"a"}`))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("POST /alive: status %d, want %d; body %s", rec.Code, tt.want, rec.Body)
			}
			if got, want := s.PageAlive(), tt.want == http.StatusNoContent; got != want {
				t.Errorf("PageAlive() = %v after the request, want %v", got, want)
			}
		})
	}
	// Reads stay open to any origin: they change nothing.
	s := New(Options{Logger: quietLogger()})
	if rec := get(t, s.Handler(), "/state", map[string]string{"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"}); rec.Code != http.StatusOK {
		t.Errorf("GET /state cross-site: status %d, want 200", rec.Code)
	}
}

func TestMedia(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), []byte("0123456789abcdef")...)
	video := []byte("\x00\x00\x00\x18ftypmp42-video-bytes-0123456789")
	notCached := []byte("listed in the manifest but missing from the cache")
	pngRef, vidRef, missRef := assetRef(png, "image/png"), assetRef(video, "video/mp4"), assetRef(notCached, "image/png")
	// A manifest that calls an asset a document must not get it served
	// from the page's origin, where it could run script.
	html := []byte("<script>parent.document.title='owned'</script>")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)
	htmlRef, svgRef := assetRef(html, "text/html"), assetRef(svg, "image/svg+xml")
	media := memMedia{pngRef.SHA256: png, vidRef.SHA256: video, htmlRef.SHA256: html, svgRef.SHA256: svg}
	orphan := assetRef([]byte("in the cache but not the manifest"), "image/png")
	media[orphan.SHA256] = []byte("in the cache but not the manifest")

	img := item("img", playlists.KindPSA, 10)
	img.Asset = pngRef.SHA256
	vid := item("vid", playlists.KindPSA, 10)
	vid.Asset = vidRef.SHA256
	m := manifest([]playlists.Item{img, vid}, map[string][]string{"pl": {"img", "vid"}},
		[]playlists.Schedule{schedule("s", "pl", 0, nil, nil)}, pngRef, vidRef, missRef, htmlRef, svgRef)

	s := New(Options{Media: media, Logger: quietLogger()})
	h := s.Handler()
	if rec := get(t, h, "/media/"+pngRef.SHA256, nil); rec.Code != http.StatusNotFound {
		t.Errorf("media before any manifest: status %d, want 404", rec.Code)
	}
	s.SetManifest(m)

	tests := []struct {
		name      string
		sha       string
		hdr       map[string]string
		wantCode  int
		wantBody  string
		wantType  string
		wantRange string
	}{
		{"whole image", pngRef.SHA256, nil, http.StatusOK, string(png), "image/png", ""},
		{"video range", vidRef.SHA256, map[string]string{"Range": "bytes=4-11"}, http.StatusPartialContent,
			string(video[4:12]), "video/mp4", "bytes 4-11/" + strconv.Itoa(len(video))},
		{"open-ended range", vidRef.SHA256, map[string]string{"Range": "bytes=20-"}, http.StatusPartialContent,
			string(video[20:]), "video/mp4", "bytes 20-" + strconv.Itoa(len(video)-1) + "/" + strconv.Itoa(len(video))},
		{"etag revalidation", pngRef.SHA256, map[string]string{"If-None-Match": `"` + pngRef.SHA256 + `"`}, http.StatusNotModified, "", "", ""},
		{"unknown sha", strings.Repeat("ab", 32), nil, http.StatusNotFound, "", "", ""},
		{"cached but not in the manifest", orphan.SHA256, nil, http.StatusNotFound, "", "", ""},
		{"in the manifest but not cached", missRef.SHA256, nil, http.StatusNotFound, "", "", ""},
		{"not a sha", "..%2f..%2fetc%2fpasswd", nil, http.StatusNotFound, "", "", ""},
		{"upper-case sha", strings.ToUpper(pngRef.SHA256), nil, http.StatusNotFound, "", "", ""},
		{"html in the manifest", htmlRef.SHA256, nil, http.StatusNotFound, "", "", ""},
		{"svg in the manifest", svgRef.SHA256, nil, http.StatusNotFound, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, "/media/"+tt.sha, tt.hdr)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode != http.StatusOK && tt.wantCode != http.StatusPartialContent {
				return
			}
			if got := rec.Body.String(); got != tt.wantBody {
				t.Errorf("body %q, want %q", got, tt.wantBody)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if got := rec.Header().Get("Content-Range"); got != tt.wantRange {
				t.Errorf("Content-Range %q, want %q", got, tt.wantRange)
			}
			if got, want := rec.Header().Get("ETag"), `"`+tt.sha+`"`; got != want {
				t.Errorf("ETag %q, want %q", got, want)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if got := rec.Header().Get("Content-Security-Policy"); !strings.Contains(got, "sandbox") {
				t.Errorf("Content-Security-Policy %q, want a sandbox", got)
			}
		})
	}

	// The page learns the media URL and type from the show event.
	ev := s.snapshot()
	if ev.Current == nil || ev.Current.Media == nil || ev.Current.Media.URL != "/media/"+pngRef.SHA256 || ev.Current.Media.Type != "image" {
		t.Errorf("show event current media = %+v, want the image at /media/%s", ev.Current, pngRef.SHA256)
	}
	if ev.Next == nil || ev.Next.Media == nil || ev.Next.Media.Type != "video" {
		t.Errorf("show event next = %+v, want the video item with video media", ev.Next)
	}
}

func TestPage(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	h := s.Handler()
	rec := get(t, h, "/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / status %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET / Content-Type %q, want text/html", ct)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, d := range []string{
		"default-src 'self'", "img-src 'self' blob: data:", "media-src 'self' blob:",
		"script-src 'self'", "style-src 'self'",
	} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline or eval", csp)
	}
	body := rec.Body.String()
	for _, want := range []string{`src="static/app.js"`, `href="static/app.css"`, `id="fallback"`, `lang="zh-CN"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Every script must be an external file: inline script would need
	// 'unsafe-inline' and is the first thing an injection aims for.
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, "src=") {
			t.Errorf("page has an inline script tag %s", tag)
		}
	}

	if rec := get(t, h, "/nope", nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET /nope status %d, want 404", rec.Code)
	}
	if rec := get(t, h, "/static/index.html", nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET /static/index.html status %d, want 404 (the page has one address)", rec.Code)
	}

	static := []struct{ path, ctype string }{
		{"/static/app.js", "text/javascript"},
		{"/static/app.css", "text/css"},
	}
	for _, st := range static {
		rec := get(t, h, st.path, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s status %d, want 200", st.path, rec.Code)
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, st.ctype) {
			t.Errorf("GET %s Content-Type %q, want %s", st.path, ct, st.ctype)
		}
		etag := rec.Header().Get("ETag")
		if rec := get(t, h, st.path, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: status %d, want 304", st.path, rec.Code)
		}
	}
}

// TestScriptSetsTextOnly guards the escaping rule in the page script: item
// text goes in with textContent only, so a title such as
// <script>alert(1)</script> shows literally.
func TestScriptSetsTextOnly(t *testing.T) {
	for _, name := range []string{"app.js", "linebreak.js"} {
		f, ok := screenpage.Lookup(name)
		if !ok {
			t.Fatalf("no %s in the screen page", name)
		}
		js := string(f.Body)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if strings.Contains(js, bad) {
				t.Errorf("%s uses %s; item text must be set with textContent", name, bad)
			}
		}
		if !strings.Contains(js, "textContent") {
			t.Errorf("%s never uses textContent", name)
		}
	}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	name, id, data string
}

// readEvents parses an event stream into a channel until it ends.
func readEvents(body io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, "retry: "):
				ch <- sseEvent{name: "retry", data: strings.TrimPrefix(line, "retry: ")}
			}
		}
	}()
	return ch
}

func nextShow(t *testing.T, ch <-chan sseEvent) showEvent {
	t.Helper()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("event stream ended, want a show event")
			}
			if ev.name != "show" {
				continue
			}
			var se showEvent
			if err := json.Unmarshal([]byte(ev.data), &se); err != nil {
				t.Fatalf("show event is not JSON: %v\n%s", err, ev.data)
			}
			if ev.id != se.Key {
				t.Errorf("event id %q, want the show key %q", ev.id, se.Key)
			}
			return se
		case <-time.After(10 * time.Second):
			t.Fatal("no show event within 10 s")
		}
	}
}

func TestEvents(t *testing.T) {
	s := New(Options{
		Logger:       quietLogger(),
		DistrictName: "东湖街道",
		Status:       func() SyncStatus { return SyncStatus{ScreenName: "幸福小区 1 号楼"} },
	})
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { defer close(runDone); s.Run(ctx) }()
	defer func() { cancel(); <-runDone }()

	evil := item("x", playlists.KindLegalStory, 30)
	evil.Title = "<script>alert(1)</script>"
	s.SetManifest(rotationManifest(evil, item("y", playlists.KindNotice, 30)))

	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("GET /events Content-Type %q, want text/event-stream", ct)
	}
	events := readEvents(resp.Body)
	if ev := <-events; ev.name != "retry" || ev.data != "1000" {
		t.Errorf("first frame %+v, want retry: 1000", ev)
	}

	first := nextShow(t, events)
	if first.Fallback || first.Current == nil || first.Current.ID != "x" {
		t.Fatalf("show on connect = %+v, want item x", first)
	}
	if first.Current.Title != evil.Title {
		t.Errorf("title travels as %q, want the literal %q", first.Current.Title, evil.Title)
	}
	if first.Current.KindLabel != "法律故事" {
		t.Errorf("kind label %q, want 法律故事", first.Current.KindLabel)
	}
	if first.Next == nil || first.Next.ID != "y" || first.NextAt != first.Ends {
		t.Errorf("next = %+v at %d, want y at the current item's end %d", first.Next, first.NextAt, first.Ends)
	}
	if first.DistrictName != "东湖街道" || first.ScreenName != "幸福小区 1 号楼" || first.Timezone != "Asia/Shanghai" {
		t.Errorf("district %q screen %q tz %q, want 东湖街道, 幸福小区 1 号楼, Asia/Shanghai",
			first.DistrictName, first.ScreenName, first.Timezone)
	}
	if d := time.Since(time.UnixMilli(first.Now)); d < -time.Second || d > 5*time.Second {
		t.Errorf("event now is %v off the clock", d)
	}

	s.SetManifest(rotationManifest(item("z", playlists.KindPSA, 30)))
	second := nextShow(t, events)
	if second.Current == nil || second.Current.ID != "z" || second.Key == first.Key {
		t.Fatalf("show after a change = %+v, want item z with a new key (old key %q)", second, first.Key)
	}

	s.SetManifest(nil)
	third := nextShow(t, events)
	if !third.Fallback || third.Current != nil {
		t.Fatalf("show after SetManifest(nil) = %+v, want the fallback", third)
	}

	// The stream ends when Run does, so http.Server.Shutdown is not held
	// up by an open page.
	cancel()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("event stream still open 10 s after Run ended")
		}
	}
}

func TestEventsStreamLimit(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	for range maxStreams {
		if _, ok := s.subscribe(); !ok {
			t.Fatal("subscribe refused below the limit")
		}
	}
	rec := get(t, s.Handler(), "/events", nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("GET /events beyond the limit: status %d, want 503", rec.Code)
	}
}
