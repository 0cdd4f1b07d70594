package usercmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/people"
	"kiosk/server/internal/store"
)

const goodPassword = "correct horse battery"

// run runs the command with stdin as standard input and returns the exit
// status and what was printed.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// withStore opens the data dir for a look and closes it again: the command
// cannot open it while the test holds it.
func withStore(t *testing.T, dir string, fn func(s *store.Store)) {
	t.Helper()
	s, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fn(s)
}

func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("user %q: exit %d, stderr %q; want 0", args, code, errOut)
	}
	return out
}

func TestAddStoresHashedPasswordAndAudits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // add may start a new data dir
	withStoreGroups := func() {
		withStore(t, dir, func(s *store.Store) {
			for _, id := range []string{"north", "south"} {
				if _, err := s.CreateGroup(playlists.Group{ID: id, Name: id}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	withStoreGroups()
	out := mustRun(t, goodPassword+"\r\nignored second line\n", "add", "wang.fang", "--role=editor", "-groups", "north, south", "-urgent", "-data", dir)
	if !strings.HasPrefix(out, "created user wang.fang (role editor, id usr_") {
		t.Errorf("add printed %q; want created user wang.fang (role editor, id usr_…)", out)
	}
	withStore(t, dir, func(s *store.Store) {
		u, err := s.GetUserByName("wang.fang")
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != store.RoleEditor || !u.Urgent || strings.Join(u.Groups, ",") != "north,south" || u.Disabled {
			t.Errorf("stored %+v; want editor, urgent, groups north,south, enabled", u)
		}
		if u.PasswordHash == goodPassword || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Errorf("password stored as %q; want an argon2id hash", u.PasswordHash)
		}
		// The first line only, without its CR LF.
		if ok, err := people.VerifyPassword(u.PasswordHash, goodPassword); !ok || err != nil {
			t.Errorf("stored hash does not verify the password from stdin: %v, %v", ok, err)
		}
		entries, _ := s.ListAudit(store.AuditFilter{Limit: 10})
		if len(entries) != 1 {
			t.Fatalf("audit has %d entries; want 1", len(entries))
		}
		e := entries[0]
		if !strings.HasPrefix(e.Actor, "cli:") || e.Action != "user add" || e.Target != u.ID || e.IP != "local" || e.Via != "cli" || e.Status != 201 {
			t.Errorf("audit entry %+v; want actor cli:…, action user add, target %s, ip local, via cli, status 201", e, u.ID)
		}
	})
}

func TestAddRefusals(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, goodPassword+"\n", "add", "-data", dir, "-role", "admin", "alice")
	tests := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		problem string
	}{
		{"weak password", "short\n", []string{"add", "-data", dir, "-role", "viewer", "bob"}, 1, "password is 5 characters; at least 12 are required"},
		{"password contains the name", "bob-is-my-name\n", []string{"add", "-data", dir, "-role", "viewer", "bob"}, 1, "must not contain the username"},
		{"no password", "", []string{"add", "-data", dir, "-role", "viewer", "bob"}, 1, "no password on standard input"},
		{"duplicate, other case", goodPassword + "\n", []string{"add", "-data", dir, "-role", "viewer", "Alice"}, 1, `username "Alice" is taken`},
		{"unknown role", goodPassword + "\n", []string{"add", "-data", dir, "-role", "boss", "bob"}, 2, `unknown role "boss"; one of admin, reviewer, editor, technician, viewer`},
		{"no role", goodPassword + "\n", []string{"add", "-data", dir, "bob"}, 2, "-role is required; one of admin, reviewer"},
		{"unknown group", goodPassword + "\n", []string{"add", "-data", dir, "-role", "viewer", "-groups", "nowhere", "bob"}, 1, `groups[0]: group "nowhere" does not exist`},
		{"bad username", goodPassword + "\n", []string{"add", "-data", dir, "-role", "viewer", "bob smith"}, 1, "username: may hold letters"},
		{"reserved username", goodPassword + "\n", []string{"add", "-data", dir, "-role", "viewer", "break-glass"}, 1, "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.problem) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.problem)
			}
			if out != "" {
				t.Errorf("printed %q on stdout for a refusal", out)
			}
		})
	}
	withStore(t, dir, func(s *store.Store) {
		if n, _ := s.CountUsers(); n != 1 {
			t.Errorf("%d users after the refusals; want only alice", n)
		}
		if entries, _ := s.ListAudit(store.AuditFilter{Limit: 10}); len(entries) != 1 {
			t.Errorf("%d audit entries; want only alice's add", len(entries))
		}
	})
}

