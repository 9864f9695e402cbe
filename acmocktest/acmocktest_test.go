package acmocktest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
)

func TestRunLoginFlow(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	bob, err := srv.Authentication().AuthenticateUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Identify(bob.Token); err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Second) // bob's scenario denies at 2 s
	if status, _ := bob.Refresh(ctx); status != activeconnect.StatusCancelled {
		t.Fatalf("bob: %s", status)
	}
	if err := srv.Approve(bob.Token); !errors.Is(err, acmocktest.ErrBadTransition) {
		t.Fatalf("approving a cancelled session: %v", err)
	}
	sessions := srv.Sessions("bob")
	if len(sessions) != 1 || strings.Join(statuses(sessions[0].History), ",") != "pending,identifying,cancelled" {
		t.Fatalf("sessions: %+v", sessions)
	}
	if err := srv.SetStatus(bob.Token, "approved"); err == nil {
		t.Fatal("an unknown status was accepted")
	}
}

func statuses(h []activeconnect.SessionStatus) []string {
	out := make([]string, len(h))
	for i, s := range h {
		out[i] = string(s)
	}
	return out
}

func TestWalkAwayAndBack(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	s, _ := srv.Authentication().AuthenticateUser(ctx, "alice")
	for _, step := range []func(string) error{srv.Approve, srv.WalkAway, srv.Approve, srv.CloseSession} {
		if err := step(s.Token); err != nil {
			t.Fatal(err)
		}
	}
	if status, _ := s.Refresh(ctx); status != activeconnect.StatusClosed {
		t.Fatalf("after closing from the phone: %s", status)
	}
}

