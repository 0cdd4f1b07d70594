package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

// apiClient talks to the server's JSON API exactly as an outside tool
// would, so seeding the demo also exercises the public contract.
type apiClient struct {
	base  string // e.g. http://127.0.0.1:8080, no trailing slash
	token string // bearer token sent with every request
	hc    *http.Client
}

func newAPIClient(base, token string) *apiClient {
	return &apiClient{
		base:  strings.TrimRight(base, "/"),
		token: token,
		// Every demo request is small and local; a stuck server should fail
		// the demo rather than hang it.
		hc: &http.Client{Timeout: 30 * time.Second},
	}
}

// apiError is a non-2xx answer, carrying the server's {"error": ...} text.
type apiError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// statusOf returns the HTTP status of an *apiError, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// doJSON sends in (if not nil) as JSON and decodes a 2xx answer into out
// (if not nil).
func (c *apiClient) doJSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req, out)
}

// upload posts data as the multipart field "file" to /api/v1/assets.
func (c *apiClient) upload(ctx context.Context, filename string, data []byte) (assetInfo, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		return assetInfo{}, err
	}
	if _, err := fw.Write(data); err != nil {
		return assetInfo{}, err
	}
	if err := mw.Close(); err != nil {
		return assetInfo{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/assets", &buf)
	if err != nil {
		return assetInfo{}, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var info assetInfo
	err = c.do(req, &info)
	return info, err
}

func (c *apiClient) do(req *http.Request, out any) error {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	// Demo answers are small; the cap only guards against a runaway body.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(b))
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &apiError{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Message: msg}
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// list GETs a collection. It accepts either a bare JSON array or an object
// wrapping one (e.g. {"items": [...]}), so the demo does not depend on
// which envelope the list endpoints settle on.
func (c *apiClient) list(ctx context.Context, path string, out any) error {
	var raw json.RawMessage
	if err := c.doJSON(ctx, http.MethodGet, path, nil, &raw); err != nil {
		return err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var wrapped map[string]json.RawMessage
		if err := json.Unmarshal(raw, &wrapped); err != nil {
			return fmt.Errorf("GET %s: decode list: %w", path, err)
		}
		found := false
		for _, v := range wrapped {
			if v = bytes.TrimSpace(v); len(v) > 0 && v[0] == '[' {
				raw, found = v, true
				break
			}
		}
		if !found {
			return fmt.Errorf("GET %s: answer holds no list", path)
		}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("GET %s: decode list: %w", path, err)
	}
	return nil
}

// Request and answer bodies of the API contract (DESIGN.md).
type (
	assetInfo struct {
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
		MIME   string `json:"mime"`
	}
	itemRequest struct {
		Kind      string `json:"kind"`
		Title     string `json:"title"`
		Body      string `json:"body,omitempty"`
		Asset     string `json:"asset,omitempty"`
		DurationS int    `json:"duration_s"`
	}
	playlistRequest struct {
		Name  string   `json:"name"`
		Items []string `json:"items"`
	}
	groupRequest struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Parent   string `json:"parent,omitempty"`
		Timezone string `json:"timezone,omitempty"`
	}
	scheduleRequest struct {
		Playlist  string `json:"playlist"`
		Target    any    `json:"target"`
		Cron      string `json:"cron,omitempty"`
		DurationS int    `json:"duration_s,omitempty"`
		Priority  int    `json:"priority"`
	}
	screenRequest struct {
		Name  string   `json:"name"`
		Group string   `json:"group,omitempty"`
		Tags  []string `json:"tags,omitempty"`
	}
	idAnswer struct {
		ID string `json:"id"`
	}
	screenAnswer struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Token string `json:"token"`
	}
)
