package store

import (
	"testing"

	"kiosk/playlists"
)

// A default playlist drafted with a new screen is recorded as Draft
// records it: over the author's earlier changes (here the playlist itself,
// not published yet), and published by approval.
func TestCreateScreenWithDraftedDefault(t *testing.T) {
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
	scr, token, dr, err := s.CreateScreenWith(Screen{Name: "大堂"}, &DefaultChange{Playlist: pl.ID, Draft: &alice})
	if err != nil {
		t.Fatalf("CreateScreenWith: %v", err)
	}
	if got := s.Commits() - before; got != 1 {
		t.Errorf("%d commits, want 1", got)
	}
	if token == "" || scr.DefaultPlaylist != "" || dr == nil || dr.ChangeSet != cs.ID || dr.Screen.ID != scr.ID || dr.Screen.DefaultPlaylist != pl.ID {
		t.Fatalf("got screen %+v, result %+v; want the default drafted into %s", scr, dr, cs.ID)
	}
	if _, err := s.SubmitChangeSet(cs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveChangeSet(cs.ID, bob, ""); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if got, _ := s.GetScreen(scr.ID); got.DefaultPlaylist != pl.ID {
		t.Errorf("after approval the screen's default is %q, want %q", got.DefaultPlaylist, pl.ID)
	}
}

// A second drafted default for the same screen is not checked against a
// base again (Draft's rule: only the set's first change of an object is).
func TestUpdateScreenWithDraftTwice(t *testing.T) {
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
	scr, _, err := s.CreateScreen(Screen{Name: "大堂"})
	if err != nil {
		t.Fatal(err)
	}
	var last *DefaultResult
	for i, pl := range pls {
		got, dr, err := s.UpdateScreenWith(scr.ID, Screen{Name: "大堂"}, &DefaultChange{Playlist: pl, Draft: &alice})
		if err != nil {
			t.Fatalf("draft %d: %v", i, err)
		}
		if got.DefaultPlaylist != "" || dr.Screen.DefaultPlaylist != pl || dr.Before.DefaultPlaylist != "" {
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

	// Published at once: one commit, the screen and its default together.
	before := s.Commits()
	got, dr, err := s.UpdateScreenWith(scr.ID, Screen{Name: "新名"}, &DefaultChange{Playlist: pls[1]})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Commits() - before; n != 1 {
		t.Errorf("published default: %d commits, want 1", n)
	}
	if got.Name != "新名" || got.DefaultPlaylist != pls[1] || dr.Before.Name != "新名" || dr.Before.DefaultPlaylist != "" || dr.ChangeSet != "" {
		t.Errorf("published default: screen %+v, result %+v", got, dr)
	}
}
