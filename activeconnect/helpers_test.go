package activeconnect_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/generated/acctl"
)

const (
	demoApp    = acmocktest.DemoApplicationID
	demoSecret = acmocktest.DemoApplicationSecret
)

// env is an acmocktest server (virtual clock, loopback port) behind a middleware that records
// every request and lets a test answer some of them itself (faults the emulator cannot inject).
type env struct {
	t   *testing.T
	srv *acmocktest.Server

	mu        sync.Mutex
	intercept func(w http.ResponseWriter, r *http.Request) bool
	seen      []string // request URIs, as sent
}

func newEnv(t *testing.T, opts ...acmocktest.Option) *env {
	t.Helper()
	e := &env{t: t}
	wrap := acmocktest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.mu.Lock()
			e.seen = append(e.seen, r.RequestURI)
			intercept := e.intercept
			e.mu.Unlock()
			if intercept != nil && intercept(w, r) {
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	start := acmocktest.WithStartTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	// These tests count the client's pauses in scenario time and move the clock themselves (see
	// sleeper), so time must move only when they say.
	e.srv = acmocktest.Run(t, append([]acmocktest.Option{start, acmocktest.WithManualClock(), wrap}, opts...)...)
	return e
}

// setIntercept installs f in front of the emulator; f returns true when it answered itself.
func (e *env) setIntercept(f func(w http.ResponseWriter, r *http.Request) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.intercept = f
}

// requests returns the request URIs the server received so far.
func (e *env) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

func (e *env) management(opts ...activeconnect.Option) *activeconnect.ManagementAPI {
	e.t.Helper()
	m, err := activeconnect.NewManagementAPI(demoApp, demoSecret, append(e.srv.ClientOptions(), opts...)...)
	if err != nil {
		e.t.Fatalf("NewManagementAPI: %v", err)
	}
	return m
}

func (e *env) auth(opts ...activeconnect.Option) *activeconnect.AuthenticationAPI {
	e.t.Helper()
	a, err := activeconnect.NewAuthenticationAPI(demoApp, demoSecret, append(e.srv.ClientOptions(), opts...)...)
	if err != nil {
		e.t.Fatalf("NewAuthenticationAPI: %v", err)
	}
	return a
}

// users lists the demo application's users as acmock's control API shows them, with their phones
// and registration links.
func (e *env) users() []acctl.UserState {
	e.t.Helper()
	ctl, err := acctl.NewClientWithResponses(e.srv.URL(), acctl.WithHTTPClient(e.srv.HTTPClient()))
	if err != nil {
		e.t.Fatal(err)
	}
	app := demoApp
	res, err := ctl.ListUsersWithResponse(context.Background(), &acctl.ListUsersParams{Application: &app})
	if err != nil {
		e.t.Fatalf("list users: %v", err)
	}
	if res.JSON200 == nil || len(res.JSON200.Applications) != 1 {
		e.t.Fatalf("list users: HTTP %d %s", res.StatusCode(), res.Body)
	}
	return res.JSON200.Applications[0].Users
}

// sleeper stands in for Wait's pause: instead of sleeping it advances the virtual clock, so the
// phone's timeline moves exactly as far as the pauses, and it records each pause.
type sleeper struct {
	srv    *acmocktest.Server
	mu     sync.Mutex
	pauses []time.Duration
}

func (e *env) sleeper() *sleeper { return &sleeper{srv: e.srv} }

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.pauses = append(s.pauses, d)
	s.mu.Unlock()
	s.srv.Advance(d)
	return nil
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.pauses...)
}

// openLink registers a phone the way the mobile app does: a GET on the registration link.
func (e *env) openLink(link string) {
	e.t.Helper()
	if !strings.HasPrefix(link, e.srv.URL()+"/") {
		e.t.Fatalf("link %s does not point at the emulator %s", link, e.srv.URL())
	}
	res, err := e.srv.HTTPClient().Get(link)
	if err != nil {
		e.t.Fatalf("open %s: %v", link, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("open %s: %s", link, res.Status)
	}
}

func isStatusPoll(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/authentication/session_status/")
}

// silentScenario is the demo world where no phone ever answers, so sessions time out after 60 s.
func silentScenario() acmocktest.Option {
	return demoWorld(`{id: alice, phone: true}, {id: bob, phone: true}, {id: carol}`, "")
}

// failingScenario is the demo world where alice's phone reports failed after 2 s.
func failingScenario() acmocktest.Option {
	return demoWorld(`{id: alice, phone: true, login: [{after: 2s, status: failed}]}, `+
		`{id: bob, phone: true, login: [{after: 2s, status: cancelled}]}, {id: carol}`,
		`defaults: {login: [{after: 2s, status: active}]}`)
}

// demoWorld is a scenario of the demo application with these users (YAML flow mappings) and more
// top-level YAML.
func demoWorld(users, more string) acmocktest.Option {
	return acmocktest.WithScenarioYAML([]byte("applications: [{id: " + demoApp + ", secret: " + demoSecret +
		", users: [" + users + "]}]\n" + more + "\n"))
}

func asAPIError(err error, target **activeconnect.APIError) bool { return errors.As(err, target) }
