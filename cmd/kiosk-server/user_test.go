package main

import (
	"bytes"
	"strings"
	"testing"
)

// The user command end to end, in-process, over a real data dir; the state
// behind each step is checked in package usercmd.
func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	user := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := runUser(args, strings.NewReader(stdin), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	row := func(name string) []string {
		t.Helper()
		code, out, errOut := user("", "list", "-data", dir)
		if code != 0 {
			t.Fatalf("list: exit %d, %q", code, errOut)
		}
		for line := range strings.Lines(out) {
			if f := strings.Fields(line); len(f) > 0 && f[0] == name {
				return f
			}
		}
		t.Fatalf("list has no row for %s:\n%s", name, out)
		return nil
	}
	steps := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		printed string // on stdout when code is 0, else on stderr
	}{
		{"weak password refused", "hunter2\n", []string{"add", "-data", dir, "-role", "admin", "alice"}, 1, "password is 7 characters; at least 12 are required"},
		{"and nothing created", "", []string{"list", "-data", dir}, 0, "no users yet"},
		{"add", "correct horse battery\n", []string{"add", "alice", "-data", dir, "--role", "editor"}, 0, "created user alice (role editor, id usr_"},
		{"duplicate refused", "correct horse battery\n", []string{"add", "-data", dir, "-role", "viewer", "ALICE"}, 1, `username "ALICE" is taken`},
		{"unknown role", "correct horse battery\n", []string{"add", "-data", dir, "-role", "owner", "bob"}, 2, `unknown role "owner"; one of admin, reviewer, editor, technician, viewer`},
		{"disable", "", []string{"disable", "-data", dir, "alice"}, 0, "disabled user alice"},
		{"passwd", "another long passphrase\n", []string{"passwd", "-data", dir, "alice"}, 0, "set a new password for alice"},
		{"reset-mfa", "", []string{"reset-mfa", "alice", "-data", dir}, 0, "removed the second factor of alice"},
		{"unknown user", "", []string{"enable", "-data", dir, "bob"}, 1, `no user "bob"`},
		{"no subcommand", "", nil, 2, "usage: kiosk-server user SUBCOMMAND"},
	}
	for _, st := range steps {
		code, out, errOut := user(st.stdin, st.args...)
		shown := out
		if st.code != 0 {
			shown = errOut
		}
		if code != st.code || !strings.Contains(shown, st.printed) {
			t.Fatalf("%s: user %q: exit %d, stdout %q, stderr %q; want exit %d printing %q", st.name, st.args, code, out, errOut, st.code, st.printed)
		}
	}
	// username role groups urgent disabled mfa last-sign-in
	if got, want := strings.Join(row("alice")[:7], " "), "alice editor all no yes off never"; got != want {
		t.Errorf("list row %q; want %q", got, want)
	}
	if _, out, _ := user("", "list", "-data", dir); strings.Contains(out, "bob") {
		t.Errorf("list shows bob, whose add was refused:\n%s", out)
	}
}
