package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthcheck(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("/full", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"degraded","reason":"disk_full"}`))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// An address nobody listens on: a closed port on loopback.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"healthy", []string{"-url", srv.URL + "/ok"}, 0, `{"status":"ok"}`, ""},
		{"degraded", []string{"-url", srv.URL + "/full"}, 1, "", "503 Service Unavailable {\"status\":\"degraded\",\"reason\":\"disk_full\"}"},
		{"not found", []string{"-url", srv.URL + "/nothing"}, 1, "", "404 Not Found"},
		{"nobody listening", []string{"-url", closed}, 1, "", "connection refused"},
		{"too slow", []string{"-url", srv.URL + "/slow", "-timeout", "100ms"}, 1, "", "deadline exceeded"},
		{"not a URL", []string{"-url", "127.0.0.1:8080/healthz"}, 1, "", "want http://HOST:PORT/healthz"},
		{"zero timeout", []string{"-url", srv.URL + "/ok", "-timeout", "0s"}, 1, "", "want a positive duration"},
		{"unknown flag", []string{"-bogus"}, 1, "", "flag provided but not defined"},
		{"stray argument", []string{"extra"}, 1, "", "unexpected arguments"},
		{"help", []string{"-h"}, 0, "", "usage: kiosk-server healthcheck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runHealthcheck(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if strings.TrimSpace(stdout.String()) != tt.wantStdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantStdout)
			}
			if tt.wantStderr == "" && stderr.Len() > 0 {
				t.Errorf("stderr %q, want nothing", stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
