package store

import (
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The two halves of drafting a change (Draft, and a screen's or group's
// default playlist drafted with its own change, screen_lifecycle.go and
// group_lifecycle.go), and the two ways such a pair is committed:
// withDraft and withApply.

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

// drafted is what withDraft or withApply did: Before is the object as
// its own change committed it, with its old default playlist; After
// carries the new default, as published (withApply) or as it will be once
// the change set is approved (withDraft); ChangeSet is the open change
// set the default was drafted into, "" when it was published.
type drafted[T any] struct {
	Before, After T
	ChangeSet     string
}

// withDraft runs write (a screen's or group's own change, returning the
// set_default op that goes with it and the object as written) and drafts
// that op into author's open change set, committing both in one
// transaction. As in Draft, the op is first tried over the published state
// with the set's earlier changes, in a transaction that is rolled back;
// write runs again in the one that commits, and the op's base is read
// there, after write, as the published state the reviewer will compare
// against. settle gives the trial's object the committed one's identity
// (the trial ran with its own clock, and its own id for a new screen).
func withDraft[T any](s *Store, author Actor, write func(tx *bolt.Tx) (Op, T, error), settle func(after, written T) T) (drafted[T], error) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()

	var after T
	err := s.db.Update(func(tx *bolt.Tx) error {
		op, _, err := write(tx)
		if err != nil {
			return err
		}
		obj, err := s.draftCheck(tx, author, &op)
		if err != nil {
			return err
		}
		after = obj.(T)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return drafted[T]{}, err
	}

	var res drafted[T]
	err = s.db.Update(func(tx *bolt.Tx) error {
		op, written, err := write(tx)
		if err != nil {
			return err
		}
		cs, err := openChangeSet(tx, author.ID)
		if err != nil {
			return err
		}
		op.At = s.now().UTC()
		if op.Checked = !slices.ContainsFunc(cs.Ops, func(o Op) bool { return o.Key() == op.Key() }); op.Checked {
			if op.Base, err = baseOf(tx, op); err != nil {
				return err
			}
		}
		if cs, err = s.draftSave(tx, author, op); err != nil {
			return err
		}
		res = drafted[T]{Before: written, After: settle(after, written), ChangeSet: cs.ID}
		return nil
	})
	if err != nil {
		return drafted[T]{}, err
	}
	return res, nil
}

// withApply runs write (as for withDraft) and publishes its set_default op
// in the same transaction, as Apply would.
func withApply[T any](s *Store, write func(tx *bolt.Tx) (Op, T, error)) (drafted[T], error) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	return update(s, func(tx *bolt.Tx) (drafted[T], error) {
		op, before, err := write(tx)
		if err != nil {
			return drafted[T]{}, err
		}
		after, err := s.applyOp(tx, &op)
		if err != nil {
			return drafted[T]{}, err
		}
		return drafted[T]{Before: before, After: after.(T)}, nil
	})
}
