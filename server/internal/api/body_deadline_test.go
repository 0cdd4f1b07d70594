package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// Deadlines shrunk for the tests; the rules are the production ones.
func shortBodyDeadlines(o *Options) {
	o.BodyTimeout = time.Second
	o.BodyGrace = time.Second
	o.BodyMinRate = 8 << 10
	o.MaxUploadBytes = 1 << 20
}

// cutWithin is how long a test waits for the server to cut a body;
// generous, since only "cut at all" is asserted, never how fast.
const cutWithin = 10 * time.Second

// sendSlowly sends head, then body in pieces of chunk bytes every pause,
// from a goroutine, over a real loopback connection to addr; it returns
// the response (or the error that ended the connection) once the server
// answers, or a timeout error after cutWithin.
func sendSlowly(t *testing.T, addr, head string, body []byte, chunk int, pause time.Duration) (*http.Response, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); conn.Close() })
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	go func() {
		for len(body) > 0 {
			n := min(chunk, len(body))
			if _, err := conn.Write(body[:n]); err != nil {
				return // the server cut the connection
			}
			body = body[n:]
			select {
			case <-stop:
				return
			case <-time.After(pause):
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(cutWithin))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func requestHead(method, path, token, ctype string, length int) string {
	h := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: kiosk.test\r\nContent-Type: %s\r\nContent-Length: %d\r\n", method, path, ctype, length)
	if token != "" {
		h += "Authorization: Bearer " + token + "\r\n"
	}
	return h + "\r\n"
}

// multipartPNG is an upload body with a PNG of size bytes.
func multipartPNG(size int) (body []byte, ctype string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "slow.png")
	png := pngBytes("slow")
	fw.Write(append(png, bytes.Repeat([]byte{7}, size-len(png))...))
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// The finding: an unauthenticated client sending a 100 KB body one byte
// every 3 s held its connection for more than 2 minutes. Every body now
// starts within the grace and keeps a minimum rate; ordinary bodies are
// complete within BodyTimeout.
func TestSlowBodiesCut(t *testing.T) {
	v := newEnv(t, shortBodyDeadlines)
	srv := httptest.NewServer(v.e)
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	upload, uploadType := multipartPNG(64 << 10)
	bigJSON, _ := json.Marshal(map[string]string{"kind": "notice", "title": "t", "body": strings.Repeat("字", 150<<10)})

	tests := []struct {
		name     string
		head     string
		body     []byte
		chunk    int
		pause    time.Duration
		wantCode int // when the answer arrives before the connection closes
	}{
		{"sign-in, a byte at a time", requestHead("POST", "/api/v1/session", "", "application/json", 100_000),
			bytes.Repeat([]byte{' '}, 100_000), 1, 100 * time.Millisecond, http.StatusRequestTimeout},
		{"refused unread (401), a byte at a time", requestHead("POST", "/api/v1/items", "", "application/json", 100_000),
			bytes.Repeat([]byte{' '}, 100_000), 1, 100 * time.Millisecond, http.StatusUnauthorized},
		{"JSON at a good rate but longer than BodyTimeout", requestHead("POST", "/api/v1/items", adminToken, "application/json", len(bigJSON)),
			bigJSON, 4 << 10, 20 * time.Millisecond, http.StatusRequestTimeout},
		{"upload that stops half way", requestHead("POST", "/api/v1/assets", adminToken, uploadType, len(upload)),
			upload[:len(upload)/2], len(upload), time.Hour, http.StatusRequestTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := sendSlowly(t, addr, tt.head, tt.body, tt.chunk, tt.pause)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("no answer and no close within %s: the server is still waiting for the body", cutWithin)
			}
			if err != nil {
				return // closed before the answer could be read: cut all the same
			}
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if !resp.Close {
				t.Error("connection kept open after a cut body, want Connection: close")
			}
		})
	}
	if as, _ := v.st.ListAssets(); len(as) != 0 {
		t.Errorf("%d assets stored from cut uploads, want none", len(as))
	}
}

// An upload that keeps the minimum rate succeeds however long it takes,
// past BodyTimeout; the rate is checked on loopback, so the test asserts
// the outcome, not the speed.
func TestSlowUploadSucceeds(t *testing.T) {
	v := newEnv(t, shortBodyDeadlines)
	srv := httptest.NewServer(v.e)
	t.Cleanup(srv.Close)
	body, ctype := multipartPNG(160 << 10) // 80 pieces of 2 KB: at least 1.6 s
	start := time.Now()
	resp, err := sendSlowly(t, srv.Listener.Addr().String(),
		requestHead("POST", "/api/v1/assets", adminToken, ctype, len(body)), body, 2<<10, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload status %d, want 201", resp.StatusCode)
	}
	if took := time.Since(start); took <= v.h.opts.BodyTimeout {
		t.Fatalf("upload took %s, want longer than BodyTimeout %s for the test to mean anything", took, v.h.opts.BodyTimeout)
	}
	if as, _ := v.st.ListAssets(); len(as) != 1 {
		t.Errorf("assets stored: got %d, want 1", len(as))
	}
}

// A cut body answers 408 with the project's error shape, and a body read
// in full lifts the deadline, so a handler that runs on after reading it
// keeps its request context.
func TestBodyTimeoutAnswer(t *testing.T) {
	v := newEnv(t, shortBodyDeadlines)
	srv := httptest.NewServer(v.e)
	t.Cleanup(srv.Close)
	upload, ctype := multipartPNG(32 << 10)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte(requestHead("POST", "/api/v1/assets", adminToken, ctype, len(upload))))
	conn.Write(upload[:1000])
	_ = conn.SetReadDeadline(time.Now().Add(cutWithin))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer resp.Body.Close()
	var e struct{ Error, Code string }
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || e.Code != "body_timeout" || !strings.Contains(e.Error, "too slowly") {
		t.Errorf("answer %d %+v, want 408 body_timeout saying the body was too slow", resp.StatusCode, e)
	}

	// Read in full, then slow: the request context must survive.
	h := &handler{opts: Options{BodyTimeout: 200 * time.Millisecond, BodyGrace: 200 * time.Millisecond, BodyMinRate: 1}}
	mini := echo.New()
	mini.Use(h.bodyDeadlines)
	ctxErr := make(chan error, 1)
	mini.POST("/", func(c echo.Context) error {
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			ctxErr <- err
			return err
		}
		time.Sleep(600 * time.Millisecond) // three deadlines
		ctxErr <- c.Request().Context().Err()
		return c.NoContent(http.StatusNoContent)
	})
	slow := httptest.NewServer(mini)
	t.Cleanup(slow.Close)
	res, err := http.Post(slow.URL, "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := <-ctxErr; err != nil {
		t.Errorf("after the body was read in full: %v, want the request context alive", err)
	}
}
