package store

import bolt "go.etcd.io/bbolt"

// DefaultChange is a new default playlist for a screen or a group, written
// in the same transaction as the screen or group itself (CreateScreenWith,
// UpdateScreenWith, CreateGroupWith, UpdateGroupWith), so the two never
// land apart.
type DefaultChange struct {
	Playlist string
	// Draft, when set, records the change in this author's open change
	// set, for review (as Draft does); nil publishes it at once (as
	// Apply does).
	Draft *Actor
}

// DefaultResult is what a DefaultChange did to a screen (a group's:
// GroupDefaultResult).
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

// op is the set_default op of dc on kind id.
func (dc DefaultChange) op(kind, id string) Op {
	p := dc.Playlist
	return Op{Action: OpSetDefault, Kind: kind, ID: id, DefaultPlaylist: &p}
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
	d, err := withDraft(s, *dc.Draft, func(tx *bolt.Tx) (Op, Screen, error) {
		trial := sc
		if err := s.createScreen(tx, &trial, token); err != nil {
			return Op{}, Screen{}, err
		}
		return dc.op(KindScreen, trial.ID), trial, nil
	}, settleScreen)
	if err != nil {
		return Screen{}, "", nil, err
	}
	return d.Before, token, &DefaultResult{Before: d.Before, Screen: d.After, ChangeSet: d.ChangeSet}, nil
}

// settleScreen is after, the screen as the draft will make it, with the
// id and times of written, the screen as committed: the trial ran with
// its own id for a new screen and its own clock.
func settleScreen(after, written Screen) Screen {
	after.ID, after.CreatedAt, after.UpdatedAt = written.ID, written.CreatedAt, written.UpdatedAt
	return after
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
		return dc.op(KindScreen, id), cur, nil
	}
	var d drafted[Screen]
	var err error
	if dc.Draft != nil {
		d, err = withDraft(s, *dc.Draft, write, settleScreen)
	} else {
		d, err = withApply(s, write)
	}
	if err != nil {
		return Screen{}, nil, err
	}
	res := DefaultResult{Before: d.Before, Screen: d.After, ChangeSet: d.ChangeSet}
	if d.ChangeSet != "" {
		return d.Before, &res, nil
	}
	return d.After, &res, nil
}
