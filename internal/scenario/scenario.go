// Package scenario describes what the emulated world holds and how its phones behave: the
// applications and users a run starts with, and the timeline of statuses a user's phone produces
// after each login.
//
//	sc := scenario.Default()
//	steps := sc.BehaviourFor(appID, "bob").Timeline(0) // bob's first login
//	// steps[0]: after 2s, cancelled
package scenario

import (
	"time"

	"github.com/acmock/acmock/generated/acapi"
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
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Timeout is how long a session stays pending or identifying before it reaches timeout.
	Timeout      time.Duration `yaml:"timeout"`
	Applications []Application `yaml:"applications"`
	// Defaults is what the phone of a user who is not listed does (including users added at run time).
	Defaults Behaviour `yaml:"defaults"`
}

// Application is an application with its credentials and initial users.
type Application struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
	Users  []User `yaml:"users"`
}

// User is a user present when the scenario starts.
type User struct {
	ID string `yaml:"id"`
	// Phone is the user's registered phone; nil means the user has none.
	Phone *Phone `yaml:"phone"`
	// Behaviour overrides the scenario's defaults for this user's logins.
	Behaviour *Behaviour `yaml:"login"`
}

// Phone is a registered phone.
type Phone struct {
	// Methods are the authentication methods the phone supports; empty means all.
	Methods []acapi.AuthenticationMethod `yaml:"methods"`
}

// Behaviour is what a phone does after a login starts, per attempt: the first login follows
// Attempts[0], the second Attempts[1], and the last entry repeats.
type Behaviour struct {
	Attempts [][]Step `yaml:"attempts"`
}

// Step is one status change, After the login started.
type Step struct {
	After  time.Duration       `yaml:"after"`
	Status acapi.SessionStatus `yaml:"status"`
}

// Timeline returns the steps of the attempt-th login (counted from 0).
func (b Behaviour) Timeline(attempt int) []Step {
	if len(b.Attempts) == 0 {
		return nil
	}
	return b.Attempts[min(attempt, len(b.Attempts)-1)]
}

// Always returns a behaviour that follows steps on every login.
func Always(steps ...Step) Behaviour {
	return Behaviour{Attempts: [][]Step{steps}}
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

// Default is the built-in demo: alice approves after 2 s, bob denies after 2 s, carol has no
// phone, and any other user approves 2 s after a login once a phone is registered.
func Default() *Scenario {
	approve := Always(Step{After: 2 * time.Second, Status: acapi.SessionStatusActive})
	deny := Always(Step{After: 2 * time.Second, Status: acapi.SessionStatusCancelled})
	return &Scenario{
		Name:        "default",
		Description: "The built-in demo application with alice (approves), bob (denies) and carol (no phone).",
		Timeout:     DefaultTimeout,
		Applications: []Application{{
			ID:     DemoApplicationID,
			Secret: DemoApplicationSecret,
			Users: []User{
				{ID: "alice", Phone: &Phone{}, Behaviour: &approve},
				{ID: "bob", Phone: &Phone{}, Behaviour: &deny},
				{ID: "carol"},
			},
		}},
		Defaults: approve,
	}
}
