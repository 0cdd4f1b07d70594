package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kiosk/server/internal/fastmedia"
	"kiosk/server/internal/store"
)

// The timeouts both servers of the differential test run with: short, so
// that the slow-header and idle cases end quickly.
const (
	fastTestHeaderTimeout = 400 * time.Millisecond
	fastTestIdleTimeout   = 800 * time.Millisecond
)

// countingSource is the API's fast-path source, counting the answers the
// fast path gives, so that each case also says which path answered.
type countingSource struct {
	fastmedia.Source
	served *atomic.Int64
}

func (s countingSource) Served(status int, took time.Duration) {
	s.served.Add(1)
	s.Source.Served(status, took)
}

// fastPair is the same API behind two real loopback servers with the
// server's settings: plain net/http, and net/http behind the fast path.
type fastPair struct {
	off, on string
	served  atomic.Int64
	fast    *fastmedia.Listener
	onSrv   *http.Server
}

func newFastPair(m *mediaEnv) *fastPair {
	p := &fastPair{}
	start := func(fast bool) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			m.t.Fatal(err)
		}
		srv := &http.Server{Handler: m.e, ReadHeaderTimeout: fastTestHeaderTimeout, IdleTimeout: fastTestIdleTimeout}
		var l net.Listener = ln
		if fast {
			p.fast = fastmedia.Listen(ln, countingSource{m.h.media, &p.served}, fastmedia.Options{
				ReadHeaderTimeout: fastTestHeaderTimeout, IdleTimeout: fastTestIdleTimeout,
			})
			l, p.onSrv = p.fast, srv
		}
		go srv.Serve(l)
		m.t.Cleanup(func() {
			srv.Close()
			if fast {
				p.fast.CloseAll()
			}
		})
		return ln.Addr().String()
	}
	p.off, p.on = start(false), start(true)
	return p
}

// step is what a case sends, then how many answers it reads; pause
// waits before sending, closeWrite ends the client's side after.
type step struct {
	pause      time.Duration
	send       string
	closeWrite bool
	answers    []string // the method of each request answered, to read the answers right
}

// answer is one response as compared: Date left out (it is the clock's),
// a multipart boundary (random) replaced.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// outcome is everything a case saw on its connection.
type outcome struct {
	answers []answer
	end     string // how the connection ended after the last answer: "", "closed", or the read error
}

func (o outcome) String() string {
	var b strings.Builder
	for _, a := range o.answers {
		fmt.Fprintf(&b, "%d %v body %d bytes %.40q\n", a.status, a.header, len(a.body), a.body)
	}
	fmt.Fprintf(&b, "end: %q", o.end)
	return b.String()
}

// exchange runs steps on one new connection to addr. With wantEnd, it
// then waits (at most 3 s) for the server to end the connection.
func exchange(t *testing.T, addr string, steps []step, wantEnd bool) outcome {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var o outcome
	for _, s := range steps {
		time.Sleep(s.pause)
		if s.send != "" {
			if _, err := io.WriteString(c, s.send); err != nil {
				o.end = "write: " + err.Error()
				return o
			}
		}
		if s.closeWrite {
			c.(*net.TCPConn).CloseWrite()
		}
		for _, method := range s.answers {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(br, &http.Request{Method: method})
			if err != nil {
				o.end = readEnd(err)
				return o
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			o.answers = append(o.answers, canonical(resp, body))
		}
	}
	if wantEnd {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err := br.ReadByte()
		o.end = readEnd(err)
	}
	return o
}

func readEnd(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "more bytes"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		strings.Contains(err.Error(), "connection reset"):
		return "closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "still open"
	}
	return err.Error()
}

func canonical(resp *http.Response, body []byte) answer {
	h := resp.Header.Clone()
	h.Del("Date")
	if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "multipart/byteranges; boundary=") {
		boundary := strings.TrimPrefix(ct, "multipart/byteranges; boundary=")
		h.Set("Content-Type", "multipart/byteranges; boundary=B")
		body = bytes.ReplaceAll(body, []byte(boundary), []byte("B"))
		h.Del("Content-Length") // the boundary's length is in it
	}
	return answer{status: resp.StatusCode, header: h, body: body}
}

