package main

import (
	"strings"
	"testing"

	"kiosk/server"
	"kiosk/server/servertest"
)

// TestSafeModeCommand drives a real server through the CLI.
func TestSafeModeCommand(t *testing.T) {
	url := servertest.Start(t, server.Config{AdminToken: "cli-token"})
	env := func(k string) string {
		if k == "KIOSK_ADMIN_TOKEN" {
			return "cli-token"
		}
		return ""
	}
	var out, errb strings.Builder
	if code := runSafeMode([]string{"on", "-server", url, "-all"}, env, &out, &errb); code != 0 {
		t.Fatalf("on: exit %d: %s", code, errb.String())
	}
	id := strings.Fields(out.String())[2]
	out.Reset()
	if code := runSafeMode([]string{"list", "-server", url}, env, &out, &errb); code != 0 || !strings.Contains(out.String(), id+"  ON") {
		t.Fatalf("list: exit %d: %q", code, out.String())
	}
	if code := runSafeMode([]string{"off", "-server", url, "-id", id}, env, &out, &errb); code != 0 {
		t.Fatalf("off: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := runSafeMode([]string{"off", "-server", url, "-id", "safe_nope"}, env, &out, &errb); code != 1 || !strings.Contains(errb.String(), "not found") {
		t.Errorf("off unknown: exit %d: %q", code, errb.String())
	}
	if code := runSafeMode([]string{"on", "-server", url, "-all"}, func(string) string { return "" }, &out, &errb); code != 2 {
		t.Errorf("no token: exit %d, want 2", code)
	}
}
