package kioskctl

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Tables are aligned here rather than with text/tabwriter: tabwriter
// counts every code point as one column (its documentation says so), and
// a Chinese title takes two columns per character on a terminal, so its
// columns would drift. width counts display columns instead.

// wide are the East Asian Wide and Fullwidth ranges (Unicode UAX #11)
// that occur in practice: CJK ideographs, kana, Hangul, fullwidth forms,
// CJK punctuation and the emoji blocks terminals draw two columns wide.
var wide = []struct{ lo, hi rune }{
	{0x1100, 0x115F},   // Hangul Jamo initials
	{0x231A, 0x231B},   // watch, hourglass
	{0x2329, 0x232A},   // angle brackets
	{0x23E9, 0x23EC},   // media buttons
	{0x23F0, 0x23F0},   // alarm clock
	{0x23F3, 0x23F3},   // hourglass
	{0x25FD, 0x25FE},   // squares
	{0x2614, 0x2615},   // umbrella, hot beverage
	{0x2648, 0x2653},   // zodiac
	{0x26A0, 0x26A1},   // warning, high voltage
	{0x26D4, 0x26D4},   // no entry
	{0x2705, 0x2705},   // check mark
	{0x274C, 0x274C},   // cross mark
	{0x2753, 0x2755},   // question marks
	{0x2757, 0x2757},   // exclamation mark
	{0x2E80, 0x303E},   // CJK radicals, Kangxi, CJK symbols and punctuation
	{0x3041, 0x33FF},   // Hiragana, Katakana, Bopomofo, compatibility
	{0x3400, 0x4DBF},   // CJK extension A
	{0x4E00, 0x9FFF},   // CJK unified ideographs
	{0xA000, 0xA4CF},   // Yi
	{0xA960, 0xA97F},   // Hangul Jamo extended A
	{0xAC00, 0xD7A3},   // Hangul syllables
	{0xF900, 0xFAFF},   // CJK compatibility ideographs
	{0xFE10, 0xFE19},   // vertical forms
	{0xFE30, 0xFE6F},   // CJK compatibility forms, small forms
	{0xFF00, 0xFF60},   // fullwidth forms
	{0xFFE0, 0xFFE6},   // fullwidth signs
	{0x1F300, 0x1F64F}, // pictographs, emoticons
	{0x1F680, 0x1F6FF}, // transport and map symbols
	{0x1F900, 0x1F9FF}, // supplemental symbols and pictographs
	{0x20000, 0x2FFFD}, // CJK extensions B-F
	{0x30000, 0x3FFFD}, // CJK extension G
}

// runeWidth is how many terminal columns r takes: 0 for combining marks,
// joiners and controls, 2 for East Asian wide characters, else 1.
func runeWidth(r rune) int {
	switch {
	case r == 0x200B || r == 0x200C || r == 0x200D || r == 0xFEFF, // zero-width space, joiners, BOM
		r >= 0xFE00 && r <= 0xFE0F, // variation selectors
		unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r), unicode.IsControl(r):
		return 0
	case r < 0x1100:
		return 1
	}
	lo, hi := 0, len(wide)-1
	for lo <= hi {
		m := (lo + hi) / 2
		switch {
		case r < wide[m].lo:
			hi = m - 1
		case r > wide[m].hi:
			lo = m + 1
		default:
			return 2
		}
	}
	return 1
}

// width is the display width of s in terminal columns.
func width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// truncate shortens s to at most max columns, ending in "…" when cut.
func truncate(s string, max int) string {
	if width(s) <= max {
		return s
	}
	if max < 1 {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		w := runeWidth(r)
		if n+w > max-1 {
			break
		}
		b.WriteRune(r)
		n += w
	}
	b.WriteString("…")
	return b.String()
}

// oneLine makes a cell of s: control characters (a newline in a body, an
// escape sequence in a hostile title) become spaces, so a cell can
// neither break the table nor steer the terminal.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) && utf8.ValidString(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
}

// maxCell is the widest a table cell gets; longer text is cut with "…"
// (--json has it whole).
const maxCell = 64

// table collects rows and writes them with columns aligned by display
// width, two spaces apart.
type table struct {
	rows  [][]string
	limit int // widest cell; 0: no limit
}

func newTable(header ...string) *table {
	t := &table{limit: maxCell}
	if len(header) > 0 {
		t.rows = append(t.rows, header)
	}
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = oneLine(c)
		if t.limit > 0 {
			cells[i] = truncate(cells[i], t.limit)
		}
	}
	t.rows = append(t.rows, cells)
}

func (t *table) write(w io.Writer) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], width(c))
		}
	}
	var b bytes.Buffer
	var line strings.Builder
	for _, r := range t.rows {
		line.Reset()
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-width(c)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, _ = w.Write(b.Bytes())
}

// printJSON writes an API answer indented, as --json promises.
func (c *ctl) printJSON(raw []byte) error {
	if len(raw) == 0 {
		raw = []byte("null")
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		b.Reset()
		b.Write(raw)
	}
	b.WriteByte('\n')
	_, err := c.out.Write(b.Bytes())
	return err
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// ago says how long before now t was, for people scanning a table.
func ago(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < 0:
		return when(t)
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h ago"
	case d < 14*24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d ago"
	}
	return t.In(beijing).Format("2006-01-02")
}

// when formats an instant for a table, in Beijing time like the admin
// page (and like times typed without a zone), to the minute.
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.In(beijing).Format("2006-01-02 15:04")
}

// duration is d for people: 2h, 1h30m, 45m, 90s -> 1m30s.
func duration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	secs := int(d.Round(time.Second) / time.Second)
	h, m, sec := secs/3600, secs/60%60, secs%60
	out := ""
	if h > 0 {
		out += strconv.Itoa(h) + "h"
	}
	if m > 0 || (h > 0 && sec > 0) {
		out += strconv.Itoa(m) + "m"
	}
	if sec > 0 {
		out += strconv.Itoa(sec) + "s"
	}
	return out
}
