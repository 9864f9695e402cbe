package scenario_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/scenario"
)

// lateSyntaxError is a scenario of about n lines whose second-to-last line is indented one space
// short, so the YAML parser gives up only near the end.
func lateSyntaxError(n int) []byte {
	var b strings.Builder
	b.WriteString("name: big\napplications:\n  - id: app\n    secret: S\n    users:\n")
	lines := 5
	for i := 0; lines < n-2; i++ {
		fmt.Fprintf(&b, "      - id: user%d\n        phone: true\n", i)
		lines += 2
	}
	b.WriteString("     - id: broken\n        phone: true\n")
	return []byte(b.String())
}

func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestSyntaxErrorCostIsLinear checks that locating a syntax error costs one parse: the memory
// allocated (a count that does not depend on how busy the machine is) grows like the file, not
// like its square, as it did when the line was found by re-parsing ever longer prefixes.
func TestSyntaxErrorCostIsLinear(t *testing.T) {
	small, large := lateSyntaxError(1000), lateSyntaxError(4000)
	parse := func(data []byte) func() {
		return func() {
			if _, err := scenario.Parse("f.yaml", data); err == nil {
				t.Fatal("the broken file was accepted")
			}
		}
	}
	a, b := allocatedBy(parse(small)), allocatedBy(parse(large))
	if ratio := float64(b) / float64(a); ratio > 8 {
		t.Fatalf("a file 4x as long allocated %.1fx as much (%d vs %d bytes): locating the error is not linear", ratio, b, a)
	}
}

func TestLateSyntaxErrorIsPlacedExactly(t *testing.T) {
	t.Parallel()
	data := lateSyntaxError(20_000)
	_, err := scenario.Parse("big.yaml", data)
	var problems scenario.Problems
	if !errors.As(err, &problems) || len(problems) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	line := strings.Count(string(data), "\n") - 1 // the one with the short indentation
	if got, want := problems[0].Error(), fmt.Sprintf("big.yaml:%d:6: YAML syntax: did not find expected key", line); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// BenchmarkParseLateSyntaxError parses 1 MiB, the default body limit of PUT /_acmock/scenario,
// with a syntax error on its last lines.
func BenchmarkParseLateSyntaxError(b *testing.B) {
	data := lateSyntaxError(50_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, _ = scenario.Parse("f.yaml", data)
	}
}

// TestBehaviourForFollowsEdits: the lookup built by Parse must not hide changes made to a parsed
// scenario afterwards (tests build scenarios that way).
func TestBehaviourForFollowsEdits(t *testing.T) {
	t.Parallel()
	sc := scenario.Default()
	app := &sc.Applications[0]
	if steps := sc.BehaviourFor(app.ID, "bob").Timeline(0); steps[0].Status != "cancelled" {
		t.Fatalf("bob: %+v", steps)
	}
	app.Users = append(app.Users, scenario.User{ID: "dave", Phone: &scenario.Phone{},
		Behaviour: &scenario.Behaviour{Attempts: [][]scenario.Step{{{After: time.Second, Status: "failed"}}}}})
	if steps := sc.BehaviourFor(app.ID, "dave").Timeline(0); len(steps) != 1 || steps[0].Status != "failed" {
		t.Fatalf("a user added after Parse: %+v", steps)
	}
	app.Users[1].Behaviour = nil
	if steps := sc.BehaviourFor(app.ID, "bob").Timeline(0); steps[0].Status != "active" {
		t.Fatalf("bob after losing his own timeline gets the defaults: %+v", steps)
	}
}
