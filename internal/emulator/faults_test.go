package emulator_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/scenarios"
)

// withFaults returns an emulator running the demo scenario plus the faults in yaml.
func withFaults(t *testing.T, faults string) *env {
	t.Helper()
	data := strings.Replace(demoYAML(t), "\nexpect:", "\n"+faults+"\nexpect:", 1)
	sc, err := scenario.Parse("faults.yaml", []byte(data))
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	return newEnv(t, func(o *emulator.Options) { o.Scenario = sc })
}

func demoYAML(t *testing.T) string {
	t.Helper()
	data, err := scenarios.FS.ReadFile("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// get sends a signed GET and returns the status, the body and the transport error.
func (e *env) get(path string) (int, http.Header, string, error) {
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err := acauth.NewSigner(demoApp, demoSecret).SignRequest(req.Context(), req); err != nil {
		e.t.Fatal(err)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(body), err
}

func TestFaultRespond(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - name: busy
    operation: hasRegisteredMobileDevice
    user: alice
    times: 2
    respond: {status: 503, headers: {Retry-After: "7"}}
  - operation: hasRegisteredMobileDevice
    user: bob
    respond: {status: 429}
  - operation: getDeviceRegistrationLink
    respond: {status: 502, headers: {Content-Type: text/plain}, body: "bad gateway"}`)
	alice := userPath("/management/has_registered_mobile_device", "alice")
	for i := range 2 {
		r := e.app(http.MethodGet, alice, nil)
		expectError(t, r, 503, "injected_fault", "")
		if r.header.Get("Retry-After") != "7" || !strings.Contains(r.str("message"), `fault "busy"`) {
			t.Fatalf("call %d: %v %s", i+1, r.header, r.raw)
		}
	}
	if r := e.app(http.MethodGet, alice, nil); r.status != 200 {
		t.Fatalf("third call must pass (times: 2): %d %s", r.status, r.raw)
	}
	expectError(t, e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "bob"), nil), 429, "rate_limited", "")
	status, header, body, err := e.get(userPath("/management/device_registration_link", "alice"))
	if err != nil || status != 502 || body != "bad gateway" || header.Get("Content-Type") != "text/plain" {
		t.Fatalf("custom body: %d %v %q %v", status, header, body, err)
	}
	entries := e.emu.Journal().List(journalFilter("hasRegisteredMobileDevice"))
	if len(entries) != 4 || entries[0].Fault != "busy" || entries[2].Fault != "" {
		t.Fatalf("journal does not name the faults: %+v", entries)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: hasRegisteredMobileDevice
    latency: 150ms`)
	start := time.Now()
	if status, _, _, err := e.get(userPath("/management/has_registered_mobile_device", "alice")); err != nil || status != 200 {
		t.Fatalf("%d %v", status, err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("answered after %v, before the 150ms latency", took)
	}
}

func TestFaultDropIsATransportError(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: getSessionStatus
    call: 2
    drop: true`)
	token, secret, statusURL, _ := e.login("alice")
	e.status(token, secret, statusURL) // 1st poll passes
	req, _ := http.NewRequest(http.MethodGet, statusURL, nil)
	_ = acauth.NewSigner(token, secret).SignRequest(req.Context(), req)
	res, err := e.srv.Client().Do(req)
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("2nd poll: want a transport error (unexpected EOF), got %v", err)
	}
	if got := e.status(token, secret, statusURL); got != "pending" {
		t.Fatalf("3rd poll: %s", got)
	}
	// The ordinal counts per session: a new session's 2nd poll drops too.
	token2, secret2, statusURL2, _ := e.login("alice")
	e.status(token2, secret2, statusURL2)
	req, _ = http.NewRequest(http.MethodGet, statusURL2, nil)
	_ = acauth.NewSigner(token2, secret2).SignRequest(req.Context(), req)
	if res, err := e.srv.Client().Do(req); err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Fatal("the second session's 2nd poll was not dropped")
		}
	}
}

func TestFaultMalformed(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: hasRegisteredMobileDevice
    malformed: true`)
	status, _, body, err := e.get(userPath("/management/has_registered_mobile_device", "alice"))
	if err != nil || status != 200 {
		t.Fatalf("%d %v", status, err)
	}
	var v any
	if json.Unmarshal([]byte(body), &v) == nil || !strings.HasPrefix(body, `{"`) {
		t.Fatalf("body %q should be cut-short JSON", body)
	}
}

// TestFaultProbabilityIsReproducible runs the same seeded scenario twice: the same calls fail.
func TestFaultProbabilityIsReproducible(t *testing.T) {
	t.Parallel()
	run := func(seed string) []int {
		e := withFaults(t, "seed: "+seed+`
faults:
  - operation: hasRegisteredMobileDevice
    probability: 0.5
    respond: {status: 500}`)
		var statuses []int
		for range 40 {
			statuses = append(statuses, e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil).status)
		}
		return statuses
	}
	first, second, other := run("42"), run("42"), run("43")
	if !slices.Equal(first, second) {
		t.Fatalf("same seed, different failures:\n%v\n%v", first, second)
	}
	if slices.Equal(first, other) {
		t.Fatalf("seeds 42 and 43 failed the same 40 calls: %v", first)
	}
	failed := 0
	for _, s := range first {
		if s == 500 {
			failed++
		}
	}
	if failed < 8 || failed > 32 {
		t.Fatalf("%d of 40 calls failed with probability 0.5", failed)
	}
}

func TestFaultFiltersByApplicationAndUser(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: hasRegisteredMobileDevice
    application: 5ca1ab1e000000000000000000000001
    user: bob
    respond: {status: 500}
  - operation: hasRegisteredMobileDevice
    application: someone-else
    respond: {status: 500}`)
	if r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil); r.status != 200 {
		t.Fatalf("alice: %d", r.status)
	}
	if r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "bob"), nil); r.status != 500 {
		t.Fatalf("bob: %d", r.status)
	}
}

func TestResetCancelsDelayedResponses(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: hasRegisteredMobileDevice
    latency: 1m`)
	done := make(chan error, 1)
	go func() {
		_, _, _, err := e.get(userPath("/management/has_registered_mobile_device", "alice"))
		done <- err
	}()
	// Wait until the fault holds the request, then reset.
	deadline := time.Now().Add(10 * time.Second)
	for e.emu.Delayed() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the latency fault")
		}
		time.Sleep(time.Millisecond)
	}
	if err := e.emu.Reset(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the delayed request was answered after the reset; want it cut off")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed request outlived the reset")
	}
}

