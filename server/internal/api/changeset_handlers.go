package api

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/server/internal/publish"
	"kiosk/server/internal/store"
)

// changeSetSummary is a change set with the number of its changes in
// place of the changes, for lists (the outer Ops shadows the embedded one).
type changeSetSummary struct {
	store.ChangeSet
	Ops int `json:"ops"`
}

func summarise(cs store.ChangeSet) changeSetSummary {
	return changeSetSummary{ChangeSet: cs, Ops: len(cs.Ops)}
}

// change is one object a change set touches, before and after the whole
// set (several drafts of one object show as one change).
type change struct {
	Action string `json:"action"`
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Label  string `json:"label"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

type reachedScreen struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
}

type reach struct {
	Screens []reachedScreen `json:"screens"`
	Count   int             `json:"count"`
	// From is the earliest start among the schedules the set creates or
	// changes (empty: at once, as soon as approved).
	From *time.Time `json:"from,omitempty"`
}

type changeSetDetail struct {
	changeSetSummary
	Changes   []change `json:"changes"`
	Reach     reach    `json:"reach"`
	Conflicts []string `json:"conflicts"`
	// CanApprove tells the page whether to offer approve and reject.
	CanApprove bool `json:"can_approve"`
}

func (h *handler) listChangeSets(c echo.Context) error {
	state := c.QueryParam("state")
	if state != "" && !slices.Contains(store.ChangeSetStates, state) {
		return errorf(http.StatusBadRequest, "state %q is not one of %v", state, store.ChangeSetStates)
	}
	author := ""
	if c.QueryParam("mine") == "1" || c.QueryParam("mine") == "true" {
		author = principalOf(c).actor().ID
	}
	sets, err := h.store.ListChangeSets(state, author)
	if err != nil {
		return err
	}
	out := make([]changeSetSummary, len(sets))
	for i, cs := range sets {
		out[i] = summarise(cs)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handler) getChangeSet(c echo.Context) error {
	cs, err := h.store.GetChangeSet(c.Param("id"))
	if err != nil {
		return err
	}
	d, err := h.detail(cs)
	if err != nil {
		return err
	}
	p := principalOf(c)
	d.CanApprove = cs.State == store.ChangeSetSubmitted && p.can(capReview) && cs.Author != p.actor().ID
	if d.CanApprove && p.scoped() {
		for _, s := range d.Reach.Screens {
			if !p.seesScreen(s.Group) {
				d.CanApprove = false
			}
		}
	}
	return c.JSON(http.StatusOK, d)
}

// detail lays the set over the published state to show what approval
// would change: the objects before and after, and the screens whose
// manifest would differ.
func (h *handler) detail(cs store.ChangeSet) (changeSetDetail, error) {
	d := changeSetDetail{changeSetSummary: summarise(cs), Changes: []change{}, Conflicts: []string{},
		Reach: reach{Screens: []reachedScreen{}}}
	pv, err := h.store.PreviewChangeSet(cs)
	if err != nil {
		return d, err
	}
	if pv.Conflicts != nil {
		d.Conflicts = pv.Conflicts
	}
	seen := map[string]bool{}
	for _, op := range cs.Ops {
		key := op.Key()
		if seen[key] {
			continue
		}
		seen[key] = true
		before, hadBefore := pv.Before[key]
		after, hasAfter := pv.After[key]
		action := op.Action
		switch {
		case op.Action == store.OpSetDefault:
		case !hadBefore && hasAfter:
			action = store.OpCreate
		case hadBefore && !hasAfter:
			action = store.OpDelete
		case hadBefore && hasAfter:
			action = store.OpUpdate
		}
		if !hadBefore {
			before = nil
		}
		if !hasAfter {
			after = nil
		}
		if len(d.Conflicts) > 0 {
			after = nil // the set does not apply; show the last drafted version instead
			if last := lastPayload(cs, key); last != nil {
				after = last
			}
		}
		d.Changes = append(d.Changes, change{Action: action, Kind: op.Kind, ID: op.ID, Label: pv.Labels[key], Before: before, After: after})
		if op.Kind == store.KindSchedule && op.Schedule != nil && op.Schedule.From != nil {
			if d.Reach.From == nil || op.Schedule.From.Before(*d.Reach.From) {
				from := *op.Schedule.From
				d.Reach.From = &from
			}
		}
	}
	if len(d.Conflicts) > 0 {
		return d, nil
	}
	// Reach ignores safe mode: a set approved while some screens are on
	// the slate reaches them the moment it is lifted, and a reviewer's
	// scope must cover them (safe mode must not hide them from the check).
	pv.Published.Catalog.SafeModes, pv.Draft.Catalog.SafeModes = nil, nil
	now := h.opts.Now()
	was, err := publish.Compute(pv.Published, now)
	if err != nil {
		return d, err
	}
	will, err := publish.Compute(pv.Draft, now)
	if err != nil {
		return d, err
	}
	for _, scr := range pv.Draft.Screens {
		a, b := was[scr.ID], will[scr.ID]
		if a == nil || b == nil || a.Manifest.Version != b.Manifest.Version {
			d.Reach.Screens = append(d.Reach.Screens, reachedScreen{ID: scr.ID, Name: scr.Name, Group: scr.Group})
		}
	}
	sort.Slice(d.Reach.Screens, func(i, j int) bool { return d.Reach.Screens[i].ID < d.Reach.Screens[j].ID })
	d.Reach.Count = len(d.Reach.Screens)
	return d, nil
}

func lastPayload(cs store.ChangeSet, key string) any {
	for i := len(cs.Ops) - 1; i >= 0; i-- {
		op := cs.Ops[i]
		if op.Key() != key {
			continue
		}
		switch {
		case op.Item != nil:
			return op.Item
		case op.Playlist != nil:
			return op.Playlist
		case op.Schedule != nil:
			return op.Schedule
		case op.DefaultPlaylist != nil:
			return map[string]string{"default_playlist": *op.DefaultPlaylist}
		}
		return nil
	}
	return nil
}

// ownChangeSet loads id and checks the caller wrote it.
func (h *handler) ownChangeSet(c echo.Context) (store.ChangeSet, error) {
	cs, err := h.store.GetChangeSet(c.Param("id"))
	if err != nil {
		return cs, err
	}
	if cs.Author != principalOf(c).actor().ID {
		return cs, errCode(http.StatusForbidden, "not_author", fmt.Sprintf("change set %s is %s's; only its author may do this", cs.ID, cs.AuthorName))
	}
	return cs, nil
}

type changeSetRequest struct {
	Title   string `json:"title"`
	Comment string `json:"comment"`
}

func (h *handler) renameChangeSet(c echo.Context) error {
	var req changeSetRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if _, err := h.ownChangeSet(c); err != nil {
		return err
	}
	cs, err := h.store.RenameChangeSet(c.Param("id"), req.Title)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, summarise(cs))
}

func (h *handler) submitChangeSet(c echo.Context) error {
	if _, err := h.ownChangeSet(c); err != nil {
		return err
	}
	cs, err := h.store.SubmitChangeSet(c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(ctxAuditDetail, fmt.Sprintf("submitted %q (%d changes) for review", cs.Title, len(cs.Ops)))
	return c.JSON(http.StatusOK, summarise(cs))
}

func (h *handler) discardChangeSet(c echo.Context) error {
	if _, err := h.ownChangeSet(c); err != nil {
		return err
	}
	cs, err := h.store.DiscardChangeSet(c.Param("id"))
	if err != nil {
		return err
	}
	c.Set(ctxAuditDetail, fmt.Sprintf("discarded %q (%d changes)", cs.Title, len(cs.Ops)))
	return c.NoContent(http.StatusNoContent)
}

// approveChangeSet publishes the set atomically. The store refuses the
// author (two-person rule) and a set whose base moved meanwhile.
func (h *handler) approveChangeSet(c echo.Context) error {
	var req changeSetRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	if err := h.checkReviewScope(c); err != nil {
		return err
	}
	cs, err := h.store.ApproveChangeSet(c.Param("id"), principalOf(c).actor(), req.Comment)
	if err != nil {
		return err
	}
	c.Set(ctxAuditAfter, store.HashJSON(cs.Ops))
	c.Set(ctxAuditDetail, fmt.Sprintf("approved and published %q by %s (%d changes)", cs.Title, cs.AuthorName, len(cs.Ops)))
	return c.JSON(http.StatusOK, summarise(cs))
}

func (h *handler) rejectChangeSet(c echo.Context) error {
	var req changeSetRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.checkReviewScope(c); err != nil {
		return err
	}
	cs, err := h.store.RejectChangeSet(c.Param("id"), principalOf(c).actor(), req.Comment)
	if err != nil {
		return err
	}
	c.Set(ctxAuditDetail, fmt.Sprintf("rejected %q by %s: %s", cs.Title, cs.AuthorName, cs.Comment))
	return c.JSON(http.StatusOK, summarise(cs))
}

// checkReviewScope refuses a reviewer limited to some groups a change set
// that reaches screens outside them: a street office reviews what its own
// screens will show, not its neighbours'.
func (h *handler) checkReviewScope(c echo.Context) error {
	p := principalOf(c)
	if !p.scoped() {
		return nil
	}
	cs, err := h.store.GetChangeSet(c.Param("id"))
	if err != nil {
		return err
	}
	d, err := h.detail(cs)
	if err != nil {
		return err
	}
	for _, s := range d.Reach.Screens {
		if !p.seesScreen(s.Group) {
			return errCode(http.StatusForbidden, "out_of_scope", fmt.Sprintf(
				"change set %s reaches screens outside your groups (%s), e.g. %s: a reviewer without that limit must decide", cs.ID, p.scopeNames(), s.ID))
		}
	}
	return nil
}
