package store

import (
	"errors"

	bolt "go.etcd.io/bbolt"
)

// DefaultChange is a new default playlist for a screen, written in the
// same transaction as the screen itself (CreateScreenWith,
// UpdateScreenWith), so the two never land apart.
type DefaultChange struct {
	Playlist string
	// Draft, when set, records the change in this author's open change
	// set, for review (as Draft does); nil publishes it at once (as
	// Apply does).
	Draft *Actor
}

// DefaultResult is what a DefaultChange did.
type DefaultResult struct {
	// Before is the published screen the change applies to: with the
	// transaction's other changes, with its old default playlist.
	Before Screen
	// Screen carries the new default: as published, or, when drafted,
	// as it will be once the change set (with its earlier changes) is
	// approved.
	Screen Screen
	// ChangeSet is the open change set the change was drafted into; ""
	// when it was published.
	ChangeSet string
}

func (dc DefaultChange) op(id string) Op {
	p := dc.Playlist
	return Op{Action: OpSetDefault, Kind: KindScreen, ID: id, DefaultPlaylist: &p}
}

// CreateScreenWith is CreateScreen with, when dc is set, the screen's
// default playlist set in the same commit: published with the screen, or
// drafted into dc.Draft's change set. All or nothing: a draft that cannot
// be recorded (a full or stale change set, a missing playlist) creates no
// screen. res is nil without dc.
func (s *Store) CreateScreenWith(sc Screen, dc *DefaultChange) (Screen, string, *DefaultResult, error) {
	if dc == nil || dc.Draft == nil {
		if dc != nil {
			sc.DefaultPlaylist = dc.Playlist
		}
		out, token, err := s.CreateScreen(sc)
		if err != nil || dc == nil {
			return out, token, nil, err
		}
		before := out
		before.DefaultPlaylist = ""
		return out, token, &DefaultResult{Before: before, Screen: out}, nil
	}
	if err := validateScreen(&sc); err != nil {
		return Screen{}, "", nil, err
	}
	sc.DefaultPlaylist = ""
	token := newToken()
	res, err := s.withDraft(*dc.Draft, func(tx *bolt.Tx) (Op, Screen, error) {
		trial := sc
		if err := s.createScreen(tx, &trial, token); err != nil {
			return Op{}, Screen{}, err
		}
		return dc.op(trial.ID), trial, nil
	})
	if err != nil {
		return Screen{}, "", nil, err
	}
	return res.Before, token, &res, nil
}

// UpdateScreenWith is UpdateScreen with, when dc is set, the screen's
// default playlist changed in the same commit: published at once, or
// drafted into dc.Draft's change set. sc's own DefaultPlaylist is what the
// screen keeps meanwhile (its published one). res is nil without dc.
func (s *Store) UpdateScreenWith(id string, sc Screen, dc *DefaultChange) (Screen, *DefaultResult, error) {
	if dc == nil {
		out, err := s.UpdateScreen(id, sc)
		return out, nil, err
	}
	if err := validateScreen(&sc); err != nil {
		return Screen{}, nil, err
	}
	write := func(tx *bolt.Tx) (Op, Screen, error) {
		cur := sc
		if err := s.updateScreen(tx, id, &cur); err != nil {
			return Op{}, Screen{}, err
		}
		return dc.op(id), cur, nil
	}
	if dc.Draft != nil {
		res, err := s.withDraft(*dc.Draft, write)
		if err != nil {
			return Screen{}, nil, err
		}
		return res.Before, &res, nil
	}
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	res, err := update(s, func(tx *bolt.Tx) (DefaultResult, error) {
		op, before, err := write(tx)
		if err != nil {
			return DefaultResult{}, err
		}
		after, err := s.applyOp(tx, &op)
		if err != nil {
			return DefaultResult{}, err
		}
		return DefaultResult{Before: before, Screen: after.(Screen)}, nil
	})
	if err != nil {
		return Screen{}, nil, err
	}
	return res.Screen, &res, nil
}

// withDraft runs write (a screen's own change, returning the set_default
// op that goes with it and the screen as written) and drafts that op into
// author's open change set, committing both in one transaction. As in
// Draft, the op is first tried over the published state with the set's
// earlier changes, in a transaction that is rolled back; write runs
// again in the one that commits, and the op's base is read
// there, after write, as the published state the reviewer will compare
// against.
func (s *Store) withDraft(author Actor, write func(tx *bolt.Tx) (Op, Screen, error)) (DefaultResult, error) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()

	var after Screen
	err := s.db.Update(func(tx *bolt.Tx) error {
		op, _, err := write(tx)
		if err != nil {
			return err
		}
		obj, err := s.draftCheck(tx, author, &op)
		if err != nil {
			return err
		}
		after = obj.(Screen)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return DefaultResult{}, err
	}

	var res DefaultResult
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
		if op.Checked = !containsKey(cs.Ops, op.Key()); op.Checked {
			if op.Base, err = baseOf(tx, op); err != nil {
				return err
			}
		}
		if cs, err = s.draftSave(tx, author, op); err != nil {
			return err
		}
		// The trial ran with its own id for a new screen: the object as
		// it will be is this commit's screen with the drafted default.
		after.ID, after.CreatedAt, after.UpdatedAt = written.ID, written.CreatedAt, written.UpdatedAt
		res = DefaultResult{Before: written, Screen: after, ChangeSet: cs.ID}
		return nil
	})
	if err != nil {
		return DefaultResult{}, err
	}
	return res, nil
}

func containsKey(ops []Op, key string) bool {
	for _, o := range ops {
		if o.Key() == key {
			return true
		}
	}
	return false
}
