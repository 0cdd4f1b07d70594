package playlists

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultTimezone is the zone a screen or group uses unless told otherwise.
const DefaultTimezone = "Asia/Shanghai"

// Target says which screens a schedule (or an urgent notice) reaches. The
// fields are alternatives: a screen is targeted if any of them matches it.
type Target struct {
	All     bool     `json:"all,omitempty"`
	Groups  []string `json:"groups,omitempty"`  // a group reaches every group nested under it
	Tags    []string `json:"tags,omitempty"`    // any of them
	Screens []string `json:"screens,omitempty"` // screen ids
}

// IsEmpty reports whether the target reaches nothing at all.
func (t Target) IsEmpty() bool {
	return !t.All && len(t.Groups) == 0 && len(t.Tags) == 0 && len(t.Screens) == 0
}

// Matches reports whether the target reaches s. s.Groups must hold the
// screen's own group followed by its ancestors (see Screen.Groups).
func (t Target) Matches(s ScreenContext) bool {
	if t.All {
		return true
	}
	if slices.Contains(t.Screens, s.ID) {
		return true
	}
	for _, g := range s.Groups {
		if slices.Contains(t.Groups, g) {
			return true
		}
	}
	for _, tag := range s.Tags {
		if slices.Contains(t.Tags, tag) {
			return true
		}
	}
	return false
}

// normalized returns a copy with sorted, de-duplicated lists so that equal
// targets encode to equal bytes.
func (t Target) normalized() Target {
	norm := func(in []string) []string {
		if len(in) == 0 {
			return nil
		}
		out := slices.Clone(in)
		slices.Sort(out)
		return slices.Compact(out)
	}
	if t.All {
		return Target{All: true}
	}
	return Target{Groups: norm(t.Groups), Tags: norm(t.Tags), Screens: norm(t.Screens)}
}

// Schedule binds a playlist to a target and a time rule. See Resolve for how
// the rules combine.
type Schedule struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Playlist string `json:"playlist"`
	Target   Target `json:"target"`
	// Cron, if set, is a daypart: a window opens at each fire of this
	// standard 5-field expression (or descriptor such as @daily), evaluated in
	// the screen's time zone, and lasts DurationS seconds.
	Cron      string     `json:"cron,omitempty"`
	DurationS int        `json:"duration_s,omitempty"`
	From      *time.Time `json:"from,omitempty"` // inclusive; nil = open
	To        *time.Time `json:"to,omitempty"`   // exclusive; nil = open
	Priority  int        `json:"priority"`
	CreatedAt time.Time  `json:"created_at,omitzero"`
	UpdatedAt time.Time  `json:"updated_at,omitzero"`
}

// MaxCronWindow bounds a daypart's duration: a window longer than a week is
// a date window, not a daypart.
const MaxCronWindow = 7 * 24 * 3600

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a daypart expression with the parser the player uses.
func ParseCron(expr string) (cron.Schedule, error) {
	return cronParser.Parse(expr)
}

// Validate checks the rule itself; whether the playlist and the target's
// groups and screens exist is the store's business.
func (s *Schedule) Validate() error {
	if strings.TrimSpace(s.Playlist) == "" {
		return Required("playlist", "")
	}
	if s.Target.IsEmpty() {
		return Required("target", `at least one of all, groups, tags, screens, e.g. {"all":true}`)
	}
	if s.Cron != "" {
		if strings.HasPrefix(strings.TrimSpace(s.Cron), "@every") {
			return InvalidFormat("cron", "@every is not a daypart; use a 5-field expression or @daily/@weekly/@monthly")
		}
		if _, err := ParseDaypart(s.Cron); err != nil {
			return InvalidFormat("cron", fmt.Sprintf("invalid expression %q: %v", s.Cron, err))
		}
		if s.DurationS <= 0 || s.DurationS > MaxCronWindow {
			return OutOfRange("duration_s", 1, MaxCronWindow, s.DurationS, "seconds when cron is set")
		}
	} else if s.DurationS != 0 {
		return FieldError{Field: "duration_s", Problem: "only applies with cron; leave it out or set cron"}
	}
	if s.From != nil && s.To != nil && !s.To.After(*s.From) {
		return FieldError{Field: "to", Problem: "must be after from"}
	}
	return nil
}

// Group is a set of screens, such as a compound (小区); groups nest under a
// parent, such as a street (街道).
type Group struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Parent   string `json:"parent,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// DefaultPlaylist plays on the group's screens (and those of groups
	// nested under it) whenever no schedule has anything to show, unless a
	// screen or a nearer group sets its own.
	DefaultPlaylist string `json:"default_playlist,omitempty"`
	// Layout frames the group's screens (and those of groups nested under
	// it) unless a screen or a nearer group sets its own; empty: inherit
	// (layout.go).
	Layout    string    `json:"layout,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// ScreenContext is what targeting needs to know about a screen.
type ScreenContext struct {
	ID       string
	Groups   []string // own group first, then its ancestors
	Tags     []string
	Timezone string
	// DefaultPlaylist is the nearest default: the screen's own, else its
	// group's, else the closest ancestor's that sets one.
	DefaultPlaylist string
	// Layout is the resolved layout (ResolveLayout): never empty once
	// resolved; empty is read as LayoutFull.
	Layout string
	// Header is what the header bar names: the screen's compound (its own
	// group's name). The screen adds its own name and the clock.
	Header string
}
