package store

import (
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

var (
	alice = Actor{ID: "usr_alice", Name: "alice"}
	bob   = Actor{ID: "usr_bob", Name: "bob"}
)

func itemOp(action, id, title string) Op {
	op := Op{Action: action, Kind: KindItem, ID: id}
	if action != OpDelete {
		op.Item = &playlists.Item{Kind: playlists.KindNotice, Title: title, DurationS: 10}
	}
	return op
}

func TestDraftLeavesPublishedStateAlone(t *testing.T) {
	s := openTest(t)
	before, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	cs, res, err := s.Draft(alice, itemOp(OpCreate, "", "新的通知"))
	if err != nil {
		t.Fatalf("Draft: %v", err)
	}
	it := res.(playlists.Item)
	if it.ID == "" || cs.State != ChangeSetOpen || len(cs.Ops) != 1 || cs.Ops[0].ID != it.ID {
		t.Fatalf("draft: got set %+v item %+v, want one create op carrying the item's id", cs, it)
	}
	// A playlist in the same set may use the drafted item.
	cs2, _, err := s.Draft(alice, Op{Action: OpCreate, Kind: KindPlaylist, Playlist: &playlists.Playlist{Name: "本周", Items: []string{it.ID}}})
	if err != nil {
		t.Fatalf("Draft playlist over drafted item: %v", err)
	}
	if cs2.ID != cs.ID || len(cs2.Ops) != 2 {
		t.Fatalf("second draft went to set %s with %d ops, want %s with 2", cs2.ID, len(cs2.Ops), cs.ID)
	}
	// Someone else's playlist may not: the item is not published.
	if _, _, err := s.Draft(bob, Op{Action: OpCreate, Kind: KindPlaylist, Playlist: &playlists.Playlist{Name: "x", Items: []string{it.ID}}}); err == nil {
		t.Fatal("bob's draft referring to alice's unpublished item was accepted")
	}
	after, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("drafting changed the published snapshot:\nbefore %+v\nafter  %+v", before, after)
	}
	if _, err := s.GetItem(it.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetItem of a drafted item: got %v, want not found", err)
	}
}

