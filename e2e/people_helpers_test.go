package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// apiError is the body of every refusal: {"error", "code"}.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// addPerson creates an account with the break-glass token and returns its id.
func (s *testServer) addPerson(name, password, role string, groups []string, urgent bool) string {
	s.t.Helper()
	if groups == nil {
		groups = []string{}
	}
	var out struct {
		ID string `json:"id"`
	}
	s.must(http.MethodPost, "/users", map[string]any{
		"username": name, "password": password, "role": role, "groups": groups, "urgent": urgent,
	}, &out)
	if out.ID == "" {
		s.t.Fatalf("POST /users %s: no id in the answer", name)
	}
	return out.ID
}

// person is someone using the API the way the admin page does: a browser
// with its own cookie jar (session and device cookies) and the session's
// CSRF token, sent on every change.
type person struct {
	t      *testing.T
	name   string
	base   string // server URL
	client *http.Client
	csrf   string
	bearer string // set instead of a session: a personal API token
}

// newPerson is a browser that has not signed in yet.
func newPerson(t *testing.T, s *testServer, name string) *person {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &person{t: t, name: name, base: s.url(), client: &http.Client{Jar: jar}}
}

// signIn signs a new browser in and fails the test unless it gets 200.
func signIn(t *testing.T, s *testServer, name, password string) *person {
	t.Helper()
	p := newPerson(t, s, name)
	if code, raw := p.signIn(password); code != http.StatusOK {
		t.Fatalf("sign in as %s: status %d: %s", name, code, raw)
	}
	return p
}

// signIn posts the credentials from this browser; on 200 it keeps the
// session's CSRF token.
func (p *person) signIn(password string) (int, []byte) {
	p.t.Helper()
	code, raw, _ := p.send(http.MethodPost, "/session", map[string]any{"username": p.name, "password": password}, nil)
	if code == http.StatusOK {
		var v struct {
			CSRF string `json:"csrf"`
		}
		if err := json.Unmarshal(raw, &v); err != nil || v.CSRF == "" {
			p.t.Fatalf("sign in as %s: no csrf in %s (%v)", p.name, raw, err)
		}
		p.csrf = v.CSRF
	}
	return code, raw
}

// cookie returns this browser's cookie name for the server ("" if none).
func (p *person) cookie(name string) string {
	u, _ := url.Parse(p.base)
	for _, c := range p.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// send makes a request under /api/v1 with this person's cookies (or
// bearer token) and, for changes, the CSRF header; hdr adds or overrides
// headers ("X-CSRF-Token": "" leaves it out). It returns the status, the
// body and the response headers.
func (p *person) send(method, path string, body any, hdr map[string]string) (int, []byte, http.Header) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			p.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+"/api/v1"+path, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if p.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+p.bearer)
	}
	if p.csrf != "" && method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("X-CSRF-Token", p.csrf)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s as %s: %v", method, path, p.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header
}

// call is send decoding a JSON answer into out (when non-nil and present).
func (p *person) call(method, path string, body, out any) int {
	p.t.Helper()
	code, raw, _ := p.send(method, path, body, nil)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("%s %s as %s: status %d, decode %q: %v", method, path, p.name, code, raw, err)
		}
	}
	return code
}

// must is call that fails the test unless the status is want.
func (p *person) must(want int, method, path string, body, out any) {
	p.t.Helper()
	code, raw, _ := p.send(method, path, body, nil)
	if code != want {
		p.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, p.name, code, want, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("%s %s as %s: decode %q: %v", method, path, p.name, raw, err)
		}
	}
}

// refused checks that a request is answered with status and error code
// (code "" accepts any) and returns the error message.
func (p *person) refused(status int, code, method, path string, body any) string {
	p.t.Helper()
	got, raw, _ := p.send(method, path, body, nil)
	var e apiError
	_ = json.Unmarshal(raw, &e)
	if got != status || (code != "" && e.Code != code) {
		p.t.Errorf("%s %s as %s: status %d code %q (%s), want %d code %q", method, path, p.name, got, e.Code, raw, status, code)
	}
	return e.Error
}

// manifestRecorder sits between a player and the server and keeps every
// manifest the server hands the player, fetched or pushed on the socket,
// in order: what the player was given to apply, byte for byte.
type manifestRecorder struct {
	URL string

	mu   sync.Mutex
	seen []playlists.Manifest
}

func recordManifests(t *testing.T, target string) *manifestRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &manifestRecorder{}
	rp := httputil.NewSingleHostReverseProxy(u)
	direct := rp.Director
	rp.Director = func(req *http.Request) {
		direct(req)
		req.Header.Del("Accept-Encoding") // plain bodies to read
	}
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/device/manifest") {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		var m playlists.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("manifest through the proxy: %v", err)
			return nil
		}
		r.mu.Lock()
		r.seen = append(r.seen, m)
		r.mu.Unlock()
		return nil
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !websocket.IsWebSocketUpgrade(req) {
			rp.ServeHTTP(w, req)
			return
		}
		relayWS(w, req, u.Host, func(msg []byte) []byte {
			if env, err := playlists.Decode(msg); err == nil && env.Type == playlists.MsgManifest {
				var p playlists.ManifestPush
				var m playlists.Manifest
				if err := env.DecodeData(&p); err != nil || json.Unmarshal(p.Body, &m) != nil {
					t.Errorf("manifest pushed through the proxy: %v", err)
					return msg
				}
				r.mu.Lock()
				r.seen = append(r.seen, m)
				r.mu.Unlock()
			}
			return msg
		})
	}))
	t.Cleanup(ts.Close)
	r.URL = ts.URL
	return r
}

// since returns the manifests handed out after the first n.
func (r *manifestRecorder) since(n int) []playlists.Manifest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]playlists.Manifest(nil), r.seen[min(n, len(r.seen)):]...)
}

func (r *manifestRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// manifestItem returns the item id's entry in m.
func manifestItem(m playlists.Manifest, id string) (playlists.Item, bool) {
	for _, it := range m.Items {
		if it.ID == id {
			return it, true
		}
	}
	return playlists.Item{}, false
}

func manifestPlaylist(m playlists.Manifest, id string) (playlists.Playlist, bool) {
	for _, pl := range m.Playlists {
		if pl.ID == id {
			return pl, true
		}
	}
	return playlists.Playlist{}, false
}

// upload posts a file to /assets as this person (multipart, like the page).
func (p *person) upload(name string, data []byte) (int, []byte) {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		p.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, p.base+"/api/v1/assets", &body)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if p.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+p.bearer)
	}
	if p.csrf != "" {
		req.Header.Set("X-CSRF-Token", p.csrf)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatalf("upload as %s: %v", p.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// withToken creates a personal API token for p (signed in) and returns a
// client that uses only that token, no cookies.
func (p *person) withToken(name string) *person {
	p.t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	p.must(http.StatusCreated, http.MethodPost, "/me/tokens", map[string]any{"name": name}, &tok)
	if tok.Token == "" {
		p.t.Fatalf("POST /me/tokens as %s: no token", p.name)
	}
	return &person{t: p.t, name: p.name + " (token)", base: p.base, client: &http.Client{}, bearer: tok.Token}
}
