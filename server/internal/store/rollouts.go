package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketRollouts       = []byte("rollouts")        // id → Rollout
	bucketRolloutScreens = []byte("rollout_screens") // rollout id "/" screen id → RolloutScreen
)

// Roll-out states (Rollout.State): the canary groups first, then the
// rest (Coverage percent of it, up to 100), then done (still offering to
// screens that come online late); superseded once a newer roll-out starts.
const (
	RolloutCanary     = "canary"
	RolloutRest       = "rest"
	RolloutDone       = "done"
	RolloutSuperseded = "superseded"
)

// Rollout is a staged roll-out of one player version. Its states and
// what each offers to whom are the rollouts package's; the store keeps
// the record.
type Rollout struct {
	ID           string    `json:"id"`
	Version      string    `json:"version"`
	Builds       []string  `json:"builds"` // SHA-256 of the builds offered, one per platform
	CanaryGroups []string  `json:"canary_groups"`
	Percent      int       `json:"percent"` // of the other screens, in the first wave after the canaries
	State        string    `json:"state"`
	Coverage     int       `json:"coverage"` // percent of the other screens offered so far
	Paused       bool      `json:"paused"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	UpdatedBy    string    `json:"updated_by,omitempty"`
}

// RolloutScreen is where one screen stands in a roll-out, once it was
// offered the build.
type RolloutScreen struct {
	Rollout      string     `json:"-"`
	Screen       string     `json:"screen"`
	State        string     `json:"state"`
	From         string     `json:"from,omitempty"`     // the version it ran when offered
	Platform     string     `json:"platform,omitempty"` // as the player reported it
	Error        string     `json:"error,omitempty"`
	OfferedAt    time.Time  `json:"offered_at"`
	DownloadedAt *time.Time `json:"downloaded_at,omitempty"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func migrateRollouts(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketPlayerBuilds, bucketRollouts, bucketRolloutScreens} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// CreateRollout stores r with a fresh id after checking that its builds
// and canary groups exist. Every other roll-out not yet ended takes the
// state superseded in the same transaction: one roll-out offers at a time.
func (s *Store) CreateRollout(r Rollout) (Rollout, error) {
	return update(s, func(tx *bolt.Tx) (Rollout, error) {
		for _, sha := range r.Builds {
			if !exists(tx, bucketPlayerBuilds, sha) {
				return r, NotFoundError{Kind: "player build", ID: sha}
			}
		}
		for _, g := range r.CanaryGroups {
			if !exists(tx, bucketGroups, g) {
				return r, NotFoundError{Kind: "group", ID: g}
			}
		}
		b := tx.Bucket(bucketRollouts)
		now := s.now().UTC()
		all, err := listJSON[Rollout](tx, bucketRollouts)
		if err != nil {
			return r, err
		}
		for _, o := range all {
			if o.State == RolloutSuperseded {
				continue
			}
			o.State, o.Paused, o.UpdatedAt, o.UpdatedBy = RolloutSuperseded, false, now, r.CreatedBy
			if err := putJSON(b, o.ID, o); err != nil {
				return r, err
			}
		}
		r.ID = freshID(b, "ro")
		r.CreatedAt, r.UpdatedAt = now, now
		return r, putJSON(b, r.ID, r)
	})
}

// UpdateRollout changes roll-out id with f in one transaction.
func (s *Store) UpdateRollout(id string, f func(*Rollout) error) (Rollout, error) {
	return update(s, func(tx *bolt.Tx) (Rollout, error) {
		b := tx.Bucket(bucketRollouts)
		var r Rollout
		ok, err := getJSON(b, id, &r)
		if err != nil {
			return r, err
		}
		if !ok {
			return r, NotFoundError{Kind: "roll-out", ID: id}
		}
		if err := f(&r); err != nil {
			return r, err
		}
		r.UpdatedAt = s.now().UTC()
		return r, putJSON(b, id, r)
	})
}

// GetRollout returns roll-out id.
func (s *Store) GetRollout(id string) (Rollout, error) {
	return get[Rollout](s, bucketRollouts, "roll-out", id)
}

// ListRollouts returns every roll-out, newest first.
func (s *Store) ListRollouts() ([]Rollout, error) {
	all, err := list[Rollout](s, bucketRollouts)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b Rollout) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return all, nil
}

func rolloutScreenKey(rollout, screen string) []byte { return []byte(rollout + "/" + screen) }

// ListRolloutScreens returns the screens offered roll-out id, by screen id.
func (s *Store) ListRolloutScreens(id string) ([]RolloutScreen, error) {
	var out []RolloutScreen
	prefix := []byte(id + "/")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRolloutScreens).Cursor()
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
			var p RolloutScreen
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode roll-out screen %q: %w", k, err)
			}
			p.Rollout = id
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// PutRolloutScreens saves where screens stand, in one transaction.
func (s *Store) PutRolloutScreens(batch []RolloutScreen) error {
	if len(batch) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRolloutScreens)
		for _, p := range batch {
			if p.Rollout == "" || p.Screen == "" {
				return fmt.Errorf("put roll-out screen: rollout and screen are required")
			}
			if err := putJSON(b, string(rolloutScreenKey(p.Rollout, p.Screen)), p); err != nil {
				return err
			}
		}
		return nil
	})
}