func TestApproveIsAtomicAndTwoPerson(t *testing.T) {
	s := openTest(t)
	cs, res, err := s.Draft(alice, itemOp(OpCreate, "", "法律故事"))
	if err != nil {
		t.Fatal(err)
	}
	it := res.(playlists.Item)
	if _, _, err := s.Draft(alice, Op{Action: OpCreate, Kind: KindPlaylist, Playlist: &playlists.Playlist{Name: "p", Items: []string{it.ID}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveChangeSet(cs.ID, bob, ""); !errors.As(err, new(StateError)) {
		t.Fatalf("approving an open set: got %v, want a state error", err)
	}
	if _, err := s.SubmitChangeSet(cs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveChangeSet(cs.ID, alice, ""); !errors.As(err, new(SelfApprovalError)) {
		t.Fatalf("self approval: got %v, want SelfApprovalError", err)
	}
	// After submitting, a new draft starts a new set.
	cs3, _, err := s.Draft(alice, itemOp(OpCreate, "", "下一次"))
	if err != nil || cs3.ID == cs.ID {
		t.Fatalf("draft after submit: set %s err %v, want a new set", cs3.ID, err)
	}
	got, err := s.ApproveChangeSet(cs.ID, bob, "好")
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	if got.State != ChangeSetApproved || got.DecidedByName != "bob" {
		t.Fatalf("approved set: %+v", got)
	}
	pls, _ := s.ListPlaylists()
	items, _ := s.ListItems()
	if len(pls) != 1 || len(items) != 1 || items[0].ID != it.ID {
		t.Fatalf("after approval: %d playlists, %d items (want 1 and 1 with id %s)", len(pls), len(items), it.ID)
	}
}

func TestApproveRefusesStaleBaseAndPublishesNothing(t *testing.T) {
	s := openTest(t)
	pub, err := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "原标题", DurationS: 10})
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := s.Draft(alice, itemOp(OpCreate, "", "新条目"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Draft(alice, itemOp(OpUpdate, pub.ID, "编辑后")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitChangeSet(cs.ID); err != nil {
		t.Fatal(err)
	}
	// The published item changes under the set.
	if _, err := s.UpdateItem(pub.ID, playlists.Item{Kind: playlists.KindNotice, Title: "别人改了", DurationS: 10}); err != nil {
		t.Fatal(err)
	}
	pv, err := s.PreviewChangeSet(mustGetCS(t, s, cs.ID))
	if err != nil || len(pv.Conflicts) == 0 {
		t.Fatalf("preview of a stale set: conflicts %v err %v, want a conflict", pv.Conflicts, err)
	}
	_, err = s.ApproveChangeSet(cs.ID, bob, "")
	var stale StaleError
	if !errors.As(err, &stale) || !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), pub.ID) {
		t.Fatalf("approve stale: got %v, want a StaleError naming %s", err, pub.ID)
	}
	items, _ := s.ListItems()
	if len(items) != 1 || items[0].Title != "别人改了" {
		t.Fatalf("a refused approval published something: %+v", items)
	}
	if got := mustGetCS(t, s, cs.ID); got.State != ChangeSetSubmitted {
		t.Fatalf("refused set is %s, want still submitted", got.State)
	}
}

func TestRejectAndDiscard(t *testing.T) {
	s := openTest(t)
	cs, _, err := s.Draft(alice, itemOp(OpCreate, "", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitChangeSet(cs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RejectChangeSet(cs.ID, bob, " "); !errors.As(err, new(playlists.FieldError)) {
		t.Fatalf("reject without comment: got %v, want a field error", err)
	}
	got, err := s.RejectChangeSet(cs.ID, bob, "标题有错别字")
	if err != nil || got.State != ChangeSetRejected || got.Comment != "标题有错别字" {
		t.Fatalf("reject: %+v %v", got, err)
	}
	if _, err := s.ApproveChangeSet(cs.ID, bob, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("approve after reject: got %v, want conflict", err)
	}
	if items, _ := s.ListItems(); len(items) != 0 {
		t.Fatalf("rejected set published %d items", len(items))
	}
	cs2, _, err := s.Draft(alice, itemOp(OpCreate, "", "y"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.DiscardChangeSet(cs2.ID); err != nil || got.State != ChangeSetDiscarded {
		t.Fatalf("discard: %+v %v", got, err)
	}
}

func TestPreviewShowsBeforeAfterAndDraftSnapshot(t *testing.T) {
	s := openTest(t)
	pub, _ := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "旧", DurationS: 10})
	cs, _, err := s.Draft(alice, itemOp(OpUpdate, pub.ID, "新"))
	if err != nil {
		t.Fatal(err)
	}
	pv, err := s.PreviewChangeSet(cs)
	if err != nil {
		t.Fatal(err)
	}
	key := KindItem + ":" + pub.ID
	if pv.Before[key].(playlists.Item).Title != "旧" || pv.After[key].(playlists.Item).Title != "新" {
		t.Fatalf("preview before/after: %+v / %+v", pv.Before[key], pv.After[key])
	}
	if pv.Draft.Catalog.Items[pub.ID].Title != "新" || pv.Published.Catalog.Items[pub.ID].Title != "旧" {
		t.Fatal("preview snapshots do not show the published and drafted titles")
	}
	if got, _ := s.GetItem(pub.ID); got.Title != "旧" {
		t.Fatalf("preview changed the published item to %q", got.Title)
	}
}

// An install from before people and review existed keeps its content as
// the published state.
func TestMigrationKeepsContentPublished(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	it, _ := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "升级前", DurationS: 10})
	if _, err := s.CreatePlaylist(playlists.Playlist{Name: "p", Items: []string{it.ID}}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Snapshot()
	// Turn the file back into a schema-5 file.
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketUsers, bucketUsersByName, bucketSessions, bucketAPITokens, bucketChangeSets} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], 5)
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, v[:])
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, func() time.Time { return testNow })
	if err != nil {
		t.Fatalf("open after downgrade: %v", err)
	}
	defer s.Close()
	after, _ := s.Snapshot()
	if !reflect.DeepEqual(before, after) {
		t.Fatal("migration changed the published content")
	}
	if sets, err := s.ListChangeSets("", ""); err != nil || len(sets) != 0 {
		t.Fatalf("change sets after migration: %v %v, want none", sets, err)
	}
}

func mustGetCS(t *testing.T, s *Store, id string) ChangeSet {
	t.Helper()
	cs, err := s.GetChangeSet(id)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
