package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Change set states. A set is open while its author drafts into it,
// submitted once handed to review, and then approved (published), rejected
// (with a comment) or discarded by its author.
const (
	ChangeSetOpen      = "open"
	ChangeSetSubmitted = "submitted"
	ChangeSetApproved  = "approved"
	ChangeSetRejected  = "rejected"
	ChangeSetDiscarded = "discarded"
)

// ChangeSetStates lists every state, for validating filters.
var ChangeSetStates = []string{ChangeSetOpen, ChangeSetSubmitted, ChangeSetApproved, ChangeSetRejected, ChangeSetDiscarded}

// Op actions and kinds.
const (
	OpCreate     = "create"
	OpUpdate     = "update"
	OpDelete     = "delete"
	OpSetDefault = "set_default" // a screen's or group's default playlist

	KindItem     = "item"
	KindPlaylist = "playlist"
	KindSchedule = "schedule"
	KindScreen   = "screen"
	KindGroup    = "group"
)

// Op is one drafted content change. Exactly one payload field is set,
// matching Kind (none for a delete).
type Op struct {
	Action   string              `json:"action"`
	Kind     string              `json:"kind"`
	ID       string              `json:"id"`
	Item     *playlists.Item     `json:"item,omitempty"`
	Playlist *playlists.Playlist `json:"playlist,omitempty"`
	Schedule *playlists.Schedule `json:"schedule,omitempty"`
	// DefaultPlaylist is the new default playlist of a screen or group
	// (empty: none) for OpSetDefault.
	DefaultPlaylist *string `json:"default_playlist,omitempty"`

	// Base fingerprints the published object when the change set first
	// touched it ("" when it did not exist). Approval refuses the set when
	// the published object no longer matches: someone else changed it
	// meanwhile and this change was drafted against an older state.
	// Later ops on the same object in the same set carry no base (Checked
	// false): they build on the set's own earlier op.
	Base    string    `json:"base"`
	Checked bool      `json:"checked"`
	At      time.Time `json:"at"`
}

// Key names the object the op changes.
func (o Op) Key() string { return o.Kind + ":" + o.ID }

