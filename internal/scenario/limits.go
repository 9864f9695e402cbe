package scenario

import (
	"fmt"

	"github.com/acmock/acmock/internal/store"
)

// CheckLimits reports what of the scenario an emulator with limits l cannot hold, as Problems
// (nil when it fits): more applications than l.MaxApplications, more users (all applications
// together) than l.MaxUsers. A zero field of l takes store.DefaultLimits. Loading a scenario
// (PUT /_acmock/scenario, --scenario) and validating one (POST /_acmock/scenario/validate,
// acmock validate) check it with the same words.
func CheckLimits(sc *Scenario, l store.Limits) error {
	maxApps, maxUsers := l.MaxApplications, l.MaxUsers
	if maxApps <= 0 {
		maxApps = store.DefaultLimits.MaxApplications
	}
	if maxUsers <= 0 {
		maxUsers = store.DefaultLimits.MaxUsers
	}
	var problems Problems
	at := func(format string, args ...any) {
		problems = append(problems, Problem{File: sc.File, Line: 1, Column: 1, Msg: fmt.Sprintf(format, args...)})
	}
	if n := len(sc.Applications); n > maxApps {
		at("the scenario lists %d applications and the emulator holds at most %d (a fixed bound, see api/control.yaml, Bounds); limit reached", n, maxApps)
	}
	if n := sc.userCount(); n > maxUsers {
		at("the scenario lists %s and the emulator holds at most %d (set by --max-users or ACMOCK_MAX_USERS); limit reached",
			count(n, "user"), maxUsers)
	}
	if problems == nil {
		return nil
	}
	return problems
}

// count counts things in English: "1 user", "2 users".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
