// Package scenarios holds the scenario files shipped with acmock, embedded, so that any module can
// use them by name: the binary's built-in demo (default.yaml) and the cases that are hard to get
// from the real service. Each file is documented at its top; scenarios/README.md gives the format.
//
//	srv := acmocktest.Run(t, acmocktest.WithScenario(scenarios.Deny)) // bob declines
//	data, err := scenarios.Walkaway.YAML()                            // the file itself
package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FS holds every *.yaml file of this directory.
//
//go:embed *.yaml
var FS embed.FS

// Name names a shipped scenario: its file name without .yaml.
type Name string

// The shipped scenarios; Names lists them all.
const (
	// Default is the built-in demo: alice approves after 2 s, bob denies after 2 s, carol has no
	// phone, anyone else approves 2 s after a login once registered.
	Default Name = "default"
	// ApproveAfterDelay: alice's phone identifies after 1 s and approves after 30 s.
	ApproveAfterDelay Name = "approve-after-delay"
	// Deny: bob's phone identifies after 1 s and bob declines at 3 s (cancelled).
	Deny Name = "deny"
	// DenyThenApprove: grace declines her first login and approves every later one.
	DenyThenApprove Name = "deny-then-approve"
	// FlakyNetwork: 503s with Retry-After, a dropped connection and seeded malformed answers.
	FlakyNetwork Name = "flaky-network"
	// MultiApp: two applications with a user of the same name each.
	MultiApp Name = "multi-app"
	// NoDevice: carol has no phone (NO_MOBILE_DEVICE); unknown users get UNKNOWN_USER.
	NoDevice Name = "no-device"
	// RemoteLogout: frank approves after 2 s and his phone closes the session at 32 s.
	RemoteLogout Name = "remote-logout"
	// SlowService: real-time latency on authenticate and status polls.
	SlowService Name = "slow-service"
	// Timeout: dave's phone never answers; his logins time out after 45 s.
	Timeout Name = "timeout"
	// Walkaway: erin approves at 3 s, walks away at 60 s and is back at 70 s.
	Walkaway Name = "walkaway"
)

// ErrUnknown is returned for a name no shipped scenario has.
var ErrUnknown = errors.New("no shipped scenario")

// Names lists the shipped scenarios in alphabetical order.
func Names() []Name {
	entries, err := FS.ReadDir(".")
	if err != nil {
		panic(fmt.Sprintf("scenarios: the embedded files cannot be listed: %v", err)) // embedded at build time
	}
	var out []Name
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, Name(n))
		}
	}
	slices.Sort(out)
	return out
}

// YAML returns the scenario's file. A name no shipped scenario has is ErrUnknown, with a message
// that lists the names.
func (n Name) YAML() ([]byte, error) {
	if !slices.Contains(Names(), n) {
		names := make([]string, 0, len(Names()))
		for _, k := range Names() {
			names = append(names, string(k))
		}
		return nil, fmt.Errorf("%w named %q; the shipped ones are %s", ErrUnknown, string(n), strings.Join(names, ", "))
	}
	return FS.ReadFile(string(n) + ".yaml")
}

// File is how messages name the scenario's file: its place in the acmock repository.
func (n Name) File() string { return "scenarios/" + string(n) + ".yaml" }
