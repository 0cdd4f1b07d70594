package store

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Group ids are chosen by people ("xinhua-street") and appear in URLs and
// targets, so they are kept to a plain, URL-safe alphabet.
var groupIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

func validateGroup(g *playlists.Group) error {
	if !groupIDPattern.MatchString(g.ID) {
		return playlists.FieldError{Field: "id", Problem: fmt.Sprintf("must be 1-64 letters, digits, '-' or '_' starting with a letter or digit (got %q)", g.ID)}
	}
	if strings.TrimSpace(g.Name) == "" {
		return playlists.FieldError{Field: "name", Problem: "is required"}
	}
	if n := utf8.RuneCountInString(g.Name); n > playlists.MaxNameRunes {
		return playlists.FieldError{Field: "name", Problem: fmt.Sprintf("is %d characters, at most %d allowed", n, playlists.MaxNameRunes)}
	}
	if err := checkTimezone(g.Timezone); err != nil {
		return err
	}
	if err := playlists.CheckLayout(g.Layout); err != nil {
		return err
	}
	if g.Parent == g.ID {
		return playlists.FieldError{Field: "parent", Problem: "a group cannot be its own parent"}
	}
	return nil
}

func checkTimezone(tz string) error {
	if tz == "" {
		return nil
	}
	// LoadLocation accepts "" and "Local", which mean the server's zone, not
	// a place; a screen's zone must be a real IANA name.
	if tz == "Local" {
		return playlists.FieldError{Field: "timezone", Problem: `must be an IANA zone name such as "Asia/Shanghai"`}
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return playlists.FieldError{Field: "timezone", Problem: fmt.Sprintf("unknown time zone %q (use an IANA name such as \"Asia/Shanghai\")", tz)}
	}
	return nil
}

// checkParent verifies that parent exists and that making it the parent of
// id creates no cycle.
func checkParent(tx *bolt.Tx, id, parent string) error {
	if parent == "" {
		return nil
	}
	b := tx.Bucket(bucketGroups)
	seen := map[string]bool{}
	for cur := parent; cur != ""; {
		if cur == id {
			return playlists.FieldError{Field: "parent", Problem: fmt.Sprintf("group %q is nested under %q, so it cannot be its parent (cycle)", parent, id)}
		}
		if seen[cur] {
			break // an existing cycle; refuse to walk forever
		}
		seen[cur] = true
		var g playlists.Group
		ok, err := getJSON(b, cur, &g)
		if err != nil {
			return err
		}
		if !ok {
			if cur == parent {
				return playlists.FieldError{Field: "parent", Problem: fmt.Sprintf("group %q does not exist", parent)}
			}
			break
		}
		cur = g.Parent
	}
	return nil
}

// CreateGroup stores g under the id it carries.
func (s *Store) CreateGroup(g playlists.Group) (playlists.Group, error) {
	if err := validateGroup(&g); err != nil {
		return playlists.Group{}, err
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return s.createGroup(tx, &g) }); err != nil {
		return playlists.Group{}, err
	}
	return g, nil
}

// createGroup stores g (validated) in tx under the id it carries and
// completes it as stored. A taken id is an ExistsError.
func (s *Store) createGroup(tx *bolt.Tx, g *playlists.Group) error {
	if exists(tx, bucketGroups, g.ID) {
		return ExistsError{Kind: "group", ID: g.ID}
	}
	if err := checkParent(tx, g.ID, g.Parent); err != nil {
		return err
	}
	if err := checkDefaultPlaylist(tx, g.DefaultPlaylist); err != nil {
		return err
	}
	g.CreatedAt = s.now().UTC()
	g.UpdatedAt = g.CreatedAt
	noteGroup(tx, g.ID, g)
	return putJSON(tx.Bucket(bucketGroups), g.ID, *g)
}

// UpdateGroup replaces group id with g (whose ID is set to id).
func (s *Store) UpdateGroup(id string, g playlists.Group) (playlists.Group, error) {
	g.ID = id
	if err := validateGroup(&g); err != nil {
		return playlists.Group{}, err
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return s.updateGroup(tx, id, &g) }); err != nil {
		return playlists.Group{}, err
	}
	return g, nil
}

// updateGroup replaces group id in tx with g (validated, its ID id) and
// completes it as stored.
func (s *Store) updateGroup(tx *bolt.Tx, id string, g *playlists.Group) error {
	var old playlists.Group
	ok, err := getJSON(tx.Bucket(bucketGroups), id, &old)
	if err != nil {
		return err
	}
	if !ok {
		return NotFoundError{Kind: "group", ID: id}
	}
	if err := checkParent(tx, id, g.Parent); err != nil {
		return err
	}
	if err := checkDefaultPlaylist(tx, g.DefaultPlaylist); err != nil {
		return err
	}
	g.CreatedAt = old.CreatedAt
	g.UpdatedAt = s.now().UTC()
	noteGroup(tx, id, g)
	return putJSON(tx.Bucket(bucketGroups), id, *g)
}

// GetGroup returns group id, from the in-memory index (memindex.go).
func (s *Store) GetGroup(id string) (playlists.Group, error) {
	g, ok := s.memGroup(id)
	if !ok {
		return playlists.Group{}, NotFoundError{Kind: "group", ID: id}
	}
	return g, nil
}

// ListGroups returns every group, ordered by id, from the in-memory index.
func (s *Store) ListGroups() ([]playlists.Group, error) {
	m := s.memGroups()
	out := make([]playlists.Group, 0, len(m))
	for _, g := range m {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b playlists.Group) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteGroup removes group id unless it has child groups, screens, or
// schedules targeting it.
func (s *Store) DeleteGroup(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if !exists(tx, bucketGroups, id) {
			return NotFoundError{Kind: "group", ID: id}
		}
		var users []string
		groups, err := listJSON[playlists.Group](tx, bucketGroups)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.Parent == id {
				users = append(users, fmt.Sprintf("group %s (%q)", g.ID, g.Name))
			}
		}
		screens, err := listJSON[Screen](tx, bucketScreens)
		if err != nil {
			return err
		}
		for _, sc := range screens {
			if sc.Group == id {
				users = append(users, fmt.Sprintf("screen %s (%q)", sc.ID, sc.Name))
			}
		}
		scs, err := schedulesTargeting(tx, id, func(t playlists.Target) []string { return t.Groups })
		if err != nil {
			return err
		}
		users = append(users, scs...)
		if len(users) > 0 {
			return InUseError{Kind: "group", ID: id, UsedBy: users}
		}
		noteGroup(tx, id, nil)
		return tx.Bucket(bucketGroups).Delete([]byte(id))
	})
}
