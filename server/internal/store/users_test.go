package store

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
)

const testHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"

func newTestUser(name string, role Role) User {
	return User{Username: name, Role: role, PasswordHash: testHash}
}

func mustGroup(t *testing.T, s *Store, id string) {
	t.Helper()
	if _, err := s.CreateGroup(playlists.Group{ID: id, Name: id}); err != nil {
		t.Fatalf("CreateGroup %s: %v", id, err)
	}
}

func wantFieldError(t *testing.T, err error, field, problem string) {
	t.Helper()
	var fe playlists.FieldError
	if !errors.As(err, &fe) || fe.Field != field || !strings.Contains(fe.Problem, problem) {
		t.Fatalf("got %v; want a FieldError on %s containing %q", err, field, problem)
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles {
		if got, err := ParseRole(string(r)); got != r || err != nil {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, nil", r, got, err, r)
		}
	}
	_, err := ParseRole("Admin")
	wantFieldError(t, err, "role", `unknown role "Admin"; one of admin, reviewer, editor, technician, viewer`)
}

func TestCreateAndGetUser(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	mustGroup(t, s, "xinhua-street")
	in := newTestUser("Zhang.Wei", RoleEditor)
	in.Groups = []string{"xinhua-street", "xinhua-street"}
	in.Urgent = true
	u, err := s.CreateUser(in)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if !strings.HasPrefix(u.ID, "usr_") || !u.CreatedAt.Equal(testNow) || !u.UpdatedAt.Equal(testNow) {
		t.Errorf("created %+v: want id usr_…, created and updated at %s", u, testNow)
	}
	if !slices.Equal(u.Groups, []string{"xinhua-street"}) {
		t.Errorf("groups %q: want the duplicate dropped", u.Groups)
	}
	s.Close()

	// Stored, not just returned: read back after reopening.
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetUser(u.ID)
	if err != nil || got.Username != "Zhang.Wei" || got.Role != RoleEditor || !got.Urgent || got.PasswordHash != testHash {
		t.Errorf("GetUser after reopen: got %+v, %v; want the created user", got, err)
	}
	for _, name := range []string{"Zhang.Wei", "zhang.wei", "ZHANG.WEI"} {
		if got, err := s.GetUserByName(name); err != nil || got.ID != u.ID {
			t.Errorf("GetUserByName(%q): got %q, %v; want %q", name, got.ID, err, u.ID)
		}
	}
	if _, err := s.GetUserByName("li.na"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetUserByName(unknown): got %v; want not found", err)
	}
	var nf NotFoundError
	if _, err := s.GetUser("usr_nope"); !errors.As(err, &nf) || nf.Kind != "user" {
		t.Errorf("GetUser(unknown): got %v; want NotFoundError{Kind: user}", err)
	}
}

func TestCreateUserNoGroupsIsEmptyList(t *testing.T) {
	s := openTest(t)
	u, err := s.CreateUser(newTestUser("alice", RoleViewer))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetUser(u.ID)
	if u.Groups == nil || got.Groups == nil || len(got.Groups) != 0 {
		t.Errorf("groups: created %#v, stored %#v; want [] (JSON [] rather than null)", u.Groups, got.Groups)
	}
}

func TestCreateUserValidation(t *testing.T) {
	s := openTest(t)
	mustGroup(t, s, "north")
	tests := []struct {
		name           string
		user           User
		field, problem string // field "" means accepted
	}{
		{"plain", newTestUser("li_na-2", RoleAdmin), "", ""},
		{"chinese", newTestUser("王小明", RoleViewer), "", ""},
		{"japanese and korean", newTestUser("やまだ_김민수", RoleViewer), "", ""},
		{"64 runes", newTestUser(strings.Repeat("名", 64), RoleViewer), "", ""},
		{"empty", newTestUser("", RoleViewer), "username", "is required"},
		{"65 runes", newTestUser(strings.Repeat("名", 65), RoleViewer), "username", "is 65 characters, at most 64 allowed"},
		{"space", newTestUser("li na", RoleViewer), "username", "' '"},
		{"at sign", newTestUser("li@example.org", RoleViewer), "username", "'@'"},
		{"cyrillic look-alike", newTestUser("аdmin", RoleViewer), "username", "letters, digits"},
		{"leading dash", newTestUser("-bob", RoleViewer), "username", "must start with a letter or digit"},
		{"reserved", newTestUser("Break-Glass", RoleViewer), "username", "reserved"},
		{"unknown role", newTestUser("carol", "superuser"), "role", `unknown role "superuser"; one of admin, reviewer`},
		{"no role", newTestUser("carol", ""), "role", `unknown role ""`},
		{"missing group", User{Username: "dave", Role: RoleEditor, Groups: []string{"north", "south"}, PasswordHash: testHash}, "groups[1]", `group "south" does not exist`},
		{"no password hash", User{Username: "erin", Role: RoleEditor}, "password_hash", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.CountUsers()
			_, err := s.CreateUser(tt.user)
			after, _ := s.CountUsers()
			if tt.field == "" {
				if err != nil || after != before+1 {
					t.Fatalf("CreateUser(%q): got %v (count %d→%d); want it created", tt.user.Username, err, before, after)
				}
				return
			}
			wantFieldError(t, err, tt.field, tt.problem)
			if after != before {
				t.Errorf("count %d→%d after a refused create; want unchanged", before, after)
			}
		})
	}
}

