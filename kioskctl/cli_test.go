package kioskctl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsAndArguments(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		min, max int
		wantPos  []string
		wantWait bool
		wantJSON bool
		wantErr  string // "" none; else a substring; "help" for errHelp
	}{
		{name: "flags after arguments", args: []string{"scr_1", "reload", "--wait"}, min: 2, max: 2,
			wantPos: []string{"scr_1", "reload"}, wantWait: true},
		{name: "flags before", args: []string{"--wait", "--json", "scr_1", "reload"}, min: 2, max: 2,
			wantPos: []string{"scr_1", "reload"}, wantWait: true, wantJSON: true},
		{name: "flags between", args: []string{"scr_1", "-wait", "reload"}, min: 2, max: 2,
			wantPos: []string{"scr_1", "reload"}, wantWait: true},
		{name: "double dash ends flags", args: []string{"--", "--odd-id", "reload"}, min: 2, max: 2,
			wantPos: []string{"--odd-id", "reload"}},
		{name: "too few", args: []string{"scr_1"}, min: 2, max: 2, wantErr: "missing arguments: SCREEN TYPE"},
		{name: "too many", args: []string{"a", "b", "c"}, min: 2, max: 2, wantErr: `unexpected argument "c"`},
		{name: "unknown flag", args: []string{"--wiat"}, min: 0, max: 2, wantErr: "flag provided but not defined: -wiat"},
		{name: "help", args: []string{"a", "--help"}, min: 0, max: 2, wantErr: "help"},
		{name: "no limit", args: []string{"a", "b", "c"}, min: 1, max: -1, wantPos: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			c := &ctl{env: Env{Stdout: &out}}
			fs := c.flags("kioskctl commands send", "SCREEN TYPE", "test")
			wait := fs.Bool("wait", false, "")
			pos, err := c.parse(fs, tt.args, tt.min, tt.max)
			switch {
			case tt.wantErr == "help":
				if !errors.Is(err, errHelp) || !strings.Contains(out.String(), "Usage: kioskctl commands send SCREEN TYPE [flags]") {
					t.Errorf("err %v, usage %q; want help printed", err, out.String())
				}
				return
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ExitCode(err) != ExitUsage {
					t.Errorf("err = %v (exit %d), want a usage error containing %q", err, ExitCode(err), tt.wantErr)
				}
				return
			case err != nil:
				t.Fatalf("err = %v", err)
			}
			if !reflect.DeepEqual(pos, tt.wantPos) || *wait != tt.wantWait || c.json != tt.wantJSON {
				t.Errorf("got pos %q wait %v json %v, want %q %v %v", pos, *wait, c.json, tt.wantPos, tt.wantWait, tt.wantJSON)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errHelp, ExitOK},
		{usagef("bad"), ExitUsage},
		{fmt.Errorf("wrapped: %w", usagef("bad")), ExitUsage},
		{&APIError{Status: http.StatusNotFound}, ExitNotFound},
		{&APIError{Status: http.StatusUnauthorized}, ExitAuth},
		{&APIError{Status: http.StatusForbidden}, ExitAuth},
		{fmt.Errorf("item x: %w", &APIError{Status: http.StatusConflict}), ExitConflict},
		{&APIError{Status: http.StatusBadRequest}, ExitFailed},
		{&APIError{Status: http.StatusInternalServerError}, ExitFailed},
		{errNoCredentials, ExitAuth},
		{errors.New("cannot reach host"), ExitFailed},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// runLocal runs kioskctl without a server (usage paths only).
func runLocal(args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Now: func() time.Time { return time.Unix(0, 0) }})
	return code, out.String(), errb.String()
}