// TestInjectedFaultsAreNotErrors: a 5xx the scenario asked for is logged at INFO with the fault's
// name; it is expected behaviour, not a failure of the emulator.
func TestInjectedFaultsAreNotErrors(t *testing.T) {
	t.Parallel()
	data := strings.Replace(demoYAML(t), "\nexpect:", `
faults:
  - name: outage
    operation: hasRegisteredMobileDevice
    respond: {status: 503}
expect:`, 1)
	sc, err := scenario.Parse("faults.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncWriter
	e := newEnv(t, func(o *emulator.Options) {
		o.Scenario = sc
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	if status, _, body, err := e.get(userPath("/management/has_registered_mobile_device", "alice")); err != nil || status != 503 {
		t.Fatalf("want the injected 503: %d %s %v", status, body, err)
	}
	var rec map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if err := json.Unmarshal([]byte(line), &rec); err == nil && rec["msg"] == "request" {
			break
		}
	}
	if rec["level"] != "INFO" || rec["fault"] != "outage" || rec["status"] != float64(503) {
		t.Fatalf("want an INFO request line naming the fault, got %v\n%s", rec, logs.String())
	}
}

// TestFaultCallsCountOnlyWhatExists: "the 2nd call" counts the calls for a user that exists;
// calls naming an unknown user (or application, or session) are not counted anywhere, so they
// neither make the fault fire nor leave counters behind.
func TestFaultCallsCountOnlyWhatExists(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: hasRegisteredMobileDevice
    call: 2
    respond: {status: 503}
  - operation: getSessionStatus
    call: 2
    respond: {status: 503}`)
	device := func(user string) int {
		status, _, _, err := e.get(userPath("/management/has_registered_mobile_device", user))
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	for range 3 {
		if s := device("ghost"); s != http.StatusNotFound {
			t.Fatalf("an unknown user's call: %d, want its 404 every time", s)
		}
	}
	if a, b := device("alice"), device("alice"); a != http.StatusOK || b != http.StatusServiceUnavailable {
		t.Fatalf("alice's 1st and 2nd calls: %d %d, want 200 then the fault's 503", a, b)
	}
	for range 2 {
		r := e.do(http.MethodGet, "/authentication/session_status/NOSUCHSESSION", "", "", nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("an unknown session's poll: %d, want its 404 every time", r.status)
		}
	}
}

// TestLatencyFaultKeepsTheAnswersError: a fault that only delays the answer leaves it the
// handler's, so the journal names the error the handler answered, as without the fault.
func TestLatencyFaultKeepsTheAnswersError(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: hasRegisteredMobileDevice
    latency: 1ms`)
	r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "nobody"), nil)
	if r.status != http.StatusNotFound || r.str("code") == "" {
		t.Fatalf("unknown user: %d %s", r.status, r.raw)
	}
	entries := e.emu.Journal().List(journalFilter("hasRegisteredMobileDevice"))
	if len(entries) != 1 || entries[0].Fault == "" || entries[0].Error != r.str("code") || entries[0].Message != r.str("message") {
		t.Fatalf("journal: %+v; want the fault named and error %q, message %q", entries, r.str("code"), r.str("message"))
	}
}

