package playlists

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on urgent notices.
const (
	// MaxUrgentAhead bounds ExpiresAt: a notice is for "now, until 18:00" or
	// "until the water is back on Friday", not a campaign. Anything longer
	// belongs in a schedule, where it does not interrupt everything else.
	MaxUrgentAhead = 7 * 24 * time.Hour
	// UrgentSlot is how long each notice stays up when several are active
	// and rotate. A single notice stays up until it expires.
	UrgentSlot = 10 * time.Second
)

// Urgent is an urgent notice ("water cut in buildings 3–5 until 18:00"): it
// interrupts whatever plays on the screens it targets, full screen, until
// ExpiresAt or until it is withdrawn. It travels in the manifest, so a
// screen takes it down at ExpiresAt by itself, with or without the server.
type Urgent struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body,omitempty"`
	Asset     string    `json:"asset,omitempty"` // SHA-256 of an image, optional
	Target    Target    `json:"target"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks the fields a person writes against the clock now:
// references (groups, screens, the asset) are the store's business.
func (u *Urgent) Validate(now time.Time) error {
	if strings.TrimSpace(u.Title) == "" {
		return Required("title", "")
	}
	if n := utf8.RuneCountInString(u.Title); n > MaxTitleRunes {
		return TooLong("title", n, MaxTitleRunes)
	}
	if n := utf8.RuneCountInString(u.Body); n > MaxBodyRunes {
		return TooLong("body", n, MaxBodyRunes)
	}
	if u.Asset != "" && !IsSHA256Hex(u.Asset) {
		return InvalidFormat("asset", "must be the sha256 of an uploaded asset (64 lower-case hex characters)")
	}
	if u.Target.IsEmpty() {
		return Required("target", `at least one of all, groups, tags, screens, e.g. {"groups":["huayang-3"]}`)
	}
	if u.ExpiresAt.IsZero() {
		return Required("expires_at", "an RFC 3339 time such as 2026-05-01T18:00:00+08:00")
	}
	if !u.ExpiresAt.After(now) {
		return FieldError{Field: "expires_at", Problem: fmt.Sprintf("must be in the future (got %s, now is %s)",
			u.ExpiresAt.Format(time.RFC3339), now.Format(time.RFC3339))}
	}
	if u.ExpiresAt.Sub(now) > MaxUrgentAhead {
		return FieldError{Field: "expires_at", Problem: fmt.Sprintf("is more than %v ahead; use a schedule for longer campaigns", MaxUrgentAhead)}
	}
	return nil
}

// Active reports whether the notice is in force at t: it ends at ExpiresAt
// exactly (exclusive), like a schedule's To.
func (u Urgent) Active(t time.Time) bool { return t.Before(u.ExpiresAt) }

// ActiveUrgent returns the notices of m in force at t, newest first (ties
// by id), which is the order a screen rotates them in: a notice just sent
// goes up at once rather than waiting behind older ones.
func (m *Manifest) ActiveUrgent(t time.Time) []Urgent {
	var out []Urgent
	for _, u := range m.Urgent {
		if u.Active(t) {
			out = append(out, u)
		}
	}
	sortUrgent(out)
	return out
}

// NextUrgentChange returns the first instant after t at which the set of
// active notices changes (an expiry), or zero when none is active.
func (m *Manifest) NextUrgentChange(t time.Time) time.Time {
	var next time.Time
	for _, u := range m.Urgent {
		if u.Active(t) && (next.IsZero() || u.ExpiresAt.Before(next)) {
			next = u.ExpiresAt
		}
	}
	return next
}

// sortUrgent puts notices newest first, ties by id, so equal sets encode
// to equal bytes and rotate in the same order on every screen.
func sortUrgent(us []Urgent) {
	slices.SortFunc(us, func(a, b Urgent) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// stripUrgent is the copy a manifest carries: UTC times, a canonical target.
func stripUrgent(u Urgent) Urgent {
	u.Target = u.Target.normalized()
	u.ExpiresAt = u.ExpiresAt.UTC()
	u.CreatedAt = u.CreatedAt.UTC()
	return u
}
