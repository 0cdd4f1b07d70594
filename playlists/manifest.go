package playlists

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// AssetRef describes a media file a manifest needs: the player fetches it by
// SHA256 and verifies both the size and the hash before using it.
type AssetRef struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	MIME   string `json:"mime"`
}

// Manifest is everything a screen needs to decide on its own what to play at
// any instant: the schedules that target it, their playlists and items, and
// the assets they show. Screens that are targeted by the same schedules and
// share a time zone share one manifest.
type Manifest struct {
	// Version is the hex SHA-256 of the canonical encoding of the manifest
	// with Version left empty. Equal content means an equal version.
	Version   string     `json:"version"`
	Timezone  string     `json:"timezone"`
	Schedules []Schedule `json:"schedules"`
	Playlists []Playlist `json:"playlists"`
	Items     []Item     `json:"items"`
	Assets    []AssetRef `json:"assets"`
	// DefaultPlaylist fills every gap: Resolve plays it whenever no
	// schedule with content is active. It is the screen's own default, else
	// the nearest group's up the chain; empty when none is set.
	DefaultPlaylist string `json:"default_playlist,omitempty"`
	// Urgent holds the urgent notices that target the screen and had not
	// expired when the manifest was cut; the player drops each at its
	// ExpiresAt by itself (see ActiveUrgent). omitempty keeps the versions
	// of manifests without notices what they were before notices existed.
	Urgent []Urgent `json:"urgent,omitempty"`
	// SafeMode, when set, puts the screen on the neutral slate: the
	// manifest then carries no schedules and no default playlist, and only
	// the urgent notices sent after SafeMode.Since (safemode.go).
	SafeMode *SafeModeState `json:"safe_mode,omitempty"`
	// Layout is the screen's resolved layout (layout.go); omitted for
	// LayoutFull, so manifests of full-screen screens keep the versions they
	// had before layouts existed. Header is the name the header bar shows
	// (the compound), set only with a layout that has a header.
	Layout string `json:"layout,omitempty"`
	Header string `json:"header,omitempty"`
}

// Catalog is the content a manifest is cut from.
type Catalog struct {
	Schedules []Schedule
	Playlists map[string]Playlist
	Items     map[string]Item
	Assets    map[string]AssetRef
	// Urgent are the urgent notices still in force; BuildManifest keeps
	// those that target the screen and have not expired.
	Urgent []Urgent
	// SafeModes are the safe modes in force.
	SafeModes []SafeMode
}

// BuildManifest cuts the manifest for screen s from c at instant now:
// schedules that target s and have not ended, the screen's default playlist
// (s.DefaultPlaylist), the urgent notices that target s and have not
// expired, with the playlists, items and assets they reference. References
// that c lacks are left out rather than failing, so one broken row cannot
// take every screen dark.
func BuildManifest(s ScreenContext, c Catalog, now time.Time) Manifest {
	tz := s.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	m := Manifest{Timezone: tz, Schedules: []Schedule{}, Playlists: []Playlist{}, Items: []Item{}, Assets: []AssetRef{}}
	seenPl := map[string]bool{}
	seenItem := map[string]bool{}
	seenAsset := map[string]bool{}
	addAsset := func(sha string) bool {
		a, ok := c.Assets[sha]
		if !ok {
			return false
		}
		if !seenAsset[a.SHA256] {
			seenAsset[a.SHA256] = true
			m.Assets = append(m.Assets, a)
		}
		return true
	}
	addPlaylist := func(pl Playlist) {
		if seenPl[pl.ID] {
			return
		}
		seenPl[pl.ID] = true
		kept := make([]string, 0, len(pl.Items))
		for _, id := range pl.Items {
			it, ok := c.Items[id]
			if !ok {
				continue
			}
			if it.Asset != "" && !addAsset(it.Asset) {
				continue
			}
			kept = append(kept, id)
			if !seenItem[id] {
				seenItem[id] = true
				it.CreatedAt, it.UpdatedAt = time.Time{}, time.Time{}
				m.Items = append(m.Items, it)
			}
		}
		m.Playlists = append(m.Playlists, Playlist{ID: pl.ID, Name: pl.Name, Items: kept})
	}
	if s.Layout != LayoutInherit && s.Layout != LayoutFull {
		m.Layout, m.Header = s.Layout, s.Header
	}
	safe, inSafeMode := safeModeFor(s, c.SafeModes)
	if inSafeMode {
		m.SafeMode = &safe
	}
	for _, sc := range c.Schedules {
		if inSafeMode || !sc.Target.Matches(s) {
			continue
		}
		if sc.To != nil && !sc.To.After(now) {
			continue
		}
		pl, ok := c.Playlists[sc.Playlist]
		if !ok {
			continue
		}
		m.Schedules = append(m.Schedules, stripSchedule(sc))
		addPlaylist(pl)
	}
	if pl, ok := c.Playlists[s.DefaultPlaylist]; ok && s.DefaultPlaylist != "" && !inSafeMode {
		m.DefaultPlaylist = pl.ID
		addPlaylist(pl)
	}
	for _, u := range c.Urgent {
		if !u.Target.Matches(s) || !u.ExpiresAt.After(now) {
			continue
		}
		if inSafeMode && u.CreatedAt.Before(safe.Since) {
			continue // sent before the slate went up: it may be what went wrong
		}
		u = stripUrgent(u)
		// A notice whose picture went missing still goes out as text: the
		// words are what residents must read.
		if u.Asset != "" && !addAsset(u.Asset) {
			u.Asset = ""
		}
		m.Urgent = append(m.Urgent, u)
	}
	m.Seal()
	return m
}

