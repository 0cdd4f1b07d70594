package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// Session is a signed-in browser. The cookie carries a random id; only its
// hash is stored, so a copy of the data file signs nobody in.
type Session struct {
	Hash      string    `json:"hash"`
	UserID    string    `json:"user_id"`
	CSRF      string    `json:"csrf"` // sent back by the page on every change
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// PutSession stores (or refreshes) a session.
func (s *Store) PutSession(se Session) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSessions), se.Hash, se)
	})
}

// GetSession returns the session with id hash hash.
func (s *Store) GetSession(hash string) (Session, error) {
	return get[Session](s, bucketSessions, "session", hash)
}

// TouchSession records activity on a session, if it still exists.
func (s *Store) TouchSession(hash string, at time.Time) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var se Session
		ok, err := getJSON(b, hash, &se)
		if err != nil || !ok {
			return err
		}
		se.LastSeen = at
		return putJSON(b, hash, se)
	})
}

// DeleteSession signs one session out.
func (s *Store) DeleteSession(hash string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete([]byte(hash))
	})
}

// DeleteSessions removes every session for which drop is true and returns
// their hashes: all of a disabled user's, or the expired ones.
func (s *Store) DeleteSessions(drop func(Session) bool) ([]string, error) {
	var gone []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		gone = gone[:0]
		b := tx.Bucket(bucketSessions)
		sessions, err := listJSON[Session](tx, bucketSessions)
		if err != nil {
			return err
		}
		for _, se := range sessions {
			if drop(se) {
				if err := b.Delete([]byte(se.Hash)); err != nil {
					return err
				}
				gone = append(gone, se.Hash)
			}
		}
		return nil
	})
	return gone, err
}

// ListSessions returns every stored session.
func (s *Store) ListSessions() ([]Session, error) { return list[Session](s, bucketSessions) }

// APIToken is a personal token for scripts: it acts as its owner, with the
// owner's role or less. Only its hash is stored; the token is shown once.
type APIToken struct {
	ID        string    `json:"id"`
	Hash      string    `json:"-"`
	UserID    string    `json:"user_id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

// apiTokenRecord is what is stored: the token with its hash, which the
// API view leaves out.
type apiTokenRecord struct {
	APIToken
	Hash string `json:"hash"`
}

// CreateAPIToken stores t (Hash set by the caller) under a new id.
func (s *Store) CreateAPIToken(t APIToken) (APIToken, error) {
	return update(s, func(tx *bolt.Tx) (APIToken, error) {
		if !exists(tx, bucketUsers, t.UserID) {
			return APIToken{}, NotFoundError{Kind: "user", ID: t.UserID}
		}
		b := tx.Bucket(bucketAPITokens)
		t.ID = newID("tok")
		t.CreatedAt = s.now().UTC()
		return t, putJSON(b, t.Hash, apiTokenRecord{APIToken: t, Hash: t.Hash})
	})
}

// LookupAPIToken finds the token with hash hash.
func (s *Store) LookupAPIToken(hash string) (APIToken, error) {
	rec, err := get[apiTokenRecord](s, bucketAPITokens, "token", hash)
	rec.APIToken.Hash = rec.Hash
	return rec.APIToken, err
}

// ListAPITokens returns the tokens of user (every user's when empty).
func (s *Store) ListAPITokens(user string) ([]APIToken, error) {
	recs, err := list[apiTokenRecord](s, bucketAPITokens)
	if err != nil {
		return nil, err
	}
	out := []APIToken{}
	for _, r := range recs {
		if user == "" || r.UserID == user {
			r.APIToken.Hash = r.Hash
			out = append(out, r.APIToken)
		}
	}
	return out, nil
}

// DeleteAPIToken revokes token id of user.
func (s *Store) DeleteAPIToken(user, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		recs, err := listJSON[apiTokenRecord](tx, bucketAPITokens)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.ID == id && r.UserID == user {
				return tx.Bucket(bucketAPITokens).Delete([]byte(r.Hash))
			}
		}
		return NotFoundError{Kind: "token", ID: id}
	})
}

// TouchAPIToken records a use of the token with hash hash.
func (s *Store) TouchAPIToken(hash string, at time.Time) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPITokens)
		var rec apiTokenRecord
		ok, err := getJSON(b, hash, &rec)
		if err != nil || !ok {
			return err
		}
		rec.LastUsed = at
		return putJSON(b, hash, rec)
	})
}
