package store

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// bucketUrgent holds urgent notices by id, withdrawn and expired ones
// included for a while so staff can see what went out (UrgentHistory).
var bucketUrgent = []byte("urgent")

// UrgentHistory is how long a notice is kept after it expired or was
// withdrawn. Older ones are pruned when a new notice is created, so the
// bucket stays small without a sweeper.
const UrgentHistory = 30 * 24 * time.Hour

// Urgent notice states, as GET /api/v1/urgent reports them.
const (
	UrgentActive    = "active"
	UrgentExpired   = "expired"
	UrgentWithdrawn = "withdrawn"
)

func migrateUrgent(tx *bolt.Tx) error {
	_, err := tx.CreateBucketIfNotExists(bucketUrgent)
	return err
}

// UrgentNotice is a stored urgent notice: what screens get, plus when and
// whether it was withdrawn.
type UrgentNotice struct {
	playlists.Urgent
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	// SentBy and WithdrawnBy name the people: urgent notices skip review,
	// so the page shows who sent each one.
	SentBy      string `json:"sent_by,omitempty"`
	WithdrawnBy string `json:"withdrawn_by,omitempty"`
}

// Status says whether n is in force at now.
func (n UrgentNotice) Status(now time.Time) string {
	switch {
	case n.WithdrawnAt != nil:
		return UrgentWithdrawn
	case !n.Active(now):
		return UrgentExpired
	}
	return UrgentActive
}

// endedAt is when the notice stopped being in force (or will).
func (n UrgentNotice) endedAt() time.Time {
	if n.WithdrawnAt != nil && n.WithdrawnAt.Before(n.ExpiresAt) {
		return *n.WithdrawnAt
	}
	return n.ExpiresAt
}

// CreateUrgent validates u against the store's clock, checks that the
// groups, screens and asset it names exist, and stores it under a new id.
func (s *Store) CreateUrgent(u playlists.Urgent) (UrgentNotice, error) {
	return s.SendUrgent(u, "")
}

// SendUrgent is CreateUrgent naming who sent the notice.
func (s *Store) SendUrgent(u playlists.Urgent, by string) (UrgentNotice, error) {
	now := s.now()
	if err := u.Validate(now); err != nil {
		return UrgentNotice{}, err
	}
	n := UrgentNotice{Urgent: u, SentBy: by}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := checkTargetRefs(tx, u.Target); err != nil {
			return err
		}
		if u.Asset != "" && !exists(tx, bucketAssets, u.Asset) {
			return playlists.FieldError{Field: "asset", Problem: fmt.Sprintf("asset %s has not been uploaded", u.Asset)}
		}
		b := tx.Bucket(bucketUrgent)
		if err := pruneUrgent(b, now); err != nil {
			return err
		}
		n.ID = freshID(b, "urg")
		n.CreatedAt = now.UTC()
		n.ExpiresAt = n.ExpiresAt.UTC()
		noteCatalog(tx)
		return putJSON(b, n.ID, n)
	})
	if err != nil {
		return UrgentNotice{}, err
	}
	return n, nil
}

// checkTargetRefs checks that the groups and screens a target names exist
// and that its tags are well-formed, naming the offending field.
func checkTargetRefs(tx *bolt.Tx, t playlists.Target) error {
	for i, g := range t.Groups {
		if !exists(tx, bucketGroups, g) {
			return playlists.FieldError{Field: fmt.Sprintf("target.groups[%d]", i), Problem: fmt.Sprintf("group %q does not exist", g)}
		}
	}
	for i, id := range t.Screens {
		if !exists(tx, bucketScreens, id) {
			return playlists.FieldError{Field: fmt.Sprintf("target.screens[%d]", i), Problem: fmt.Sprintf("screen %q does not exist", id)}
		}
	}
	for i, tag := range t.Tags {
		if err := checkTag(tag); err != nil {
			return playlists.FieldError{Field: fmt.Sprintf("target.tags[%d]", i), Problem: err.Error()}
		}
	}
	return nil
}

// pruneUrgent drops notices that ended more than UrgentHistory ago.
func pruneUrgent(b *bolt.Bucket, now time.Time) error {
	var old [][]byte
	err := b.ForEach(func(k, raw []byte) error {
		var n UrgentNotice
		if ok, err := getJSON(b, string(k), &n); err != nil || !ok {
			return err
		}
		if now.Sub(n.endedAt()) > UrgentHistory {
			old = append(old, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// GetUrgent returns notice id.
func (s *Store) GetUrgent(id string) (UrgentNotice, error) {
	return get[UrgentNotice](s, bucketUrgent, "urgent notice", id)
}

// ListUrgent returns the notices in force and those that ended after since,
// newest first.
func (s *Store) ListUrgent(since time.Time) ([]UrgentNotice, error) {
	all, err := list[UrgentNotice](s, bucketUrgent)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(all, func(n UrgentNotice) bool { return n.endedAt().Before(since) })
	slices.SortFunc(out, func(a, b UrgentNotice) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// WithdrawUrgent takes notice id off every screen. Withdrawing a notice
// that already ended changes nothing, so a retried request is harmless.
func (s *Store) WithdrawUrgent(id string) (UrgentNotice, error) {
	return s.WithdrawUrgentBy(id, "")
}

// WithdrawUrgentBy is WithdrawUrgent naming who withdrew the notice.
func (s *Store) WithdrawUrgentBy(id, by string) (UrgentNotice, error) {
	var n UrgentNotice
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUrgent)
		ok, err := getJSON(b, id, &n)
		if err != nil {
			return err
		}
		if !ok {
			return NotFoundError{Kind: "urgent notice", ID: id}
		}
		if n.WithdrawnAt != nil {
			return nil
		}
		now := s.now().UTC()
		n.WithdrawnAt = &now
		n.WithdrawnBy = by
		noteCatalog(tx)
		return putJSON(b, id, n)
	})
	return n, err
}

// activeUrgent returns the notices in force at now, for publishing.
func activeUrgent(tx *bolt.Tx, now time.Time) ([]playlists.Urgent, error) {
	all, err := listJSON[UrgentNotice](tx, bucketUrgent)
	if err != nil {
		return nil, err
	}
	var out []playlists.Urgent
	for _, n := range all {
		if n.Status(now) == UrgentActive {
			out = append(out, n.Urgent)
		}
	}
	return out, nil
}