// TestFastMediaMatchesNetHTTP sends the same requests over real loopback
// TCP to the API behind net/http alone and behind the fast path, and
// requires the same answers (status, every header but Date, bytes), the
// same end of the connection and the same request counts in the
// metrics; each case also says how many of its answers the fast path
// itself must give, so the cases cover its answers and its hand-offs.
func TestFastMediaMatchesNetHTTP(t *testing.T) {
	m := newMediaEnv(t)
	// An asset in the store that is in no manifest, and a revoked token.
	other := make([]byte, 5000)
	rand.Read(other)
	copy(other, pngBytes(""))
	otherSHA := must[store.Asset](t, upload(m.env, adminToken, "other.png", other), http.StatusCreated).SHA256
	sc := must[struct{ ID, Token string }](t, m.admin("POST", "/api/v1/screens", map[string]any{"name": "B"}), 201)
	if rec := m.admin("POST", "/api/v1/screens/"+sc.ID+"/token", nil); rec.Code != http.StatusOK {
		t.Fatalf("rotate token: %d %s", rec.Code, rec.Body)
	}
	p := newFastPair(m)

	path := fastmedia.AssetPath + m.sha
	size := len(m.data)
	get := func(target, proto string, headers ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "GET %s %s\r\n", target, proto)
		if proto == "HTTP/1.1" {
			b.WriteString("Host: 127.0.0.1\r\n")
		}
		for _, h := range headers {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("\r\n")
		return b.String()
	}
	auth := "Authorization: Bearer " + m.token
	media := func(headers ...string) string { return get(path, "HTTP/1.1", append([]string{auth}, headers...)...) }
	etag := `"` + m.sha + `"`
	one := func(send string) []step { return []step{{send: send, answers: []string{"GET"}}} }
	lastMod := testNow.Format(http.TimeFormat)

	cases := []struct {
		name    string
		steps   []step
		fast    int  // answers the fast path must give
		wantEnd bool // wait for the server to end the connection
	}{
		{"full GET", one(media()), 1, false},
		{"lower-case header names, scheme in capitals", one(get(path, "HTTP/1.1", "authorization: BEARER "+m.token, "user-agent: kiosk-player")), 1, false},
		{"token with spaces around it", one(get(path, "HTTP/1.1", "Authorization: Bearer   "+m.token+"  ")), 1, false},
		{"range A-B", one(media("Range: bytes=100-199")), 1, false},
		{"range A-", one(media("Range: bytes=1000-")), 1, false},
		{"range -N", one(media("Range: bytes=-500")), 1, false},
		{"range suffix longer than the asset", one(media(fmt.Sprintf("Range: bytes=-%d", size*2))), 1, false},
		{"range end past the asset", one(media(fmt.Sprintf("Range: bytes=10-%d", size*3))), 1, false},
		{"range of the whole asset", one(media(fmt.Sprintf("Range: bytes=0-%d", size-1))), 1, false},
		{"range unsatisfiable", one(media(fmt.Sprintf("Range: bytes=%d-", size))), 0, false},
		{"range -0", one(media("Range: bytes=-0")), 0, false},
		{"multi-range", one(media("Range: bytes=0-9,100-109")), 0, false},
		{"range with spaces", one(media("Range: bytes= 5-9")), 0, false},
		{"range not bytes", one(media("Range: items=5-9")), 0, false},
		{"range reversed", one(media("Range: bytes=9-5")), 0, false},
		{"If-None-Match", one(media("If-None-Match: " + etag)), 1, false},
		{"If-None-Match weak, in a list", one(media(`If-None-Match: "x", W/` + etag)), 1, false},
		{"If-None-Match *", one(media("If-None-Match: *")), 1, false},
		{"If-None-Match other", one(media(`If-None-Match: "other"`)), 0, false},
		{"If-None-Match with a range", one(media("If-None-Match: "+etag, "Range: bytes=0-9")), 1, false},
		{"If-Modified-Since at Last-Modified", one(media("If-Modified-Since: " + lastMod)), 1, false},
		{"If-Modified-Since earlier", one(media("If-Modified-Since: " + testNow.Add(-time.Hour).Format(http.TimeFormat))), 1, false},
		{"If-Modified-Since unreadable", one(media("If-Modified-Since: yesterday")), 1, false},
		{"If-Modified-Since and a range", one(media("If-Modified-Since: "+testNow.Add(-time.Hour).Format(http.TimeFormat), "Range: bytes=0-9")), 1, false},
		{"If-Range entity tag", one(media("If-Range: "+etag, "Range: bytes=0-9")), 0, false},
		{"If-Range other", one(media(`If-Range: "other"`, "Range: bytes=0-9")), 0, false},
		{"If-Match", one(media("If-Match: " + etag)), 0, false},
		{"If-Unmodified-Since", one(media("If-Unmodified-Since: " + lastMod)), 0, false},
		{"missing token", one(get(path, "HTTP/1.1")), 0, false},
		{"bad token", one(get(path, "HTTP/1.1", "Authorization: Bearer kdt_nonsense")), 0, false},
		{"revoked token", one(get(path, "HTTP/1.1", "Authorization: Bearer "+sc.Token)), 0, false},
		{"admin token", one(get(path, "HTTP/1.1", "Authorization: Bearer "+adminToken)), 0, false},
		{"basic auth", one(get(path, "HTTP/1.1", "Authorization: Basic dXNlcjpwYXNz")), 0, false},
		{"two Authorization headers", one(get(path, "HTTP/1.1", auth, "Authorization: Bearer kdt_nonsense")), 0, false},
		{"asset not in the manifest", one(get(fastmedia.AssetPath+otherSHA, "HTTP/1.1", auth)), 0, false},
		{"unknown asset", one(get(fastmedia.AssetPath+strings.Repeat("ab", 32), "HTTP/1.1", auth)), 0, false},
		{"hash in capitals", one(get(fastmedia.AssetPath+strings.ToUpper(m.sha), "HTTP/1.1", auth)), 0, false},
		{"query string", one(get(path+"?x=1", "HTTP/1.1", auth)), 0, false},
		{"HEAD", []step{{send: strings.Replace(media(), "GET", "HEAD", 1), answers: []string{"HEAD"}}}, 0, false},
		{"HTTP/1.0", one(get(path, "HTTP/1.0", auth)), 0, true},
		{"HTTP/1.0 keep-alive", one(get(path, "HTTP/1.0", auth, "Connection: keep-alive")), 0, true},
		{"Connection: close", one(media("Connection: close")), 1, true},
		{"Connection: keep-alive, close", one(media("Connection: keep-alive, close")), 1, true},
		{"Connection: upgrade", one(media("Connection: Upgrade", "Upgrade: websocket")), 0, false},
		{"no Host", one(strings.Replace(media(), "Host: 127.0.0.1\r\n", "", 1)), 0, true},
		{"two Host headers", one(media("Host: example.org")), 0, true},
		{"a body", one(media("Content-Length: 3") + "abc"), 0, false},
		{"folded header", one(media("X-Note: a", " b")), 0, false},
		{"lines ending in a bare LF", one(strings.ReplaceAll(media(), "\r\n", "\n")), 0, false},
		{"one header line ending in a bare LF", one(strings.Replace(media(), "Host: 127.0.0.1\r\n", "Host: 127.0.0.1\n", 1)), 0, false},
		{"bad header name", one(media("X Note: a")), 0, true},
		{"control byte in a value", one(media("X-Note: a\x01b")), 0, true},
		{"header over the fast path's buffer", one(media("X-Pad: " + strings.Repeat("p", 8000))), 0, false},
		{"keep-alive: media, then another route, then media", []step{
			{send: media(), answers: []string{"GET"}},
			{send: get("/healthz", "HTTP/1.1"), answers: []string{"GET"}},
			{send: media("Range: bytes=0-9"), answers: []string{"GET"}},
		}, 1, false},
		{"keep-alive: three media requests", []step{
			{send: media(), answers: []string{"GET"}},
			{send: media("Range: bytes=5-50"), answers: []string{"GET"}},
			{send: media("If-None-Match: " + etag), answers: []string{"GET"}},
		}, 3, false},
		{"pipelined: media, media, another route, media", []step{{
			send:    media() + media("Range: bytes=1-2") + get("/healthz", "HTTP/1.1") + media(),
			answers: []string{"GET", "GET", "GET", "GET"},
		}}, 2, false},
		{"pipelined: media then a refused one then media", []step{{
			send:    media() + get(path, "HTTP/1.1") + media(),
			answers: []string{"GET", "GET", "GET"},
		}}, 1, false},
		{"head sent in pieces", []step{
			{send: media()[:10]},
			{pause: 50 * time.Millisecond, send: media()[10:60]},
			{pause: 50 * time.Millisecond, send: media()[60:], answers: []string{"GET"}},
		}, 1, false},
		{"slow head: closed at the header timeout", []step{{send: media()[:60]}}, 0, true},
		{"slow head inside the headers", []step{{send: media()[:len(media())-10]}}, 0, true},
		{"slow head after a media answer", []step{{send: media(), answers: []string{"GET"}}, {send: media()[:150]}}, 1, true},
		{"idle: closed at the idle timeout", one(media()), 1, true},
		{"client's side ended inside a head", []step{{send: media()[:60], closeWrite: true}}, 0, true},
		{"client's side ended after a media request", []step{{send: media(), closeWrite: true, answers: []string{"GET"}}}, 1, true},
	}

	// Each case on net/http alone, then on the fast path; the metrics'
	// request counts must move alike.
	before := routeCounts(t, m)
	offOut := make([]outcome, len(cases))
	for i, tc := range cases {
		offOut[i] = exchange(t, p.off, tc.steps, tc.wantEnd)
	}
	afterOff := routeCounts(t, m)
	for i, tc := range cases {
		n0 := settled(&p.served)
		on := exchange(t, p.on, tc.steps, tc.wantEnd)
		if got := settled(&p.served) - n0; got != int64(tc.fast) {
			t.Errorf("%s: the fast path answered %d, want %d", tc.name, got, tc.fast)
		}
		if off := offOut[i]; !sameOutcome(off, on) {
			t.Errorf("%s: answers differ\nnet/http:\n%v\nfast path:\n%v", tc.name, off, on)
		}
		if len(on.answers) == 0 && !strings.HasPrefix(tc.name, "slow head") && !strings.HasPrefix(tc.name, "client's side ended inside") {
			t.Errorf("%s: no answer", tc.name)
		}
	}
	afterOn := routeCounts(t, m)
	for k, v := range afterOn {
		if off, on := afterOff[k]-before[k], v-afterOff[k]; off != on {
			t.Errorf("requests_total%s moved by %v with net/http, %v with the fast path", k, off, on)
		}
	}
	// The full GET sent the asset's bytes.
	if a := offOut[0].answers; len(a) != 1 || !bytes.Equal(a[0].body, m.data) {
		t.Errorf("full GET did not send the asset")
	}
}