func TestDisablePasswdResetMFAChangeStoreAndEndSessions(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, goodPassword+"\n", "add", "-data", dir, "-role", "technician", "li")
	var id string
	withStore(t, dir, func(s *store.Store) {
		u, _ := s.GetUserByName("li")
		id = u.ID
		if _, err := s.UpdateUser(id, func(u *store.User) error {
			u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", true, 99
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, se := range []store.Session{{Hash: "a", UserID: id}, {Hash: "b", UserID: id}, {Hash: "c", UserID: "usr_other"}} {
			if err := s.PutSession(se); err != nil {
				t.Fatal(err)
			}
		}
	})
	sessions := func() []string {
		var hashes []string
		withStore(t, dir, func(s *store.Store) {
			all, _ := s.ListSessions()
			for _, se := range all {
				hashes = append(hashes, se.Hash)
			}
		})
		return hashes
	}

	// Flags after the name, too.
	if out := mustRun(t, "", "disable", "LI", "-data", dir); !strings.Contains(out, "disabled user li and ended 2 sessions") {
		t.Errorf("disable printed %q", out)
	}
	if got := sessions(); strings.Join(got, ",") != "c" {
		t.Errorf("sessions after disable: %q; want only the other user's", got)
	}
	withStore(t, dir, func(s *store.Store) {
		if u, _ := s.GetUser(id); !u.Disabled {
			t.Error("user not disabled")
		}
	})
	mustRun(t, "", "enable", "-data", dir, "li")
	withStore(t, dir, func(s *store.Store) {
		if u, _ := s.GetUser(id); u.Disabled {
			t.Error("user still disabled after enable")
		}
		s.PutSession(store.Session{Hash: "d", UserID: id})
	})

	const newPassword = "a much better passphrase"
	if code, _, errOut := run(t, "tooshort\n", "passwd", "-data", dir, "li"); code != 1 || !strings.Contains(errOut, "at least 12") {
		t.Errorf("passwd with a weak password: exit %d, %q; want 1 and the policy's reason", code, errOut)
	}
	mustRun(t, newPassword+"\n", "passwd", "-data", dir, "li")
	withStore(t, dir, func(s *store.Store) {
		u, _ := s.GetUser(id)
		if ok, _ := people.VerifyPassword(u.PasswordHash, newPassword); !ok {
			t.Error("new password does not verify after passwd")
		}
		if ok, _ := people.VerifyPassword(u.PasswordHash, goodPassword); ok {
			t.Error("old password still verifies after passwd")
		}
	})
	if got := sessions(); strings.Join(got, ",") != "c" {
		t.Errorf("sessions after passwd: %q; want only the other user's", got)
	}

	mustRun(t, "", "reset-mfa", "-data", dir, "li")
	withStore(t, dir, func(s *store.Store) {
		u, _ := s.GetUser(id)
		if u.TOTPSecret != "" || u.TOTPEnabled || u.TOTPLastStep != 0 {
			t.Errorf("after reset-mfa: secret %q, enabled %v, last step %d; want all cleared", u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep)
		}
		entries, _ := s.ListAudit(store.AuditFilter{Limit: 10})
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
			if e.Target != id {
				t.Errorf("audit %q targets %q; want %q", e.Action, e.Target, id)
			}
		}
		want := "user reset-mfa,user passwd,user enable,user disable,user add"
		if strings.Join(actions, ",") != want {
			t.Errorf("audit actions, newest first: %q; want %q", actions, want)
		}
	})
}