func TestFixedIDs(t *testing.T) {
	t.Parallel()
	token := func() string {
		srv := acmocktest.Run(t, acmocktest.WithFixedIDs(7))
		s, err := srv.Authentication().AuthenticateUser(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		return s.Token
	}
	if a, b := token(), token(); a != b || len(a) != 32 {
		t.Fatalf("tokens %q and %q", a, b)
	}
}

func TestScenarioOptionsAndRequests(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t, acmocktest.WithScenarioYAML([]byte(`
applications:
  - id: myapp
    secret: MYSECRET
    users: [{id: zoe, phone: true, login: [{after: 5s, status: active}]}]
`)))
	if srv.AppID() != "myapp" {
		t.Fatalf("AppID = %s", srv.AppID())
	}
	ctx := context.Background()
	s, err := srv.Authentication().AuthenticateUser(ctx, "zoe")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range 3 {
			_, _ = s.Refresh(ctx)
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	polls, err := srv.WaitRequests(wctx, acmocktest.Filter{Operation: "getSessionStatus"}, 3)
	if err != nil || len(polls) < 3 || polls[0].User != "zoe" || polls[0].Application != "myapp" {
		t.Fatalf("polls: %+v %v", polls, err)
	}
	short, cancel2 := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel2()
	if _, err := srv.WaitRequests(short, acmocktest.Filter{Operation: "logout"}, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a logout that never comes: %v", err)
	}

	if err := srv.LoadScenarioYAML([]byte("timeout: soon\n")); err == nil || !strings.Contains(err.Error(), "scenario.yaml:1:10") {
		t.Fatalf("bad scenario: %v", err)
	}
	if err := srv.LoadScenarioFile("../scenarios/deny.yaml"); err != nil {
		t.Fatal(err)
	}
	if srv.AppID() != acmocktest.DemoApplicationID {
		t.Fatalf("after loading deny.yaml: %s", srv.AppID())
	}
	if _, err := acmocktest.Start(acmocktest.WithScenarioFile("nope.yaml")); err == nil {
		t.Fatal("a missing scenario file was accepted")
	}
}

func TestRegisterPhoneAndOutbox(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	if err := srv.RegisterPhone(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if res, _ := srv.Management().HasRegisteredMobileDevice(ctx, "carol"); res != activeconnect.ResultHasMobileDevice {
		t.Fatalf("carol after RegisterPhone: %v", res)
	}
	_, _, _ = srv.Management().AddUsers(ctx, []string{"dave"})
	if err := srv.Management().SendRegistrationSMS(ctx, "dave", activeconnect.RegistrationSMS{PhoneNumber: "+15555550100"}); err != nil {
		t.Fatal(err)
	}
	out := srv.Outbox()
	if len(out) != 1 || out[0].User != "dave" || srv.OpenLink(ctx, out[0].Link) != nil {
		t.Fatalf("outbox: %+v", out)
	}
	if err := srv.OpenLink(ctx, out[0].Link); err == nil {
		t.Fatal("a used link worked twice")
	}
}

func TestAdvancePanicsOnARealClock(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t, acmocktest.WithRealClock())
	defer func() {
		if recover() == nil {
			t.Fatal("Advance on a real clock did not panic")
		}
	}()
	srv.Advance(time.Second)
}

func TestNewApplication(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	id, secret, err := srv.NewApplication()
	if err != nil {
		t.Fatal(err)
	}
	m, err := activeconnect.NewManagementAPI(id, secret, srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	created, _, err := m.AddUsers(context.Background(), []string{"alice"})
	if err != nil || len(created) != 1 {
		t.Fatalf("the new application's alice: %v %v", created, err)
	}
}

// TestWithMiddleware: middlewares see every request, outermost first, and what they answer
// themselves never reaches the emulator.
func TestWithMiddleware(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	see := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, name+" "+r.URL.Path)
				mu.Unlock()
				next.ServeHTTP(w, r)
			})
		}
	}
	unavailable := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/carol") {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<html>the proxy gave up</html>"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	srv := acmocktest.Run(t, acmocktest.WithMiddleware(see("outer")), acmocktest.WithMiddleware(unavailable), acmocktest.WithMiddleware(see("inner")))
	ctx := context.Background()
	m := srv.Management()
	if got, err := m.HasRegisteredMobileDevice(ctx, "alice"); err != nil || got != activeconnect.ResultHasMobileDevice {
		t.Fatalf("alice, passed through: %v, %v", got, err)
	}
	_, err := m.HasRegisteredMobileDevice(ctx, "carol")
	var apiErr *activeconnect.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || !strings.Contains(apiErr.Message, "the proxy gave up") {
		t.Fatalf("carol, answered by the middleware: %v", err)
	}
	path := "/management/has_registered_mobile_device/" + srv.AppID() + "/"
	want := []string{"outer " + path + "alice", "inner " + path + "alice", "outer " + path + "carol"}
	mu.Lock()
	got := slices.Clone(seen)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("seen %q, want %q", got, want)
	}
	if reqs := srv.Requests(acmocktest.Filter{Operation: "hasRegisteredMobileDevice"}); len(reqs) != 1 || reqs[0].User != "alice" {
		t.Fatalf("journal: %+v, want only alice's request", reqs)
	}

	if _, err := acmocktest.Start(acmocktest.WithMiddleware(nil)); err == nil {
		t.Error("a nil middleware was accepted")
	}
	if _, err := acmocktest.Start(acmocktest.WithMiddleware(func(http.Handler) http.Handler { return nil })); err == nil {
		t.Error("a middleware that returns no handler was accepted")
	}
}

// TestMiddlewareActsAfterTheEmulator: a middleware can let the emulator act and still keep its
// answer from the client (here by dropping the connection once the emulator returns), which is how
// a test gets "the service logged the user out but the client never heard".
func TestMiddlewareActsAfterTheEmulator(t *testing.T) {
	t.Parallel()
	dropLogouts := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if strings.Contains(r.URL.Path, "/logout/") {
				panic(http.ErrAbortHandler)
			}
		})
	}
	srv := acmocktest.Run(t, acmocktest.WithMiddleware(dropLogouts))
	ctx := context.Background()
	sess, err := srv.Authentication().AuthenticateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	err = sess.Destroy(ctx)
	var transport *url.Error
	if !errors.As(err, &transport) {
		t.Fatalf("logout: %v, want a transport error: the middleware dropped the connection after the emulator returned", err)
	}
	if got := srv.Sessions("alice"); len(got) != 1 || got[0].Status != activeconnect.StatusClosed {
		t.Fatalf("sessions %+v, want alice's closed: the emulator did log out", got)
	}
}

func TestSessionMethods(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	if _, err := srv.Authentication().AuthenticateUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Authentication().AuthenticateUser(ctx, "alice", activeconnect.MethodFacial, activeconnect.MethodDevice); err != nil {
		t.Fatal(err)
	}
	sessions := srv.Sessions("alice")
	if len(sessions) != 2 || len(sessions[0].Methods) != 0 ||
		!slices.Equal(sessions[1].Methods, []activeconnect.AuthenticationMethod{activeconnect.MethodFacial, activeconnect.MethodDevice}) {
		t.Fatalf("sessions: %+v", sessions)
	}
}

