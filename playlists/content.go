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
		return InvalidFormat("kind", fmt.Sprintf("must be one of legal_story, notice, psa (got %q)", it.Kind))
	}
	if strings.TrimSpace(it.Title) == "" {
		return Required("title", "")
	}
	if n := utf8.RuneCountInString(it.Title); n > MaxTitleRunes {
		return TooLong("title", n, MaxTitleRunes)
	}
	if n := utf8.RuneCountInString(it.Body); n > MaxBodyRunes {
		return TooLong("body", n, MaxBodyRunes)
	}
	if it.Asset != "" && !IsSHA256Hex(it.Asset) {
		return InvalidFormat("asset", "must be the sha256 of an uploaded asset (64 lower-case hex characters)")
	}
	if it.DurationS == 0 {
		it.DurationS = DefaultDuration
	}
	if it.DurationS < 1 || it.DurationS > MaxDurationS {
		return OutOfRange("duration_s", 1, MaxDurationS, it.DurationS, "seconds")
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
		return Required("name", "")
	}
	if n := utf8.RuneCountInString(p.Name); n > MaxNameRunes {
		return TooLong("name", n, MaxNameRunes)
	}
	if p.Items == nil {
		p.Items = []string{}
	}
	for i, id := range p.Items {
		if strings.TrimSpace(id) == "" {
			return Required(fmt.Sprintf("items[%d]", i), "")
		}
	}
	return nil
}

// FieldError names the field of a request that is wrong and why. The API
// turns it into a 400 with both in the message, and with Field, Reason and
// the limits as machine fields, so a client can word the refusal in its
// own language ("标题：最多 200 个字").
type FieldError struct {
	Field   string
	Problem string // English, with the values: what a script's author reads
	// Reason is one of the Reason* words when the problem is a common one
	// (the constructors below set it); "" for anything else.
	Reason string
	Min    int // out_of_range: the smallest allowed value
	Limit  int // too_long: the most characters; out_of_range: the largest value
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// Reasons of a FieldError: stable words, unlike the English Problem.
const (
	ReasonRequired         = "required"          // empty or missing
	ReasonTooLong          = "too_long"          // more than Limit characters
	ReasonOutOfRange       = "out_of_range"      // a number outside Min..Limit
	ReasonUnknownReference = "unknown_reference" // names something that does not exist
	ReasonInvalidFormat    = "invalid_format"    // not the form the field takes
)

// Required is the refusal of an empty field; hint, if any, says what goes
// there.
func Required(field, hint string) FieldError {
	p := "is required"
	if hint != "" {
		p += " (" + hint + ")"
	}
	return FieldError{Field: field, Problem: p, Reason: ReasonRequired}
}

// TooLong is the refusal of text of n characters where max are allowed.
func TooLong(field string, n, max int) FieldError {
	return FieldError{Field: field, Problem: fmt.Sprintf("is %d characters, at most %d allowed", n, max), Reason: ReasonTooLong, Limit: max}
}

// OutOfRange is the refusal of a number outside min..max; unit ("seconds")
// and the rest of the sentence go into the English problem only.
func OutOfRange(field string, min, max, got int, unit string) FieldError {
	if unit != "" {
		unit = " " + unit
	}
	return FieldError{Field: field, Problem: fmt.Sprintf("must be between %d and %d%s (got %d)", min, max, unit, got),
		Reason: ReasonOutOfRange, Min: min, Limit: max}
}

// InvalidFormat is the refusal of a value that is not the field's form.
func InvalidFormat(field, problem string) FieldError {
	return FieldError{Field: field, Problem: problem, Reason: ReasonInvalidFormat}
}

// UnknownReference is the refusal of a reference to something that does
// not exist.
func UnknownReference(field, problem string) FieldError {
	return FieldError{Field: field, Problem: problem, Reason: ReasonUnknownReference}
}

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
