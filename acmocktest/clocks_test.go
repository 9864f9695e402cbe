package acmocktest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/scenarios"
)

// timelines has one user per kind of timeline, its steps 300 ms apart.
const timelines = `
timeout: 900ms
applications:
  - id: 5ca1ab1e000000000000000000000001
    secret: ACMOCKDEMOSECRET0000000000000001
    users:
      - id: erin     # identifies, approves, walks away, comes back, is closed from the phone
        phone: true
        login:
          - {after: 300ms, status: identifying}
          - {after: 600ms, status: active}
          - {after: 900ms, status: walkaway}
          - {after: 1200ms, status: active}
          - {after: 1500ms, status: closed}
      - id: bob      # declines
        phone: true
        login: [{after: 300ms, status: identifying}, {after: 600ms, status: cancelled}]
      - id: quiet    # never answers
        phone: true
        login: []
      - id: slow     # starts identifying, then nothing: timeout
        phone: true
        login: [{after: 300ms, status: identifying}]
      - id: zero     # approves at once, logged out from the phone later
        phone: true
        login: [{after: 0s, status: active}, {after: 600ms, status: closed}]
`

// spread stretches the steps of timelines to a multiple of one second, so that a client polling
// every 10 ms on the real clock sees each status even when a loaded machine stalls a poll for
// several hundred milliseconds.
func spread(yaml string) string {
	return strings.NewReplacer("300ms", "1s", "600ms", "2s", "900ms", "3s", "1200ms", "4s", "1500ms", "5s").Replace(yaml)
}

// distinctStatuses logs user in and polls until the session ends, pausing between polls, and
// returns the distinct statuses the polls saw.
func distinctStatuses(t *testing.T, srv *acmocktest.Server, user string, pause func()) []activeconnect.SessionStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := srv.Authentication().AuthenticateUser(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	var seen []activeconnect.SessionStatus
	for {
		status, err := s.Refresh(ctx)
		if err != nil {
			t.Fatalf("poll %s after %v: %v", user, seen, err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != status {
			seen = append(seen, status)
		}
		switch status {
		case activeconnect.StatusTimeout, activeconnect.StatusCancelled, activeconnect.StatusFailed, activeconnect.StatusClosed:
			return seen // ended
		}
		pause()
	}
}

// TestClocksGiveTheSameStatuses: one timeline gives a polling client the same sequence of
// distinct statuses on the real clock (polls 10 ms apart), on the manual virtual clock (each pause
// advances it 10 ms) and on the default clock (the client sleeps 1 ms of real time, as an
// application's own loop would, and nobody advances anything).
func TestClocksGiveTheSameStatuses(t *testing.T) {
	t.Parallel()
	want := map[string][]activeconnect.SessionStatus{
		"erin":  {"pending", "identifying", "active", "walkaway", "active", "closed"},
		"bob":   {"pending", "identifying", "cancelled"},
		"quiet": {"pending", "timeout"},
		"slow":  {"pending", "identifying", "timeout"},
		"zero":  {"active", "closed"},
	}
	clocks := map[string]struct {
		opts      []acmocktest.Option
		timelines string
		pause     func(*acmocktest.Server) func()
	}{
		"real":    {[]acmocktest.Option{acmocktest.WithRealClock()}, spread(timelines), func(*acmocktest.Server) func() { return func() { time.Sleep(10 * time.Millisecond) } }},
		"manual":  {[]acmocktest.Option{acmocktest.WithManualClock()}, timelines, func(s *acmocktest.Server) func() { return func() { s.Advance(10 * time.Millisecond) } }},
		"default": {nil, timelines, func(*acmocktest.Server) func() { return func() { time.Sleep(time.Millisecond) } }},
	}
	for clockName, c := range clocks {
		for user, statuses := range want {
			t.Run(clockName+"/"+user, func(t *testing.T) {
				t.Parallel()
				// One server per login: on the default clock a jump for one session also moves
				// the others (see the package documentation).
				srv := acmocktest.Run(t, append(c.opts, acmocktest.WithScenarioYAML([]byte(c.timelines)))...)
				if got := distinctStatuses(t, srv, user, c.pause(srv)); !slices.Equal(got, statuses) {
					t.Fatalf("%s clock: %s's polls saw %v, want %v", clockName, user, got, statuses)
				}
			})
		}
	}
}

// TestZeroDelayStepsOnEveryClock: a step after 0s is there for the very first poll, with no time
// passing, on each clock.
func TestZeroDelayStepsOnEveryClock(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]acmocktest.Option{
		"real": acmocktest.WithRealClock(), "manual": acmocktest.WithManualClock(), "default": nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := []acmocktest.Option{acmocktest.WithScenarioYAML([]byte(timelines))}
			if opt != nil {
				opts = append(opts, opt)
			}
			srv := acmocktest.Run(t, opts...)
			ctx := context.Background()
			s, err := srv.Authentication().AuthenticateUser(ctx, "zero")
			if err != nil || s.Status != activeconnect.StatusPending {
				t.Fatalf("authenticate: %v, %s (a login always starts pending)", err, s.Status)
			}
			if got, err := s.Refresh(ctx); err != nil || got != activeconnect.StatusActive {
				t.Fatalf("first poll: %s, %v; want active", got, err)
			}
		})
	}
}

