package devices

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// kicks records the screens the hub was told to cut off.
type kicks struct {
	mu  sync.Mutex
	ids []string
}

func (k *kicks) Kick(id string) { k.mu.Lock(); k.ids = append(k.ids, id); k.mu.Unlock() }

func (k *kicks) take() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := k.ids
	k.ids = nil
	return out
}

type lifecycleEnv struct {
	t     *testing.T
	st    *store.Store
	reg   *Registry
	kicks *kicks
	scr   *Screens
	plA   string // a published playlist
	plB   string
}

func newLifecycleEnv(t *testing.T) *lifecycleEnv {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	st, err := store.Open(t.TempDir(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, g := range []playlists.Group{{ID: "north", Name: "北"}, {ID: "south", Name: "南"}} {
		if _, err := st.CreateGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	it, err := st.CreateItem(playlists.Item{Kind: "notice", Title: "one"})
	if err != nil {
		t.Fatal(err)
	}
	v := &lifecycleEnv{t: t, st: st, kicks: &kicks{}}
	for _, pl := range []*string{&v.plA, &v.plB} {
		p, err := st.CreatePlaylist(playlists.Playlist{Name: "pl", Items: []string{it.ID}})
		if err != nil {
			t.Fatal(err)
		}
		*pl = p.ID
	}
	if v.reg, err = New(Options{Store: st, Now: clk.now, OfflineAfter: time.Minute}); err != nil {
		t.Fatal(err)
	}
	v.scr = NewScreens(st, v.reg, v.kicks)
	return v
}

// oneCommit runs f and fails the test unless it committed exactly once.
func (v *lifecycleEnv) oneCommit(what string, f func() error) {
	v.t.Helper()
	before := v.st.Commits()
	if err := f(); err != nil {
		v.t.Fatalf("%s: %v", what, err)
	}
	if got := v.st.Commits() - before; got != 1 {
		v.t.Errorf("%s: %d commits, want exactly 1", what, got)
	}
}

// noCommit runs f, which must fail, and fails the test if it committed.
func (v *lifecycleEnv) noCommit(what string, f func() error) error {
	v.t.Helper()
	before := v.st.Commits()
	err := f()
	if err == nil {
		v.t.Fatalf("%s: succeeded, want an error", what)
	}
	if got := v.st.Commits() - before; got != 0 {
		v.t.Errorf("%s failed with %v but made %d commits, want 0", what, err, got)
	}
	return err
}

func (v *lifecycleEnv) authenticates(token, want string) bool {
	id, err := v.reg.Authenticate(token)
	return err == nil && id == want
}

func (v *lifecycleEnv) total(group string) int { return v.reg.GroupCounts()[group].Total() }

func (v *lifecycleEnv) kicked(want ...string) {
	v.t.Helper()
	if got := v.kicks.take(); !slices.Equal(got, want) {
		v.t.Errorf("kicked %v, want %v", got, want)
	}
}

func TestScreensCreate(t *testing.T) {
	v := newLifecycleEnv(t)
	var c Created
	v.oneCommit("create", func() (err error) {
		c, err = v.scr.Create(store.Screen{Name: "大堂", Group: "north", DefaultPlaylist: v.plA}, nil)
		return err
	})
	if !v.authenticates(c.Token, c.Screen.ID) {
		t.Errorf("the new token does not authenticate at once")
	}
	if got, err := v.st.GetScreen(c.Screen.ID); err != nil || got.DefaultPlaylist != v.plA || got.Group != "north" {
		t.Errorf("stored: got %+v, %v", got, err)
	}
	if v.total("north") != 1 || c.Default != nil {
		t.Errorf("north counts %d screens, default result %+v; want 1, nil", v.total("north"), c.Default)
	}
	v.kicked()

	// A default playlist drafted for review lands in the same commit as
	// the screen; the screen is published without it.
	author := store.Actor{ID: "usr_1", Name: "小王"}
	v.oneCommit("create with a drafted default", func() (err error) {
		c, err = v.scr.Create(store.Screen{Name: "门口"}, &store.DefaultChange{Playlist: v.plB, Draft: &author})
		return err
	})
	if c.Default == nil || c.Default.ChangeSet == "" || c.Default.Screen.DefaultPlaylist != v.plB || c.Default.Screen.ID != c.Screen.ID {
		t.Fatalf("drafted default: got %+v", c.Default)
	}
	cs, err := v.st.GetChangeSet(c.Default.ChangeSet)
	if err != nil || len(cs.Ops) != 1 || cs.Ops[0].ID != c.Screen.ID || *cs.Ops[0].DefaultPlaylist != v.plB || !cs.Ops[0].Checked {
		t.Errorf("change set: got %+v, %v; want one checked set_default for %s", cs, err, c.Screen.ID)
	}
	if got, _ := v.st.GetScreen(c.Screen.ID); got.DefaultPlaylist != "" {
		t.Errorf("published default before review: %q, want none", got.DefaultPlaylist)
	}
	if !v.authenticates(c.Token, c.Screen.ID) {
		t.Errorf("the drafted screen's token does not authenticate")
	}

	// A draft that cannot be recorded creates no screen either.
	screens, _ := v.st.ListScreens()
	v.noCommit("create with a draft of a missing playlist", func() error {
		_, err := v.scr.Create(store.Screen{Name: "后门"}, &store.DefaultChange{Playlist: "pl_nope", Draft: &author})
		return err
	})
	if after, _ := v.st.ListScreens(); len(after) != len(screens) {
		t.Errorf("screens after a refused draft: %d, want %d", len(after), len(screens))
	}
	if v.total("") != 1 {
		t.Errorf("ungrouped screens counted: %d, want 1", v.total(""))
	}
	v.kicked()
}

func TestScreensImport(t *testing.T) {
	v := newLifecycleEnv(t)
	rows := make([]store.Screen, 50)
	for i := range rows {
		rows[i] = store.Screen{Name: "屏", Group: []string{"north", "south"}[i%2]}
	}
	var created []store.Screen
	var tokens []string
	v.oneCommit("import 50", func() (err error) {
		created, tokens, err = v.scr.Import(rows)
		return err
	})
	if len(created) != 50 || len(tokens) != 50 {
		t.Fatalf("import: %d screens, %d tokens", len(created), len(tokens))
	}
	for i, sc := range created {
		if !v.authenticates(tokens[i], sc.ID) {
			t.Fatalf("imported screen %d's token does not authenticate", i)
		}
	}
	if v.total("north") != 25 || v.total("south") != 25 {
		t.Errorf("counts: north %d, south %d; want 25 each", v.total("north"), v.total("south"))
	}

	// One bad row: nothing is created, nothing is registered.
	bad := []store.Screen{{Name: "ok"}, {Name: "lost", Group: "nowhere"}}
	err := v.noCommit("import with a bad row", func() error { _, _, err := v.scr.Import(bad); return err })
	var ie store.ImportError
	if !errors.As(err, &ie) || ie.Row != 2 {
		t.Errorf("bad row: got %v, want an ImportError for row 2", err)
	}
	if all, _ := v.st.ListScreens(); len(all) != 50 || v.total("") != 0 {
		t.Errorf("after the refused import: %d stored, %d counted ungrouped; want 50, 0", len(all), v.total(""))
	}
	v.kicked()
}

func TestScreensUpdate(t *testing.T) {
	v := newLifecycleEnv(t)
	c, err := v.scr.Create(store.Screen{Name: "大堂", Group: "north"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := c.Screen.ID
	_, seq := v.reg.Changes()

	// A move: the fleet counts follow and the live fleet hears of it.
	var scr store.Screen
	v.oneCommit("move", func() (err error) {
		scr, _, err = v.scr.Update(id, store.Screen{Name: "新大堂", Group: "south", Tags: []string{"lobby"}}, nil)
		return err
	})
	if scr.Name != "新大堂" || scr.Group != "south" || v.total("north") != 0 || v.total("south") != 1 {
		t.Errorf("after the move: %+v, north %d, south %d", scr, v.total("north"), v.total("south"))
	}
	if ids, _ := v.reg.ChangedSince(seq); !slices.Contains(ids, id) {
		t.Errorf("live fleet changes %v, want %s", ids, id)
	}
	if !v.authenticates(c.Token, id) {
		t.Errorf("the token stopped working after an update")
	}

	// The default playlist, published at once, in the same commit.
	var res *store.DefaultResult
	v.oneCommit("update with a published default", func() (err error) {
		scr, res, err = v.scr.Update(id, store.Screen{Name: "大堂", Group: "north"}, &store.DefaultChange{Playlist: v.plA})
		return err
	})
	if scr.DefaultPlaylist != v.plA || scr.Name != "大堂" || res == nil || res.Before.DefaultPlaylist != "" || res.Before.Name != "大堂" || res.ChangeSet != "" {
		t.Errorf("published default: screen %+v, result %+v", scr, res)
	}
	if got, _ := v.st.GetScreen(id); got.DefaultPlaylist != v.plA || got.Group != "north" {
		t.Errorf("stored: %+v", got)
	}

	// Drafted for review, in the same commit as the other fields; the
	// published screen keeps its default until approval.
	author := store.Actor{ID: "usr_1", Name: "小王"}
	v.oneCommit("update with a drafted default", func() (err error) {
		scr, res, err = v.scr.Update(id, store.Screen{Name: "大堂二", Group: "north", DefaultPlaylist: v.plA},
			&store.DefaultChange{Playlist: v.plB, Draft: &author})
		return err
	})
	if scr.Name != "大堂二" || scr.DefaultPlaylist != v.plA || res == nil || res.ChangeSet == "" || res.Screen.DefaultPlaylist != v.plB {
		t.Errorf("drafted default: screen %+v, result %+v", scr, res)
	}
	cs, err := v.st.GetChangeSet(res.ChangeSet)
	if err != nil || len(cs.Ops) != 1 || cs.Ops[0].Base != "default:"+v.plA {
		t.Errorf("change set: %+v, %v; want one op based on the published default", cs, err)
	}

	// A refused draft leaves the other fields unchanged too.
	v.noCommit("update with a draft of a missing playlist", func() error {
		_, _, err := v.scr.Update(id, store.Screen{Name: "不该", Group: "south", DefaultPlaylist: v.plA},
			&store.DefaultChange{Playlist: "pl_nope", Draft: &author})
		return err
	})
	if got, _ := v.st.GetScreen(id); got.Name != "大堂二" || got.Group != "north" || v.total("south") != 0 {
		t.Errorf("after a refused update: %+v, south counts %d", got, v.total("south"))
	}
	v.kicked()
}

func TestScreensRotateToken(t *testing.T) {
	v := newLifecycleEnv(t)
	c, err := v.scr.Create(store.Screen{Name: "大堂", Group: "north"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	v.oneCommit("rotate", func() (err error) { token, err = v.scr.RotateToken(c.Screen.ID); return err })
	if v.authenticates(c.Token, c.Screen.ID) {
		t.Errorf("the old token is still accepted after rotation")
	}
	if !v.authenticates(token, c.Screen.ID) {
		t.Errorf("the new token is refused after rotation")
	}
	v.kicked(c.Screen.ID)
	if v.total("north") != 1 {
		t.Errorf("north counts %d after rotation, want 1", v.total("north"))
	}

	if err := v.noCommit("rotate a missing screen", func() error { _, err := v.scr.RotateToken("scr_nope"); return err }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing screen: got %v, want not found", err)
	}
	v.kicked()
}

func TestScreensPair(t *testing.T) {
	v := newLifecycleEnv(t)
	dev := store.PairedDevice{Key: "a2V5", KeyID: "k1", PairedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	var scr store.Screen
	var token string
	v.oneCommit("pair a new screen", func() (err error) {
		scr, token, err = v.scr.Pair("", store.Screen{Name: "大堂", Group: "south"}, dev)
		return err
	})
	if scr.Device == nil || scr.Device.KeyID != "k1" || scr.Group != "south" {
		t.Errorf("paired screen: %+v", scr)
	}
	if !v.authenticates(token, scr.ID) || v.total("south") != 1 {
		t.Errorf("paired screen's token refused, or not counted (%d)", v.total("south"))
	}
	v.kicked()

	// Re-pairing: new hardware gets a new token; the old player is cut off.
	dev2 := dev
	dev2.KeyID = "k2"
	var again store.Screen
	var token2 string
	v.oneCommit("re-pair", func() (err error) {
		again, token2, err = v.scr.Pair(scr.ID, store.Screen{}, dev2)
		return err
	})
	if again.ID != scr.ID || again.Name != "大堂" || again.Device == nil || again.Device.KeyID != "k2" {
		t.Errorf("re-paired screen: %+v", again)
	}
	if v.authenticates(token, scr.ID) || !v.authenticates(token2, scr.ID) {
		t.Errorf("after re-pairing the old token must be refused and the new one accepted")
	}
	v.kicked(scr.ID)
	if v.total("south") != 1 {
		t.Errorf("south counts %d after re-pairing, want 1", v.total("south"))
	}
}

func TestScreensDelete(t *testing.T) {
	v := newLifecycleEnv(t)
	c, err := v.scr.Create(store.Screen{Name: "大堂", Group: "north"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := c.Screen.ID
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "shot"...)
	if _, err := v.st.PutScreenshot(id, bytes.NewReader(png), 1<<20); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if _, err := v.st.CreateCommand(store.Command{ScreenID: id, Type: playlists.CmdReload, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// Refused while a schedule targets it: nothing changes anywhere.
	sch, err := v.st.CreateSchedule(playlists.Schedule{Playlist: v.plA, Target: playlists.Target{Screens: []string{id}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.noCommit("delete a scheduled screen", func() error { return v.scr.Delete(id) }); !errors.As(err, new(store.InUseError)) {
		t.Errorf("scheduled screen: got %v, want InUseError", err)
	}
	if !v.authenticates(c.Token, id) || v.total("north") != 1 {
		t.Errorf("a refused delete changed the registry")
	}
	v.kicked()
	if err := v.st.DeleteSchedule(sch.ID); err != nil {
		t.Fatal(err)
	}

	v.oneCommit("delete", func() error { return v.scr.Delete(id) })
	if _, err := v.st.GetScreen(id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("screen after delete: %v, want not found", err)
	}
	if v.authenticates(c.Token, id) || v.total("north") != 0 {
		t.Errorf("the registry still knows the deleted screen (north counts %d)", v.total("north"))
	}
	if _, _, err := v.st.OpenScreenshot(id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("screenshot after delete: %v, want not found", err)
	}
	if cmds, err := v.st.ListCommands(id, 10); len(cmds) != 0 || (err != nil && !errors.Is(err, store.ErrNotFound)) {
		t.Errorf("commands after delete: %v, %v; want none", cmds, err)
	}
	v.kicked(id)
}

// A write the disk refuses changes nothing: not the store, not the
// registry, and nobody is kicked.
func TestScreensFailedWriteChangesNothing(t *testing.T) {
	v := newLifecycleEnv(t)
	c, err := v.scr.Create(store.Screen{Name: "大堂", Group: "north"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := c.Screen.ID
	_, seq := v.reg.Changes()
	author := store.Actor{ID: "usr_1", Name: "小王"}
	dev := store.PairedDevice{Key: "a2V5", KeyID: "k1"}
	v.st.InjectWriteFault(syscall.ENOSPC)
	ops := map[string]func() error{
		"create": func() error { _, err := v.scr.Create(store.Screen{Name: "新", Group: "north"}, nil); return err },
		"create draft": func() error {
			_, err := v.scr.Create(store.Screen{Name: "新"}, &store.DefaultChange{Playlist: v.plA, Draft: &author})
			return err
		},
		"import": func() error {
			_, _, err := v.scr.Import([]store.Screen{{Name: "一", Group: "north"}, {Name: "二"}})
			return err
		},
		"update": func() error {
			_, _, err := v.scr.Update(id, store.Screen{Name: "搬", Group: "south"}, nil)
			return err
		},
		"update default": func() error {
			_, _, err := v.scr.Update(id, store.Screen{Name: "搬", Group: "south"}, &store.DefaultChange{Playlist: v.plA})
			return err
		},
		"rotate": func() error { _, err := v.scr.RotateToken(id); return err },
		"pair":   func() error { _, _, err := v.scr.Pair("", store.Screen{Name: "配", Group: "north"}, dev); return err },
		"repair": func() error { _, _, err := v.scr.Pair(id, store.Screen{}, dev); return err },
		"delete": func() error { return v.scr.Delete(id) },
	}
	for name, op := range ops {
		if err := v.noCommit(name, op); !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, store.ErrDiskFull) {
			t.Errorf("%s: got %v, want the disk's error", name, err)
		}
	}
	v.st.InjectWriteFault(nil)

	if !v.authenticates(c.Token, id) {
		t.Errorf("the screen's token stopped working after failed writes")
	}
	counts := v.reg.GroupCounts()
	if counts["north"].Total() != 1 || counts["south"].Total() != 0 || counts[""].Total() != 0 {
		t.Errorf("counts after failed writes: %v; want only the one screen in north", counts)
	}
	if got, err := v.st.GetScreen(id); err != nil || got.Name != "大堂" || got.Group != "north" || got.Device != nil {
		t.Errorf("stored screen after failed writes: %+v, %v", got, err)
	}
	if all, _ := v.st.ListScreens(); len(all) != 1 {
		t.Errorf("%d screens stored after failed creates, want 1", len(all))
	}
	if ids, _ := v.reg.ChangedSince(seq); len(ids) != 0 {
		t.Errorf("live fleet heard of changes that did not happen: %v", ids)
	}
	v.kicked()
}

// Rotations and deletes racing on the same screens leave the registry
// agreeing with the store: of every token issued, exactly those the store
// holds authenticate, and a deleted screen is neither counted nor let in.
func TestScreensConcurrentRotateAndDelete(t *testing.T) {
	v := newLifecycleEnv(t)
	const screens, workers, rounds = 4, 4, 3
	ids := make([]string, screens)
	var mu sync.Mutex
	var issued []string
	for i := range ids {
		c, err := v.scr.Create(store.Screen{Name: "屏", Group: "north"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.Screen.ID
		issued = append(issued, c.Token)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		for w := range workers {
			wg.Go(func() {
				for range rounds {
					tok, err := v.scr.RotateToken(id)
					if errors.Is(err, store.ErrNotFound) {
						return // deleted meanwhile
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					issued = append(issued, tok)
					mu.Unlock()
				}
				if w == 0 && id != ids[0] {
					if err := v.scr.Delete(id); err != nil && !errors.Is(err, store.ErrNotFound) {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()

	stored, err := v.st.ScreenTokens()
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range issued {
		id, inStore := stored[store.HashToken(tok)]
		if got, err := v.reg.Authenticate(tok); (err == nil) != inStore || (inStore && got != id) {
			t.Errorf("token of %s: registry says %q, %v; the store has it: %v", id, got, err, inStore)
		}
	}
	all, _ := v.st.ListScreens()
	if len(all) != 1 || all[0].ID != ids[0] || v.total("north") != 1 || len(stored) != 1 {
		t.Errorf("after the race: %d stored, %d counted, %d tokens; want only %s", len(all), v.total("north"), len(stored), ids[0])
	}
}

// A second operation on a screen does not commit until the first has
// brought the registry in step, so the registry takes changes in commit
// order. The first rotation is held inside the registry (its screen's
// lock, taken here); the second must wait without committing.
func TestScreensApplyInCommitOrder(t *testing.T) {
	v := newLifecycleEnv(t)
	c, err := v.scr.Create(store.Screen{Name: "屏"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entry := v.reg.get(c.Screen.ID)
	entry.mu.Lock()
	held := true
	defer func() {
		if held {
			entry.mu.Unlock()
		}
	}()
	before := v.st.Commits()
	tokens := make(chan string, 2)
	rotate := func() {
		tok, err := v.scr.RotateToken(c.Screen.ID)
		if err != nil {
			t.Error(err)
		}
		tokens <- tok
	}
	go rotate()
	waitUntil(t, "the first rotation to commit", func() bool { return v.st.Commits() == before+1 })
	go rotate()
	time.Sleep(100 * time.Millisecond)
	if got := v.st.Commits() - before; got != 1 {
		t.Fatalf("%d commits while the first rotation had not reached the registry, want 1", got)
	}
	entry.mu.Unlock()
	held = false
	first, second := <-tokens, <-tokens
	if v.authenticates(first, c.Screen.ID) || !v.authenticates(second, c.Screen.ID) {
		t.Errorf("after two rotations the registry accepts the first token (%v) or refuses the last (%v)",
			v.authenticates(first, c.Screen.ID), v.authenticates(second, c.Screen.ID))
	}
	v.kicked(c.Screen.ID, c.Screen.ID)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
