package contracttests

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/scenariocheck"
	"github.com/acmock/acmock/scenarios"
)

// playScenario loads a scenario on the test's server and plays its expectations through the
// validating client: in-process the emulator loads it directly, on a separate acmock through the
// control API (PUT /_acmock/scenario, POST /_acmock/reset, POST /_acmock/clock/advance).
func playScenario(t *testing.T, tg *target, name string, data []byte) []error {
	t.Helper()
	sc := parseScenario(t, name, data)
	// A scenario may answer malformed JSON or a body of its own on purpose; those answers are
	// what it tests, not a drift of the emulator from the spec. Only they are excused: a body
	// that does not decode, on an operation with a malformed fault, and the status a custom-body
	// fault answers, on its operation. Anything else still fails the test.
	type key struct {
		op     string
		status int
	}
	malformed, custom := map[string]bool{}, map[key]bool{}
	for _, f := range sc.Faults {
		switch {
		case f.Malformed:
			malformed[f.Operation] = true
		case f.Body != "":
			custom[key{f.Operation, f.Status}] = true
		}
	}
	excuse := func(v Violation) bool {
		if v.Status == 0 {
			return false
		}
		return custom[key{v.Operation, v.Status}] || (malformed[v.Operation] && strings.Contains(v.Message, "decod"))
	}
	tg.excuse.Store(&excuse)
	target := scenariocheck.Target{BaseURL: tg.baseURL, Client: tg.client, Advance: tg.advance, Signer: newSigner}
	if tg.emu != nil {
		target.Reset = func() error { return tg.emu.LoadScenario(sc) }
	} else {
		tg.loadScenario(t, data)
		target.Reset = tg.reset
	}
	return scenariocheck.Check(context.Background(), sc, target)
}

// TestScenarios plays the expectations of every file in scenarios/: a new scenario file is a new
// test, with no Go code to write.
func TestScenarios(t *testing.T) {
	names, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no scenario files found: %v", err)
	}
	if !config().remote {
		t.Parallel()
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			tg := newTarget(t, clockTo("play the scenario's timeline"))
			data, err := scenarios.FS.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if sc := parseScenario(t, name, data); len(sc.Expect) == 0 {
				t.Fatalf("%s declares no expectations: a shipped scenario is also a test", name)
			}
			for _, err := range playScenario(t, tg, name, data) {
				t.Error(err)
			}
		})
	}
}

// TestScenarioCheckCanFail proves the scenario tests can fail: default.yaml with alice's
// expectation turned around must be reported.
func TestScenarioCheckCanFail(t *testing.T) {
	tg := newTarget(t, clockTo("play the scenario's timeline"))
	data, err := scenarios.FS.ReadFile("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(data), "statuses: [pending, active]", "statuses: [pending, cancelled]", 1)
	if wrong == string(data) {
		t.Fatal("default.yaml no longer expects alice's statuses [pending, active]; update this test")
	}
	errs := playScenario(t, tg, "default-turned-around.yaml", []byte(wrong))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "want statuses [pending cancelled], saw [pending active]") {
		t.Fatalf("want one error about alice's statuses, got %v", errs)
	}
}

// TestDefaultTimeline follows a login under the built-in demo's defaults: a user added at run time
// who registered a phone is approved 2 s after the login, and not before.
func TestDefaultTimeline(t *testing.T) {
	tg := newTarget(t, clockTo("let the 2 s of the default timeline pass"))
	if tg.cfg.remote {
		// In-process the emulator serves the demo; a separate acmock may serve anything.
		data, err := scenarios.FS.ReadFile("default.yaml")
		if err != nil {
			t.Fatal(err)
		}
		sc := parseScenario(t, "default.yaml", data)
		if sc.Applications[0].ID != tg.appID {
			t.Skipf("skipped against %s: the demo scenario's application is not ACMOCK_APP_ID %s", tg.baseURL, tg.appID)
		}
		tg.loadScenario(t, data)
	}
	user := tg.user("dave")
	tg.addUsers(t, user)
	tg.registerPhone(t, user)
	s := tg.authenticate(t, user)
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "pending"},
		{time.Second, "pending"},
		{999 * time.Millisecond, "pending"},
		{time.Millisecond, "active"},
		{time.Hour, "active"}, // an approved session outlives the login timeout
	}
	for _, st := range steps {
		if err := tg.advance(st.advance); err != nil {
			t.Fatal(err)
		}
		if got := tg.status(t, s); string(got.SessionStatus) != st.want {
			t.Fatalf("after %v more: %s, want %s", st.advance, got.SessionStatus, st.want)
		}
	}
}

// TestScenarioParsesLikeTheEmulator guards playScenario's excuse list: it reads the same fields
// the emulator's loader fills in.
func TestScenarioParsesLikeTheEmulator(t *testing.T) {
	t.Parallel()
	data, err := scenarios.FS.ReadFile("flaky-network.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse("flaky-network.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	malformed := 0
	for _, f := range sc.Faults {
		if f.Malformed {
			malformed++
			if f.Operation != "hasRegisteredMobileDevice" {
				t.Errorf("flaky-network's malformed fault is on %s", f.Operation)
			}
		}
	}
	if malformed != 1 {
		t.Fatalf("flaky-network.yaml has %d malformed faults, want 1", malformed)
	}
}
