package activeconnect_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/scenario"
)

const (
	demoApp    = scenario.DemoApplicationID
	demoSecret = scenario.DemoApplicationSecret
)

// env is an emulator on a loopback httptest server with a virtual clock, behind a handler that a
// test can use to see requests or to answer some of them itself (faults the emulator cannot
// inject yet).
type env struct {
	t     *testing.T
	emu   *emulator.Emulator
	srv   *httptest.Server
	clock *clock.Virtual

	mu        sync.Mutex
	intercept func(w http.ResponseWriter, r *http.Request) bool
	seen      []string // request URIs, as sent
}

func newEnv(t *testing.T, mutate ...func(*emulator.Options)) *env {
	t.Helper()
	clk := clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	opts := emulator.Options{Clock: clk, ValidateResponses: true}
	for _, m := range mutate {
		m(&opts)
	}
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	e := &env{t: t, emu: emu, clock: clk}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, r.RequestURI)
		intercept := e.intercept
		e.mu.Unlock()
		if intercept != nil && intercept(w, r) {
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		e.srv.Close()
		emu.Close()
	})
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
	m, err := activeconnect.NewManagementAPI(demoApp, demoSecret, append([]activeconnect.Option{activeconnect.WithBaseURL(e.srv.URL)}, opts...)...)
	if err != nil {
		e.t.Fatalf("NewManagementAPI: %v", err)
	}
	return m
}

func (e *env) auth(opts ...activeconnect.Option) *activeconnect.AuthenticationAPI {
	e.t.Helper()
	a, err := activeconnect.NewAuthenticationAPI(demoApp, demoSecret, append([]activeconnect.Option{activeconnect.WithBaseURL(e.srv.URL)}, opts...)...)
	if err != nil {
		e.t.Fatalf("NewAuthenticationAPI: %v", err)
	}
	return a
}

// sleeper stands in for Wait's pause: instead of sleeping it advances the virtual clock, so the
// phone's timeline moves exactly as far as the pauses, and it records each pause.
type sleeper struct {
	clock  *clock.Virtual
	mu     sync.Mutex
	pauses []time.Duration
}

func (e *env) sleeper() *sleeper { return &sleeper{clock: e.clock} }

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.pauses = append(s.pauses, d)
	s.mu.Unlock()
	s.clock.Advance(d)
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
	if !strings.HasPrefix(link, e.srv.URL+"/") {
		e.t.Fatalf("link %s does not point at the emulator %s", link, e.srv.URL)
	}
	res, err := e.srv.Client().Get(link)
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

// silentScenario is the demo world where no phone ever answers, so sessions time out.
func silentScenario() *scenario.Scenario {
	sc := scenario.Default()
	sc.Defaults = scenario.Behaviour{}
	for i := range sc.Applications[0].Users {
		sc.Applications[0].Users[i].Behaviour = nil
	}
	return sc
}

// failingScenario is the demo world where alice's phone reports failed after 2 s.
func failingScenario() *scenario.Scenario {
	sc := scenario.Default()
	fail := scenario.Always(scenario.Step{After: 2 * time.Second, Status: "failed"})
	sc.Applications[0].Users[0].Behaviour = &fail
	return sc
}

func journalFilter(op string) journal.Filter { return journal.Filter{Operation: op} }

func asAPIError(err error, target **activeconnect.APIError) bool { return errors.As(err, target) }
