package scenario_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/acmock/acmock/internal/scenario"
)

// yamlLines splits a file into its lines the way YAML counts them: "\r\n", "\n" and a lone "\r"
// each end one.
func yamlLines(data string) []string {
	return strings.Split(strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n"), "\n")
}

// FuzzParse feeds the loader arbitrary files. Whatever the input, Parse returns a scenario with an
// application or Problems (never another error, never a panic), and every problem is located inside
// the file: a line that exists (or the one just past the end) and a column within that line.
func FuzzParse(f *testing.F) {
	shipped, _ := filepath.Glob("../../scenarios/*.yaml")
	for _, path := range shipped {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(string(data))
		}
	}
	for _, seed := range []string{
		"name: x\nexpect: [1, 2\nseed: 3\n", "applications:\n  - id: x\n - id: y\n", "name: x\n\tseed: 1\n",
		header + "      - id: a\n\t  phone: true\n", header + "      - id: a\n     - id: b\n", header + "      - id: a\n---\nname: b\n",
		"a: 'unclosed\nb: 2\n", "a: &x 1\nb: *y\n", "a: \"\\q\"\n", "\ufeffname: x\r\napplications: [\r", "[[[[[[", "- - - -\n",
		"applications:\n  - id: a\n    secret: s\n    users: [{id: ü, phone: {methods: [facial]}, login: [{after: 1s, status: active}]}]\n",
		"faults:\n  - operation: logout\n    respond: {status: 503, headers: {Retry-After: '1'}}\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		sc, err := scenario.Parse("f.yaml", []byte(data))
		if err == nil {
			if sc == nil || len(sc.Applications) == 0 {
				t.Fatalf("accepted without an application: %+v", sc)
			}
			return
		}
		var problems scenario.Problems
		if !errors.As(err, &problems) || len(problems) == 0 || sc != nil {
			t.Fatalf("want Problems and no scenario, got %T %v (scenario %v)", err, err, sc)
		}
		lines := yamlLines(data)
		for _, p := range problems {
			if p.File != "f.yaml" || p.Msg == "" || strings.Contains(p.Msg, "\n") {
				t.Fatalf("problem %+v", p)
			}
			if p.Line < 1 || p.Line > len(lines)+1 {
				t.Fatalf("problem at line %d of a %d-line file: %v", p.Line, len(lines), p)
			}
			width := 0
			if p.Line <= len(lines) {
				width = utf8.RuneCountInString(lines[p.Line-1])
			}
			if p.Column < 1 || p.Column > width+1 {
				t.Fatalf("problem at column %d of a line %d characters wide: %v (line %q)", p.Column, width, p, lines[min(p.Line, len(lines))-1])
			}
		}
		if n := strings.Count(err.Error(), "\n") + 1; n > scenario.MaxListed+1 {
			t.Fatalf("the message has %d lines", n)
		}
	})
}
