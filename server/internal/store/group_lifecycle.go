package store

import (
	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// GroupDefaultResult is what a DefaultChange did to a group.
type GroupDefaultResult struct {
	// Before is the published group the change applies to: with the
	// transaction's other changes, with its old default playlist.
	Before playlists.Group
	// Group carries the new default: as published, or, when drafted, as
	// it will be once the change set (with its earlier changes) is
	// approved.
	Group playlists.Group
	// ChangeSet is the open change set the change was drafted into; ""
	// when it was published.
	ChangeSet string
}

func groupResult(d drafted[playlists.Group]) *GroupDefaultResult {
	return &GroupDefaultResult{Before: d.Before, Group: d.After, ChangeSet: d.ChangeSet}
}

// settleGroup is after, the group as the draft will make it, with the
// times of written, the group as committed (the trial ran with its own
// clock).
func settleGroup(after, written playlists.Group) playlists.Group {
	after.CreatedAt, after.UpdatedAt = written.CreatedAt, written.UpdatedAt
	return after
}

// CreateGroupWith is CreateGroup with, when dc is set, the group's
// default playlist set in the same commit: published with the group, or
// drafted into dc.Draft's change set. All or nothing: a draft that cannot
// be recorded (a full or stale change set, a missing playlist) creates no
// group. It returns the group as published; res is nil without dc.
func (s *Store) CreateGroupWith(g playlists.Group, dc *DefaultChange) (playlists.Group, *GroupDefaultResult, error) {
	if dc == nil || dc.Draft == nil {
		if dc != nil {
			g.DefaultPlaylist = dc.Playlist
		}
		out, err := s.CreateGroup(g)
		if err != nil || dc == nil {
			return out, nil, err
		}
		before := out
		before.DefaultPlaylist = ""
		return out, &GroupDefaultResult{Before: before, Group: out}, nil
	}
	if err := validateGroup(&g); err != nil {
		return playlists.Group{}, nil, err
	}
	g.DefaultPlaylist = ""
	d, err := withDraft(s, *dc.Draft, func(tx *bolt.Tx) (Op, playlists.Group, error) {
		written := g
		if err := s.createGroup(tx, &written); err != nil {
			return Op{}, playlists.Group{}, err
		}
		return dc.op(KindGroup, written.ID), written, nil
	}, settleGroup)
	if err != nil {
		return playlists.Group{}, nil, err
	}
	return d.Before, groupResult(d), nil
}

// UpdateGroupWith is UpdateGroup with, when dc is set, the group's default
// playlist changed in the same commit: published at once, or drafted into
// dc.Draft's change set. g's own DefaultPlaylist is what the group keeps
// meanwhile (its published one). It returns the group as published; res
// is nil without dc.
func (s *Store) UpdateGroupWith(id string, g playlists.Group, dc *DefaultChange) (playlists.Group, *GroupDefaultResult, error) {
	if dc == nil {
		out, err := s.UpdateGroup(id, g)
		return out, nil, err
	}
	g.ID = id
	if err := validateGroup(&g); err != nil {
		return playlists.Group{}, nil, err
	}
	write := func(tx *bolt.Tx) (Op, playlists.Group, error) {
		written := g
		if err := s.updateGroup(tx, id, &written); err != nil {
			return Op{}, playlists.Group{}, err
		}
		return dc.op(KindGroup, id), written, nil
	}
	var d drafted[playlists.Group]
	var err error
	if dc.Draft != nil {
		d, err = withDraft(s, *dc.Draft, write, settleGroup)
	} else {
		d, err = withApply(s, write)
	}
	if err != nil {
		return playlists.Group{}, nil, err
	}
	if d.ChangeSet != "" {
		return d.Before, groupResult(d), nil
	}
	return d.After, groupResult(d), nil
}