func TestCreateUserDuplicateName(t *testing.T) {
	s := openTest(t)
	if _, err := s.CreateUser(newTestUser("alice", RoleEditor)); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateUser(newTestUser("ALICE", RoleViewer))
	var ce ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
		t.Fatalf("second alice: got %v; want a ConflictError", err)
	}
	if n, _ := s.CountUsers(); n != 1 {
		t.Errorf("CountUsers = %d after a refused duplicate; want 1", n)
	}
}

func TestListUsersSortedByName(t *testing.T) {
	s := openTest(t)
	if n, err := s.CountUsers(); n != 0 || err != nil {
		t.Fatalf("CountUsers on a new store: %d, %v; want 0", n, err)
	}
	if us, err := s.ListUsers(); err != nil || us == nil || len(us) != 0 {
		t.Fatalf("ListUsers on a new store: %#v, %v; want an empty list", us, err)
	}
	for _, name := range []string{"carol", "Bob", "alice", "dave"} {
		if _, err := s.CreateUser(newTestUser(name, RoleViewer)); err != nil {
			t.Fatal(err)
		}
	}
	us, err := s.ListUsers()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.Username)
	}
	if want := []string{"alice", "Bob", "carol", "dave"}; !slices.Equal(names, want) {
		t.Errorf("ListUsers order %q; want %q (case-insensitive)", names, want)
	}
	if n, _ := s.CountUsers(); n != 4 {
		t.Errorf("CountUsers = %d; want 4", n)
	}
}

func TestUpdateUser(t *testing.T) {
	now := testNow
	s, err := Open(t.TempDir(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustGroup(t, s, "north")
	u, err := s.CreateUser(newTestUser("alice", RoleEditor))
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	got, err := s.UpdateUser(u.ID, func(u *User) error {
		u.Role = RoleReviewer
		u.Groups = []string{"north"}
		u.Disabled = true
		u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep = "GEZDGNBV", true, 42
		u.LastSignIn = now
		// Not changeable through UpdateUser: kept as they were.
		u.ID, u.Username, u.CreatedAt = "usr_other", "mallory", time.Time{}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if got.ID != u.ID || got.Username != "alice" || !got.CreatedAt.Equal(testNow) || !got.UpdatedAt.Equal(now) {
		t.Errorf("identity after update: %+v; want id %s, alice, created %s, updated %s", got, u.ID, testNow, now)
	}
	stored, _ := s.GetUser(u.ID)
	if stored.Role != RoleReviewer || !slices.Equal(stored.Groups, []string{"north"}) || !stored.Disabled ||
		!stored.TOTPEnabled || stored.TOTPLastStep != 42 || !stored.LastSignIn.Equal(now) {
		t.Errorf("stored after update: %+v; want the changes of fn", stored)
	}
	if _, err := s.GetUserByName("mallory"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a rename through UpdateUser reached the name index: %v", err)
	}

	t.Run("invalid role refused", func(t *testing.T) {
		_, err := s.UpdateUser(u.ID, func(u *User) error { u.Role = "root"; return nil })
		wantFieldError(t, err, "role", `unknown role "root"`)
	})
	t.Run("missing group refused", func(t *testing.T) {
		_, err := s.UpdateUser(u.ID, func(u *User) error { u.Groups = []string{"south"}; return nil })
		wantFieldError(t, err, "groups[0]", `group "south" does not exist`)
	})
	t.Run("error from fn aborts", func(t *testing.T) {
		stop := errors.New("stop")
		_, err := s.UpdateUser(u.ID, func(u *User) error { u.Role = RoleViewer; return stop })
		if !errors.Is(err, stop) {
			t.Fatalf("got %v; want fn's error", err)
		}
	})
	if after, _ := s.GetUser(u.ID); after.Role != RoleReviewer || !slices.Equal(after.Groups, []string{"north"}) {
		t.Errorf("after refused updates: %+v; want unchanged", after)
	}
	t.Run("unknown user", func(t *testing.T) {
		_, err := s.UpdateUser("usr_nope", func(*User) error { t.Error("fn called for an unknown user"); return nil })
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("got %v; want not found", err)
		}
	})
}

// Updates read and write in one transaction: concurrent increments are all
// kept (the pattern TOTP replay protection relies on).
func TestUpdateUserConcurrent(t *testing.T) {
	s := openTest(t)
	u, err := s.CreateUser(newTestUser("alice", RoleEditor))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := s.UpdateUser(u.ID, func(u *User) error { u.TOTPLastStep++; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, _ := s.GetUser(u.ID); got.TOTPLastStep != n {
		t.Errorf("TOTPLastStep = %d after %d concurrent increments; want %d", got.TOTPLastStep, n, n)
	}
}
