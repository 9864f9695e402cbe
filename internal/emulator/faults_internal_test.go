package emulator

import (
	"fmt"
	"testing"

	"github.com/acmock/acmock/internal/scenario"
)

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
