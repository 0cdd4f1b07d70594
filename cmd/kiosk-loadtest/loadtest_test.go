package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

func TestValidate(t *testing.T) {
	good := Config{URL: DefaultURL, TokensFile: "t.txt", Hold: time.Minute, DialRate: 10}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"ipv6 loopback", func(c *Config) { c.URL = "ws://[::1]:8080/api/v1/device/ws" }, ""},
		{"localhost", func(c *Config) { c.URL = "ws://localhost:8080/x" }, ""},
		{"remote host", func(c *Config) { c.URL = "ws://10.0.0.5:8080/api/v1/device/ws" }, "only loopback"},
		{"remote name", func(c *Config) { c.URL = "ws://kiosk.example.org/api/v1/device/ws" }, "only loopback"},
		{"http scheme", func(c *Config) { c.URL = "http://127.0.0.1:8080/" }, "ws://"},
		{"no tokens", func(c *Config) { c.TokensFile = "" }, "-tokens is required"},
		{"too many", func(c *Config) { c.Conns = MaxConns + 1 }, "-n"},
		{"hold too long", func(c *Config) { c.Hold = 2 * MaxHold }, "-hold"},
		{"zero rate", func(c *Config) { c.DialRate = 0 }, "-rate"},
		{"create without admin token", func(c *Config) { c.Create = 3 }, "KIOSK_ADMIN_TOKEN"},
		{"heartbeat flood", func(c *Config) { c.Heartbeat = time.Millisecond }, "-heartbeat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("validate: got %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("validate: got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseFlagsReadsAdminTokenFromEnv(t *testing.T) {
	env := map[string]string{"KIOSK_ADMIN_TOKEN": "s3cret"}
	cfg, err := parseFlags([]string{"-tokens", "x", "-create", "2"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminToken != "s3cret" || cfg.Create != 2 || cfg.URL != DefaultURL || !cfg.Ack {
		t.Fatalf("got %+v", cfg)
	}
}

func TestReadTokens(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := readTokens(write("ok.txt", "# comment\n a \n\nb\n"))
	if err != nil || strings.Join(got, ",") != "a,b" {
		t.Fatalf("got %q, %v; want [a b]", got, err)
	}
	if _, err := readTokens(write("dup.txt", "a\nb\na\n")); err == nil || !strings.Contains(err.Error(), ":3: duplicate") {
		t.Fatalf("duplicate: got %v, want an error naming line 3", err)
	}
	if _, err := readTokens(write("empty.txt", "# nothing\n")); err == nil {
		t.Fatal("empty file: got nil error")
	}
}

func TestReadRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	rss, err := readRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("readRSS(self) = %d, %v; want at least 1 MiB", rss, err)
	}
}

// fakeServer speaks enough of the device protocol: welcome, then one
// version push; it records applied acks and heartbeats.
type fakeServer struct {
	mu         sync.Mutex
	tokens     map[string]bool
	acks       int
	heartbeats int
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	f.tokens[tok] = true
	f.mu.Unlock()
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	if _, _, err := c.ReadMessage(); err != nil { // hello
		return
	}
	for _, typ := range []string{playlists.MsgWelcome, playlists.MsgVersion} {
		data, _ := playlists.Encode(typ, playlists.VersionNote{Version: "v2"})
		if c.WriteMessage(websocket.TextMessage, data) != nil {
			return
		}
	}
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		env, _ := playlists.Decode(data)
		f.mu.Lock()
		switch env.Type {
		case playlists.MsgApplied:
			f.acks++
		case playlists.MsgHeartbeat:
			f.heartbeats++
		}
		f.mu.Unlock()
	}
}

func TestRunHoldsConnections(t *testing.T) {
	fs := &fakeServer{tokens: map[string]bool{}}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	tokens := filepath.Join(t.TempDir(), "tokens.txt")
	if err := os.WriteFile(tokens, []byte("t1\nt2\nt3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		URL:        "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/device/ws",
		TokensFile: tokens,
		Hold:       1500 * time.Millisecond,
		DialRate:   100,
		Heartbeat:  time.Second,
		Ack:        true,
		ServerPID:  os.Getpid(),
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(context.Background(), cfg, log); err != nil {
		t.Fatalf("run: %v", err)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	// Each connection lives at least 1.5s with a 1s heartbeat.
	if len(fs.tokens) != 3 || fs.acks != 3 || fs.heartbeats < 3 {
		t.Fatalf("server saw %d tokens, %d acks, %d heartbeats; want 3, 3 and at least 3",
			len(fs.tokens), fs.acks, fs.heartbeats)
	}
}

func TestRunRefusesMoreConnsThanTokens(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens.txt")
	if err := os.WriteFile(tokens, []byte("t1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: DefaultURL, TokensFile: tokens, Conns: 2, Hold: time.Second, DialRate: 10}
	err := run(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "only 1 tokens") {
		t.Fatalf("got %v, want an error about too few tokens", err)
	}
}