func sameOutcome(a, b outcome) bool {
	if len(a.answers) != len(b.answers) || a.end != b.end {
		return false
	}
	for i := range a.answers {
		x, y := a.answers[i], b.answers[i]
		if x.status != y.status || !bytes.Equal(x.body, y.body) || fmt.Sprint(x.header) != fmt.Sprint(y.header) {
			return false
		}
	}
	return true
}

// routeCounts is kiosk_http_requests_total by label set.
func routeCounts(t *testing.T, m *mediaEnv) map[string]float64 {
	t.Helper()
	mfs, err := m.h.opts.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "kiosk_http_requests_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			out[fmt.Sprint(mt.GetLabel())] = mt.GetCounter().GetValue()
		}
	}
	return out
}

// TestFastMediaShutdown: Shutdown closes a fast-path connection waiting
// for its next request at once and returns; the listener accepts no more.
func TestFastMediaShutdown(t *testing.T) {
	m := newMediaEnv(t)
	p := newFastPair(m)
	c, err := net.Dial("tcp", p.on)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", fastmedia.AssetPath, m.sha, m.token)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("media GET: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	if n := settled(&p.served); n != 1 {
		t.Fatalf("fast path answered %d, want 1", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.onSrv.Shutdown(ctx); err != nil {
		t.Fatalf("http shutdown: %v", err)
	}
	if err := p.fast.Shutdown(ctx); err != nil {
		t.Fatalf("fast path shutdown: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := br.ReadByte(); readEnd(err) != "closed" {
		t.Errorf("idle fast connection after shutdown: %v, want closed", err)
	}
	if c2, err := net.DialTimeout("tcp", p.on, time.Second); err == nil {
		c2.Close()
		t.Errorf("listener still accepting after shutdown")
	}
}

// settled reads n once it has stopped moving: the fast path counts an
// answer just after its last byte is written, so the client may have read
// the answer a moment before it is counted.
func settled(n *atomic.Int64) int64 {
	v := n.Load()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(30 * time.Millisecond)
		w := n.Load()
		if w == v {
			return v
		}
		v = w
	}
	return v
}
