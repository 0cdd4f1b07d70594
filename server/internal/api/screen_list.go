package api

// GET /screens: one page of the screens a person may see, in a stable
// order, with the filters the admin page and kioskctl use. At 10,000
// screens the whole list is megabytes of JSON; a page is a hundred rows,
// and only the rows of the page are turned into views (status, health,
// published version).
//
// Order: by name, byte order of its UTF-8 (code point order), then by id,
// which is unique, so the order is total. A cursor is the (name, id) of
// the last screen of a page, so the next page starts right after it
// whatever was created or deleted in between: a screen neither created,
// deleted nor renamed between two requests is never shown twice nor
// skipped. A screen renamed between two pages moves to its new place.

import (
	"container/heap"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/store"
)

const (
	defaultScreenPage = 100
	maxScreenPage     = 500
	// maxScreenQuery is the most characters ?q= may have.
	maxScreenQuery = 100
	// maxScreenIDs is how many ?id= one request may name: a page's worth.
	maxScreenIDs = maxScreenPage
	// maxCursorLen bounds what is decoded: a cursor holds a name (at most
	// playlists.MaxNameRunes characters) and an id.
	maxCursorLen = 4096
	// ungroupedFilter is the ?group= value of screens in no group; no
	// group id can be "-" (ids start with a letter or digit).
	ungroupedFilter = "-"
)

// screenPage is GET /screens' answer.
type screenPage struct {
	Screens []screenView `json:"screens"`
	// NextCursor continues after the last screen of this page; absent
	// on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
	// Total counts every screen that matches the filters and that the
	// caller may see, on all pages.
	Total int `json:"total"`
}

// screenKey is a screen's place in the list's order.
type screenKey struct{ name, id string }

func keyOf(s *store.Screen) screenKey { return screenKey{s.Name, s.ID} }

// compare is -1, 0 or +1 as k sorts before, with or after o.
func (k screenKey) compare(o screenKey) int {
	if c := strings.Compare(k.name, o.name); c != 0 {
		return c
	}
	return strings.Compare(k.id, o.id)
}

// encodeCursor makes the opaque cursor of the page ending at k.
func encodeCursor(k screenKey) string {
	b, _ := json.Marshal([2]string{k.name, k.id}) // two strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor encodeCursor made.
func decodeCursor(s string) (screenKey, error) {
	bad := func() (screenKey, error) {
		return screenKey{}, errCode(http.StatusBadRequest, "bad_cursor",
			"cursor: not a cursor this server gave out; start again without one and follow next_cursor")
	}
	if len(s) > maxCursorLen {
		return bad()
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad()
	}
	var v [2]string
	if err := json.Unmarshal(raw, &v); err != nil || v[1] == "" {
		return bad()
	}
	return screenKey{v[0], v[1]}, nil
}

// screenFilter is what GET /screens' query asks for.
type screenFilter struct {
	limit     int
	after     *screenKey      // nil: from the start
	state     devices.State   // "": any
	groups    map[string]bool // nil: any group
	ungrouped bool            // only screens in no group
	tags      []string        // every one of them
	q         foldNeedle      // in the name or the id, case folded
	ids       map[string]bool // nil: any id
}

// parseScreenFilter reads and checks the query of GET /screens.
func (h *handler) parseScreenFilter(c echo.Context) (screenFilter, error) {
	qp := c.QueryParams()
	f := screenFilter{limit: defaultScreenPage}
	if s := qp.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxScreenPage {
			return f, playlists.FieldError{Field: "limit", Problem: fmt.Sprintf("must be between 1 and %d (got %q)", maxScreenPage, s),
				Reason: playlists.ReasonOutOfRange, Min: 1, Limit: maxScreenPage}
		}
		f.limit = n
	}
	if s := qp.Get("cursor"); s != "" {
		k, err := decodeCursor(s)
		if err != nil {
			return f, err
		}
		f.after = &k
	}
	if s := qp.Get("state"); s != "" {
		st, ok := devices.ParseState(s)
		if !ok {
			return f, playlists.InvalidFormat("state", fmt.Sprintf("must be one of online, offline, stale, degraded (got %q)", s))
		}
		f.state = st
	}
	switch g := qp.Get("group"); g {
	case "":
	case ungroupedFilter:
		f.ungrouped = true
	default:
		groups, err := h.store.ListGroups()
		if err != nil {
			return f, err
		}
		set, ok := groupSubtrees(groups)[g]
		if !ok {
			return f, store.NotFoundError{Kind: "group", ID: g}
		}
		f.groups = set
	}
	for _, t := range qp["tag"] {
		if t = strings.TrimSpace(t); t != "" {
			f.tags = append(f.tags, t)
		}
	}
	q := strings.TrimSpace(qp.Get("q"))
	if n := utf8.RuneCountInString(q); n > maxScreenQuery {
		return f, playlists.TooLong("q", n, maxScreenQuery)
	}
	f.q = newFoldNeedle(q)
	if ids := qp["id"]; len(ids) > 0 {
		if len(ids) > maxScreenIDs {
			return f, playlists.FieldError{Field: "id", Problem: fmt.Sprintf("names %d screens, at most %d per request", len(ids), maxScreenIDs)}
		}
		f.ids = make(map[string]bool, len(ids))
		for _, id := range ids {
			f.ids[id] = true
		}
	}
	return f, nil
}

