package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
	"kiosk/server/internal/textclip"
)

// Remote command buckets:
//
//	commands       id → Command JSON
//	command_index  screen id, 0x00, big-endian sequence → id (all of a screen's commands, oldest first)
//	commands_open  id → screen id, for commands not yet finished
//
// The open set keeps the expiry sweep and reconnect delivery proportional to
// the commands still in flight, not to the history kept for technicians.
var (
	bucketCommands     = []byte("commands")
	bucketCommandIndex = []byte("command_index")
	bucketCommandsOpen = []byte("commands_open")
)

// Command statuses. A command only ever moves forward:
// queued → delivered → done | failed, and queued | delivered → expired.
const (
	CommandQueued    = "queued"
	CommandDelivered = "delivered"
	CommandDone      = "done"
	CommandFailed    = "failed"
	CommandExpired   = "expired"
)

// MaxCommandsPerScreen bounds the history kept per screen: when a new
// command would exceed it, the oldest finished ones are dropped.
const MaxCommandsPerScreen = 200

// maxCommandText bounds a result or error a player reports, so a device
// cannot make the server store large blobs.
const maxCommandText = 1024

// Command is a remote command for one screen and what became of it.
type Command struct {
	ID          string          `json:"id"`
	ScreenID    string          `json:"screen_id"`
	Type        string          `json:"type"`
	Args        json.RawMessage `json:"args,omitempty"`
	Status      string          `json:"status"`
	Result      string          `json:"result"`
	Error       string          `json:"error"`
	CreatedAt   time.Time       `json:"created_at"`
	DeliveredAt *time.Time      `json:"delivered_at"`
	FinishedAt  *time.Time      `json:"finished_at"`
	ExpiresAt   time.Time       `json:"expires_at"`
	// Deliveries counts how often the command was sent; more than one means
	// the screen reconnected before answering and the player's memory of
	// executed ids kept it from running twice.
	Deliveries int `json:"deliveries"`
}

// Open reports whether the command may still be delivered or answered.
func (c Command) Open() bool { return c.Status == CommandQueued || c.Status == CommandDelivered }

// Wire is the frame payload sent to the player.
func (c Command) Wire() playlists.Command {
	return playlists.Command{ID: c.ID, Type: c.Type, Args: c.Args, ExpiresAt: c.ExpiresAt.UnixMilli()}
}

func migrateCommands(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketCommands, bucketCommandIndex, bucketCommandsOpen} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

