// Package textclip bounds text that comes from outside (players, devices,
// webhooks) before the server keeps or saves it, without cutting a
// character in half: a clipped Chinese error message must still be valid
// UTF-8, or JSON encoders replace the broken tail with U+FFFD and a
// reader sees garbage where the text ends.
package textclip

import "unicode/utf8"

// Clip returns s cut to at most max bytes, ending on a character
// boundary. Text that fits is returned as is; max ≤ 0 gives "".
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	// s[max] is the first byte dropped. If it continues a character that
	// starts before max (at most 3 bytes back), drop that character too.
	// Stray continuation bytes (invalid UTF-8) are no character: cut at
	// max.
	for j := max - 1; j >= 0 && j >= max-(utf8.UTFMax-1); j-- {
		if !utf8.RuneStart(s[j]) {
			continue
		}
		if r, w := utf8.DecodeRuneInString(s[j:]); (r != utf8.RuneError || w > 1) && j+w > max {
			return s[:j]
		}
		break
	}
	return s[:max]
}
