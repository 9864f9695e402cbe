package cli

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Bool("wait", false, "")
	fs.String("output", "", "")
	tests := []struct {
		args             string
		flags, positions string
	}{
		{"alice --wait", "--wait", "alice"},
		{"--wait alice", "--wait", "alice"},
		{"alice --output json bob", "--output json", "alice bob"},
		{"alice --output=json", "--output=json", "alice"},
		{"--output", "--output", ""},
		{"alice -- --wait -x", "", "alice --wait -x"},
		{"- alice", "", "- alice"},
		{"--unknown alice", "--unknown", "alice"},
		{"--wait=false alice", "--wait=false", "alice"},
	}
	for _, tt := range tests {
		flags, pos := splitArgs(strings.Fields(tt.args), flagKinds(fs))
		if !slices.Equal(flags, strings.Fields(tt.flags)) || !slices.Equal(pos, strings.Fields(tt.positions)) {
			t.Errorf("splitArgs(%q) = %q, %q; want %q, %q", tt.args, flags, pos, tt.flags, tt.positions)
		}
	}
}

// TestFlagNamesAgree checks that a flag name means the same in every command, which finding the
// command words before knowing the command relies on.
func TestFlagNamesAgree(t *testing.T) {
	t.Parallel()
	kinds := map[string]bool{}
	for _, c := range commands {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		var g globalOptions
		g.flags(fs)
		c.new().flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			_, boolean := flagKinds(fs)(f.Name)
			if prev, ok := kinds[f.Name]; ok && prev != boolean {
				t.Errorf("--%s takes a value in one command and not in another", f.Name)
			}
			kinds[f.Name] = boolean
		})
	}
}
