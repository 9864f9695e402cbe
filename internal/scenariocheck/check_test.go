package scenariocheck_test

import (
	"context"
	"io/fs"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/scenariocheck"
	"github.com/acmock/acmock/internal/speccheck"
	"github.com/acmock/acmock/scenarios"
)

// serve starts an emulator with sc on a loopback server and returns a target for it.
func serve(t *testing.T, sc *scenario.Scenario, clk clock.Clock, advance func(time.Duration) error) scenariocheck.Target {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Clock: clk, Scenario: sc, CheckResponse: speccheck.Response})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})
	if advance == nil {
		v := clk.(*clock.Virtual)
		advance = func(d time.Duration) error { v.Advance(d); return nil }
	}
	return scenariocheck.Target{BaseURL: srv.URL, Client: srv.Client(), Advance: advance, Reset: emu.Reset}
}

// TestShippedScenarios plays the expectations of every file in scenarios/ under the virtual
// clock: a new scenario file is a new test.
func TestShippedScenarios(t *testing.T) {
	t.Parallel()
	playShipped(t, func(t *testing.T, sc *scenario.Scenario) scenariocheck.Target {
		return serve(t, sc, clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), nil)
	})
}

// TestShippedScenariosOnTheAutomaticClock plays them again on the automatic clock with nobody
// advancing it: the player's polls alone must walk every timeline, seeing the same statuses.
func TestShippedScenariosOnTheAutomaticClock(t *testing.T) {
	t.Parallel()
	playShipped(t, func(t *testing.T, sc *scenario.Scenario) scenariocheck.Target {
		return serve(t, sc, clock.NewAuto(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), func(time.Duration) error { return nil })
	})
}

func playShipped(t *testing.T, target func(*testing.T, *scenario.Scenario) scenariocheck.Target) {
	t.Helper()
	names, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil || len(names) < 11 {
		t.Fatalf("found %d shipped scenarios (%v)", len(names), err)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			t.Parallel()
			data, err := scenarios.FS.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := scenario.Parse(name, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Expect) == 0 {
				t.Fatalf("%s declares no expectations: a shipped scenario is also a test", name)
			}
			for _, err := range scenariocheck.Check(context.Background(), sc, target(t, sc)) {
				t.Error(err)
			}
		})
	}
}

const oneSecondSteps = `
name: one-second-steps
applications:
  - id: app
    secret: SECRET
    users:
      - id: erin
        phone: true
        login:
          - {after: 1s, status: identifying}
          - {after: 2s, status: active}
          - {after: 3s, status: closed}
expect:
  - user: erin
    statuses: [pending, identifying, active, closed]
`

// TestRealClockMatchesVirtual plays the same scenario on the wall clock and on the virtual clock
// and expects the same sequence of statuses.
func TestRealClockMatchesVirtual(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Parse("one-second-steps.yaml", []byte(oneSecondSteps))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	virtual := serve(t, sc, clock.NewVirtual(time.Now()), nil)
	want, err := scenariocheck.Play(ctx, sc, sc.Expect[0], virtual)
	if err != nil {
		t.Fatal(err)
	}

	// Polls land a quarter second after each step, so timer jitter cannot reorder them.
	first := true
	real := serve(t, sc, clock.Real{}, func(d time.Duration) error {
		if first {
			d += 250 * time.Millisecond
			first = false
		}
		time.Sleep(d)
		return nil
	})
	got, err := scenariocheck.Play(ctx, sc, sc.Expect[0], real)
	if err != nil {
		t.Fatal(err)
	}
	wantStatuses := []acapi.SessionStatus{"pending", "identifying", "active", "closed"}
	if !slices.Equal(want.Statuses, wantStatuses) || !slices.Equal(got.Statuses, want.Statuses) {
		t.Fatalf("virtual clock saw %v, real clock saw %v; want %v for both", want.Statuses, got.Statuses, wantStatuses)
	}
}

// TestCheckFailsOnAWrongExpectation proves the checker can fail: a scenario that expects the
// opposite of what its timeline does.
func TestCheckFailsOnAWrongExpectation(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Parse("wrong.yaml", []byte(strings.Replace(oneSecondSteps, "statuses: [pending, identifying, active, closed]", "final: cancelled", 1)))
	if err != nil {
		t.Fatal(err)
	}
	target := serve(t, sc, clock.NewVirtual(time.Now()), nil)
	errs := scenariocheck.Check(context.Background(), sc, target)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "want final status cancelled") {
		t.Fatalf("errors = %v", errs)
	}
}
