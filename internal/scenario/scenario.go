// Package scenario describes what the emulated world holds and how its phones behave: the
// applications and users a run starts with, and the timeline of statuses a user's phone produces
// after each login.
//
//	sc := scenario.Default()
//	steps := sc.BehaviourFor(appID, "bob").Timeline(0) // bob's first login
//	// steps[0]: after 2s, cancelled
package scenario

import (
	"fmt"
	"slices"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/scenarios"
)

// DefaultTimeout is how long a session waits for the phone before it reaches timeout.
const DefaultTimeout = 60 * time.Second

// Demo credentials, also printed by acmock at start-up. They are public on purpose: the emulator
// binds to loopback unless told otherwise.
const (
	DemoApplicationID     = "5ca1ab1e000000000000000000000001"
	DemoApplicationSecret = "ACMOCKDEMOSECRET0000000000000001"
)

// Scenario is one emulated world.
type Scenario struct {
	Name        string
	Description string
	// File is where the scenario was loaded from, for messages ("" when built in Go).
	File string
	// Source is the YAML the scenario was read from.
	Source []byte
	// Seed drives the fault probabilities, so a run can be reproduced.
	Seed uint64
	// Timeout is how long a session stays pending or identifying before it reaches timeout.
	Timeout      time.Duration
	Applications []Application
	// Defaults is what the phone of a user who is not listed does (including users added at run time).
	Defaults Behaviour
	// Faults are what the network or the service does wrong, in order: the first that applies wins.
	Faults []Fault
	// Expect is what a client should observe; the contract tests check it.
	Expect []Expectation

	// users indexes the listed users by application and user ID (to their positions in
	// Applications), so a login finds its timeline at once however many users the scenario lists.
	// Parse builds it; BehaviourFor checks each hit, so a scenario edited after Parse still works.
	users map[[2]string][2]int
}

// userCount counts the users listed, in all applications.
func (s *Scenario) userCount() int {
	n := 0
	for _, app := range s.Applications {
		n += len(app.Users)
	}
	return n
}

// Fault makes matching calls fail or slow down.
type Fault struct {
	Name string
	// Operation is an operationId of api/openapi.yaml; Application and User narrow the match.
	Operation   string
	Application string
	User        string
	// Call picks the Nth matching call (from 1) within a session for status and logout, within a
	// user for user-scoped calls, within an application otherwise; 0 matches every call. Only
	// calls to a session, user or application that exists are counted.
	Call int
	// Times limits the fault to the first N calls it applies to; 0 means no limit.
	Times int
	// Probability applies the fault to a share of matching calls, drawn from the scenario's seed;
	// 0 means always.
	Probability float64
	// Latency delays the call (real time, whatever the clock) before it is answered.
	Latency time.Duration
	// Respond answers with this status instead of serving the call (0: serve it).
	Status  int
	Headers map[string]string
	// Body is the raw response body; empty means a JSON Error naming the fault.
	Body string
	// Drop closes the connection without an answer.
	Drop bool
	// Malformed serves the call but cuts its JSON body short.
	Malformed bool
}

// Matches reports whether the fault is about a call of operation for this application and user.
func (f *Fault) Matches(operation, app, user string) bool {
	return f.Operation == operation && (f.Application == "" || f.Application == app) && (f.User == "" || f.User == user)
}

// Describe names the fault for logs and the journal.
func (f *Fault) Describe() string {
	if f.Name != "" {
		return f.Name
	}
	switch {
	case f.Drop:
		return "drop " + f.Operation
	case f.Malformed:
		return "malformed " + f.Operation
	case f.Status != 0:
		return fmt.Sprintf("%d on %s", f.Status, f.Operation)
	default:
		return fmt.Sprintf("%v latency on %s", f.Latency, f.Operation)
	}
}

// Expectation is what a client should observe when it logs a user in and polls the session at
// every step of the timeline.
type Expectation struct {
	Application string
	User        string
	// Login is which login of the user this is about, from 1.
	Login int
	// Reason is the failure reason when the session must not start.
	Reason acapi.AuthenticationFailureReason
	// Statuses is the sequence of distinct statuses the polls see.
	Statuses []acapi.SessionStatus
	// Final is the last status the polls see.
	Final acapi.SessionStatus
	// Operation and Responses: the first calls of this operation answer these statuses in order
	// ("503", "200", or "dropped" / "malformed").
	Operation string
	Responses []string
	// Calls, when set, makes the player call Operation that many times for the user, once each
	// without retrying, instead of playing a login.
	Calls int
	// MinLatency is the least time every call of Operation must take (a latency fault's effect).
	MinLatency time.Duration
}

