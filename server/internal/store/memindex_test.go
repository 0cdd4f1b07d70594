package store

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// checkIndex compares what the in-memory index answers with the records
// decoded from the file.
func checkIndex(t *testing.T, s *Store) {
	t.Helper()
	recs, err := list[screenRecord](s, bucketScreens)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]Screen, len(recs))
	for i, r := range recs {
		want[i] = r.Screen
	}
	got, _ := s.ListScreens()
	if a, b := mustJSON(t, got), mustJSON(t, want); !bytes.Equal(a, b) {
		t.Fatalf("ListScreens from memory:\n%s\nfrom the file:\n%s", a, b)
	}
	for _, sc := range want {
		g, err := s.GetScreen(sc.ID)
		if err != nil || !bytes.Equal(mustJSON(t, g), mustJSON(t, sc)) {
			t.Fatalf("GetScreen(%s): %+v, %v; want %+v", sc.ID, g, err, sc)
		}
	}
	groups, err := list[playlists.Group](s, bucketGroups)
	if err != nil {
		t.Fatal(err)
	}
	gotGroups, _ := s.ListGroups()
	if a, b := mustJSON(t, gotGroups), mustJSON(t, groups); !bytes.Equal(a, b) {
		t.Fatalf("ListGroups from memory:\n%s\nfrom the file:\n%s", a, b)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustJSON(t, snap.Screens), mustJSON(t, want)) || len(snap.Groups) != len(groups) {
		t.Fatalf("Snapshot disagrees with the file")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIndexFollowsEveryWriter writes screens and groups through every
// path that writes them and checks after each that the index matches the
// file and that exactly the ids written were announced; a refused write
// announces nothing and changes nothing; a reopened store loads the same.
func TestIndexFollowsEveryWriter(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []Change
	s.Subscribe(func(c Change) { mu.Lock(); got = append(got, c); mu.Unlock() })
	expect := func(what string, want Change) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 || !slices.Equal(got[0].Screens, want.Screens) || !slices.Equal(got[0].Groups, want.Groups) || got[0].Catalog != want.Catalog {
			t.Errorf("%s: announced %+v, want one %+v", what, got, want)
		}
		got = nil
		checkIndex(t, s)
	}

	if _, err := s.CreateGroup(playlists.Group{ID: "street", Name: "街道"}); err != nil {
		t.Fatal(err)
	}
	expect("create group", Change{Groups: []string{"street"}})
	a, _, err := s.CreateScreen(Screen{Name: "a", Group: "street", Tags: []string{"lobby"}})
	if err != nil {
		t.Fatal(err)
	}
	expect("create screen", Change{Screens: []string{a.ID}})
	a.Name = "甲"
	if _, err := s.UpdateScreen(a.ID, a); err != nil {
		t.Fatal(err)
	}
	expect("update screen", Change{Screens: []string{a.ID}})
	if _, err := s.RotateScreenToken(a.ID); err != nil {
		t.Fatal(err)
	}
	expect("rotate token", Change{Screens: []string{a.ID}})
	made, _, err := s.CreateScreens([]Screen{{Name: "b"}, {Name: "c", Group: "street"}})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{made[0].ID, made[1].ID}
	slices.Sort(ids)
	expect("import", Change{Screens: ids})
	it, err := s.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "通知", DurationS: 10})
	if err != nil {
		t.Fatal(err)
	}
	expect("create item", Change{Catalog: true})
	pl, err := s.CreatePlaylist(playlists.Playlist{Name: "默认", Items: []string{it.ID}})
	if err != nil {
		t.Fatal(err)
	}
	expect("create playlist", Change{Catalog: true})
	if _, err := s.Apply(Op{Action: OpSetDefault, Kind: KindScreen, ID: a.ID, DefaultPlaylist: &pl.ID}); err != nil {
		t.Fatal(err)
	}
	expect("change set: screen default", Change{Screens: []string{a.ID}})
	if _, err := s.Apply(Op{Action: OpSetDefault, Kind: KindGroup, ID: "street", DefaultPlaylist: &pl.ID}); err != nil {
		t.Fatal(err)
	}
	expect("change set: group default", Change{Groups: []string{"street"}})
	if _, err := s.UpdateGroup("street", playlists.Group{Name: "新街道", Timezone: "Asia/Urumqi", DefaultPlaylist: pl.ID}); err != nil {
		t.Fatal(err)
	}
	expect("update group", Change{Groups: []string{"street"}})

	// Refused inside the transaction: nothing announced, nothing changed.
	bad := a
	bad.Group = "nowhere"
	if _, err := s.UpdateScreen(a.ID, bad); err == nil {
		t.Fatal("update into a missing group was accepted")
	}
	if err := s.DeleteGroup("street"); err == nil {
		t.Fatal("deleting a group with screens was accepted")
	}
	mu.Lock()
	if len(got) != 0 {
		t.Errorf("refused writes announced %+v", got)
	}
	mu.Unlock()
	checkIndex(t, s)

	if err := s.DeleteScreen(a.ID); err != nil {
		t.Fatal(err)
	}
	expect("delete screen", Change{Screens: []string{a.ID}})
	if _, err := s.GetScreen(a.ID); err == nil {
		t.Errorf("GetScreen of a deleted screen found it")
	}
	for _, sc := range made {
		if err := s.DeleteScreen(sc.ID); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got = nil
		mu.Unlock()
	}
	if err := s.DeleteGroup("street"); err != nil {
		t.Fatal(err)
	}
	expect("delete group", Change{Groups: []string{"street"}})
	if _, err := s.GetGroup("street"); err == nil {
		t.Errorf("GetGroup of a deleted group found it")
	}

	if _, _, err := s.CreateScreen(Screen{Name: "d", Tags: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, _ := s.ListScreens(); len(l) != 1 || l[0].Name != "d" {
		t.Errorf("reopened store lists %+v, want the one screen d", l)
	}
	checkIndex(t, s)

	// A restore unpacks into an empty directory before the server opens
	// it, so the index of the restored store is loaded from its file.
	var buf bytes.Buffer
	if _, err := s.WriteBackup(&buf); err != nil {
		t.Fatal(err)
	}
	restored := t.TempDir() + "/restored"
	if _, err := Restore(&buf, restored); err != nil {
		t.Fatal(err)
	}
	r, err := Open(restored, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if l, _ := r.ListScreens(); len(l) != 1 || l[0].Name != "d" {
		t.Errorf("restored store lists %+v, want the one screen d", l)
	}
	checkIndex(t, r)
}

// TestIndexHandsOutCopies: changing what a read returned (tags, the paired
// device) changes nothing the next reader sees.
func TestIndexHandsOutCopies(t *testing.T) {
	s := openTest(t)
	sc, _, err := s.CreateScreen(Screen{Name: "a", Tags: []string{"gate", "lobby"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.rotateToken(sc.ID, &PairedDevice{}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetScreen(sc.ID)
	got.Tags[0] = "changed"
	*got.Device = PairedDevice{KeyID: "changed"}
	list, _ := s.ListScreens()
	list[0].Tags[1] = "changed"
	snap, _ := s.Snapshot()
	snap.Screens[0].Tags[0] = "changed"
	again, _ := s.GetScreen(sc.ID)
	if !slices.Equal(again.Tags, []string{"gate", "lobby"}) || again.Device == nil || again.Device.KeyID == "changed" {
		t.Errorf("after callers changed their copies the store answers %+v", again)
	}
}

// TestIndexKeepsNewestWrite: bbolt runs commit handlers after releasing
// its writer lock, so an older transaction's handler may run after a
// newer one's; the newer value stays, also against a late delete.
func TestIndexKeepsNewestWrite(t *testing.T) {
	s := openTest(t)
	sc, _, err := s.CreateScreen(Screen{Name: "new"})
	if err != nil {
		t.Fatal(err)
	}
	cur := s.mem.screens[sc.ID].rev
	old := sc
	old.Name = "old"
	s.applyNote(&txNote{s: s, screens: map[string]*Screen{sc.ID: &old}}, cur-1)
	s.applyNote(&txNote{s: s, screens: map[string]*Screen{sc.ID: nil}}, cur-1)
	if got, err := s.GetScreen(sc.ID); err != nil || got.Name != "new" {
		t.Errorf("after late handlers of older transactions: %+v, %v; want the newer screen", got, err)
	}
	// A late write of a deleted screen does not bring it back.
	if err := s.DeleteScreen(sc.ID); err != nil {
		t.Fatal(err)
	}
	s.applyNote(&txNote{s: s, screens: map[string]*Screen{sc.ID: &old}}, cur)
	if _, err := s.GetScreen(sc.ID); err == nil {
		t.Errorf("a late handler brought a deleted screen back")
	}
	if l, _ := s.ListScreens(); len(l) != 0 {
		t.Errorf("ListScreens: %+v, want none", l)
	}
}

// BenchmarkSnapshot10k compares the snapshot publishing reads, from the
// in-memory index, with decoding every record from the file as it was
// done before the index:
//
//	go test -run '^$' -bench Snapshot10k ./server/internal/store/
func BenchmarkSnapshot10k(b *testing.B) {
	s, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	scs := make([]Screen, 10000)
	for i := range scs {
		scs[i] = Screen{Name: "屏", Tags: []string{"lobby", "gate"}, Timezone: "Asia/Shanghai"}
	}
	if _, _, err := s.CreateScreens(scs); err != nil {
		b.Fatal(err)
	}
	b.Run("memory", func(b *testing.B) {
		for range b.N {
			if _, err := s.Snapshot(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for range b.N {
			if err := s.db.View(func(tx *bolt.Tx) error { _, err := s.snapshotTx(tx); return err }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSharedScreensFollowChanges: the shared list is one slice until a
// screen changes, then the next reader gets a new one with the change, and
// the list handed out before keeps what it had (it is never changed in
// place, so a reader in the middle of a pass is safe).
func TestSharedScreensFollowChanges(t *testing.T) {
	s := openTest(t)
	a, _, err := s.CreateScreen(Screen{Name: "a", Tags: []string{"gate"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateScreen(Screen{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	first := s.SharedScreens()
	if len(first) != 2 || first[0].ID > first[1].ID {
		t.Fatalf("shared screens %v, want both in id order", first)
	}
	if again := s.SharedScreens(); &again[0] != &first[0] {
		t.Error("a second read without a change built a new list")
	}
	a.Name = "a2"
	if _, err := s.UpdateScreen(a.ID, a); err != nil {
		t.Fatal(err)
	}
	after := s.SharedScreens()
	var renamed string
	for _, sc := range after {
		if sc.ID == a.ID {
			renamed = sc.Name
		}
	}
	if renamed != "a2" {
		t.Errorf("after a rename the shared list says %q", renamed)
	}
	for _, sc := range first {
		if sc.ID == a.ID && sc.Name != "a" {
			t.Errorf("the list handed out before the rename changed under its reader: %q", sc.Name)
		}
	}
	if err := s.DeleteScreen(a.ID); err != nil {
		t.Fatal(err)
	}
	if got := s.SharedScreens(); len(got) != 1 || got[0].ID == a.ID {
		t.Errorf("after a delete: %v", got)
	}
}
