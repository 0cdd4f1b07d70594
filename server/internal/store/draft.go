package store

import (
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The two halves of drafting a change (Draft, and a screen's default
// playlist drafted with the screen's own change, screen_lifecycle.go).

// draftCheck is the trial half of a draft, in a transaction the caller
// rolls back: it fills op's time, base and id, lays author's open set and
// then op over the published state in tx, and returns op's object as it
// would be stored. The caller holds changeMu.
func (s *Store) draftCheck(tx *bolt.Tx, author Actor, op *Op) (any, error) {
	cs, err := openChangeSet(tx, author.ID)
	if err != nil {
		return nil, err
	}
	if len(cs.Ops) >= MaxChangeSetOps {
		return nil, ConflictError{Msg: fmt.Sprintf("change set %s already holds %d changes, the most one review takes; submit it and start another", cs.ID, MaxChangeSetOps)}
	}
	// The base is the published state, read before the set's own
	// changes are laid over it.
	op.At = s.now().UTC()
	op.Checked = !slices.ContainsFunc(cs.Ops, func(o Op) bool { return o.Key() == op.Key() })
	if op.Checked {
		if op.Base, err = baseOf(tx, *op); err != nil {
			return nil, err
		}
	}
	if op.Action == OpCreate && op.ID == "" {
		op.ID = freshID(tx.Bucket(opBucket(op.Kind)), idPrefix[op.Kind])
	}
	for i := range cs.Ops {
		if _, err := s.applyOp(tx, &cs.Ops[i]); err != nil {
			return nil, StaleError{ID: cs.ID, Problems: []string{err.Error() + " (discard the change set or ask an admin)"}}
		}
	}
	return s.applyOp(tx, op)
}

// draftSave is the recording half of a draft: op (checked by draftCheck)
// is appended to author's open change set, which is created if there is
// none. The caller holds changeMu.
func (s *Store) draftSave(tx *bolt.Tx, author Actor, op Op) (ChangeSet, error) {
	cs, err := openChangeSet(tx, author.ID)
	if err != nil {
		return ChangeSet{}, err
	}
	b := tx.Bucket(bucketChangeSets)
	now := s.now().UTC()
	if cs.ID == "" {
		cs = ChangeSet{
			ID: freshID(b, "cs"), State: ChangeSetOpen, Author: author.ID, AuthorName: author.Name,
			Title: fmt.Sprintf("%s 的修改 %s", author.Name, now.In(beijing).Format("2006-01-02 15:04")), CreatedAt: now,
		}
	}
	cs.Ops = append(cs.Ops, op)
	cs.UpdatedAt = now
	return cs, putJSON(b, cs.ID, cs)
}
