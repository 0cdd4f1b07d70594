package store

import (
	"errors"
	"testing"

	"kiosk/playlists"
)

// A default playlist drafted with a new group is recorded as Draft records
// it: over the author's earlier changes (here the playlist itself, not
// published yet), in one commit with the group, and published by approval.
func TestCreateGroupWithDraftedDefault(t *testing.T) {
	s := openTest(t)
	it, err := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "通知", DurationS: 10})
	if err != nil {
		t.Fatal(err)
	}
	cs, res, err := s.Draft(alice, Op{Action: OpCreate, Kind: KindPlaylist, Playlist: &playlists.Playlist{Name: "本周", Items: []string{it.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	pl := res.(playlists.Playlist)

	before := s.Commits()
	g, dr, err := s.CreateGroupWith(playlists.Group{ID: "north", Name: "北区"}, &DefaultChange{Playlist: pl.ID, Draft: &alice})
	if err != nil {
		t.Fatalf("CreateGroupWith: %v", err)
	}
	if got := s.Commits() - before; got != 1 {
		t.Errorf("%d commits, want 1", got)
	}
	if g.ID != "north" || g.DefaultPlaylist != "" || dr == nil || dr.ChangeSet != cs.ID || dr.Group.ID != "north" || dr.Group.DefaultPlaylist != pl.ID || dr.Before != g {
		t.Fatalf("got group %+v, result %+v; want the default drafted into %s", g, dr, cs.ID)
	}
	if pub, err := s.GetGroup("north"); err != nil || pub.DefaultPlaylist != "" {
		t.Errorf("published before review: %+v, %v; want the group without its default", pub, err)
	}
	got, err := s.GetChangeSet(cs.ID)
	if err != nil || len(got.Ops) != 2 {
		t.Fatalf("change set: %+v, %v; want the playlist and the default", got, err)
	}
	if op := got.Ops[1]; op.Action != OpSetDefault || op.Kind != KindGroup || op.ID != "north" || !op.Checked || op.Base != "default:" {
		t.Errorf("drafted op %+v; want set_default of group north, checked against no default", op)
	}

	// Taken ids are told apart from the draft's own conflicts.
	if _, _, err := s.CreateGroupWith(playlists.Group{ID: "north", Name: "又一个"}, &DefaultChange{Playlist: pl.ID, Draft: &alice}); !errors.As(err, new(ExistsError)) || !errors.Is(err, ErrConflict) {
		t.Errorf("create over north: %v; want an ExistsError", err)
	}

	if _, err := s.SubmitChangeSet(cs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveChangeSet(cs.ID, bob, ""); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if pub, _ := s.GetGroup("north"); pub.DefaultPlaylist != pl.ID || pub.Name != "北区" {
		t.Errorf("after approval: %+v; want default %q", pub, pl.ID)
	}
}

// A group edit whose default cannot be drafted (the author's set is full)
// saves nothing; a second drafted default of one group is not checked
// against a base again; published at once, the edit and the default are
// one commit.
func TestUpdateGroupWithDefault(t *testing.T) {
	s := openTest(t)
	it, err := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "通知", DurationS: 10})
	if err != nil {
		t.Fatal(err)
	}
	var pls []string
	for range 2 {
		p, err := s.CreatePlaylist(playlists.Playlist{Name: "p", Items: []string{it.ID}})
		if err != nil {
			t.Fatal(err)
		}
		pls = append(pls, p.ID)
	}
	if _, err := s.CreateGroup(playlists.Group{ID: "north", Name: "北区"}); err != nil {
		t.Fatal(err)
	}

	var last *GroupDefaultResult
	for i, pl := range pls {
		got, dr, err := s.UpdateGroupWith("north", playlists.Group{Name: "北区" + pl}, &DefaultChange{Playlist: pl, Draft: &alice})
		if err != nil {
			t.Fatalf("draft %d: %v", i, err)
		}
		if got.Name != "北区"+pl || got.DefaultPlaylist != "" || dr.Group.DefaultPlaylist != pl || dr.Group.Name != got.Name || dr.Before != got {
			t.Errorf("draft %d: published %+v, result %+v", i, got, dr)
		}
		last = dr
	}
	cs, err := s.GetChangeSet(last.ChangeSet)
	if err != nil || len(cs.Ops) != 2 {
		t.Fatalf("change set: %+v, %v; want 2 ops", cs, err)
	}
	if !cs.Ops[0].Checked || cs.Ops[0].Base != "default:" || cs.Ops[1].Checked || cs.Ops[1].Base != "" {
		t.Errorf("ops: %+v; want the first checked against the published default, the second not", cs.Ops)
	}

	// Bob's set is full: his edit is refused whole.
	for i := range MaxChangeSetOps {
		if _, _, err := s.Draft(bob, Op{Action: OpCreate, Kind: KindItem, Item: &playlists.Item{Kind: playlists.KindNotice, Title: "x", DurationS: 5}}); err != nil {
			t.Fatalf("filling bob's set, draft %d: %v", i, err)
		}
	}
	before := s.Commits()
	if _, _, err := s.UpdateGroupWith("north", playlists.Group{Name: "不该"}, &DefaultChange{Playlist: pls[0], Draft: &bob}); !errors.Is(err, ErrConflict) || errors.As(err, new(ExistsError)) {
		t.Errorf("edit into a full set: %v; want a conflict", err)
	}
	if _, _, err := s.CreateGroupWith(playlists.Group{ID: "south", Name: "南区"}, &DefaultChange{Playlist: pls[0], Draft: &bob}); !errors.Is(err, ErrConflict) || errors.As(err, new(ExistsError)) {
		t.Errorf("create into a full set: %v; want a conflict", err)
	}
	if n := s.Commits() - before; n != 0 {
		t.Errorf("refused drafts made %d commits", n)
	}
	if g, _ := s.GetGroup("north"); g.Name != "北区"+pls[1] {
		t.Errorf("a refused edit renamed north to %q", g.Name)
	}
	if _, err := s.GetGroup("south"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused create left south: %v", err)
	}

	// Published at once: one commit, the group and its default together.
	before = s.Commits()
	got, dr, err := s.UpdateGroupWith("north", playlists.Group{Name: "新名"}, &DefaultChange{Playlist: pls[1]})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Commits() - before; n != 1 {
		t.Errorf("published default: %d commits, want 1", n)
	}
	if got.Name != "新名" || got.DefaultPlaylist != pls[1] || dr.Before.Name != "新名" || dr.Before.DefaultPlaylist != "" || dr.ChangeSet != "" || dr.Group != got {
		t.Errorf("published default: group %+v, result %+v", got, dr)
	}
	// A missing playlist published at once saves nothing either.
	if _, _, err := s.UpdateGroupWith("north", playlists.Group{Name: "不该"}, &DefaultChange{Playlist: "pl_nope"}); err == nil {
		t.Error("a missing default was published")
	}
	if g, _ := s.GetGroup("north"); g.Name != "新名" || g.DefaultPlaylist != pls[1] {
		t.Errorf("after a refused publish: %+v", g)
	}
}