// ChangeSet is a unit of review: content changes drafted together,
// submitted together and published atomically.
type ChangeSet struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	State         string    `json:"state"`
	Author        string    `json:"author"` // user id
	AuthorName    string    `json:"author_name"`
	Ops           []Op      `json:"ops"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	SubmittedAt   time.Time `json:"submitted_at,omitzero"`
	DecidedAt     time.Time `json:"decided_at,omitzero"`
	DecidedBy     string    `json:"decided_by,omitempty"`
	DecidedByName string    `json:"decided_by_name,omitempty"`
	Comment       string    `json:"comment,omitempty"`
}

// Actor names the person behind a change-set step.
type Actor struct {
	ID   string
	Name string
}

// MaxChangeSetOps bounds one change set; review of more than this many
// changes at once is not review.
const MaxChangeSetOps = 500

// MaxCommentRunes bounds a reviewer's comment and a set's title.
const MaxCommentRunes = 2000

// SelfApprovalError refuses an author approving their own change set: the
// two-person rule holds whatever the author's role.
type SelfApprovalError struct{ ID string }

func (e SelfApprovalError) Error() string {
	return fmt.Sprintf("change set %s is your own: another reviewer must approve it (two-person rule)", e.ID)
}

// StateError refuses a step the change set's state does not allow.
type StateError struct {
	ID, State, Want string
}

func (e StateError) Error() string {
	return fmt.Sprintf("change set %s is %s; %s", e.ID, e.State, e.Want)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e StateError) Is(target error) bool { return target == ErrConflict }

// StaleError says a change set no longer applies to the published state.
type StaleError struct {
	ID       string
	Problems []string
}

func (e StaleError) Error() string {
	return fmt.Sprintf("change set %s no longer applies: %s", e.ID, strings.Join(e.Problems, "; "))
}

// Is makes errors.Is(err, ErrConflict) true.
func (e StaleError) Is(target error) bool { return target == ErrConflict }

// errRollback ends a transaction that only tried something out.
var errRollback = errors.New("rollback")

// Apply performs op on the published state at once (break-glass, or review
// turned off) and returns the stored object (nil for a delete).
func (s *Store) Apply(op Op) (any, error) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	return update(s, func(tx *bolt.Tx) (any, error) {
		return s.applyOp(tx, &op)
	})
}

// Draft records op in author's open change set (creating one) after
// checking that the set plus op applies to the published state. It returns
// the set and the object as it would be stored (nil for a delete).
func (s *Store) Draft(author Actor, op Op) (ChangeSet, any, error) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()

	var result any
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if result, err = s.draftCheck(tx, author, &op); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return ChangeSet{}, nil, err
	}

	var cs ChangeSet
	err = s.db.Update(func(tx *bolt.Tx) error {
		var err error
		cs, err = s.draftSave(tx, author, op)
		return err
	})
	if err != nil {
		return ChangeSet{}, nil, err
	}
	return cs, result, nil
}

var beijing = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// openChangeSet finds author's open change set; a zero ChangeSet when none.
func openChangeSet(tx *bolt.Tx, author string) (ChangeSet, error) {
	var found ChangeSet
	err := tx.Bucket(bucketChangeSets).ForEach(func(k, v []byte) error {
		var cs ChangeSet
		if err := json.Unmarshal(v, &cs); err != nil {
			return fmt.Errorf("decode change set %q: %w", k, err)
		}
		if cs.Author == author && cs.State == ChangeSetOpen {
			found = cs
		}
		return nil
	})
	return found, err
}

// OpenChangeSet returns author's open change set, or ErrNotFound.
func (s *Store) OpenChangeSet(author string) (ChangeSet, error) {
	var cs ChangeSet
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		cs, err = openChangeSet(tx, author)
		return err
	})
	if err == nil && cs.ID == "" {
		err = NotFoundError{Kind: "open change set of", ID: author}
	}
	return cs, err
}

// GetChangeSet returns change set id.
func (s *Store) GetChangeSet(id string) (ChangeSet, error) {
	return get[ChangeSet](s, bucketChangeSets, "change set", id)
}

// ListChangeSets returns change sets in state (all when empty) and by
// author (all when empty), newest first.
func (s *Store) ListChangeSets(state, author string) ([]ChangeSet, error) {
	all, err := list[ChangeSet](s, bucketChangeSets)
	if err != nil {
		return nil, err
	}
	out := []ChangeSet{}
	for _, cs := range all {
		if (state == "" || cs.State == state) && (author == "" || cs.Author == author) {
			out = append(out, cs)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].UpdatedAt.After(out[j].UpdatedAt) })
	return out, nil
}

// modifyChangeSet runs fn on change set id inside one transaction.
func (s *Store) modifyChangeSet(id string, fn func(tx *bolt.Tx, cs *ChangeSet) error) (ChangeSet, error) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	return update(s, func(tx *bolt.Tx) (ChangeSet, error) {
		b := tx.Bucket(bucketChangeSets)
		var cs ChangeSet
		ok, err := getJSON(b, id, &cs)
		if err != nil {
			return ChangeSet{}, err
		}
		if !ok {
			return ChangeSet{}, NotFoundError{Kind: "change set", ID: id}
		}
		if err := fn(tx, &cs); err != nil {
			return ChangeSet{}, err
		}
		cs.UpdatedAt = s.now().UTC()
		return cs, putJSON(b, id, cs)
	})
}

// RenameChangeSet sets the title of an open or submitted change set.
func (s *Store) RenameChangeSet(id, title string) (ChangeSet, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return ChangeSet{}, playlists.FieldError{Field: "title", Problem: "is required"}
	}
	if n := len([]rune(title)); n > playlists.MaxNameRunes {
		return ChangeSet{}, playlists.FieldError{Field: "title", Problem: fmt.Sprintf("is %d characters, at most %d allowed", n, playlists.MaxNameRunes)}
	}
	return s.modifyChangeSet(id, func(_ *bolt.Tx, cs *ChangeSet) error {
		if cs.State != ChangeSetOpen && cs.State != ChangeSetSubmitted {
			return StateError{ID: id, State: cs.State, Want: "only an open or submitted change set can be renamed"}
		}
		cs.Title = title
		return nil
	})
}

// SubmitChangeSet hands an open change set to review. Changes drafted
// afterwards start a new set.
func (s *Store) SubmitChangeSet(id string) (ChangeSet, error) {
	return s.modifyChangeSet(id, func(_ *bolt.Tx, cs *ChangeSet) error {
		if cs.State != ChangeSetOpen {
			return StateError{ID: id, State: cs.State, Want: "only an open change set can be submitted"}
		}
		if len(cs.Ops) == 0 {
			return ConflictError{Msg: fmt.Sprintf("change set %s is empty; there is nothing to review", id)}
		}
		cs.State = ChangeSetSubmitted
		cs.SubmittedAt = s.now().UTC()
		return nil
	})
}

// DiscardChangeSet drops an open or submitted change set; nothing of it
// was ever published.
func (s *Store) DiscardChangeSet(id string) (ChangeSet, error) {
	return s.modifyChangeSet(id, func(_ *bolt.Tx, cs *ChangeSet) error {
		if cs.State != ChangeSetOpen && cs.State != ChangeSetSubmitted {
			return StateError{ID: id, State: cs.State, Want: "only an open or submitted change set can be discarded"}
		}
		cs.State = ChangeSetDiscarded
		cs.DecidedAt = s.now().UTC()
		return nil
	})
}

// RejectChangeSet sends a submitted change set back with a comment.
func (s *Store) RejectChangeSet(id string, reviewer Actor, comment string) (ChangeSet, error) {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return ChangeSet{}, playlists.FieldError{Field: "comment", Problem: "is required: tell the author what to change"}
	}
	if n := len([]rune(comment)); n > MaxCommentRunes {
		return ChangeSet{}, playlists.FieldError{Field: "comment", Problem: fmt.Sprintf("is %d characters, at most %d allowed", n, MaxCommentRunes)}
	}
	return s.modifyChangeSet(id, func(_ *bolt.Tx, cs *ChangeSet) error {
		if cs.Author == reviewer.ID {
			return SelfApprovalError{ID: id}
		}
		if cs.State != ChangeSetSubmitted {
			return StateError{ID: id, State: cs.State, Want: "only a submitted change set can be rejected"}
		}
		cs.State = ChangeSetRejected
		cs.DecidedAt = s.now().UTC()
		cs.DecidedBy, cs.DecidedByName, cs.Comment = reviewer.ID, reviewer.Name, comment
		return nil
	})
}

// ApproveChangeSet publishes a submitted change set atomically: every
// change or none. It refuses when the reviewer is the author, and when the
// published state moved under the set since it was drafted.
func (s *Store) ApproveChangeSet(id string, reviewer Actor, comment string) (ChangeSet, error) {
	if n := len([]rune(comment)); n > MaxCommentRunes {
		return ChangeSet{}, playlists.FieldError{Field: "comment", Problem: fmt.Sprintf("is %d characters, at most %d allowed", n, MaxCommentRunes)}
	}
	return s.modifyChangeSet(id, func(tx *bolt.Tx, cs *ChangeSet) error {
		if cs.Author == reviewer.ID {
			return SelfApprovalError{ID: id}
		}
		if cs.State != ChangeSetSubmitted {
			return StateError{ID: id, State: cs.State, Want: "only a submitted change set can be approved"}
		}
		if problems := s.replay(tx, cs); len(problems) > 0 {
			return StaleError{ID: id, Problems: problems}
		}
		cs.State = ChangeSetApproved
		cs.DecidedAt = s.now().UTC()
		cs.DecidedBy, cs.DecidedByName, cs.Comment = reviewer.ID, reviewer.Name, strings.TrimSpace(comment)
		return nil
	})
}

// replay checks every base of cs against tx's state, then applies its
// ops in order, and returns what stood in the way (nothing: it applied).
func (s *Store) replay(tx *bolt.Tx, cs *ChangeSet) []string {
	var problems []string
	for _, op := range cs.Ops {
		if !op.Checked {
			continue
		}
		cur, err := baseOf(tx, op)
		if err != nil {
			problems = append(problems, err.Error())
		} else if cur != op.Base {
			problems = append(problems, staleReason(op, cur))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	for i := range cs.Ops {
		if _, err := s.applyOp(tx, &cs.Ops[i]); err != nil {
			return []string{err.Error()}
		}
	}
	return nil
}

func staleReason(op Op, cur string) string {
	switch {
	case op.Base == "" && cur != "":
		return fmt.Sprintf("%s %s was created meanwhile by someone else", op.Kind, op.ID)
	case cur == "":
		return fmt.Sprintf("%s %s was deleted after this change was drafted", op.Kind, op.ID)
	case op.Action == OpSetDefault:
		return fmt.Sprintf("the default playlist of %s %s was changed after this change was drafted", op.Kind, op.ID)
	default:
		return fmt.Sprintf("%s %s was changed after this change was drafted", op.Kind, op.ID)
	}
}

// Preview is a change set laid over the published state, for review.
type Preview struct {
	Published Snapshot
	Draft     Snapshot          // zero when the set does not apply
	Conflicts []string          // non-empty: approval would fail
	Before    map[string]any    // op key → published object (absent: did not exist)
	After     map[string]any    // op key → object after the whole set (absent: deleted)
	Labels    map[string]string // op key → a readable name
}

// PreviewChangeSet computes what approving cs would publish, without
// publishing anything: the set is applied in a transaction that is rolled
// back.
func (s *Store) PreviewChangeSet(cs ChangeSet) (Preview, error) {
	pv := Preview{Before: map[string]any{}, After: map[string]any{}, Labels: map[string]string{}}
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if pv.Published, err = s.snapshotTx(tx); err != nil {
			return err
		}
		for _, op := range cs.Ops {
			if v, ok, err := readObject(tx, op); err != nil {
				return err
			} else if ok {
				if _, seen := pv.Before[op.Key()]; !seen {
					pv.Before[op.Key()] = v
				}
			}
		}
		pv.Conflicts = s.replay(tx, &cs)
		if len(pv.Conflicts) == 0 {
			if pv.Draft, err = s.snapshotTx(tx); err != nil {
				return err
			}
		}
		for _, op := range cs.Ops {
			v, ok, err := readObject(tx, op)
			if err != nil {
				return err
			}
			if ok {
				pv.After[op.Key()] = v
			}
			pv.Labels[op.Key()] = objectLabel(op, pv.Before[op.Key()], v)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return Preview{}, err
	}
	return pv, nil
}

func objectLabel(op Op, before, after any) string {
	for _, v := range []any{after, before} {
		switch o := v.(type) {
		case playlists.Item:
			return o.Title
		case playlists.Playlist:
			return o.Name
		case playlists.Schedule:
			if o.Name != "" {
				return o.Name
			}
		case Screen:
			return o.Name
		case playlists.Group:
			return o.Name
		}
	}
	return op.ID
}

var idPrefix = map[string]string{KindItem: "itm", KindPlaylist: "pl", KindSchedule: "sch"}

func opBucket(kind string) []byte {
	switch kind {
	case KindItem:
		return bucketItems
	case KindPlaylist:
		return bucketPlaylists
	case KindSchedule:
		return bucketSchedules
	case KindScreen:
		return bucketScreens
	case KindGroup:
		return bucketGroups
	}
	panic("store: unknown op kind " + kind)
}

// Published returns the published object op would change, if it exists,
// for the audit trail's "before".
func (s *Store) Published(op Op) (any, bool, error) {
	if err := checkOpShape(op); err != nil || op.ID == "" {
		return nil, false, err
	}
	var v any
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		v, ok, err = readObject(tx, op)
		return err
	})
	return v, ok, err
}

// readObject reads the object op changes, as it is in tx.
func readObject(tx *bolt.Tx, op Op) (any, bool, error) {
	b := tx.Bucket(opBucket(op.Kind))
	switch op.Kind {
	case KindItem:
		var v playlists.Item
		ok, err := getJSON(b, op.ID, &v)
		return v, ok, err
	case KindPlaylist:
		var v playlists.Playlist
		ok, err := getJSON(b, op.ID, &v)
		return v, ok, err
	case KindSchedule:
		var v playlists.Schedule
		ok, err := getJSON(b, op.ID, &v)
		return v, ok, err
	case KindScreen:
		var v screenRecord
		ok, err := getJSON(b, op.ID, &v)
		return v.Screen, ok, err
	default:
		var v playlists.Group
		ok, err := getJSON(b, op.ID, &v)
		return v, ok, err
	}
}

// baseOf fingerprints what op would change as it stands in tx: the stored
// bytes of an item, playlist or schedule ("" when absent), or the default
// playlist of a screen or group.
func baseOf(tx *bolt.Tx, op Op) (string, error) {
	if err := checkOpShape(op); err != nil {
		return "", err
	}
	if op.Action == OpSetDefault {
		v, ok, err := readObject(tx, op)
		if err != nil || !ok {
			return "", err
		}
		switch o := v.(type) {
		case Screen:
			return "default:" + o.DefaultPlaylist, nil
		case playlists.Group:
			return "default:" + o.DefaultPlaylist, nil
		}
	}
	if op.ID == "" {
		return "", nil
	}
	raw := tx.Bucket(opBucket(op.Kind)).Get([]byte(op.ID))
	if raw == nil {
		return "", nil
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

func checkOpShape(op Op) error {
	switch op.Kind {
	case KindItem, KindPlaylist, KindSchedule:
		if op.Action != OpCreate && op.Action != OpUpdate && op.Action != OpDelete {
			return fmt.Errorf("store: op %s on %s", op.Action, op.Kind)
		}
	case KindScreen, KindGroup:
		if op.Action != OpSetDefault {
			return fmt.Errorf("store: op %s on %s", op.Action, op.Kind)
		}
	default:
		return fmt.Errorf("store: unknown op kind %q", op.Kind)
	}
	return nil
}

// applyOp performs op in tx and returns the stored object (nil for a
// delete). Timestamps are the transaction's own, so an approved change
// carries the time it went public.
func (s *Store) applyOp(tx *bolt.Tx, op *Op) (any, error) {
	if err := checkOpShape(*op); err != nil {
		return nil, err
	}
	switch op.Kind + "/" + op.Action {
	case "item/create":
		it, err := s.createItem(tx, op.ID, *op.Item)
		op.ID = it.ID
		return it, err
	case "item/update":
		return s.updateItem(tx, op.ID, *op.Item)
	case "item/delete":
		return nil, deleteItem(tx, op.ID)
	case "playlist/create":
		p, err := s.createPlaylist(tx, op.ID, *op.Playlist)
		op.ID = p.ID
		return p, err
	case "playlist/update":
		return s.updatePlaylist(tx, op.ID, *op.Playlist)
	case "playlist/delete":
		return nil, deletePlaylist(tx, op.ID)
	case "schedule/create":
		sc, err := s.createSchedule(tx, op.ID, *op.Schedule)
		op.ID = sc.ID
		return sc, err
	case "schedule/update":
		return s.updateSchedule(tx, op.ID, *op.Schedule)
	case "schedule/delete":
		return nil, deleteSchedule(tx, op.ID)
	case "screen/set_default":
		return s.setScreenDefault(tx, op.ID, *op.DefaultPlaylist)
	case "group/set_default":
		return s.setGroupDefault(tx, op.ID, *op.DefaultPlaylist)
	}
	return nil, fmt.Errorf("store: op %s on %s has no payload", op.Action, op.Kind)
}

func (s *Store) setScreenDefault(tx *bolt.Tx, id, playlist string) (Screen, error) {
	b := tx.Bucket(bucketScreens)
	rec, err := screenRecordIn(b, id)
	if err != nil {
		return Screen{}, err
	}
	if err := checkDefaultPlaylist(tx, playlist); err != nil {
		return Screen{}, err
	}
	rec.DefaultPlaylist = playlist
	rec.UpdatedAt = s.now().UTC()
	noteScreen(tx, id, &rec.Screen)
	return rec.Screen, putJSON(b, id, rec)
}

func (s *Store) setGroupDefault(tx *bolt.Tx, id, playlist string) (playlists.Group, error) {
	b := tx.Bucket(bucketGroups)
	var g playlists.Group
	ok, err := getJSON(b, id, &g)
	if err != nil {
		return playlists.Group{}, err
	}
	if !ok {
		return playlists.Group{}, NotFoundError{Kind: "group", ID: id}
	}
	if err := checkDefaultPlaylist(tx, playlist); err != nil {
		return playlists.Group{}, err
	}
	g.DefaultPlaylist = playlist
	g.UpdatedAt = s.now().UTC()
	noteGroup(tx, id, &g)
	return g, putJSON(b, id, g)
}
