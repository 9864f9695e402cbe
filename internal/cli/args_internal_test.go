package cli

import (
	"flag"
	"slices"
	"strings"
	"testing"
	"time"
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

// TestDefaultHTTPTimeout: without --http-timeout or ACTIVECONNECT_HTTP_TIMEOUT every request is
// bounded by 30 s, for the application calls and for a saved session's calls alike.
func TestDefaultHTTPTimeout(t *testing.T) {
	t.Parallel()
	env := (&Env{}).withDefaults()
	for _, app := range []bool{true, false} {
		var g globalOptions
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		g.flags(fs)
		if err := g.resolve(env, app); err != nil {
			t.Fatal(err)
		}
		if c := g.httpClient(); c.Timeout != 30*time.Second || c != g.httpClient() {
			t.Fatalf("app %v: client timeout %v", app, c.Timeout)
		}
	}
	var g globalOptions
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	g.flags(fs)
	if err := fs.Parse([]string{"--http-timeout", "0"}); err != nil {
		t.Fatal(err)
	}
	if err := g.resolve(env, true); err != nil || g.httpClient().Timeout != 0 {
		t.Fatalf("--http-timeout 0: %v, %v", err, g.httpClient().Timeout)
	}
}

func TestShellWord(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"alice": "alice", "a.b@c-d_e+f%g=h:i,j/k": "a.b@c-d_e+f%g=h:i,j/k", "é": "é",
		"a b": "'a b'", "$x": "'$x'", "it's": `'it'\''s'`, "": "''", "a\nb": "'a\nb'", "*": "'*'",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
	if got := suggest("users add", "-x y"); got != "acclient users add -- '-x y'" {
		t.Errorf("suggest: %s", got)
	}
	if got := suggest("device link", ""); got != "acclient device link USER" {
		t.Errorf("suggest: %s", got)
	}
}