func commandIndexKey(screenID string, seq uint64) []byte {
	k := make([]byte, 0, len(screenID)+9)
	k = append(k, screenID...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

func commandIndexPrefix(screenID string) []byte {
	return append([]byte(screenID), 0)
}

// CreateCommand stores a new queued command for c.ScreenID. The screen must
// exist; Type, CreatedAt and ExpiresAt are the caller's (the API validates
// the type and the TTL). The oldest finished commands beyond
// MaxCommandsPerScreen are dropped in the same transaction.
func (s *Store) CreateCommand(c Command) (Command, error) {
	if !playlists.ValidCommand(c.Type) {
		return Command{}, playlists.FieldError{Field: "type", Problem: fmt.Sprintf("unknown command type %q", c.Type)}
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now().UTC()
	}
	if !c.ExpiresAt.After(c.CreatedAt) {
		return Command{}, playlists.FieldError{Field: "ttl_s", Problem: "the command would expire before it is created"}
	}
	c.Status = CommandQueued
	c.Result, c.Error, c.DeliveredAt, c.FinishedAt, c.Deliveries = "", "", nil, nil, 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		if !exists(tx, bucketScreens, c.ScreenID) {
			return NotFoundError{Kind: "screen", ID: c.ScreenID}
		}
		cmds := tx.Bucket(bucketCommands)
		c.ID = freshID(cmds, "cmd")
		idx := tx.Bucket(bucketCommandIndex)
		seq, err := idx.NextSequence()
		if err != nil {
			return err
		}
		if err := putJSON(cmds, c.ID, c); err != nil {
			return err
		}
		if err := idx.Put(commandIndexKey(c.ScreenID, seq), []byte(c.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCommandsOpen).Put([]byte(c.ID), []byte(c.ScreenID)); err != nil {
			return err
		}
		return pruneCommands(tx, c.ScreenID)
	})
	if err != nil {
		return Command{}, err
	}
	return c, nil
}

// pruneCommands drops the oldest finished commands of a screen beyond
// MaxCommandsPerScreen. Open ones are kept whatever their age: they expire
// on their own.
func pruneCommands(tx *bolt.Tx, screenID string) error {
	idx := tx.Bucket(bucketCommandIndex)
	prefix := commandIndexPrefix(screenID)
	var keys [][]byte
	cur := idx.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	excess := len(keys) - MaxCommandsPerScreen
	if excess <= 0 {
		return nil
	}
	open := tx.Bucket(bucketCommandsOpen)
	cmds := tx.Bucket(bucketCommands)
	for _, k := range keys {
		if excess == 0 {
			break
		}
		id := idx.Get(k)
		if open.Get(id) != nil {
			continue
		}
		if err := cmds.Delete(bytes.Clone(id)); err != nil {
			return err
		}
		if err := idx.Delete(k); err != nil {
			return err
		}
		excess--
	}
	return nil
}

// deleteScreenCommands removes every command of screenID, open or finished,
// with its index and open-set entries. DeleteScreen calls it in its own
// transaction: a deleted screen's history can no longer be listed, and its
// open commands could never be delivered, so keeping them would only grow
// the file and leave the expiry sweep work it cannot finish.
func deleteScreenCommands(tx *bolt.Tx, screenID string) error {
	idx := tx.Bucket(bucketCommandIndex)
	cmds := tx.Bucket(bucketCommands)
	open := tx.Bucket(bucketCommandsOpen)
	prefix := commandIndexPrefix(screenID)
	// Collect first: deleting under a live cursor skips keys in bbolt.
	var keys, ids [][]byte
	cur := idx.Cursor()
	for k, id := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = cur.Next() {
		keys = append(keys, bytes.Clone(k))
		ids = append(ids, bytes.Clone(id))
	}
	for i, k := range keys {
		if err := cmds.Delete(ids[i]); err != nil {
			return fmt.Errorf("delete command %s: %w", ids[i], err)
		}
		if err := open.Delete(ids[i]); err != nil {
			return fmt.Errorf("delete open command %s: %w", ids[i], err)
		}
		if err := idx.Delete(k); err != nil {
			return fmt.Errorf("delete command index of %s: %w", ids[i], err)
		}
	}
	return nil
}

// GetCommand returns command id of screenID; a command of another screen is
// reported as not found.
func (s *Store) GetCommand(screenID, id string) (Command, error) {
	c, err := get[Command](s, bucketCommands, "command", id)
	if err != nil {
		return Command{}, err
	}
	if c.ScreenID != screenID {
		return Command{}, NotFoundError{Kind: "command", ID: id}
	}
	return c, nil
}

// ListCommands returns up to limit of screenID's commands, newest first.
func (s *Store) ListCommands(screenID string, limit int) ([]Command, error) {
	out := []Command{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if !exists(tx, bucketScreens, screenID) {
			return NotFoundError{Kind: "screen", ID: screenID}
		}
		cmds := tx.Bucket(bucketCommands)
		prefix := commandIndexPrefix(screenID)
		cur := tx.Bucket(bucketCommandIndex).Cursor()
		// Seek past the screen's last key, then walk back.
		k, id := cur.Seek(append(bytes.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		if k == nil {
			k, id = cur.Last()
		} else {
			k, id = cur.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, id = cur.Prev() {
			var c Command
			ok, err := getJSON(cmds, string(id), &c)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// PendingCommands returns screenID's open commands that have not expired by
// now, oldest first: what a reconnecting screen must receive, in order.
// Delivered ones are included because the screen may have lost them with its
// connection; the player answers a repeated id without running it again.
func (s *Store) PendingCommands(screenID string, now time.Time) ([]Command, error) {
	var out []Command
	err := s.db.View(func(tx *bolt.Tx) error {
		cmds := tx.Bucket(bucketCommands)
		open := tx.Bucket(bucketCommandsOpen)
		prefix := commandIndexPrefix(screenID)
		cur := tx.Bucket(bucketCommandIndex).Cursor()
		for k, id := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, id = cur.Next() {
			if open.Get(id) == nil {
				continue
			}
			var c Command
			ok, err := getJSON(cmds, string(id), &c)
			if err != nil {
				return err
			}
			if ok && c.Open() && now.Before(c.ExpiresAt) {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// updateCommand applies f to command id inside one transaction. f reports
// whether it changed anything; a command that is no longer open leaves the
// open set.
func (s *Store) updateCommand(id string, f func(c *Command) bool) (Command, bool, error) {
	var c Command
	changed := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		cmds := tx.Bucket(bucketCommands)
		ok, err := getJSON(cmds, id, &c)
		if err != nil {
			return err
		}
		if !ok {
			return NotFoundError{Kind: "command", ID: id}
		}
		if changed = f(&c); !changed {
			return nil
		}
		if !c.Open() {
			if err := tx.Bucket(bucketCommandsOpen).Delete([]byte(id)); err != nil {
				return err
			}
		}
		return putJSON(cmds, id, c)
	})
	return c, changed, err
}

// CreateCommands stores one queued command per entry of cs in a single
// transaction (one fsync for a whole group's fan-out). An entry whose
// screen no longer exists is not stored: its error is at the same index of
// errs, and the others are stored regardless. Each entry is checked as
// CreateCommand checks it.
func (s *Store) CreateCommands(cs []Command) (out []Command, errs []error, err error) {
	out = make([]Command, len(cs))
	errs = make([]error, len(cs))
	now := s.now().UTC()
	for i := range cs {
		c := &cs[i]
		if !playlists.ValidCommand(c.Type) {
			return nil, nil, playlists.FieldError{Field: "type", Problem: fmt.Sprintf("unknown command type %q", c.Type)}
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt = now
		}
		if !c.ExpiresAt.After(c.CreatedAt) {
			return nil, nil, playlists.FieldError{Field: "ttl_s", Problem: "the command would expire before it is created"}
		}
		c.Status = CommandQueued
		c.Result, c.Error, c.DeliveredAt, c.FinishedAt, c.Deliveries = "", "", nil, nil, 0
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		cmds, idx, open := tx.Bucket(bucketCommands), tx.Bucket(bucketCommandIndex), tx.Bucket(bucketCommandsOpen)
		for i, c := range cs {
			errs[i] = nil
			if !exists(tx, bucketScreens, c.ScreenID) {
				errs[i] = NotFoundError{Kind: "screen", ID: c.ScreenID}
				continue
			}
			c.ID = freshID(cmds, "cmd")
			seq, err := idx.NextSequence()
			if err != nil {
				return err
			}
			if err := putJSON(cmds, c.ID, c); err != nil {
				return err
			}
			if err := idx.Put(commandIndexKey(c.ScreenID, seq), []byte(c.ID)); err != nil {
				return err
			}
			if err := open.Put([]byte(c.ID), []byte(c.ScreenID)); err != nil {
				return err
			}
			if err := pruneCommands(tx, c.ScreenID); err != nil {
				return err
			}
			out[i] = c
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, errs, nil
}

// MarkDeliveredMany is MarkDelivered for several commands in one
// transaction. It returns each command as it now stands and whether it
// changed; an unknown id is skipped (it was pruned meanwhile).
func (s *Store) MarkDeliveredMany(ids []string, at time.Time) ([]Command, []bool, error) {
	out := make([]Command, len(ids))
	changed := make([]bool, len(ids))
	err := s.db.Update(func(tx *bolt.Tx) error {
		cmds, open := tx.Bucket(bucketCommands), tx.Bucket(bucketCommandsOpen)
		for i, id := range ids {
			changed[i] = false
			var c Command
			ok, err := getJSON(cmds, id, &c)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			out[i] = c
			if !markDelivered(&c, at) {
				continue
			}
			if !c.Open() {
				if err := open.Delete([]byte(id)); err != nil {
					return err
				}
			}
			if err := putJSON(cmds, id, c); err != nil {
				return err
			}
			out[i], changed[i] = c, true
		}
		return nil
	})
	return out, changed, err
}

// markDelivered counts one delivery of c at at: a queued command becomes
// delivered; a finished one is left alone (false).
func markDelivered(c *Command, at time.Time) bool {
	if !c.Open() {
		return false
	}
	c.Deliveries++
	if c.Status == CommandQueued {
		c.Status = CommandDelivered
		t := at.UTC()
		c.DeliveredAt = &t
	}
	return true
}

// MarkDelivered records that command id was sent to its screen at at. A
// queued command becomes delivered; a delivered one only counts the
// delivery; a finished one is left alone (changed is false).
func (s *Store) MarkDelivered(id string, at time.Time) (Command, bool, error) {
	return s.updateCommand(id, func(c *Command) bool { return markDelivered(c, at) })
}

// FinishCommand records the player's result. Only an open command of the
// reporting screen moves, to done or failed; a result for a finished or
// expired command, or for another screen's, changes nothing (changed is
// false), so a repeated or late answer can never rewrite history.
func (s *Store) FinishCommand(screenID string, r playlists.CommandResult, at time.Time) (Command, bool, error) {
	return s.updateCommand(r.ID, func(c *Command) bool {
		if c.ScreenID != screenID || !c.Open() {
			return false
		}
		t := at.UTC()
		if c.DeliveredAt == nil {
			// The result overtook the delivery bookkeeping.
			c.DeliveredAt = &t
		}
		c.FinishedAt = &t
		c.Result = clipText(r.Result)
		c.Error = clipText(r.Error)
		if r.OK {
			c.Status = CommandDone
		} else {
			c.Status = CommandFailed
			if c.Error == "" {
				c.Error = "the player reported failure without a reason"
			}
		}
		return true
	})
}

// ExpireCommands marks every open command whose expires_at is not after now
// as expired and returns them.
func (s *Store) ExpireCommands(now time.Time) ([]Command, error) {
	// A read pass first: the sweep runs every second and must not cost a
	// write transaction (an fsync) when nothing is due.
	var due []string
	err := s.db.View(func(tx *bolt.Tx) error {
		cmds := tx.Bucket(bucketCommands)
		return tx.Bucket(bucketCommandsOpen).ForEach(func(k, _ []byte) error {
			var c Command
			ok, err := getJSON(cmds, string(k), &c)
			if err != nil || !ok || !c.Open() || !now.Before(c.ExpiresAt) {
				due = append(due, string(k))
			}
			return nil
		})
	})
	if err != nil || len(due) == 0 {
		return nil, err
	}
	var out []Command
	err = s.db.Update(func(tx *bolt.Tx) error {
		open := tx.Bucket(bucketCommandsOpen)
		cmds := tx.Bucket(bucketCommands)
		for _, id := range due {
			var c Command
			ok, err := getJSON(cmds, id, &c)
			if err != nil || !ok || !c.Open() {
				// Stale or unreadable open entry: nothing to expire.
				if err := open.Delete([]byte(id)); err != nil {
					return err
				}
				continue
			}
			if now.Before(c.ExpiresAt) {
				continue
			}
			t := now.UTC()
			c.Status = CommandExpired
			c.FinishedAt = &t
			c.Error = "not answered before it expired"
			if c.DeliveredAt == nil {
				c.Error = "not delivered before it expired (screen offline)"
			}
			if err := putJSON(cmds, id, c); err != nil {
				return err
			}
			if err := open.Delete([]byte(id)); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// ScreensInGroup returns the ids of the screens in group id or in any group
// nested under it, ordered by id.
func (s *Store) ScreensInGroup(id string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		if !exists(tx, bucketGroups, id) {
			return NotFoundError{Kind: "group", ID: id}
		}
		groups, err := listJSON[playlists.Group](tx, bucketGroups)
		if err != nil {
			return err
		}
		parent := make(map[string]string, len(groups))
		for _, g := range groups {
			parent[g.ID] = g.Parent
		}
		screens, err := listJSON[screenRecord](tx, bucketScreens)
		if err != nil {
			return err
		}
		for _, sc := range screens {
			seen := map[string]bool{}
			for g := sc.Group; g != "" && !seen[g]; g = parent[g] {
				seen[g] = true
				if g == id {
					out = append(out, sc.ID)
					break
				}
			}
		}
		return nil
	})
	return out, err
}

func clipText(s string) string { return textclip.Clip(s, maxCommandText) }
