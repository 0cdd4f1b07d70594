package playlists

import "fmt"

// Layouts a screen or group can choose. A layout frames the rotation on the
// screen; urgent notices and safe mode always take the whole screen,
// whatever the layout.
const (
	// LayoutInherit (empty) takes the layout of the nearest group up the
	// chain that sets one, else LayoutFull.
	LayoutInherit = ""
	// LayoutFull: items take the whole screen (the original layout).
	LayoutFull = "full"
	// LayoutHeader: a header bar above the items with the compound's name,
	// the screen's name, the date and the time.
	LayoutHeader = "header"
	// LayoutHeaderTicker: the header, and a footer ticker that scrolls the
	// titles of the service notices (kind notice) in the rotation.
	LayoutHeaderTicker = "header_ticker"
)

// Layouts lists the layouts that can be chosen, LayoutInherit first.
var Layouts = []string{LayoutInherit, LayoutFull, LayoutHeader, LayoutHeaderTicker}

// CheckLayout accepts the layouts of Layouts.
func CheckLayout(l string) error {
	switch l {
	case LayoutInherit, LayoutFull, LayoutHeader, LayoutHeaderTicker:
		return nil
	}
	return FieldError{Field: "layout", Problem: fmt.Sprintf("is %q; use %q, %q, %q, or empty to inherit from the group", l, LayoutFull, LayoutHeader, LayoutHeaderTicker)}
}

// ResolveLayout is the layout a screen shows: its own when set, else the
// first set in groups (nearest first), else LayoutFull.
func ResolveLayout(own string, groups ...string) string {
	if own != LayoutInherit {
		return own
	}
	for _, g := range groups {
		if g != LayoutInherit {
			return g
		}
	}
	return LayoutFull
}