func stripSchedule(sc Schedule) Schedule {
	sc.CreatedAt, sc.UpdatedAt = time.Time{}, time.Time{}
	sc.Target = sc.Target.normalized()
	if sc.From != nil {
		f := sc.From.UTC()
		sc.From = &f
	}
	if sc.To != nil {
		t := sc.To.UTC()
		sc.To = &t
	}
	return sc
}

// Seal sorts the manifest into its canonical order and sets Version.
func (m *Manifest) Seal() {
	slices.SortFunc(m.Schedules, func(a, b Schedule) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(m.Playlists, func(a, b Playlist) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(m.Items, func(a, b Item) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(m.Assets, func(a, b AssetRef) int { return cmp.Compare(a.SHA256, b.SHA256) })
	sortUrgent(m.Urgent)
	if len(m.Urgent) == 0 {
		m.Urgent = nil // omitted, so a manifest without notices keeps its version
	}
	m.Version = m.ComputeVersion()
}

// ComputeVersion returns the version m's content deserves, whatever its
// Version field says.
func (m Manifest) ComputeVersion() string {
	m.Version = ""
	b, err := json.Marshal(m)
	if err != nil {
		// Only unsupported types fail to encode; the manifest has none.
		panic(fmt.Sprintf("playlists: encode manifest: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ErrManifestMismatch is returned by VerifyManifest for bytes that do not
// hash to the version they claim.
var ErrManifestMismatch = errors.New("manifest does not match its version")

// VerifyManifest checks a manifest as served, byte for byte, and returns its
// version. The encoding starts with the version field ({"version":"<hex>",
// ...}, the order json.Marshal gives Manifest) and the version is the
// SHA-256 of the same bytes with that value emptied. Checking the bytes
// rather than re-encoding a decoded struct lets a player verify manifests
// that carry fields newer than itself.
func VerifyManifest(body []byte) (string, error) {
	const prefix = `{"version":"`
	if !bytes.HasPrefix(body, []byte(prefix)) || len(body) < len(prefix)+65 || body[len(prefix)+64] != '"' {
		return "", fmt.Errorf("%w: does not start with a version", ErrManifestMismatch)
	}
	version := string(body[len(prefix) : len(prefix)+64])
	h := sha256.New()
	h.Write([]byte(prefix))
	h.Write(body[len(prefix)+64:])
	if got := hex.EncodeToString(h.Sum(nil)); got != version {
		return "", fmt.Errorf("%w: content hashes to %s but claims %s", ErrManifestMismatch, got, version)
	}
	return version, nil
}

// Item returns the item with id, if the manifest holds it.
func (m *Manifest) Item(id string) (Item, bool) {
	i, ok := slices.BinarySearchFunc(m.Items, id, func(it Item, id string) int { return cmp.Compare(it.ID, id) })
	if !ok {
		return Item{}, false
	}
	return m.Items[i], true
}

// Playlist returns the playlist with id, if the manifest holds it.
func (m *Manifest) Playlist(id string) (Playlist, bool) {
	i, ok := slices.BinarySearchFunc(m.Playlists, id, func(p Playlist, id string) int { return cmp.Compare(p.ID, id) })
	if !ok {
		return Playlist{}, false
	}
	return m.Playlists[i], true
}

// Asset returns the asset with sha, if the manifest holds it.
func (m *Manifest) Asset(sha string) (AssetRef, bool) {
	i, ok := slices.BinarySearchFunc(m.Assets, sha, func(a AssetRef, sha string) int { return cmp.Compare(a.SHA256, sha) })
	if !ok {
		return AssetRef{}, false
	}
	return m.Assets[i], true
}
