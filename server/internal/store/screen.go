package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Screen is one display and the player behind it.
type Screen struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Group    string   `json:"group,omitempty"`
	Tags     []string `json:"tags"`
	Timezone string   `json:"timezone,omitempty"` // empty: the group chain's, else the default
	// DefaultPlaylist fills every gap in the schedule on this screen; empty:
	// the nearest group's up the chain, if any.
	DefaultPlaylist string `json:"default_playlist,omitempty"`
	// Orientation is how the panel is mounted: landscape or portrait;
	// empty: not said.
	Orientation string `json:"orientation,omitempty"`
	// Layout frames what the screen shows (playlists/layout.go); empty:
	// the nearest group's up the chain, else full screen.
	Layout string `json:"layout,omitempty"`
	// Device is the player paired to this screen by code; nil when the
	// screen was set up with a token (pairing.go).
	Device    *PairedDevice `json:"device,omitempty"`
	CreatedAt time.Time     `json:"created_at,omitzero"`
	UpdatedAt time.Time     `json:"updated_at,omitzero"`
}

// screenRecord is what is stored: the screen plus the hash of its device
// token. The token itself is never stored; it is shown once on creation.
type screenRecord struct {
	Screen
	TokenHash string `json:"token_hash"`
}

// HashToken is how device tokens are stored and looked up. Tokens carry
// 256 random bits, so a plain SHA-256 (no salt, no stretching) cannot be
// reversed and allows a direct index lookup.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newToken returns a fresh device token.
func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("store: random token: %v", err))
	}
	return "kdt_" + base64.RawURLEncoding.EncodeToString(b[:])
}

const maxTagRunes = 64

func checkTag(tag string) error {
	if strings.TrimSpace(tag) == "" {
		return fmt.Errorf("is empty")
	}
	if utf8.RuneCountInString(tag) > maxTagRunes {
		return fmt.Errorf("is longer than %d characters", maxTagRunes)
	}
	return nil
}

func validateScreen(sc *Screen) error {
	if strings.TrimSpace(sc.Name) == "" {
		return playlists.FieldError{Field: "name", Problem: "is required"}
	}
	if n := utf8.RuneCountInString(sc.Name); n > playlists.MaxNameRunes {
		return playlists.FieldError{Field: "name", Problem: fmt.Sprintf("is %d characters, at most %d allowed", n, playlists.MaxNameRunes)}
	}
	for i, tag := range sc.Tags {
		if err := checkTag(tag); err != nil {
			return playlists.FieldError{Field: fmt.Sprintf("tags[%d]", i), Problem: err.Error()}
		}
	}
	tags := slices.Clone(sc.Tags)
	slices.Sort(tags)
	sc.Tags = slices.Compact(tags)
	if sc.Tags == nil {
		sc.Tags = []string{}
	}
	if err := checkOrientation(sc.Orientation); err != nil {
		return err
	}
	if err := playlists.CheckLayout(sc.Layout); err != nil {
		return err
	}
	return checkTimezone(sc.Timezone)
}

func checkScreenGroup(tx *bolt.Tx, group string) error {
	if group != "" && !exists(tx, bucketGroups, group) {
		return playlists.FieldError{Field: "group", Problem: fmt.Sprintf("group %q does not exist", group)}
	}
	return nil
}

// CreateScreen stores sc under a new id with a fresh device token, which is
// returned here and nowhere else.
func (s *Store) CreateScreen(sc Screen) (Screen, string, error) {
	if err := validateScreen(&sc); err != nil {
		return Screen{}, "", err
	}
	token := newToken()
	err := s.db.Update(func(tx *bolt.Tx) error { return s.createScreen(tx, &sc, token) })
	if err != nil {
		return Screen{}, "", err
	}
	return sc, token, nil
}

// createScreen stores sc (validated) in tx under a new id, which it sets,
// with token as its device token.
func (s *Store) createScreen(tx *bolt.Tx, sc *Screen, token string) error {
	if err := checkScreenGroup(tx, sc.Group); err != nil {
		return err
	}
	if err := checkDefaultPlaylist(tx, sc.DefaultPlaylist); err != nil {
		return err
	}
	b := tx.Bucket(bucketScreens)
	sc.ID = freshID(b, "scr")
	sc.CreatedAt = s.now().UTC()
	sc.UpdatedAt = sc.CreatedAt
	rec := screenRecord{Screen: *sc, TokenHash: HashToken(token)}
	if err := tx.Bucket(bucketTokens).Put([]byte(rec.TokenHash), []byte(sc.ID)); err != nil {
		return err
	}
	noteScreen(tx, sc.ID, &rec.Screen)
	return putJSON(b, sc.ID, rec)
}

// UpdateScreen replaces the editable fields of screen id; its token stays.
func (s *Store) UpdateScreen(id string, sc Screen) (Screen, error) {
	if err := validateScreen(&sc); err != nil {
		return Screen{}, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error { return s.updateScreen(tx, id, &sc) })
	if err != nil {
		return Screen{}, err
	}
	return sc, nil
}

