package store

import (
	"bytes"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// screenCommandKeys counts what the command buckets hold for screenID:
// records, index keys and open-set entries.
func screenCommandKeys(t *testing.T, s *Store, screenID string) (records, index, open int) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketCommands).ForEach(func(_, v []byte) error {
			if bytes.Contains(v, []byte(`"screen_id":"`+screenID+`"`)) {
				records++
			}
			return nil
		}); err != nil {
			return err
		}
		prefix := commandIndexPrefix(screenID)
		cur := tx.Bucket(bucketCommandIndex).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			index++
		}
		return tx.Bucket(bucketCommandsOpen).ForEach(func(_, v []byte) error {
			if string(v) == screenID {
				open++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return records, index, open
}

func TestDeleteScreenDeletesItsCommands(t *testing.T) {
	s := openTest(t)
	gone, _, err := s.CreateScreen(Screen{Name: "Gone"})
	if err != nil {
		t.Fatal(err)
	}
	kept, _, err := s.CreateScreen(Screen{Name: "Kept"})
	if err != nil {
		t.Fatal(err)
	}
	newCmd := func(screenID string) Command {
		t.Helper()
		c, err := s.CreateCommand(Command{ScreenID: screenID, Type: playlists.CmdReload, ExpiresAt: testNow.Add(time.Hour)})
		if err != nil {
			t.Fatalf("CreateCommand(%s): %v", screenID, err)
		}
		return c
	}
	// Interleaved, so the index holds both screens' keys side by side; one
	// of each finished, so both open and finished records are covered.
	var goneIDs []string
	for i := range 3 {
		goneIDs = append(goneIDs, newCmd(gone.ID).ID)
		newCmd(kept.ID)
		if i == 0 {
			if _, _, err := s.FinishCommand(gone.ID, playlists.CommandResult{ID: goneIDs[0], OK: true}, testNow); err != nil {
				t.Fatal(err)
			}
		}
	}
	keptDone := newCmd(kept.ID)
	if _, _, err := s.FinishCommand(kept.ID, playlists.CommandResult{ID: keptDone.ID, OK: true}, testNow); err != nil {
		t.Fatal(err)
	}
	if r, i, o := screenCommandKeys(t, s, gone.ID); r != 3 || i != 3 || o != 2 {
		t.Fatalf("before delete: got %d records, %d index keys, %d open, want 3, 3, 2", r, i, o)
	}

	if err := s.DeleteScreen(gone.ID); err != nil {
		t.Fatalf("DeleteScreen: %v", err)
	}
	if r, i, o := screenCommandKeys(t, s, gone.ID); r != 0 || i != 0 || o != 0 {
		t.Errorf("after delete: got %d records, %d index keys, %d open of the deleted screen, want none", r, i, o)
	}
	for _, id := range goneIDs {
		if _, err := s.GetCommand(gone.ID, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetCommand(%s) after delete: got %v, want not found", id, err)
		}
	}
	if expired, err := s.ExpireCommands(testNow.Add(2 * time.Hour)); err != nil || len(expired) != 3 {
		t.Errorf("expiry sweep after delete: got %d expired (err %v), want only the kept screen's 3 open ones", len(expired), err)
	}

	// The other screen keeps everything.
	if r, i, o := screenCommandKeys(t, s, kept.ID); r != 4 || i != 4 || o != 0 {
		t.Errorf("kept screen: got %d records, %d index keys, %d open, want 4, 4, 0 (all expired or done now)", r, i, o)
	}
	list, err := s.ListCommands(kept.ID, 10)
	if err != nil || len(list) != 4 {
		t.Errorf("ListCommands(kept): got %d (err %v), want 4", len(list), err)
	}
}

func TestDeleteScreenRefusedKeepsCommands(t *testing.T) {
	s := openTest(t)
	scr, _, err := s.CreateScreen(Screen{Name: "Targeted"})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.CreatePlaylist(playlists.Playlist{Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSchedule(playlists.Schedule{Playlist: pl.ID, Target: playlists.Target{Screens: []string{scr.ID}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCommand(Command{ScreenID: scr.ID, Type: playlists.CmdIdentify, ExpiresAt: testNow.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteScreen(scr.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("DeleteScreen of a targeted screen: got %v, want a conflict", err)
	}
	if r, i, o := screenCommandKeys(t, s, scr.ID); r != 1 || i != 1 || o != 1 {
		t.Errorf("after a refused delete: got %d records, %d index keys, %d open, want 1, 1, 1 (nothing removed)", r, i, o)
	}
}