// TestPhoneHelpersAndReset covers the helpers the other tests do not: Deny, Fail, Now, Reset and
// WithAuthOff.
func TestPhoneHelpersAndReset(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := acmocktest.Run(t, acmocktest.WithStartTime(start), acmocktest.WithAuthOff())
	ctx := context.Background()
	denied, _ := srv.Authentication().AuthenticateUser(ctx, "alice")
	failed, _ := srv.Authentication().AuthenticateUser(ctx, "alice")
	if err := srv.Deny(denied.Token); err != nil {
		t.Fatal(err)
	}
	if err := srv.Fail(failed.Token); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[*activeconnect.Session]activeconnect.SessionStatus{denied: activeconnect.StatusCancelled, failed: activeconnect.StatusFailed} {
		if got, _ := s.Refresh(ctx); got != want {
			t.Errorf("session %s: %s, want %s", s.Token, got, want)
		}
	}
	srv.Advance(90 * time.Second)
	if got := srv.Now().Sub(start); got != 90*time.Second {
		t.Fatalf("Now after advancing 90s reads start+%v", got)
	}
	// With auth off, an unsigned request is served.
	res, err := srv.HTTPClient().Get(srv.URL() + "/management/has_registered_mobile_device/" + srv.AppID() + "/alice")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("unsigned request with WithAuthOff: %v %v", res, err)
	}
	res.Body.Close()
	if err := srv.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Sessions("")); n != 0 {
		t.Fatalf("%d sessions survived Reset", n)
	}
}

// TestStartFromASnapshot saves the state of one emulator and starts another from it.
func TestStartFromASnapshot(t *testing.T) {
	t.Parallel()
	first := acmocktest.Run(t)
	if _, err := first.Management().AddUser(t.Context(), "dave"); err != nil {
		t.Fatal(err)
	}
	if err := first.RegisterPhone(t.Context(), "dave"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := first.SaveState(path); err != nil {
		t.Fatal(err)
	}
	second := acmocktest.Run(t, acmocktest.WithSnapshot(path))
	has, err := second.Management().HasRegisteredMobileDevice(t.Context(), "dave")
	if err != nil || has != activeconnect.ResultHasMobileDevice {
		t.Fatalf("dave in the emulator started from the snapshot: registered %v, %v", has, err)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format":"acmock-state","version":9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := acmocktest.Start(acmocktest.WithSnapshot(bad)); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("a bad snapshot: %v", err)
	}
}

// TestWithLimits: a test reaches the emulator's bounds cheaply: the session cap forgets the
// oldest session (its status is a 404), the user bound refuses add_users with limit_reached, and
// the lifetime closes a live session once the clock passes it.
func TestWithLimits(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t, acmocktest.WithManualClock(), acmocktest.WithLimits(acmocktest.Limits{MaxSessions: 2, MaxUsers: 4, SessionLifetime: time.Hour}))
	ctx := context.Background()
	var sessions []*activeconnect.Session
	for range 3 {
		s, err := srv.Authentication().AuthenticateUser(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	if _, err := sessions[0].Refresh(ctx); !activeconnect.IsNotFound(err) {
		t.Fatalf("the session past the cap of 2: %v, want a 404", err)
	}
	if _, _, err := srv.Management().AddUsers(ctx, []string{"dave"}); err != nil {
		t.Fatalf("the 4th user: %v", err)
	}
	var apiErr *activeconnect.APIError
	if _, _, err := srv.Management().AddUsers(ctx, []string{"erin"}); !errors.As(err, &apiErr) || apiErr.Code != "limit_reached" {
		t.Fatalf("the 5th user: %v, want limit_reached", err)
	}
	srv.Advance(2 * time.Second) // alice approves: live until her lifetime ends
	srv.Advance(time.Hour)
	if status, err := sessions[2].Refresh(ctx); err != nil || status != activeconnect.StatusClosed {
		t.Fatalf("a session past its lifetime: %v %v, want closed", status, err)
	}
	if _, err := acmocktest.Start(acmocktest.WithLimits(acmocktest.Limits{MaxUsers: -1})); err == nil {
		t.Fatal("a negative limit was accepted")
	}
}
