package kioskctl

import (
	"strings"
	"testing"
	"time"
)

func TestWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"停水通知", 8},              // CJK ideographs: two columns each
		{"东区 A栋", 8},             // mixed
		{"，。", 4},                // CJK punctuation (fullwidth)
		{"ＡＢ", 4},                // fullwidth Latin
		{"ｱｲ", 2},                // halfwidth katakana stays narrow
		{"한국", 4},                // Hangul
		{"e\u0301", 1},           // e + combining acute
		{"a\u200Db", 2},          // zero-width joiner
		{"⚠\ufe0f", 2},           // warning sign + variation selector
		{"🚒", 2},                 // emoji
		{"tab\there", 7},         // controls take no column (cells replace them anyway)
		{"𠀀", 2},                 // CJK extension B (outside the BMP)
		{"Ünïcödé", 7},           // precomposed Latin
		{"法律故事 legal story", 20}, // 8 + 1 + 11
	}
	for _, tt := range tests {
		if got := width(tt.s); got != tt.want {
			t.Errorf("width(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a bit too long", 10, "a bit too…"},
		{"防范电信网络诈骗", 9, "防范电信…"}, // 4 ideographs (8) + … (1)
		{"防范电信网络诈骗", 8, "防范电…"},  // a wide char never splits the limit
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		got := truncate(tt.s, tt.max)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
		if tt.max > 0 && width(got) > tt.max {
			t.Errorf("truncate(%q, %d) is %d columns wide", tt.s, tt.max, width(got))
		}
	}
}

func TestTableAlignsByDisplayWidth(t *testing.T) {
	tb := newTable("ID", "NAME", "STATE")
	tb.row("scr_1", "东区一号楼大堂", "online")
	tb.row("scr_22", "Lobby B", "offline")
	tb.row("scr_3", "ｶﾌｪ", "stale")
	var b strings.Builder
	tb.write(&b)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	// The STATE column starts at the same display column on every line.
	col := -1
	for i, l := range lines {
		words := strings.Fields(l)
		last := words[len(words)-1]
		at := width(l[:strings.LastIndex(l, last)])
		if col == -1 {
			col = at
		} else if at != col {
			t.Errorf("line %d: last column at %d, want %d\n%s", i, at, col, b.String())
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %d has trailing spaces: %q", i, l)
		}
	}
	want := "" +
		"ID      NAME            STATE\n" +
		"scr_1   东区一号楼大堂  online\n" +
		"scr_22  Lobby B         offline\n" +
		"scr_3   ｶﾌｪ             stale\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTableCellsStayOnOneLine(t *testing.T) {
	tb := newTable("TITLE")
	tb.row("line one\nline two\x1b[31m red")
	tb.row(strings.Repeat("长", 100))
	var b strings.Builder
	tb.write(&b)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("a newline in a cell broke the table:\n%q", b.String())
	}
	if strings.Contains(b.String(), "\x1b") {
		t.Errorf("escape sequence reached the terminal: %q", b.String())
	}
	if w := width(lines[2]); w > maxCell {
		t.Errorf("long cell is %d columns, want at most %d", w, maxCell)
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	tests := []struct {
		t    *time.Time
		want string
	}{
		{nil, "never"},
		{at(10 * time.Second), "just now"},
		{at(5 * time.Minute), "5m ago"},
		{at(3 * time.Hour), "3h ago"},
		{at(72 * time.Hour), "3d ago"},
	}
	for _, tt := range tests {
		if got := ago(tt.t, now); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	got := progressLine("海报.png", 512<<10, 1<<20, 2*time.Second)
	for _, want := range []string{"海报.png", " 50%", "512.0 KB of 1.0 MB", "256.0 KB/s", "[############............]"} {
		if !strings.Contains(got, want) {
			t.Errorf("progressLine = %q, want it to contain %q", got, want)
		}
	}
	if got := progressLine("empty", 0, 0, 0); !strings.Contains(got, "100%") {
		t.Errorf("an empty file is done: %q", got)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Hour:                "2h",
		90 * time.Minute:             "1h30m",
		45 * time.Minute:             "45m",
		90 * time.Second:             "1m30s",
		2*time.Hour + 5*time.Second:  "2h0m5s",
		0:                            "0s",
		1500 * time.Millisecond:      "2s",
		26*time.Hour + 1*time.Minute: "26h1m",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}
