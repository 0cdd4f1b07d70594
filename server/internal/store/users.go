package store

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Role is what a user may do; the capabilities of each are the API's
// business (the API contract lists them).
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin      Role = "admin"
	RoleReviewer   Role = "reviewer"
	RoleEditor     Role = "editor"
	RoleTechnician Role = "technician"
	RoleViewer     Role = "viewer"
)

// Roles lists every role, in the order of the constants.
var Roles = []Role{RoleAdmin, RoleReviewer, RoleEditor, RoleTechnician, RoleViewer}

// ParseRole returns the role named s, or a field error listing the roles.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", playlists.FieldError{Field: "role", Problem: fmt.Sprintf("unknown role %q; one of %s", s, strings.Join(names, ", "))}
}

// User is a person who signs in. Secrets are stored only as the hash
// (PasswordHash, see package people) and the TOTP secret, which the API
// never shows.
type User struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Role     Role     `json:"role"`
	Groups   []string `json:"groups"` // scope; empty = every group
	Urgent   bool     `json:"urgent"` // may send urgent notices without review
	Disabled bool     `json:"disabled"`

	PasswordHash string `json:"password_hash"`
	TOTPSecret   string `json:"totp_secret,omitempty"` // set while enrolling and after
	TOTPEnabled  bool   `json:"totp_enabled"`
	TOTPLastStep int64  `json:"totp_last_step,omitempty"`

	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	LastSignIn time.Time `json:"last_sign_in,omitzero"`
}

// MaxUsernameRunes bounds a username.
const MaxUsernameRunes = 64

// ReservedUsername is what the API calls the holder of the break-glass
// admin token; no account may take it, so the audit trail and the session
// view cannot confuse the two.
const ReservedUsername = "break-glass"

// usernameRune allows letters and digits of the Latin alphabet, Chinese,
// Japanese and Korean letters, and . _ -. No spaces or look-alike scripts:
// a username is typed at sign-in and read in the audit trail, so two
// names must not look the same.
func usernameRune(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-'
	case unicode.IsLetter(r):
		return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
	}
	return false
}

func checkUsername(name string) error {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return playlists.FieldError{Field: "username", Problem: "is required"}
	}
	if n > MaxUsernameRunes {
		return playlists.FieldError{Field: "username", Problem: fmt.Sprintf("is %d characters, at most %d allowed", n, MaxUsernameRunes)}
	}
	for _, r := range name {
		if !usernameRune(r) {
			return playlists.FieldError{Field: "username", Problem: fmt.Sprintf("may hold letters, digits, '.', '_' and '-' only (got %q in %q)", r, name)}
		}
	}
	// A leading '-' would read as a flag on the command line (kiosk-server
	// user disable -bob), a leading '.' as a hidden file name.
	if first, _ := utf8.DecodeRuneInString(name); first == '-' || first == '.' {
		return playlists.FieldError{Field: "username", Problem: fmt.Sprintf("must start with a letter or digit (got %q)", name)}
	}
	if strings.EqualFold(name, ReservedUsername) {
		return playlists.FieldError{Field: "username", Problem: fmt.Sprintf("%q is reserved for the break-glass token", ReservedUsername)}
	}
	return nil
}

// usernameKey is the index key: usernames are unique regardless of case.
func usernameKey(name string) []byte { return []byte(strings.ToLower(name)) }

// checkUser validates what may change over a user's life, inside the
// transaction that stores it so a group cannot vanish in between.
func checkUser(tx *bolt.Tx, u *User) error {
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	for i, g := range u.Groups {
		if !exists(tx, bucketGroups, g) {
			return playlists.FieldError{Field: fmt.Sprintf("groups[%d]", i), Problem: fmt.Sprintf("group %q does not exist", g)}
		}
	}
	groups := slices.Clone(u.Groups)
	slices.Sort(groups)
	u.Groups = slices.Compact(groups)
	if u.Groups == nil {
		u.Groups = []string{}
	}
	if u.PasswordHash == "" {
		return playlists.FieldError{Field: "password_hash", Problem: "is required"}
	}
	return nil
}

// CreateUser stores u under a new id. The username must be free, compared
// without regard to case.
func (s *Store) CreateUser(u User) (User, error) {
	if err := checkUsername(u.Username); err != nil {
		return User{}, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := checkUser(tx, &u); err != nil {
			return err
		}
		byName := tx.Bucket(bucketUsersByName)
		if id := byName.Get(usernameKey(u.Username)); id != nil {
			return ConflictError{Msg: fmt.Sprintf("username %q is taken", u.Username)}
		}
		b := tx.Bucket(bucketUsers)
		u.ID = freshID(b, "usr")
		u.CreatedAt = s.now().UTC()
		u.UpdatedAt = u.CreatedAt
		if err := byName.Put(usernameKey(u.Username), []byte(u.ID)); err != nil {
			return err
		}
		return putJSON(b, u.ID, u)
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// GetUser returns user id.
func (s *Store) GetUser(id string) (User, error) {
	return get[User](s, bucketUsers, "user", id)
}

// GetUserByName returns the user called name, in any case.
func (s *Store) GetUserByName(name string) (User, error) {
	var u User
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketUsersByName).Get(usernameKey(name))
		if id == nil {
			return NotFoundError{Kind: "user", ID: name}
		}
		ok, err := getJSON(tx.Bucket(bucketUsers), string(id), &u)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("username index names user %q, which does not exist", id)
		}
		return nil
	})
	return u, err
}

// ListUsers returns every user, ordered by username.
func (s *Store) ListUsers() ([]User, error) {
	users, err := list[User](s, bucketUsers)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(users, func(a, b User) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Username), strings.ToLower(b.Username)), cmp.Compare(a.ID, b.ID))
	})
	return users, nil
}

// UpdateUser changes user id with fn in one transaction, so a change
// decided on the user's current state (a TOTP step, a failed count)
// cannot overwrite a concurrent one. fn may change anything but ID,
// Username and CreatedAt, which are kept; role and groups are checked
// again. An error from fn aborts the update and is returned.
func (s *Store) UpdateUser(id string, fn func(*User) error) (User, error) {
	var u User
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		ok, err := getJSON(b, id, &u)
		if err != nil {
			return err
		}
		if !ok {
			return NotFoundError{Kind: "user", ID: id}
		}
		keep := u
		if err := fn(&u); err != nil {
			return err
		}
		u.ID, u.Username, u.CreatedAt = keep.ID, keep.Username, keep.CreatedAt
		if err := checkUser(tx, &u); err != nil {
			return err
		}
		u.UpdatedAt = s.now().UTC()
		return putJSON(b, id, u)
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// CountUsers returns how many users exist (none yet: only the break-glass
// token can sign in).
func (s *Store) CountUsers() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketUsers).Stats().KeyN
		return nil
	})
	return n, err
}