// TestDelayedPollAnswersTheStatusAfterTheDelay: a status poll that a latency fault holds up answers
// the status the session has when the delay ends, as if the request had arrived late, not the one
// it had when it arrived (the poll's own read of the session, made on arrival, is stale by then).
func TestDelayedPollAnswersTheStatusAfterTheDelay(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: getSessionStatus
    call: 2
    latency: 500ms`)
	token, secret, statusURL, _ := e.login("alice")
	if got := e.status(token, secret, statusURL); got != "pending" {
		t.Fatalf("first poll: %s, want pending", got)
	}
	done := make(chan string, 1)
	go func() {
		r := e.do(http.MethodGet, statusURL, token, secret, nil)
		done <- fmt.Sprintf("%d %s", r.status, r.str("authentication_status", "session_status"))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e.emu.Delayed() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the poll never reached the latency fault")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := e.emu.Store().Transition(token, acapi.SessionStatusClosed, e.clock.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got != "200 closed" {
			t.Fatalf("delayed poll answered %q, want 200 closed (the status when the delay ended)", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed poll was never answered")
	}
}

// TestClientLeavingEndsALatency: a client that closes its connection while a scenario's latency
// holds its call ends the wait, as net/http's background read of the connection notices; the
// emulator, which otherwise holds that read off the socket during an API call, lets it watch.
// The connection served a call before, so that it knows that read.
func TestClientLeavingEndsALatency(t *testing.T) {
	t.Parallel()
	e := withFaults(t, `faults:
  - operation: hasRegisteredMobileDevice
    user: bob
    latency: 1m`)
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func(user string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+userPath("/management/has_registered_mobile_device", user), nil)
		if err := acauth.NewSigner(demoApp, demoSecret).SignRequest(req.Context(), req); err != nil {
			t.Fatal(err)
		}
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
	}
	send("alice")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("alice's call: %v %v", res, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	send("bob")
	deadline := time.Now().Add(10 * time.Second)
	for e.emu.Delayed() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("bob's call never reached the latency fault")
		}
		time.Sleep(time.Millisecond)
	}
	_ = conn.Close()
	deadline = time.Now().Add(10 * time.Second)
	for e.emu.Delayed() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the latency still holds a call whose client left 10s ago")
		}
		time.Sleep(time.Millisecond)
	}
}
