// Package clip bounds text that quotes client input, so an error message, a log line or a journal
// entry never grows with what a client sent.
package clip

import (
	"strconv"
	"unicode/utf8"
)

// Quote is how many bytes of client input an error message quotes.
const Quote = 128

// String returns s when it has at most limit bytes; otherwise its first limit bytes (cut back to
// a whole UTF-8 character) followed by "…" and the full length, such as "+1111…(1000001 bytes)".
func String(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// Input is String with the bound for quoted client input.
func Input(s string) string { return String(s, Quote) }