// matches reports whether s passes every filter but the cursor. The
// state, the only one that asks the device registry, goes last.
func (h *handler) matches(f *screenFilter, s *store.Screen) bool {
	if f.ids != nil && !f.ids[s.ID] {
		return false
	}
	if f.ungrouped && s.Group != "" {
		return false
	}
	if f.groups != nil && !f.groups[s.Group] {
		return false
	}
	for _, t := range f.tags {
		if !hasTag(s.Tags, t) {
			return false
		}
	}
	if f.q.text != "" && !f.q.in(s.Name) && !f.q.in(s.ID) {
		return false
	}
	return f.state == "" || h.devices.Health(s.ID).State == f.state
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// listScreens is GET /screens: one page of the matching screens in the
// caller's scope, and how many match in all.
func (h *handler) listScreens(c echo.Context) error {
	f, err := h.parseScreenFilter(c)
	if err != nil {
		return err
	}
	// Shared and read-only: only the page's screens are copied (h.view).
	page, next, total := h.pageOf(principalOf(c), &f, h.store.SharedScreens())
	out := screenPage{Screens: make([]screenView, len(page)), Total: total}
	for i, s := range page {
		out.Screens[i] = h.view(*s)
	}
	if next {
		out.NextCursor = encodeCursor(keyOf(page[len(page)-1]))
	}
	return c.JSON(http.StatusOK, out)
}

// pageOf picks, from scrs (not changed), the f.limit first screens after
// the cursor that match f and that p may see, in order; whether more
// follow; and how many match in all. It keeps only the best f.limit
// screens as it goes (a bounded heap), so a page costs one pass over the
// screens and no sort of all of them.
func (h *handler) pageOf(p *principal, f *screenFilter, scrs []*store.Screen) (page []*store.Screen, more bool, total int) {
	best := &pageHeap{}
	after := 0 // matches after the cursor
	for _, s := range scrs {
		if !p.seesScreen(s.Group) || !h.matches(f, s) {
			continue
		}
		total++
		k := keyOf(s)
		if f.after != nil && k.compare(*f.after) <= 0 {
			continue
		}
		after++
		if best.Len() < f.limit {
			heap.Push(best, s)
		} else if k.compare(keyOf((*best)[0])) < 0 {
			(*best)[0] = s
			heap.Fix(best, 0)
		}
	}
	page = make([]*store.Screen, best.Len())
	for i := len(page) - 1; i >= 0; i-- {
		page[i] = heap.Pop(best).(*store.Screen)
	}
	return page, after > len(page), total
}

// pageHeap is a max-heap by screenKey: its top is the last screen of the
// page so far, the one a better screen replaces.
type pageHeap []*store.Screen

func (h pageHeap) Len() int           { return len(h) }
func (h pageHeap) Less(i, j int) bool { return keyOf(h[i]).compare(keyOf(h[j])) > 0 }
func (h pageHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pageHeap) Push(x any)        { *h = append(*h, x.(*store.Screen)) }
func (h *pageHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// containsFold reports whether sub is in s, ignoring case the way
// strings.EqualFold does (rune by rune, Unicode simple folding), without
// allocating: "LOBBY" finds "Lobby 2", and Chinese text matches as is.
func containsFold(s, sub string) bool { return newFoldNeedle(sub).in(s) }

// foldNeedle is a text to search for, case folded, with the forms its
// first rune takes, so that a search over 10,000 names compares most
// positions with a rune or two and folds only where the first matches.
type foldNeedle struct {
	text  string
	first []rune // the first rune and the others of its folding orbit
}

func newFoldNeedle(text string) foldNeedle {
	n := foldNeedle{text: text}
	if text == "" {
		return n
	}
	r, _ := utf8.DecodeRuneInString(text)
	n.first = append(n.first, r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		n.first = append(n.first, f)
	}
	return n
}

// in reports whether the needle is in s.
func (n foldNeedle) in(s string) bool {
	if n.text == "" {
		return true
	}
	for i, r := range s {
		for _, f := range n.first {
			if r == f {
				if hasPrefixFold(s[i:], n.text) {
					return true
				}
				break
			}
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(prefix)
		if r1 != r2 && !foldEqual(r1, r2) {
			return false
		}
		s, prefix = s[n1:], prefix[n2:]
	}
	return true
}

// foldEqual reports whether runes a and b are the same under simple case
// folding.
func foldEqual(a, b rune) bool {
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
