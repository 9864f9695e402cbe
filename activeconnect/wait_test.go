package activeconnect_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
)

func TestWaitOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scenario acmocktest.Option
		user     string
		want     activeconnect.SessionStatus
		failed   bool
		polls    int // pauses of one second before the decision
	}{
		{"approved", nil, "alice", activeconnect.StatusActive, false, 2},
		{"denied", nil, "bob", activeconnect.StatusCancelled, true, 2},
		{"phone fails", failingScenario(), "alice", activeconnect.StatusFailed, true, 2},
		{"nobody answers", silentScenario(), "alice", activeconnect.StatusTimeout, true, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []acmocktest.Option
			if tt.scenario != nil {
				opts = append(opts, tt.scenario)
			}
			e := newEnv(t, opts...)
			s, err := e.auth().AuthenticateUser(context.Background(), tt.user)
			if err != nil {
				t.Fatal(err)
			}
			sl := e.sleeper()
			var changes []activeconnect.SessionStatus
			err = s.Wait(context.Background(), time.Second, activeconnect.WithSleep(sl.sleep),
				activeconnect.OnStatusChange(func(st activeconnect.SessionStatus) { changes = append(changes, st) }))
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if s.Status != tt.want || s.Failed() != tt.failed || s.Active() != (tt.want == activeconnect.StatusActive) || s.InProgress() {
				t.Fatalf("after Wait: %+v, want %s", s, tt.want)
			}
			if !slices.Equal(changes, []activeconnect.SessionStatus{tt.want}) {
				t.Errorf("status changes %q, want [%s]", changes, tt.want)
			}
			if got := len(sl.recorded()); got != tt.polls {
				t.Errorf("%d pauses, want %d", got, tt.polls)
			}
		})
	}
}

// TestWaitReturnsAtOnceWhenFinal: a final status never changes again, so Wait trusts it and sends
// nothing; neither can a session that did not start be polled.
func TestWaitReturnsAtOnceWhenFinal(t *testing.T) {
	t.Parallel()
	noRequests := activeconnect.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("Wait sent %s %s", r.Method, r.URL)
		return nil, errors.New("no requests expected")
	})})
	for _, st := range []activeconnect.SessionStatus{activeconnect.StatusTimeout, activeconnect.StatusCancelled, activeconnect.StatusFailed, activeconnect.StatusClosed} {
		data, _ := json.Marshal(activeconnect.Session{Status: st, StatusURL: "http://x/st", LogoutURL: "http://x/lo", Token: "t", Secret: "s"})
		s, err := activeconnect.ParseSession(data, noRequests)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Wait(context.Background(), time.Second); err != nil || s.Status != st {
			t.Fatalf("Wait on %s: %v, status %s", st, err, s.Status)
		}
	}
	notStarted, err := activeconnect.ParseSession([]byte(`{"session_status": "failed", "failure_reason": "NO_MOBILE_DEVICE"}`), noRequests)
	if err != nil {
		t.Fatal(err)
	}
	if err := notStarted.Wait(context.Background(), time.Second); err != nil {
		t.Fatalf("Wait on a session that did not start: %v", err)
	}
	if err := notStarted.Wait(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "interval must be positive") {
		t.Fatalf("zero interval: %v", err)
	}
}

