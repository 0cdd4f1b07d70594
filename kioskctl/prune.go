package kioskctl

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// Prune actions: apply --prune deletes what an earlier apply of the same
// file created (it is in the ids file) and the file no longer has.
const (
	actDelete = "delete"
	actForget = "forget" // in the ids file, but the server no longer has it
)

// prunePlan lists, for one kind, the objects the ids file names under keys
// the campaign no longer has. Only objects this file created or adopted
// are candidates: anything else on the server is never touched. An object
// whose deletion already waits in one of the caller's change sets is left
// as it is (unchanged, with a note), so applying again drafts nothing twice.
func prunePlan(kind string, ids map[string]string, keep func(string) bool, have map[string]remoteObj, deleting map[string]string) []step {
	keys := make([]string, 0, len(ids))
	for k := range ids {
		if !keep(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	steps := make([]step, 0, len(keys))
	for _, k := range keys {
		id := ids[k]
		st := step{Kind: kind, Key: k, ServerID: id}
		switch _, ok := have[id]; {
		case deleting[id] != "":
			st.Action, st.ChangeSet = actUnchanged, deleting[id]
			st.Note = "deletion already drafted"
		case !ok:
			st.Action, st.Note = actForget, "already gone from the server"
		default:
			st.Action, st.Note = actDelete, "no longer in the file"
		}
		steps = append(steps, st)
	}
	return steps
}

// prune deletes, schedules first, then playlists, then items (the order
// in which nothing still names what is deleted), what the campaign no
// longer has. A deletion by someone whose changes need review is drafted
// into their change set; the id stays in the ids file until the deletion
// is published, so a rejected set is retried by the next apply --prune.
func (a *applier) pruneGone(cp campaign, have map[string]map[string]remoteObj) error {
	kinds := []struct {
		kind, path string
		keep       func(string) bool
	}{
		{"schedule", "/schedules", cp.hasSchedule},
		{"playlist", "/playlists", cp.hasPlaylist},
		{"item", "/items", cp.hasItem},
	}
	for _, k := range kinds {
		ids := a.ids.kind(k.kind)
		for _, st := range prunePlan(k.kind, ids, k.keep, have[k.kind], a.deleting[k.kind]) {
			if a.dry || st.Action == actUnchanged {
				a.steps = append(a.steps, st)
				continue
			}
			if st.Action == actDelete {
				var res struct {
					ChangeSet string `json:"changeset"`
				}
				_, err := a.cl.callInto(a.c.ctx, http.MethodDelete, k.path+"/"+pathEscape(st.ServerID), nil, &res)
				var ae *APIError
				switch {
				case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
					// Deleted by someone else since fetch: nothing left to do.
					st.Action, st.Note = actForget, "already gone from the server"
				case err != nil:
					return fmt.Errorf("delete %s %s (%s): %w", k.kind, st.Key, st.ServerID, err)
				default:
					st.ChangeSet = res.ChangeSet
				}
			}
			a.steps = append(a.steps, st)
			if st.ChangeSet == "" {
				delete(ids, st.Key)
				if err := a.save(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (cp campaign) hasSchedule(key string) bool {
	for _, s := range cp.Schedules {
		if s.ID == key {
			return true
		}
	}
	return false
}
