package playlists

import (
	"cmp"
	"slices"
	"time"
)

// SafeMode switches the screens its target reaches to a neutral slate:
// the district name, the date and clock and "信息更新中", nothing else. It
// is the one action for the day something wrong got out. It lives in the
// manifest, so a screen offline when it started obeys as soon as it
// reconnects, and a screen that restarts keeps obeying from its cache.
// Urgent notices sent after it started still show: that is what they are
// for; ordinary content, and notices from before, do not.
type SafeMode struct {
	ID     string    `json:"id"`
	Target Target    `json:"target"`
	Since  time.Time `json:"since"`
}

// SafeModeState is what a manifest in safe mode carries.
type SafeModeState struct {
	ID    string    `json:"id"`
	Since time.Time `json:"since"`
}

// safeModeFor returns the safe mode in force for s, if any: the earliest
// of those that reach it (the slate went up then).
func safeModeFor(s ScreenContext, modes []SafeMode) (SafeModeState, bool) {
	var found []SafeMode
	for _, m := range modes {
		if m.Target.Matches(s) {
			found = append(found, m)
		}
	}
	if len(found) == 0 {
		return SafeModeState{}, false
	}
	first := slices.MinFunc(found, func(a, b SafeMode) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return SafeModeState{ID: first.ID, Since: first.Since.UTC()}, true
}
