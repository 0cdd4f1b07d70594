package playlists

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what an item is, which decides how a screen presents it.
type Kind string

const (
	KindLegalStory Kind = "legal_story" // 法律故事
	KindNotice     Kind = "notice"      // 服务信息
	KindPSA        Kind = "psa"         // 公益广告
)

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindLegalStory, KindNotice, KindPSA:
		return true
	}
	return false
}

// Limits on what an item may hold. They keep a screen legible and a
// manifest small; the API reports a breach as a 400.
const (
	MaxTitleRunes   = 200
	MaxBodyRunes    = 5000
	MaxDurationS    = 3600
	DefaultDuration = 10
	MaxNameRunes    = 200
)

// Item is one thing shown on a screen for DurationS seconds: text, optionally
// with an image or video referenced by its SHA-256.
type Item struct {
	ID        string    `json:"id"`
	Kind      Kind      `json:"kind"`
	Title     string    `json:"title"`
	Body      string    `json:"body,omitempty"`
	Asset     string    `json:"asset,omitempty"` // SHA-256 hex of the media, if any
	DurationS int       `json:"duration_s"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Validate checks the fields a person writes. References (the asset) are
// checked by the store, which knows what exists.
func (it *Item) Validate() error {
	if !it.Kind.Valid() {
		return FieldError{"kind", fmt.Sprintf("must be one of legal_story, notice, psa (got %q)", it.Kind)}
	}
	if strings.TrimSpace(it.Title) == "" {
		return FieldError{"title", "is required"}
	}
	if n := utf8.RuneCountInString(it.Title); n > MaxTitleRunes {
		return FieldError{"title", fmt.Sprintf("is %d characters, at most %d allowed", n, MaxTitleRunes)}
	}
	if n := utf8.RuneCountInString(it.Body); n > MaxBodyRunes {
		return FieldError{"body", fmt.Sprintf("is %d characters, at most %d allowed", n, MaxBodyRunes)}
	}
	if it.Asset != "" && !IsSHA256Hex(it.Asset) {
		return FieldError{"asset", "must be the sha256 of an uploaded asset (64 lower-case hex characters)"}
	}
	if it.DurationS == 0 {
		it.DurationS = DefaultDuration
	}
	if it.DurationS < 1 || it.DurationS > MaxDurationS {
		return FieldError{"duration_s", fmt.Sprintf("must be between 1 and %d seconds (got %d)", MaxDurationS, it.DurationS)}
	}
	return nil
}

// Playlist is an ordered list of item ids; an item may appear more than once.
type Playlist struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Items     []string  `json:"items"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Validate checks the playlist's own fields; item references are the store's.
func (p *Playlist) Validate() error {
	if strings.TrimSpace(p.Name) == "" {
		return FieldError{"name", "is required"}
	}
	if n := utf8.RuneCountInString(p.Name); n > MaxNameRunes {
		return FieldError{"name", fmt.Sprintf("is %d characters, at most %d allowed", n, MaxNameRunes)}
	}
	if p.Items == nil {
		p.Items = []string{}
	}
	for i, id := range p.Items {
		if strings.TrimSpace(id) == "" {
			return FieldError{fmt.Sprintf("items[%d]", i), "is empty"}
		}
	}
	return nil
}

// FieldError names the field of a request that is wrong and why. The API
// turns it into a 400 with both in the message.
type FieldError struct {
	Field   string
	Problem string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// IsSHA256Hex reports whether s looks like a lower-case hex SHA-256.
func IsSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
