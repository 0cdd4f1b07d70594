package devtools

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeChrome serves /json/list and one tab's websocket that answers
// Page.captureScreenshot after sending an unrelated event first.
func fakeChrome(t *testing.T, pageURL string, img []byte, protoErr string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /json/list", func(w http.ResponseWriter, r *http.Request) {
		ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/devtools/page/ABC"
		json.NewEncoder(w).Encode([]Target{
			{ID: "W", Type: "service_worker", URL: pageURL, WebSocketDebuggerURL: ws + "W"},
			{ID: "X", Type: "page", URL: "about:blank", WebSocketDebuggerURL: ws + "X"},
			{ID: "ABC", Type: "page", URL: pageURL + "?x=1", WebSocketDebuggerURL: ws},
		})
	})
	up := websocket.Upgrader{}
	mux.HandleFunc("GET /devtools/page/ABC", func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		var req struct {
			ID     int            `json:"id"`
			Method string         `json:"method"`
			Params map[string]any `json:"params"`
		}
		if err := conn.ReadJSON(&req); err != nil {
			return
		}
		conn.WriteJSON(map[string]any{"method": "Page.frameNavigated", "params": map[string]any{}})
		if req.Method != "Page.captureScreenshot" || req.Params["format"] != "jpeg" || req.Params["quality"] != float64(70) {
			conn.WriteJSON(map[string]any{"id": req.ID, "error": map[string]any{"code": -32000, "message": "unexpected request"}})
			return
		}
		if protoErr != "" {
			conn.WriteJSON(map[string]any{"id": req.ID, "error": map[string]any{"code": -32000, "message": protoErr}})
			return
		}
		conn.WriteJSON(map[string]any{"id": req.ID, "result": map[string]any{"data": base64.StdEncoding.EncodeToString(img)}})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestScreenshot(t *testing.T) {
	img := []byte("\xff\xd8\xff fake jpeg")
	srv := fakeChrome(t, "http://127.0.0.1:8090/", img, "")
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := c.Screenshot(ctx, FormatJPEG, 70, "http://localhost:8090/", "http://127.0.0.1:8090/")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, img) {
		t.Errorf("screenshot: got %q, want %q", got, img)
	}
	if _, err := c.Screenshot(ctx, FormatJPEG, 70, "http://127.0.0.1:9999/"); !errors.Is(err, ErrNoPage) {
		t.Errorf("no matching tab: got %v, want ErrNoPage", err)
	}
	if _, err := c.Screenshot(ctx, "bmp", 70, "http://127.0.0.1:8090/"); err == nil {
		t.Error("format bmp: got nil error")
	}
}

func TestScreenshotProtocolError(t *testing.T) {
	srv := fakeChrome(t, "http://127.0.0.1:8090/", nil, "Not attached to an active page")
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Screenshot(context.Background(), FormatJPEG, 70, "http://127.0.0.1:8090/")
	if err == nil || !strings.Contains(err.Error(), "Not attached to an active page") {
		t.Errorf("got %v, want the browser's error message", err)
	}
}

func TestNewRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{"http://10.0.0.5:9222", "http://example.org:9222", "ws://127.0.0.1:9222", "127.0.0.1:9222", ""} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q): got nil error, want a refusal", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9222", "http://localhost:9222/", "http://[::1]:9222"} {
		if _, err := New(u); err != nil {
			t.Errorf("New(%q): %v", u, err)
		}
	}
}
