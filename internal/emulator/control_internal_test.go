package emulator

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acctlserver"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/scenario"
)

// TestPutScenarioGivesWayToShutdown: a scenario being judged when the request's context ends
// (shutdown cancels every request's context) answers 503 at once and loads nothing, so a shutdown
// never waits for it.
func TestPutScenarioGivesWayToShutdown(t *testing.T) {
	t.Parallel()
	e, err := New(Options{Clock: clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var b strings.Builder
	b.WriteString("applications:\n  - id: a\n    secret: s\n    users:\n")
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "      - id: user%d\n        phone: true\n", i)
	}
	b.WriteString("     - id: broken\n")
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan acctlserver.PutScenarioResponseObject, 1)
	go func() {
		res, err := control{e}.PutScenario(ctx, acctlserver.PutScenarioRequestObject{Body: bytes.NewReader([]byte(b.String()))})
		if err != nil {
			t.Error(err)
		}
		got <- res
	}()
	cancel()
	res := <-got
	if r, ok := res.(acctlserver.PutScenario503JSONResponse); !ok || r.Code != "shutting_down" {
		t.Fatalf("want a 503 shutting_down, got %T %+v", res, res)
	}
	if e.Scenario().Name != "default" {
		t.Fatal("the scenario changed")
	}
}

// TestFaultCountersAreBounded: the call counters of "the Nth call" faults, one per session or user,
// stop growing at maxFaultScopes, forgetting the oldest.
func TestFaultCountersAreBounded(t *testing.T) {
	t.Parallel()
	s := newFaultState(&scenario.Scenario{})
	for i := range maxFaultScopes + 10 {
		if n := s.count(faultCallKey{scope: fmt.Sprint("session ", i)}); n != 1 {
			t.Fatalf("first call in a new scope counted %d", n)
		}
	}
	if len(s.calls) != maxFaultScopes {
		t.Fatalf("%d counters kept, want %d", len(s.calls), maxFaultScopes)
	}
	if n := s.count(faultCallKey{scope: "session 0"}); n != 1 {
		t.Fatalf("the oldest scope was not forgotten: count %d", n)
	}
	if n := s.count(faultCallKey{scope: fmt.Sprint("session ", maxFaultScopes+9)}); n != 2 {
		t.Fatalf("a recent scope lost its count: %d", n)
	}
}
