package emulator_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// TestScenarioOverALimitSaysSoOnce: a scenario past --max-users is refused with an error that is
// store.ErrLimitReached and carries the problems, and says "limit reached" once.
func TestScenarioOverALimitSaysSoOnce(t *testing.T) {
	sc, err := scenario.Parse("six.yaml", []byte("applications:\n  - id: app\n    secret: s\n    users: [{id: a}, {id: b}, {id: c}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = emulator.New(emulator.Options{Scenario: sc, Limits: store.Limits{MaxUsers: 2}})
	var problems scenario.Problems
	if !errors.Is(err, store.ErrLimitReached) || !errors.As(err, &problems) {
		t.Fatalf("New with 3 users past a limit of 2: %v, want ErrLimitReached and the problems", err)
	}
	if n := strings.Count(err.Error(), "limit reached"); n != 1 {
		t.Fatalf("the error says limit reached %d times: %v", n, err)
	}
}
