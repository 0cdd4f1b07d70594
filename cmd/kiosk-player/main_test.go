package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kiosk/player"
)

func TestParse(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantToken string
		wantErr   string // "" = success
	}{
		{"flags", []string{"-server", "http://s:8080", "-token", "flag-tok"}, nil, "flag-tok", ""},
		{"token from env", []string{"-server", "http://s"}, map[string]string{"KIOSK_PLAYER_TOKEN": "env-tok"}, "env-tok", ""},
		{"token from file", []string{"-server", "http://s"}, map[string]string{"KIOSK_PLAYER_TOKEN_FILE": tokenFile}, "from-file", ""},
		{"flag beats env", []string{"-server", "http://s", "-token", "flag-tok"}, map[string]string{"KIOSK_PLAYER_TOKEN": "env-tok"}, "flag-tok", ""},
		{"missing server", nil, nil, "", "missing -server URL"},
		{"no token: pairing", []string{"-server", "http://s"}, nil, "", ""},
		{"missing token file", []string{"-server", "http://s"}, map[string]string{"KIOSK_PLAYER_TOKEN_FILE": "/nonexistent/tok"}, "", "KIOSK_PLAYER_TOKEN_FILE"},
		{"bad server", []string{"-server", "s:8080", "-token", "t"}, nil, "", "must start with http"},
		{"unknown flag", []string{"-bogus"}, nil, "", "flag provided but not defined"},
		{"stray argument", []string{"-server", "http://s", "-token", "t", "extra"}, nil, "", "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cfg, _, err := parse(tt.args, func(k string) string { return tt.env[k] }, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if cfg.Token != tt.wantToken {
				t.Errorf("token = %q, want %q", cfg.Token, tt.wantToken)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, _, err := parse([]string{"-server", "http://s", "-token", "t", "-heartbeat", "5s"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != player.DefaultListen || cfg.CacheFile != player.DefaultCacheFile {
		t.Errorf("listen, cache = %q, %q; want %q, %q", cfg.Listen, cfg.CacheFile, player.DefaultListen, player.DefaultCacheFile)
	}
	if cfg.HeartbeatInterval != 5*time.Second {
		t.Errorf("heartbeat = %v, want 5s", cfg.HeartbeatInterval)
	}
}

func TestRunUsageExitCode(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(nil, func(string) string { return "" }, &stderr); code != 2 {
		t.Errorf("exit code without -server = %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "missing -server") {
		t.Errorf("stderr = %q, want it to name the missing flags", stderr.String())
	}
}

func TestParseServerKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "server.key")
	if err := os.WriteFile(good, []byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(string) string { return "" }
	cfg, _, err := parse([]string{"-server", "http://s", "-server-key", good}, env, &bytes.Buffer{})
	if err != nil || cfg.ServerKey != "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" {
		t.Fatalf("good key: %q %v", cfg.ServerKey, err)
	}
	for _, f := range []string{bad, filepath.Join(dir, "missing")} {
		if _, _, err := parse([]string{"-server", "http://s", "-server-key", f}, env, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "-server-key") {
			t.Errorf("-server-key %s: got %v, want an error naming the flag", f, err)
		}
	}
}
