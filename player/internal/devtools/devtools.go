// Package devtools is the player's minimal Chrome DevTools Protocol client:
// enough to find the kiosk page's tab in the local Chromium and capture a
// screenshot of exactly what the screen shows. It uses only the standard
// library and gorilla/websocket, so the player binary stays small (no
// chromedp), and it talks to loopback only: DevTools gives full control of
// the browser and must never be reachable from the network.
package devtools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Formats Page.captureScreenshot accepts that the server stores.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
)

// Limits. A 4K JPEG is a few MB; its base64 in a JSON frame a third more.
const (
	maxListBytes  = 1 << 20
	maxFrameBytes = 32 << 20
)

// ErrNoPage means no tab of the browser shows the kiosk page.
var ErrNoPage = errors.New("no browser tab shows the kiosk page")

// Client talks to one Chromium's DevTools endpoint, e.g.
// http://127.0.0.1:9222 (Chromium started with --remote-debugging-port=9222
// --remote-debugging-address=127.0.0.1).
type Client struct {
	base *url.URL
	http *http.Client
}

// New checks that endpoint is an http URL on a loopback address.
func New(endpoint string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(endpoint), "/"))
	if err != nil {
		return nil, fmt.Errorf("devtools URL %q: %w", endpoint, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("devtools URL %q: want http://127.0.0.1:PORT", endpoint)
	}
	if !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("devtools URL %q: must be on loopback (127.0.0.1, ::1 or localhost); DevTools controls the whole browser", endpoint)
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	return &Client{base: u, http: &http.Client{Timeout: 10 * time.Second}}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Target is one entry of /json/list.
type Target struct {
	ID                   string `json:"id"`
	Type                 string `json:"type"`
	Title                string `json:"title"`
	URL                  string `json:"url"`
	WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
}

// Targets lists the browser's targets (tabs, workers, ...).
func (c *Client) Targets(ctx context.Context) ([]Target, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+"/json/list", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("devtools: list targets: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("devtools: list targets: %s", resp.Status)
	}
	var ts []Target
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxListBytes)).Decode(&ts); err != nil {
		return nil, fmt.Errorf("devtools: list targets: %w", err)
	}
	return ts, nil
}

// FindPage returns the first page target whose URL starts with one of
// pageURLs (the same page may be opened as 127.0.0.1 or localhost).
func (c *Client) FindPage(ctx context.Context, pageURLs ...string) (Target, error) {
	ts, err := c.Targets(ctx)
	if err != nil {
		return Target{}, err
	}
	for _, t := range ts {
		if t.Type != "page" || t.WebSocketDebuggerURL == "" {
			continue
		}
		for _, p := range pageURLs {
			if strings.HasPrefix(t.URL, p) {
				return t, nil
			}
		}
	}
	return Target{}, fmt.Errorf("%w (%s) among %d targets", ErrNoPage, strings.Join(pageURLs, " or "), len(ts))
}

// Screenshot captures what the tab showing one of pageURLs displays, as
// JPEG (quality 1-100) or PNG.
func (c *Client) Screenshot(ctx context.Context, format string, quality int, pageURLs ...string) ([]byte, error) {
	if format != FormatJPEG && format != FormatPNG {
		return nil, fmt.Errorf("devtools: screenshot format %q: want jpeg or png", format)
	}
	t, err := c.FindPage(ctx, pageURLs...)
	if err != nil {
		return nil, err
	}
	params := map[string]any{"format": format}
	if format == FormatJPEG {
		params["quality"] = min(max(quality, 1), 100)
	}
	raw, err := c.call(ctx, t, "Page.captureScreenshot", params)
	if err != nil {
		return nil, err
	}
	var res struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("devtools: screenshot result: %w", err)
	}
	img, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		return nil, fmt.Errorf("devtools: screenshot data: %w", err)
	}
	if len(img) == 0 {
		return nil, errors.New("devtools: empty screenshot")
	}
	return img, nil
}

// call sends one protocol command on a fresh connection to target t and
// returns its result. Events the browser sends meanwhile are skipped.
func (c *Client) call(ctx context.Context, t Target, method string, params any) (json.RawMessage, error) {
	wsURL, err := url.Parse(t.WebSocketDebuggerURL)
	if err != nil {
		return nil, fmt.Errorf("devtools: target URL %q: %w", t.WebSocketDebuggerURL, err)
	}
	// The list is the browser's answer, but never follow it off the machine.
	if (wsURL.Scheme != "ws" && wsURL.Scheme != "wss") || !isLoopback(wsURL.Hostname()) {
		return nil, fmt.Errorf("devtools: target URL %q is not a loopback websocket", t.WebSocketDebuggerURL)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	// No Origin header: Chromium refuses websocket origins it was not told
	// to allow (--remote-allow-origins), but accepts clients without one.
	conn, resp, err := d.DialContext(ctx, wsURL.String(), nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("devtools: connect to tab: %s", resp.Status)
		}
		return nil, fmt.Errorf("devtools: connect to tab: %w", err)
	}
	defer conn.Close()
	conn.SetReadLimit(maxFrameBytes)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetWriteDeadline(dl)
		conn.SetReadDeadline(dl)
	}

	const id = 1
	if err := conn.WriteJSON(map[string]any{"id": id, "method": method, "params": params}); err != nil {
		return nil, fmt.Errorf("devtools: send %s: %w", method, err)
	}
	for {
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := conn.ReadJSON(&msg); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("devtools: %s: %w", method, ctx.Err())
			}
			return nil, fmt.Errorf("devtools: %s: %w", method, err)
		}
		if msg.ID != id {
			continue // an event
		}
		if msg.Error != nil {
			return nil, fmt.Errorf("devtools: %s: %s (code %d)", method, msg.Error.Message, msg.Error.Code)
		}
		return msg.Result, nil
	}
}