// CallableOperations are the operations an expectation's calls can make for a user.
var CallableOperations = []string{"hasRegisteredMobileDevice", "getDeviceRegistrationLink", "authenticateUser"}

// Application is an application with its credentials and initial users.
type Application struct {
	ID     string
	Secret string
	Users  []User
}

// User is a user present when the scenario starts.
type User struct {
	ID string
	// Phone is the user's registered phone; nil means the user has none.
	Phone *Phone
	// Behaviour overrides the scenario's defaults for this user's logins.
	Behaviour *Behaviour
}

// Phone is a registered phone.
type Phone struct {
	// Methods are the authentication methods the phone supports; empty means all.
	Methods []acapi.AuthenticationMethod
}

// Behaviour is what a phone does after a login starts, per attempt: the first login follows
// Attempts[0], the second Attempts[1], and the last entry repeats.
type Behaviour struct {
	Attempts [][]Step
}

// Step is one status change, After the login started.
type Step struct {
	After  time.Duration
	Status acapi.SessionStatus
}

// Timeline returns the steps of the attempt-th login (counted from 0).
func (b Behaviour) Timeline(attempt int) []Step {
	if len(b.Attempts) == 0 {
		return nil
	}
	return b.Attempts[min(attempt, len(b.Attempts)-1)]
}

// SessionTimeout returns the scenario's timeout, or DefaultTimeout when it sets none.
func (s *Scenario) SessionTimeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

// BehaviourFor returns the behaviour of a user: the user's own when the scenario lists one, else
// the defaults.
func (s *Scenario) BehaviourFor(appID, userID string) Behaviour {
	at, ok := s.users[[2]string{appID, userID}]
	if ok && at[0] < len(s.Applications) && at[1] < len(s.Applications[at[0]].Users) {
		app := &s.Applications[at[0]]
		if u := &app.Users[at[1]]; app.ID == appID && u.ID == userID {
			if u.Behaviour != nil {
				return *u.Behaviour
			}
			return s.Defaults
		}
	}
	if !ok && s.users != nil && len(s.users) == s.userCount() {
		return s.Defaults // not listed, and the index still counts every listed user
	}
	for _, app := range s.Applications {
		if app.ID != appID {
			continue
		}
		for _, u := range app.Users {
			if u.ID == userID && u.Behaviour != nil {
				return *u.Behaviour
			}
		}
	}
	return s.Defaults
}

// Lists reports whether the scenario lists the user in the application.
func (s *Scenario) Lists(appID, userID string) bool {
	if at, ok := s.users[[2]string{appID, userID}]; ok && at[0] < len(s.Applications) && at[1] < len(s.Applications[at[0]].Users) {
		if app := &s.Applications[at[0]]; app.ID == appID && app.Users[at[1]].ID == userID {
			return true
		}
	} else if !ok && s.users != nil && len(s.users) == s.userCount() {
		return false // the index still counts every listed user
	}
	for _, app := range s.Applications {
		if app.ID == appID && slices.ContainsFunc(app.Users, func(u User) bool { return u.ID == userID }) {
			return true
		}
	}
	return false
}

// index builds the lookup of BehaviourFor; a scenario built in Go without it still works.
func (s *Scenario) index() {
	s.users = map[[2]string][2]int{}
	for i, app := range s.Applications {
		for j, u := range app.Users {
			s.users[[2]string{app.ID, u.ID}] = [2]int{i, j}
		}
	}
}

// Default is the built-in demo, scenarios/default.yaml: alice approves after 2 s, bob denies
// after 2 s, carol has no phone, and any other user approves 2 s after a login once a phone is
// registered. Each call returns a fresh copy.
func Default() *Scenario {
	data, err := scenarios.FS.ReadFile("default.yaml")
	if err == nil {
		var sc *Scenario
		if sc, err = Parse("default.yaml", data); err == nil {
			return sc
		}
	}
	panic(fmt.Sprintf("the built-in scenario is broken: %v", err)) // a test loads it on every build
}
