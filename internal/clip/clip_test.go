package clip

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"short", "short"},
		{strings.Repeat("a", Quote), strings.Repeat("a", Quote)},
		{strings.Repeat("a", Quote+1), strings.Repeat("a", Quote) + "…(129 bytes)"},
		// A character across the bound is dropped whole, never split.
		{strings.Repeat("a", Quote-1) + "é" + "b", strings.Repeat("a", Quote-1) + "…(130 bytes)"},
	} {
		if got := Input(c.in); got != c.want {
			t.Errorf("Input(%d bytes) = %q, want %q", len(c.in), got, c.want)
		}
	}
}
