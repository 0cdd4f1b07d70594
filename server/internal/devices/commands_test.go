package devices

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// TestCreateForGroupPartialFailure deletes screens of the group between
// the listing and the queueing, as a concurrent DELETE /screens would, and
// checks that the fan-out queues what it can, in one transaction, and
// reports the rest.
func TestCreateForGroupPartialFailure(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		screens    int
		deleteFrom int // screens from this index on are deleted after the listing; -1: none
		wantQueued int
		wantErr    bool
	}{
		{"no failure", 3, -1, 3, false},
		{"screens deleted after the first", 3, 1, 1, false},
		{"last screen deleted", 3, 2, 2, false},
		{"every screen deleted", 2, 0, 0, true},
		{"empty group", 0, -1, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.Open(t.TempDir(), func() time.Time { return t0 })
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := st.CreateGroup(playlists.Group{ID: "street", Name: "Street"}); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for range tc.screens {
				scr, _, err := st.CreateScreen(store.Screen{Name: "s", Group: "street"})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, scr.ID)
			}
			slices.Sort(ids) // the fan-out's order

			// Now runs after the group's screens are listed and before the
			// commands are stored: deleting there is the race.
			var once sync.Once
			now := func() time.Time {
				if tc.deleteFrom >= 0 {
					once.Do(func() {
						for _, id := range ids[tc.deleteFrom:] {
							if err := st.DeleteScreen(id); err != nil {
								t.Errorf("delete screen %s: %v", id, err)
							}
						}
					})
				}
				return t0
			}
			sent := map[string]int{}
			send := func(id string, _ []byte) bool {
				sent[id]++
				return true
			}
			cmds := NewCommands(CommandOptions{Store: st, Now: now, Send: send, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})

			res, err := cmds.CreateForGroup("street", CommandRequest{Type: playlists.CmdReload})
			if tc.wantErr {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("CreateForGroup: got %v, want a not-found error when no screen could be queued", err)
				}
			} else if err != nil {
				t.Fatalf("CreateForGroup: got %v, want no error", err)
			}
			if len(res.Commands) != tc.wantQueued {
				t.Fatalf("queued: got %d, want %d", len(res.Commands), tc.wantQueued)
			}
			if want := tc.screens - tc.wantQueued; len(res.Failed) != want {
				t.Fatalf("failed: got %d (%v), want %d", len(res.Failed), res.Failed, want)
			}
			for i, cmd := range res.Commands {
				if cmd.ScreenID != ids[i] || cmd.Status != store.CommandDelivered || sent[ids[i]] != 1 {
					t.Errorf("command %d: got screen %s status %s sent %d times, want screen %s delivered once",
						i, cmd.ScreenID, cmd.Status, sent[ids[i]], ids[i])
				}
				if _, err := st.GetCommand(ids[i], cmd.ID); err != nil {
					t.Errorf("queued command %s not stored: %v", cmd.ID, err)
				}
			}
			for i, f := range res.Failed {
				if want := ids[tc.wantQueued+i]; f.Screen != want || !errors.Is(f.Err, store.ErrNotFound) {
					t.Errorf("failure %d: got screen %s error %v, want screen %s not found", i, f.Screen, f.Err, want)
				}
			}
		})
	}
}

// TestCreateForGroupCommits counts the commits (each one fsync) of a
// command to a district's group of 500 screens: one transaction queues
// all of them and one records the deliveries to the connected ones,
// whatever the size of the group; with none connected, only the first.
func TestCreateForGroupCommits(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	st, err := store.Open(t.TempDir(), func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateGroup(playlists.Group{ID: "street", Name: "Street"}); err != nil {
		t.Fatal(err)
	}
	in := make([]store.Screen, 500)
	for i := range in {
		in[i] = store.Screen{Name: "s", Group: "street"}
	}
	if _, _, err := st.CreateScreens(in); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		connected bool
		commits   uint64
		status    string
	}{
		{"all connected", true, 2, store.CommandDelivered},
		{"none connected", false, 1, store.CommandQueued},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := 0
			cmds := NewCommands(CommandOptions{Store: st, Now: func() time.Time { return t0 },
				Send:   func(string, []byte) bool { sent++; return tc.connected },
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			before := st.Commits()
			res, err := cmds.CreateForGroup("street", CommandRequest{Type: playlists.CmdReload})
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Commits() - before; got != tc.commits {
				t.Errorf("a command to 500 screens took %d commits, want %d", got, tc.commits)
			}
			if len(res.Commands) != 500 || sent != 500 {
				t.Fatalf("%d commands queued, %d sent; want 500 each", len(res.Commands), sent)
			}
			for _, c := range res.Commands {
				if c.Status != tc.status {
					t.Fatalf("command %s is %s, want %s", c.ID, c.Status, tc.status)
				}
			}
		})
	}
}

// A screen coming back with more pending commands than the reconnect burst
// gets the burst at once and the rest one per result, so its send queue
// never overflows (which would drop it as slow).
func TestReconnectBurstBounded(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	st, err := store.Open(t.TempDir(), func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	scr, _, err := st.CreateScreen(store.Screen{Name: "大堂"})
	if err != nil {
		t.Fatal(err)
	}
	online := false
	var sent []string
	cmds := NewCommands(CommandOptions{Store: st, Now: func() time.Time { return t0 },
		Send: func(_ string, frame []byte) bool {
			if !online {
				return false
			}
			env, _ := playlists.Decode(frame)
			var c playlists.Command
			env.DecodeData(&c)
			sent = append(sent, c.ID)
			return true
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var ids []string
	for range reconnectBurst + 3 {
		cmd, err := cmds.Create(scr.ID, CommandRequest{Type: playlists.CmdIdentify})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cmd.ID)
	}
	online = true
	cmds.Deliver(scr.ID)
	if len(sent) != reconnectBurst || !slices.Equal(sent, ids[:reconnectBurst]) {
		t.Fatalf("sent on reconnect: %v, want the first %d in order", sent, reconnectBurst)
	}
	cmds.Result(scr.ID, playlists.CommandResult{ID: ids[0], OK: true})
	if !slices.Equal(sent, ids) {
		t.Fatalf("sent after a result: %v, want all %d in order", sent, len(ids))
	}
}