// TestWaitPollsAStaleDecidedStatus: a stored active session whose phone has since walked away.
// Wait must ask the service rather than trust the stored status, and rides out a failing first
// poll as it does any other.
func TestWaitPollsAStaleDecidedStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s, err := e.auth().AuthenticateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sl := e.sleeper()
	if err := s.Wait(ctx, time.Second, activeconnect.WithSleep(sl.sleep)); err != nil || !s.Active() {
		t.Fatalf("Wait: %v, status %s", err, s.Status)
	}
	stored, err := s.PythonJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.WalkAway(s.Token); err != nil {
		t.Fatal(err)
	}

	plan := &faultPlan{faults: []string{"503"}}
	e.setIntercept(plan.intercept)
	loaded, err := e.auth().LoadSession(stored)
	if err != nil || loaded.Status != activeconnect.StatusActive {
		t.Fatalf("LoadSession: %v, %+v", err, loaded)
	}
	var changes []activeconnect.SessionStatus
	sl = e.sleeper()
	err = loaded.Wait(ctx, time.Second, activeconnect.WithSleep(sl.sleep),
		activeconnect.OnStatusChange(func(st activeconnect.SessionStatus) { changes = append(changes, st) }))
	if err != nil || loaded.Status != activeconnect.StatusWalkaway {
		t.Fatalf("Wait on the stored active session: %v, status %s (want walkaway)", err, loaded.Status)
	}
	if !slices.Equal(changes, []activeconnect.SessionStatus{activeconnect.StatusWalkaway}) {
		t.Errorf("changes %q", changes)
	}
	if got := strings.Join(plan.served, ","); got != "503,pass" || len(sl.recorded()) != 1 {
		t.Errorf("served %s, pauses %v: want one failed poll, one pause and one good poll", got, sl.recorded())
	}

	// A decided status that is still current costs one poll and is kept.
	e.setIntercept(nil)
	if err := e.srv.Approve(s.Token); err != nil { // back
		t.Fatal(err)
	}
	before := len(e.requests())
	if err := s.Wait(ctx, time.Second); err != nil || !s.Active() || len(e.requests()) != before+1 {
		t.Fatalf("Wait on a current active session: %v, status %s, %d requests", err, s.Status, len(e.requests())-before)
	}
}

func TestWaitRespectsTheContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, silentScenario())
	s, err := e.auth().AuthenticateUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	err = s.Wait(ctx, time.Second, activeconnect.WithSleep(func(ctx context.Context, d time.Duration) error {
		polls++
		if polls == 3 {
			cancel()
		}
		return ctx.Err()
	}))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "still pending") {
		t.Fatalf("Wait: %v, want context.Canceled", err)
	}
	if polls != 3 || s.Status != activeconnect.StatusPending {
		t.Fatalf("%d polls, status %s", polls, s.Status)
	}

	// The default sleep ends early with the context too.
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.Wait(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v, want context.DeadlineExceeded", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("Wait slept through the deadline")
	}
}

// faultPlan answers successive status polls with the faults listed, then lets them through.
type faultPlan struct {
	mu     sync.Mutex
	faults []string
	served []string
}

func (p *faultPlan) intercept(w http.ResponseWriter, r *http.Request) bool {
	if !isStatusPoll(r) {
		return false
	}
	p.mu.Lock()
	fault := "pass"
	if len(p.faults) > 0 {
		fault, p.faults = p.faults[0], p.faults[1:]
	}
	p.served = append(p.served, fault)
	p.mu.Unlock()
	writeJSONError := func(status int, retryAfter, code string) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": false, "code": code, "message": "injected by the test"})
	}
	switch fault {
	case "503 retry-after 3":
		writeJSONError(http.StatusServiceUnavailable, "3", "injected_fault")
	case "503":
		writeJSONError(http.StatusServiceUnavailable, "", "injected_fault")
	case "429":
		writeJSONError(http.StatusTooManyRequests, "", "rate_limited")
	case "drop":
		// Close the connection without a byte of answer.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	case "truncate":
		// Promise a body and break off in the middle of it.
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"authentication_status\":")
			_ = buf.Flush()
			conn.Close()
		}
	case "404":
		writeJSONError(http.StatusNotFound, "", "unknown_session")
	default:
		return false
	}
	return true
}

// noKeepAlive keeps net/http from silently retrying a GET on a fresh connection after a dropped
// reused one, so that every injected drop reaches the client.
func noKeepAlive() activeconnect.Option {
	return activeconnect.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}})
}

func TestWaitRidesOutTransientFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	plan := &faultPlan{faults: []string{"503 retry-after 3", "503", "drop", "truncate", "429", "503"}}
	e.setIntercept(plan.intercept)
	s, err := e.auth(noKeepAlive()).AuthenticateUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	sl := e.sleeper()
	var retried []error
	var changes []activeconnect.SessionStatus
	err = s.Wait(context.Background(), time.Second, activeconnect.WithSleep(sl.sleep), activeconnect.WithMaxBackoff(5*time.Second),
		activeconnect.OnRetry(func(err error, _ time.Duration) { retried = append(retried, err) }),
		activeconnect.OnStatusChange(func(st activeconnect.SessionStatus) { changes = append(changes, st) }))
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if !s.Active() {
		t.Fatalf("status %s, want active", s.Status)
	}
	// Retry-After is honoured; otherwise the pause doubles from the interval up to the cap.
	want := []time.Duration{3 * time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	if got := sl.recorded(); !slices.Equal(got, want) {
		t.Fatalf("pauses %v, want %v", got, want)
	}
	if len(retried) != 6 {
		t.Fatalf("%d retries reported, want 6: %v", len(retried), retried)
	}
	var apiErr *activeconnect.APIError
	if !errors.As(retried[0], &apiErr) || apiErr.StatusCode != 503 || apiErr.RetryAfter != 3*time.Second {
		t.Errorf("first retry: %v", retried[0])
	}
	var urlErr *url.Error
	if !errors.As(retried[2], &urlErr) || !errors.As(retried[3], &urlErr) {
		t.Errorf("dropped and truncated answers should be *url.Error: %v / %v", retried[2], retried[3])
	}
	if !slices.Equal(changes, []activeconnect.SessionStatus{activeconnect.StatusActive}) {
		t.Errorf("changes %q", changes)
	}
	if got := strings.Join(plan.served, ","); got != "503 retry-after 3,503,drop,truncate,429,503,pass" {
		t.Errorf("served %s", got)
	}
}

func TestWaitGivesUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	plan := &faultPlan{faults: []string{"503", "503", "503", "503"}}
	e.setIntercept(plan.intercept)
	s, err := e.auth().AuthenticateUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	sl := e.sleeper()
	err = s.Wait(context.Background(), time.Second, activeconnect.WithSleep(sl.sleep), activeconnect.WithMaxRetries(2))
	if !activeconnect.IsTemporary(err) || !strings.Contains(err.Error(), "giving up after 3 failed polls in a row") {
		t.Fatalf("Wait: %v", err)
	}
	if len(plan.served) != 3 || s.Status != activeconnect.StatusPending {
		t.Fatalf("served %v, status %s", plan.served, s.Status)
	}
}

func TestWaitStopsOnPermanentErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	plan := &faultPlan{faults: []string{"503", "404"}}
	e.setIntercept(plan.intercept)
	s, err := e.auth().AuthenticateUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	sl := e.sleeper()
	err = s.Wait(context.Background(), time.Second, activeconnect.WithSleep(sl.sleep))
	if !activeconnect.IsNotFound(err) || !strings.HasPrefix(err.Error(), "wait for session: get session status: HTTP 404 unknown_session") {
		t.Fatalf("Wait: %v", err)
	}
	if len(sl.recorded()) != 1 {
		t.Fatalf("pauses %v, want one (after the 503)", sl.recorded())
	}
}

// TestWaitWithRealTime runs Wait with its own sleep and a small interval while a goroutine moves
// the virtual clock, the way an application would wait against acmock's real clock.
func TestWaitWithRealTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s, err := e.auth().AuthenticateUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		ticker := time.NewTicker(time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				e.srv.Advance(100 * time.Millisecond)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = s.Wait(ctx, time.Millisecond)
	close(done)
	if err != nil || !s.Active() {
		t.Fatalf("Wait: %v, status %s", err, s.Status)
	}
}