// TestTimeoutTakesScenarioTimeOnly: on the default clock a login nobody answers times out after
// the scenario's 60 s, in scenario time, while the client sleeps for real between polls.
func TestTimeoutTakesScenarioTimeOnly(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t, acmocktest.WithScenarioYAML([]byte(`
applications:
  - id: app
    secret: SECRET
    users: [{id: dave, phone: true, login: []}]
`)))
	auth, err := activeconnect.NewAuthenticationAPI("app", "SECRET", srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := srv.Now()
	s, err := auth.AuthenticateUser(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(ctx, time.Millisecond); err != nil || s.Status != activeconnect.StatusTimeout {
		t.Fatalf("Wait: %v, status %s", err, s.Status)
	}
	if got := srv.Now().Sub(start); got != 60*time.Second {
		t.Fatalf("scenario time moved %v, want 60s", got)
	}
}

func TestPhoneHelpersAcceptAUser(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	err := srv.Approve("bob")
	if !errors.Is(err, acmocktest.ErrNoSession) || err.Error() != `acmocktest: user "bob" has no session yet; start a login first` {
		t.Fatalf("approving bob before any login: %v", err)
	}
	first, _ := srv.Authentication().AuthenticateUser(ctx, "bob")
	if err := srv.Deny("bob"); err != nil {
		t.Fatal(err)
	}
	second, _ := srv.Authentication().AuthenticateUser(ctx, "bob")
	if err := srv.Approve("bob"); err != nil { // bob's phone would decline; the test approves
		t.Fatal(err)
	}
	if got, _ := second.Refresh(ctx); got != activeconnect.StatusActive {
		t.Fatalf("bob's second login: %s", got)
	}
	if got, _ := first.Refresh(ctx); got != activeconnect.StatusCancelled {
		t.Fatalf("bob's first login: %s", got)
	}
	if err := srv.WalkAway("bob"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Identify("bob"); !errors.Is(err, acmocktest.ErrBadTransition) ||
		!strings.Contains(err.Error(), `user "bob" has no session that can become identifying: its 2 sessions are, newest first, walkaway, cancelled`) {
		t.Fatalf("identifying when no session can: %v", err)
	}
	if err := srv.Approve("nobody"); !errors.Is(err, acmocktest.ErrNoSession) || !strings.Contains(err.Error(), `no session or user "nobody"`) {
		t.Fatalf("an unknown user: %v", err)
	}
	// A token still works as before.
	if err := srv.CloseSession(second.Token); err != nil {
		t.Fatal(err)
	}
}

func TestBadFilter(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	if _, err := srv.Authentication().AuthenticateUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	// The name in the URL is accepted, and the entries carry the operationId.
	got := srv.Requests(acmocktest.Filter{Operation: "authenticate_user"})
	if len(got) != 1 || got[0].Operation != "authenticateUser" {
		t.Fatalf("authenticate_user: %+v", got)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	before := time.Now()
	_, err := srv.WaitRequests(wctx, acmocktest.Filter{Operation: "nosuchop"}, 1)
	if err == nil || !strings.Contains(err.Error(), `unknown operation "nosuchop"`) || !strings.Contains(err.Error(), "getSessionStatus") ||
		!strings.Contains(err.Error(), "session_status") || time.Since(before) > 30*time.Second {
		t.Fatalf("WaitRequests with a bad name: %v", err)
	}
	defer func() {
		p := recover()
		perr, ok := p.(error)
		if !ok || !strings.Contains(perr.Error(), `unknown operation "getSessionStatuss"`) {
			t.Fatalf("Requests with a bad name must panic with the error, got %v", p)
		}
	}()
	srv.Requests(acmocktest.Filter{Operation: "getSessionStatuss"})
}

func TestWithScenarioByName(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t, acmocktest.WithScenario(scenarios.DenyThenApprove))
	ctx := context.Background()
	for _, want := range []activeconnect.SessionStatus{activeconnect.StatusCancelled, activeconnect.StatusActive} {
		s, err := srv.Authentication().AuthenticateUser(ctx, "grace")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Wait(ctx, time.Millisecond); err != nil || s.Status != want {
			t.Fatalf("grace: %v %s, want %s", err, s.Status, want)
		}
	}
	_, err := acmocktest.Start(acmocktest.WithScenario("denied"))
	if !errors.Is(err, scenarios.ErrUnknown) || !strings.Contains(err.Error(), `no shipped scenario named "denied"; the shipped ones are approve-after-delay, default, deny,`) {
		t.Fatalf("an unknown name: %v", err)
	}
}