// updateScreen replaces the editable fields of screen id in tx with sc
// (validated), which it completes as stored.
func (s *Store) updateScreen(tx *bolt.Tx, id string, sc *Screen) error {
	b := tx.Bucket(bucketScreens)
	rec, err := screenRecordIn(b, id)
	if err != nil {
		return err
	}
	if err := checkScreenGroup(tx, sc.Group); err != nil {
		return err
	}
	if err := checkDefaultPlaylist(tx, sc.DefaultPlaylist); err != nil {
		return err
	}
	sc.ID = id
	sc.CreatedAt = rec.CreatedAt
	sc.Device = rec.Device // changes only by pairing
	sc.UpdatedAt = s.now().UTC()
	rec.Screen = *sc
	noteScreen(tx, id, &rec.Screen)
	return putJSON(b, id, rec)
}

// RotateScreenToken gives screen id a new token; the old one stops working.
func (s *Store) RotateScreenToken(id string) (string, error) {
	return s.rotateToken(id, nil)
}

// rotateToken gives screen id a new token and binds it to dev (nil: to
// whoever receives the token, no paired device).
func (s *Store) rotateToken(id string, dev *PairedDevice) (string, error) {
	token := newToken()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketScreens)
		rec, err := screenRecordIn(b, id)
		if err != nil {
			return err
		}
		tokens := tx.Bucket(bucketTokens)
		if err := tokens.Delete([]byte(rec.TokenHash)); err != nil {
			return err
		}
		rec.TokenHash = HashToken(token)
		rec.UpdatedAt = s.now().UTC()
		rec.Device = dev
		if err := tokens.Put([]byte(rec.TokenHash), []byte(id)); err != nil {
			return err
		}
		noteScreen(tx, id, &rec.Screen)
		return putJSON(b, id, rec)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// GetScreen returns screen id, from the in-memory index (memindex.go).
func (s *Store) GetScreen(id string) (Screen, error) {
	sc, ok := s.memScreen(id)
	if !ok {
		return Screen{}, NotFoundError{Kind: "screen", ID: id}
	}
	return sc, nil
}

// ListScreens returns every screen, ordered by id, from the in-memory
// index: the caller gets its own copies.
func (s *Store) ListScreens() ([]Screen, error) {
	return s.memScreens(), nil
}

// ScreenTokens returns token hash → screen id for every screen, so device
// authentication can be a map lookup.
func (s *Store) ScreenTokens() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	return out, err
}

// DeleteScreen removes screen id, its token, its status and its remote
// commands, unless a schedule targets it by id.
func (s *Store) DeleteScreen(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketScreens)
		rec, err := screenRecordIn(b, id)
		if err != nil {
			return err
		}
		users, err := schedulesTargeting(tx, id, func(t playlists.Target) []string { return t.Screens })
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return InUseError{Kind: "screen", ID: id, UsedBy: users}
		}
		if err := tx.Bucket(bucketTokens).Delete([]byte(rec.TokenHash)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketStatus).Delete([]byte(id)); err != nil {
			return err
		}
		if err := deleteScreenCommands(tx, id); err != nil {
			return err
		}
		noteScreen(tx, id, nil)
		return b.Delete([]byte(id))
	})
}

// MaxImportScreens bounds one bulk import: a district's whole spreadsheet,
// in one transaction of bounded size.
const MaxImportScreens = 20000

// ImportError is a bulk import refused because of one row; nothing was
// created. Row counts from 1, as a spreadsheet does (after its header).
type ImportError struct {
	Row int
	Err error
}

func (e ImportError) Error() string { return fmt.Sprintf("row %d: %v", e.Row, e.Err) }
func (e ImportError) Unwrap() error { return e.Err }

// CreateScreens creates every screen of scs in one transaction, each
// with its own new device token, or none of them: the first row that fails
// validation or names a missing group or default playlist refuses the
// whole import (ImportError). Tokens are returned in the same order.
func (s *Store) CreateScreens(scs []Screen) ([]Screen, []string, error) {
	if len(scs) > MaxImportScreens {
		return nil, nil, playlists.FieldError{Field: "screens", Problem: fmt.Sprintf("has %d rows, at most %d per import", len(scs), MaxImportScreens)}
	}
	for i := range scs {
		if err := validateScreen(&scs[i]); err != nil {
			return nil, nil, ImportError{Row: i + 1, Err: err}
		}
	}
	tokens := make([]string, len(scs))
	for i := range tokens {
		tokens[i] = newToken()
	}
	out := make([]Screen, len(scs))
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, toks := tx.Bucket(bucketScreens), tx.Bucket(bucketTokens)
		now := s.now().UTC()
		for i, sc := range scs {
			if err := checkScreenGroup(tx, sc.Group); err != nil {
				return ImportError{Row: i + 1, Err: err}
			}
			if err := checkDefaultPlaylist(tx, sc.DefaultPlaylist); err != nil {
				return ImportError{Row: i + 1, Err: err}
			}
			sc.ID = freshID(b, "scr")
			sc.CreatedAt, sc.UpdatedAt = now, now
			rec := screenRecord{Screen: sc, TokenHash: HashToken(tokens[i])}
			if err := toks.Put([]byte(rec.TokenHash), []byte(sc.ID)); err != nil {
				return err
			}
			noteScreen(tx, sc.ID, &rec.Screen)
			if err := putJSON(b, sc.ID, rec); err != nil {
				return err
			}
			out[i] = sc
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, tokens, nil
}

// screenRecordIn reads screen id's record from b (the screens bucket), or
// says it is not found.
func screenRecordIn(b *bolt.Bucket, id string) (screenRecord, error) {
	var rec screenRecord
	ok, err := getJSON(b, id, &rec)
	if err == nil && !ok {
		err = NotFoundError{Kind: "screen", ID: id}
	}
	return rec, err
}