func TestListTable(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := run(t, "", "list", "-data", dir); code != 1 || !strings.Contains(errOut, "is -data right?") {
		t.Errorf("list of an empty dir: exit %d, %q; want 1 asking about -data", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, store.DBFile)); err == nil {
		t.Error("list created a store where there was none")
	}
	mustRun(t, goodPassword+"\n", "add", "-data", dir, "-role", "admin", "zhou")
	mustRun(t, goodPassword+"\n", "add", "-data", dir, "-role", "viewer", "陈静")
	signedIn := time.Date(2026, 3, 9, 8, 30, 0, 0, time.UTC)
	withStore(t, dir, func(s *store.Store) {
		u, _ := s.GetUserByName("zhou")
		s.UpdateUser(u.ID, func(u *store.User) error { u.TOTPEnabled, u.TOTPSecret, u.LastSignIn = true, "X", signedIn; return nil })
	})
	out := mustRun(t, "", "list", "-data", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("list printed %q; want a header and two rows", out)
	}
	wantRows := [][]string{
		{"USERNAME", "ROLE", "GROUPS", "URGENT", "DISABLED", "MFA", "LAST", "SIGN-IN"},
		{"zhou", "admin", "all", "no", "no", "totp", signedIn.Local().Format(time.DateTime)[:10]},
		{"陈静", "viewer", "all", "no", "no", "off", "never"},
	}
	for i, want := range wantRows {
		got := strings.Fields(lines[i])
		if len(got) < len(want) || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("line %d: %q; want it to start with %q", i, lines[i], want)
		}
		// The role column starts at one terminal column on every line,
		// though 陈静 is two runes taking four columns.
		if col := displayWidth(lines[i][:strings.Index(lines[i], want[1])]); col != 10 {
			t.Errorf("line %d: %q: ROLE column at %d; want 10 (USERNAME plus 2)", i, lines[i], col)
		}
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, goodPassword+"\n", "add", "-data", dir, "-role", "admin", "alice")
	tests := []struct {
		name    string
		args    []string
		code    int
		problem string
	}{
		{"no subcommand", nil, 2, "usage: kiosk-server user SUBCOMMAND"},
		{"unknown subcommand", []string{"remove", "alice"}, 2, `unknown subcommand "remove"`},
		{"name missing", []string{"disable", "-data", dir}, 2, "NAME is missing"},
		{"two names", []string{"disable", "-data", dir, "alice", "bob"}, 2, "one NAME expected, got 2"},
		{"list takes no name", []string{"list", "-data", dir, "alice"}, 2, "takes no NAME"},
		{"unknown flag", []string{"disable", "-date", dir, "alice"}, 2, "flag provided but not defined: -date"},
		{"flag of another subcommand", []string{"disable", "-role", "admin", "alice"}, 2, "not defined: -role"},
		{"unknown user", []string{"enable", "-data", dir, "bob"}, 1, `no user "bob"`},
		{"dash name after --", []string{"enable", "-data", dir, "--", "-x"}, 1, `no user "-x"`},
		{"help", []string{"help"}, 0, ""},
		{"subcommand help", []string{"add", "-h"}, 0, "usage: kiosk-server user add"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.problem) {
				t.Errorf("user %q: exit %d, output %q; want %d and %q", tt.args, code, out+errOut, tt.code, tt.problem)
			}
		})
	}
}

func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, goodPassword+"\n", "add", "-data", dir, "-role", "admin", "alice")
	s, err := store.Open(dir, nil) // the server, running
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, _, errOut := run(t, "", "disable", "-data", dir, "alice")
	if code != 1 || !strings.Contains(errOut, "in use by another process") {
		t.Errorf("disable while the server runs: exit %d, %q; want 1 and 'in use by another process'", code, errOut)
	}
}

func TestFlagWithoutValue(t *testing.T) {
	code, _, errOut := run(t, "", "list", "-data")
	if code != 2 || !strings.Contains(errOut, "flag needs an argument: -data") {
		t.Errorf("-data without a value: exit %d, %q; want 2", code, errOut)
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := s.AppendAudit(store.AuditEntry{Actor: "t", Action: "x", Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	var out, errb strings.Builder
	if code := RunAudit([]string{"verify", "-data", dir}, &out, &errb); code != 0 || !strings.Contains(out.String(), "intact: 3 entries") {
		t.Fatalf("verify: exit %d, out %q, err %q", code, out.String(), errb.String())
	}
	if code := RunAudit([]string{"verify", "-data", filepath.Join(dir, "nope")}, &out, &errb); code != 1 {
		t.Errorf("verify on a missing dir: exit %d, want 1", code)
	}
	if code := RunAudit(nil, &out, &errb); code != 2 {
		t.Errorf("no subcommand: exit %d, want 2", code)
	}
}

func TestKeyCommand(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var out, errb strings.Builder
	if code := RunKey([]string{"show", "-data", dir}, &out, &errb); code != 0 {
		t.Fatalf("show: exit %d: %s", code, errb.String())
	}
	first := strings.TrimSpace(out.String())
	if _, err := playlists.DecodeKey(first); err != nil {
		t.Fatalf("show printed %q: %v", first, err)
	}
	out.Reset()
	if code := RunKey([]string{"rotate-prepare", "-data", dir}, &out, &errb); code != 0 {
		t.Fatalf("rotate-prepare: exit %d: %s", code, errb.String())
	}
	if code := RunKey([]string{"rotate-complete", "-data", dir}, &out, &errb); code != 0 {
		t.Fatalf("rotate-complete: exit %d: %s", code, errb.String())
	}
	out.Reset()
	RunKey([]string{"show", "-data", dir}, &out, &errb)
	if got := strings.TrimSpace(out.String()); got == first {
		t.Error("the key did not change after a completed rotation")
	}
	if code := RunKey([]string{"rotate-complete", "-data", dir}, &out, &errb); code != 1 {
		t.Errorf("completing again without a prepared key: exit %d, want 1", code)
	}
	if code := RunKey([]string{"frobnicate"}, &out, &errb); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
}