func TestUsageWithoutServer(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{nil, ExitUsage, "Exit codes:", "no command given"},
		{[]string{"help"}, ExitOK, "Commands:", ""},
		{[]string{"--help"}, ExitOK, "Commands:", ""},
		{[]string{"help", "urgent", "send"}, ExitOK, "--target", ""},
		{[]string{"frobnicate"}, ExitUsage, "", `unknown command "frobnicate"`},
		{[]string{"items"}, ExitUsage, "Subcommands:", "items needs a subcommand"},
		{[]string{"items", "--help"}, ExitOK, "Subcommands:", ""},
		{[]string{"items", "frob"}, ExitUsage, "", `unknown subcommand "frob" of items`},
		{[]string{"screens", "--help"}, ExitOK, "--state", ""},
		{[]string{"screens", "--state", "asleep"}, ExitUsage, "", "--state must be one of online, offline, stale, degraded"},
		{[]string{"screens"}, ExitUsage, "", "no server"},
		{[]string{"--server", "ftp://x", "screens"}, ExitUsage, "", "is not a URL"},
		{[]string{"urgent", "send", "--title", "x", "--target", "all"}, ExitUsage, "", "--for is required"},
		{[]string{"urgent", "send", "--title", "x", "--target", "street:5", "--for", "1h"}, ExitUsage, "", `"street" is not one of group, tag, screen`},
		{[]string{"commands", "send", "scr_1", "dance"}, ExitUsage, "", `command type "dance" is not one of`},
		{[]string{"commands", "send", "--group", "g", "scr_1", "reload"}, ExitUsage, "", "with --group, give only the command TYPE"},
		{[]string{"reports", "plays", "--from", "2026-05-01"}, ExitUsage, "", "--from and --to are required"},
		{[]string{"reports", "plays", "--from", "2026-05-02", "--to", "2026-05-01"}, ExitUsage, "", "--to must be after --from"},
		{[]string{"apply"}, ExitUsage, "", "-f FILE is required"},
		{[]string{"changesets", "reject", "cs_1"}, ExitUsage, "", "reject needs --comment"},
		{[]string{"screenshot", "scr_1"}, ExitUsage, "", "-o FILE is required"},
		{[]string{"items", "create"}, ExitUsage, "", "nothing to create"},
		{[]string{"items", "update", "itm_1"}, ExitUsage, "", "nothing to change"},
		{[]string{"login"}, ExitUsage, "", "no server"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runLocal(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if !strings.Contains(out, tt.wantStdout) {
				t.Errorf("stdout %q, want it to contain %q", out, tt.wantStdout)
			}
			if !strings.Contains(errs, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", errs, tt.wantStderr)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	got, err := parseTarget([]string{"group:east", "screen:scr_1", "tag:lobby", "group:west"})
	want := target{Groups: []string{"east", "west"}, Screens: []string{"scr_1"}, Tags: []string{"lobby"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseTarget = %+v, %v; want %+v", got, err, want)
	}
	if got, err := parseTarget([]string{"all"}); err != nil || !got.All {
		t.Errorf("all: %+v %v", got, err)
	}
	for _, bad := range [][]string{nil, {"group:"}, {"east"}, {"street:x"}} {
		if _, err := parseTarget(bad); ExitCode(err) != ExitUsage {
			t.Errorf("parseTarget(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestParseSecondsAndInstants(t *testing.T) {
	for in, want := range map[string]int{"15": 15, "15s": 15, "2h": 7200, "1h30m": 5400, "0": 0} {
		if got, err := parseSeconds("--duration", in); err != nil || got != want {
			t.Errorf("parseSeconds(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "-5", "1.5s", "-1m"} {
		if _, err := parseSeconds("--duration", bad); ExitCode(err) != ExitUsage {
			t.Errorf("parseSeconds(%q) = %v, want a usage error", bad, err)
		}
	}
	for in, want := range map[string]string{
		"2026-05-01":                "2026-04-30T16:00:00Z", // Beijing midnight
		"2026-05-01T08:30":          "2026-05-01T00:30:00Z",
		"2026-05-01T08:00:00+02:00": "2026-05-01T06:00:00Z",
	} {
		got, err := parseInstant("--from", in)
		if err != nil || got.UTC().Format(time.RFC3339) != want {
			t.Errorf("parseInstant(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := parseInstant("--from", "May 1st"); ExitCode(err) != ExitUsage {
		t.Errorf("parseInstant(May 1st) = %v, want a usage error", err)
	}
}

func TestParseServer(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"https://signs.example/":         "https://signs.example",
		"https://signs.example/api/v1/":  "https://signs.example",
		"https://example.org/kiosk":      "https://example.org/kiosk",
		" https://signs.example?x=1#top": "https://signs.example",
	} {
		u, err := parseServer(in)
		if err != nil || u.String() != want {
			t.Errorf("parseServer(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "signs.example", "ftp://x", "http://"} {
		if _, err := parseServer(bad); ExitCode(err) != ExitUsage {
			t.Errorf("parseServer(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/token"
	if err := os.WriteFile(file, []byte("kpt_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env     map[string]string
		want    string
		wantErr bool
	}{
		{map[string]string{}, "", false},
		{map[string]string{"KIOSK_TOKEN": "kpt_a", "KIOSK_ADMIN_TOKEN": "admin"}, "kpt_a", false},
		{map[string]string{"KIOSK_ADMIN_TOKEN": "admin"}, "admin", false},
		{map[string]string{"KIOSK_TOKEN_FILE": file, "KIOSK_ADMIN_TOKEN": "admin"}, "kpt_from_file", false},
		{map[string]string{"KIOSK_ADMIN_TOKEN_FILE": file}, "kpt_from_file", false},
		{map[string]string{"KIOSK_TOKEN_FILE": dir + "/missing"}, "", true},
	}
	for _, tt := range tests {
		c := &ctl{env: Env{Getenv: func(k string) string { return tt.env[k] }}}
		got, err := c.token()
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("token() with %v = %q, %v; want %q (error %v)", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}
