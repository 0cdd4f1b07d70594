package textclip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"", 4, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		// 大 and 堂 are 3 bytes each: a cut inside 堂 keeps only 大.
		{"大堂", 3, "大"},
		{"大堂", 4, "大"},
		{"大堂", 5, "大"},
		{"大堂", 6, "大堂"},
		{"大堂", 2, ""},
		// A 4-byte character (an emoji) is dropped whole.
		{"a😀", 4, "a"},
		{"a😀", 5, "a😀"},
		// U+FFFD itself is a character like any other.
		{"a\uFFFD", 3, "a"},
		// Invalid UTF-8 (stray continuation bytes) is cut at max.
		{"a\x80\x80\x80\x80\x80", 3, "a\x80\x80"},
	}
	for _, c := range cases {
		if got := Clip(c.in, c.max); got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

// TestClipAlwaysValid cuts mixed text at every length: the result is valid
// UTF-8, within the bound, a prefix of the input, and loses less than one
// character.
func TestClipAlwaysValid(t *testing.T) {
	s := strings.Repeat("屏幕 offline 😀 é ", 8)
	for max := 0; max <= len(s)+1; max++ {
		got := Clip(s, max)
		if !utf8.ValidString(got) || len(got) > max || !strings.HasPrefix(s, got) {
			t.Fatalf("Clip(…, %d) = %q: invalid, too long or not a prefix", max, got)
		}
		if max < len(s) && max-len(got) >= utf8.UTFMax {
			t.Fatalf("Clip(…, %d) kept %d bytes: dropped a whole character too many", max, len(got))
		}
	}
}
