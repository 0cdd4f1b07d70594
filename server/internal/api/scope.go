package api

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// expandScope returns roots and every group nested under them.
func expandScope(roots []string, groups []playlists.Group) map[string]bool {
	in := map[string]bool{}
	for _, r := range roots {
		in[r] = true
	}
	// Walk up from every group: it is in scope when an ancestor is a root.
	parent := map[string]string{}
	for _, g := range groups {
		parent[g.ID] = g.Parent
	}
	for _, g := range groups {
		seen := map[string]bool{}
		for cur := g.ID; cur != "" && !seen[cur]; cur = parent[cur] {
			seen[cur] = true
			if in[cur] {
				in[g.ID] = true
				break
			}
		}
	}
	return in
}

// scoped reports whether p is limited to some groups.
func (p *principal) scoped() bool { return p != nil && p.Scope != nil }

// seesGroup reports whether group id is within p's scope.
func (p *principal) seesGroup(id string) bool { return !p.scoped() || p.Scope[id] }

// seesScreen reports whether a screen in group is within p's scope.
func (p *principal) seesScreen(group string) bool { return !p.scoped() || p.Scope[group] }

func (p *principal) scopeNames() string {
	names := make([]string, 0, len(p.User.Groups))
	names = append(names, p.User.Groups...)
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkTarget refuses a target that reaches screens outside p's scope.
// screenGroup gives a screen's group ("", false: no such screen).
func (p *principal) checkTarget(t playlists.Target, screenGroup func(id string) (string, bool)) error {
	if !p.scoped() {
		return nil
	}
	limit := func(what string) error {
		return errCode(http.StatusForbidden, "out_of_scope",
			fmt.Sprintf("your account is limited to the groups %s; %s", p.scopeNames(), what))
	}
	if t.All {
		return limit("target those groups instead of all screens")
	}
	if len(t.Tags) > 0 {
		return limit("tags may reach screens outside them; target groups or screens instead")
	}
	for _, g := range t.Groups {
		if !p.Scope[g] {
			return limit(fmt.Sprintf("group %q is outside them", g))
		}
	}
	for _, id := range t.Screens {
		g, ok := screenGroup(id)
		if ok && !p.Scope[g] {
			return limit(fmt.Sprintf("screen %q is outside them", id))
		}
	}
	return nil
}

// targetVisible reports whether every screen t can reach is in p's scope;
// scoped people see only such schedules and notices.
func (p *principal) targetVisible(t playlists.Target, screenGroup func(id string) (string, bool)) bool {
	return p.checkTarget(t, screenGroup) == nil
}

// visibleTo keeps the elements of in whose target p may see: all of them
// for a person not limited to groups, without reading the screens.
func visibleTo[T any](h *handler, p *principal, in []T, target func(T) playlists.Target) ([]T, error) {
	if !p.scoped() {
		return in, nil
	}
	groupOf, err := h.screenGroups()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(in, func(v T) bool { return !p.targetVisible(target(v), groupOf) }), nil
}

// checkVisible answers not found for an object (kind, id) whose target
// reaches screens outside p's scope, as for one that does not exist.
func (h *handler) checkVisible(p *principal, t playlists.Target, kind, id string) error {
	if !p.scoped() {
		return nil
	}
	groupOf, err := h.screenGroups()
	if err != nil {
		return err
	}
	if !p.targetVisible(t, groupOf) {
		return store.NotFoundError{Kind: kind, ID: id}
	}
	return nil
}

// checkTargetAllowed refuses p a target reaching outside their scope.
func (h *handler) checkTargetAllowed(p *principal, t playlists.Target) error {
	if !p.scoped() {
		return nil
	}
	groupOf, err := h.screenGroups()
	if err != nil {
		return err
	}
	return p.checkTarget(t, groupOf)
}

// screenGroups maps every screen id to its group, for scope checks.
func (h *handler) screenGroups() (func(string) (string, bool), error) {
	screens, err := h.store.ListScreens()
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(screens))
	for _, s := range screens {
		m[s.ID] = s.Group
	}
	return func(id string) (string, bool) { g, ok := m[id]; return g, ok }, nil
}

// checkScreenVisible answers 404 for a screen outside p's scope, as for one
// that does not exist: a street office cannot even learn it is there.
func (h *handler) checkScreenVisible(p *principal, id string) error {
	if !p.scoped() {
		return nil
	}
	sc, err := h.store.GetScreen(id)
	if err != nil {
		return err
	}
	if !p.seesScreen(sc.Group) {
		return store.NotFoundError{Kind: "screen", ID: id}
	}
	return nil
}

// checkObjectScope is guard's object-level check: every route under
// /screens/:id and /groups/:id answers 404 to a scoped person for a screen
// or group outside their groups.
func (h *handler) checkObjectScope(c echo.Context, p *principal) error {
	if !p.scoped() {
		return nil
	}
	switch path := c.Path(); {
	case strings.HasPrefix(path, "/api/v1/screens/:id"):
		return h.checkScreenVisible(p, c.Param("id"))
	case strings.HasPrefix(path, "/api/v1/groups/:id"):
		return h.checkGroupVisible(p, c.Param("id"))
	}
	return nil
}

// checkPlacement refuses a scoped person putting a screen or group
// outside their groups (or at the top, outside every group).
func (p *principal) checkPlacement(field, group string) error {
	if !p.scoped() || p.Scope[group] {
		return nil
	}
	return errCode(http.StatusForbidden, "out_of_scope",
		fmt.Sprintf("your account is limited to the groups %s; %s %q is outside them", p.scopeNames(), field, group))
}

// checkGroupVisible is checkScreenVisible for groups.
func (h *handler) checkGroupVisible(p *principal, id string) error {
	if p.seesGroup(id) {
		return nil
	}
	return store.NotFoundError{Kind: "group", ID: id}
}

// inScope keeps the screens p may see.
func inScope[T any](p *principal, in []T, group func(T) string) []T {
	if !p.scoped() {
		return in
	}
	return slices.DeleteFunc(in, func(v T) bool { return !p.seesScreen(group(v)) })
}
