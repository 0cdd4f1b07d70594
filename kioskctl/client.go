package kioskctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// APIError is a refusal from the server: its status and the body's
// "error" and "code".
type APIError struct {
	Status int
	Msg    string
	Code   string
}

func (e *APIError) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		return fmt.Sprintf("%s (%d %s)", msg, e.Status, e.Code)
	}
	return fmt.Sprintf("%s (%d)", msg, e.Status)
}

var errNoCredentials = errors.New("no credentials: set KIOSK_TOKEN (a personal API token) or KIOSK_ADMIN_TOKEN, or run 'kioskctl login'")

// requestTimeout bounds one ordinary API call; uploads and downloads are
// bounded by their progress instead (see transferTimeout).
const requestTimeout = 60 * time.Second

// client talks to one server with one credential.
type client struct {
	base    *url.URL // the server root, without /api/v1
	token   string
	session *session // cookie session of "kioskctl login", when no token
	http    *http.Client
}

// apiClient builds the client from --server, the environment and the
// session file.
func (c *ctl) apiClient() (*client, error) {
	if c.client != nil {
		return c.client, nil
	}
	server := c.server
	if server == "" {
		server = c.env.Getenv("KIOSK_SERVER")
	}
	token, err := c.token()
	if err != nil {
		return nil, err
	}
	var se *session
	if token == "" {
		s, err := loadSession(c.env.ConfigDir)
		if err != nil {
			return nil, err
		}
		if s != nil && (server == "" || sameServer(server, s.Server)) {
			se = s
			if server == "" {
				server = s.Server
			}
		}
	}
	if server == "" {
		return nil, usagef("no server: pass --server URL or set KIOSK_SERVER")
	}
	base, err := parseServer(server)
	if err != nil {
		return nil, err
	}
	if token == "" && se == nil {
		return nil, errNoCredentials
	}
	hc := c.env.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	c.client = &client{base: base, token: token, session: se, http: hc}
	return c.client, nil
}

// token is the bearer token from the environment: KIOSK_TOKEN, then
// KIOSK_ADMIN_TOKEN, each also from the file a ..._FILE variable names
// (for systemd credentials and cron jobs); "" when none is set.
func (c *ctl) token() (string, error) {
	for _, name := range []string{"KIOSK_TOKEN", "KIOSK_ADMIN_TOKEN"} {
		if v := strings.TrimSpace(c.env.Getenv(name)); v != "" {
			return v, nil
		}
		if f := c.env.Getenv(name + "_FILE"); f != "" {
			raw, err := os.ReadFile(f)
			if err != nil {
				return "", usagef("%s_FILE: %v", name, err)
			}
			if v := strings.TrimSpace(string(raw)); v != "" {
				return v, nil
			}
			return "", usagef("%s_FILE: %s is empty", name, f)
		}
	}
	return "", nil
}

// parseServer checks a server URL: http or https, a host, nothing else.
func parseServer(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(s), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("server %q is not a URL such as https://signs.example or http://127.0.0.1:8080", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/api/v1")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func sameServer(a, b string) bool {
	ua, err1 := parseServer(a)
	ub, err2 := parseServer(b)
	return err1 == nil && err2 == nil && ua.String() == ub.String()
}

// url is the absolute URL of an API path ("/items?x=y").
func (cl *client) url(path string) string {
	return cl.base.String() + "/api/v1" + path
}

// newRequest builds a request with the credential and, for a cookie
// session's writes, the CSRF token.
func (cl *client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, cl.url(path), body)
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	req.Header.Set("User-Agent", "kioskctl")
	req.Header.Set("Accept", "application/json")
	switch {
	case cl.token != "":
		req.Header.Set("Authorization", "Bearer "+cl.token)
	case cl.session != nil:
		for _, ck := range cl.session.Cookies {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		if method != http.MethodGet && method != http.MethodHead {
			req.Header.Set("X-CSRF-Token", cl.session.CSRF)
		}
	}
	return req, nil
}

// send performs req and turns a non-2xx answer into an *APIError; the
// caller closes the body of a successful response.
func (cl *client) send(req *http.Request) (*http.Response, error) {
	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, transportError(req, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readAPIError(resp)
}

func readAPIError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	ae := &APIError{Status: resp.StatusCode}
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		ae.Msg, ae.Code = body.Error, body.Code
	} else {
		// Not our server's JSON: a proxy's page, say. Say what it was.
		ae.Msg = http.StatusText(resp.StatusCode)
		if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
			ae.Msg += " (the answer is " + strings.Split(ct, ";")[0] + ", not the Kiosk API: check --server)"
		}
	}
	return ae
}

// transportError says why a request did not reach an answer.
func transportError(req *http.Request, err error) error {
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: no answer in time", req.Method, req.URL.Path)
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return fmt.Errorf("cannot reach %s: %v", req.URL.Host, ne.Err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("cannot reach %s: %v", req.URL.Host, ue.Err)
	}
	return fmt.Errorf("cannot reach %s: %v", req.URL.Host, err)
}

// call sends a JSON body (nil: none) and returns the raw JSON answer
// (nil for 204).
func (cl *client) call(ctx context.Context, method, path string, in any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := cl.newRequest(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cl.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%s %s: the answer is not JSON (is --server a Kiosk server?)", method, path)
	}
	return raw, nil
}

// callInto is call that decodes the answer into out.
func (cl *client) callInto(ctx context.Context, method, path string, in, out any) (json.RawMessage, error) {
	raw, err := cl.call(ctx, method, path, in)
	if err != nil {
		return nil, err
	}
	if out != nil && raw != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return raw, nil
}

// pathEscape escapes one path segment (an id typed by a person).
func pathEscape(s string) string { return url.PathEscape(s) }
