// Package scenariocheck plays a scenario's expectations against a running emulator through HTTP,
// the way a client would: it logs each user in, polls the session at every step of the timeline,
// and compares what it saw with what the scenario file says it should see.
//
//	target := scenariocheck.Target{BaseURL: srv.URL, Advance: advance, Reset: emu.Reset}
//	for _, err := range scenariocheck.Check(ctx, sc, target) { t.Error(err) }
package scenariocheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/scenario"
)

// Target is the emulator the expectations are played against.
type Target struct {
	BaseURL string
	// Client sends the requests (default http.DefaultClient); the contract tests pass one whose
	// transport validates every exchange against the spec.
	Client *http.Client
	// Advance moves the emulator's clock forward (a virtual clock's Advance, or a sleep).
	Advance func(time.Duration) error
	// Reset puts the emulator back to the scenario's initial state before each expectation.
	Reset func() error
	// Signer returns the signer of a call (default acauth.NewSigner); the contract tests pass one
	// that signs like the clients of another lineage.
	Signer func(clientID, secret string) *acauth.Signer
}

// maxAttempts bounds the retries of one call that a fault answers with an error.
const maxAttempts = 10

// Check plays every expectation of sc and returns one error per expectation that did not hold.
func Check(ctx context.Context, sc *scenario.Scenario, t Target) []error {
	var errs []error
	for i, x := range sc.Expect {
		if err := CheckOne(ctx, sc, x, t); err != nil {
			errs = append(errs, fmt.Errorf("%s: expectation %d (user %q, login %d): %w", sc.Name, i+1, x.User, x.Login, err))
		}
	}
	return errs
}

// Observation is what a client saw while playing one expectation.
type Observation struct {
	// Reason is the failure reason when the session did not start.
	Reason acapi.AuthenticationFailureReason
	// Statuses are the distinct statuses the polls saw, in order.
	Statuses []acapi.SessionStatus
	// Responses are the answers of every call, by operation ("200", "503", "dropped", "malformed").
	Responses map[string][]string
	// Latencies are how long each answer took, by operation, in the order of Responses.
	Latencies map[string][]time.Duration
}

// CheckOne plays one expectation from the scenario's initial state and compares.
func CheckOne(ctx context.Context, sc *scenario.Scenario, x scenario.Expectation, t Target) error {
	obs, err := Play(ctx, sc, x, t)
	if err != nil {
		return err
	}
	if x.Reason != "" && obs.Reason != x.Reason {
		return fmt.Errorf("want the login refused with reason %s, got reason %q and statuses %v", x.Reason, obs.Reason, obs.Statuses)
	}
	if len(x.Statuses) > 0 && !slices.Equal(obs.Statuses, x.Statuses) {
		return fmt.Errorf("want statuses %v, saw %v", x.Statuses, obs.Statuses)
	}
	if x.Final != "" && (len(obs.Statuses) == 0 || obs.Statuses[len(obs.Statuses)-1] != x.Final) {
		return fmt.Errorf("want final status %s, saw %v", x.Final, obs.Statuses)
	}
	if x.Operation != "" {
		got := obs.Responses[x.Operation]
		if len(got) < len(x.Responses) || !slices.Equal(got[:len(x.Responses)], x.Responses) {
			return fmt.Errorf("want %s to answer %v, it answered %v", x.Operation, x.Responses, got)
		}
	}
	if x.MinLatency > 0 {
		took := obs.Latencies[x.Operation]
		if len(took) == 0 {
			return fmt.Errorf("want %s calls of at least %v, saw no call", x.Operation, x.MinLatency)
		}
		for i, d := range took {
			if d < x.MinLatency {
				return fmt.Errorf("want every %s call to take at least %v, call %d took %v", x.Operation, x.MinLatency, i+1, d)
			}
		}
	}
	return nil
}

// Play resets the target, logs the user in (after the logins before it) and polls the session at
// every step of its timeline and at the timeout.
func Play(ctx context.Context, sc *scenario.Scenario, x scenario.Expectation, t Target) (*Observation, error) {
	if t.Client == nil {
		t.Client = http.DefaultClient
	}
	app, err := application(sc, x)
	if err != nil {
		return nil, err
	}
	if err := t.Reset(); err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	p := &player{t: t, app: app, obs: &Observation{Responses: map[string][]string{}, Latencies: map[string][]time.Duration{}}}
	listed := slices.ContainsFunc(app.Users, func(u scenario.User) bool { return u.ID == x.User })
	if !listed && x.Reason == "" {
		// A user the scenario does not list follows the defaults once it has a phone.
		if err := p.addAndRegister(ctx, x.User); err != nil {
			return nil, err
		}
	}
	if x.Calls > 0 {
		return p.obs, p.calls(ctx, x)
	}
	timeline := sc.BehaviourFor(app.ID, x.User)
	for attempt := 0; attempt < x.Login-1; attempt++ {
		if _, err := p.authenticate(ctx, x.User); err != nil {
			return nil, fmt.Errorf("login %d: %w", attempt+1, err)
		}
		if err := t.Advance(lastMoment(timeline.Timeline(attempt), sc.SessionTimeout()) + time.Second); err != nil {
			return nil, fmt.Errorf("advance: %w", err)
		}
	}
	sess, err := p.authenticate(ctx, x.User)
	if err != nil {
		return nil, err
	}
	if !sess.Authenticated {
		if sess.Reason != nil {
			p.obs.Reason = *sess.Reason
		}
		return p.obs, nil
	}
	now := time.Duration(0)
	for _, at := range pollTimes(timeline.Timeline(x.Login-1), sc.SessionTimeout()) {
		if at > now {
			if err := t.Advance(at - now); err != nil {
				return nil, fmt.Errorf("advance: %w", err)
			}
			now = at
		}
		if err := p.poll(ctx, sess); err != nil {
			return nil, fmt.Errorf("poll at %v: %w", at, err)
		}
	}
	return p.obs, nil
}

func application(sc *scenario.Scenario, x scenario.Expectation) (scenario.Application, error) {
	for _, app := range sc.Applications {
		if app.ID == x.Application || (x.Application == "" && len(sc.Applications) == 1) {
			return app, nil
		}
	}
	return scenario.Application{}, fmt.Errorf("no application %q in scenario %s", x.Application, sc.Name)
}

// pollTimes is when a client polling at every step would look: at the start, at each step and,
// when no step decides the login first, at the timeout.
func pollTimes(steps []scenario.Step, timeout time.Duration) []time.Duration {
	times := []time.Duration{0}
	decided := false
	for _, s := range steps {
		times = append(times, s.After)
		decided = decided || (s.Status != acapi.SessionStatusIdentifying && s.After < timeout)
	}
	if !decided {
		times = append(times, timeout)
	}
	slices.Sort(times)
	return slices.Compact(times)
}

func lastMoment(steps []scenario.Step, timeout time.Duration) time.Duration {
	last := timeout
	for _, s := range steps {
		last = max(last, s.After)
	}
	return last
}

type player struct {
	t   Target
	app scenario.Application
	obs *Observation
	// once makes each call a single attempt, as an expectation's calls are.
	once bool
}

// calls makes x.Calls calls of x.Operation for the user, each a single attempt whose answer,
// good or bad, is recorded.
func (p *player) calls(ctx context.Context, x scenario.Expectation) error {
	p.once = true
	for range x.Calls {
		var err error
		switch x.Operation {
		case "hasRegisteredMobileDevice":
			var out acapi.DeviceRegisteredResponse
			_, err = p.call(ctx, x.Operation, http.MethodGet, p.userURL("/management/has_registered_mobile_device", x.User), p.app.ID, p.app.Secret, nil, &out)
		case "getDeviceRegistrationLink":
			var out acapi.RegistrationLinkResponse
			_, err = p.call(ctx, x.Operation, http.MethodGet, p.userURL("/management/device_registration_link", x.User), p.app.ID, p.app.Secret, nil, &out)
		case "authenticateUser":
			_, err = p.authenticate(ctx, x.User)
		default:
			return fmt.Errorf("calls cannot make %s", x.Operation)
		}
		if err != nil && !errors.Is(err, errAnswered) {
			return err
		}
	}
	return nil
}

// errAnswered marks a call that got an answer the player records rather than retries.
var errAnswered = errors.New("answered")

func (p *player) addAndRegister(ctx context.Context, user string) error {
	body := map[string]any{"users": []string{user}}
	if _, err := p.call(ctx, "addUsers", http.MethodPost, p.t.BaseURL+"/management/add_users/"+url.PathEscape(p.app.ID), p.app.ID, p.app.Secret, body, nil); err != nil {
		return err
	}
	var link acapi.RegistrationLinkResponse
	if _, err := p.call(ctx, "getDeviceRegistrationLink", http.MethodGet, p.userURL("/management/device_registration_link", user), p.app.ID, p.app.Secret, nil, &link); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link.RegisterUrl, nil)
	if err != nil {
		return fmt.Errorf("open registration link: %w", err)
	}
	res, err := p.t.Client.Do(req)
	if err != nil {
		return fmt.Errorf("open registration link: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("open registration link: status %d", res.StatusCode)
	}
	return nil
}

// userURL builds a user-scoped URL, encoding the user ID like the official client (quote_plus).
func (p *player) userURL(prefix, user string) string {
	return p.t.BaseURL + prefix + "/" + url.PathEscape(p.app.ID) + "/" + url.QueryEscape(user)
}

func (p *player) authenticate(ctx context.Context, user string) (*acapi.AuthenticationStatus, error) {
	var res acapi.AuthenticateResponse
	if _, err := p.call(ctx, "authenticateUser", http.MethodPost, p.userURL("/authentication/authenticate_user", user), p.app.ID, p.app.Secret, map[string]any{}, &res); err != nil {
		return nil, err
	}
	s := &res.AuthenticationStatus
	if s.Authenticated && (s.StatusUrl == nil || s.SessionToken == nil || s.SessionSecret == nil) {
		return nil, errors.New("authenticate answered authenticated without the session's URLs and credentials")
	}
	return s, nil
}

func (p *player) poll(ctx context.Context, s *acapi.AuthenticationStatus) error {
	var res acapi.SessionStatusResponse
	if _, err := p.call(ctx, "getSessionStatus", http.MethodGet, *s.StatusUrl, *s.SessionToken, *s.SessionSecret, nil, &res); err != nil {
		return err
	}
	status := res.AuthenticationStatus.SessionStatus
	if n := len(p.obs.Statuses); n == 0 || p.obs.Statuses[n-1] != status {
		p.obs.Statuses = append(p.obs.Statuses, status)
	}
	return nil
}

// call sends one signed request, retrying what a flaky network or service would make a client
// retry, and records every answer under the operation's name.
func (p *player) call(ctx context.Context, op, method, target, clientID, secret string, body, out any) (int, error) {
	signer := acauth.NewSigner(clientID, secret)
	if p.t.Signer != nil {
		signer = p.t.Signer(clientID, secret)
	}
	var last string
	attempts := maxAttempts
	if p.once {
		attempts = 1
	}
	for range attempts {
		var rd io.Reader
		if body != nil {
			data, err := json.Marshal(body)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", op, err)
			}
			rd = bytes.NewReader(data)
		}
		req, err := http.NewRequestWithContext(ctx, method, target, rd)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if err := signer.SignRequest(ctx, req); err != nil {
			return 0, fmt.Errorf("%s: sign: %w", op, err)
		}
		start := time.Now()
		res, err := p.t.Client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return 0, fmt.Errorf("%s: %w", op, ctx.Err())
			}
			p.record(op, "dropped", time.Since(start))
			last = err.Error()
			continue
		}
		data, err := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(start)
		if err != nil {
			p.record(op, "dropped", took)
			last = err.Error()
			continue
		}
		if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 {
			p.record(op, strconv.Itoa(res.StatusCode), took)
			last = fmt.Sprintf("status %d: %s", res.StatusCode, data)
			continue
		}
		if res.StatusCode >= 300 {
			p.record(op, strconv.Itoa(res.StatusCode), took)
			if p.once {
				return res.StatusCode, fmt.Errorf("%s: %w: status %d", op, errAnswered, res.StatusCode)
			}
			return res.StatusCode, fmt.Errorf("%s %s: status %d: %s", op, target, res.StatusCode, data)
		}
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				p.record(op, "malformed", took)
				last = fmt.Sprintf("malformed JSON: %v", err)
				continue
			}
		}
		p.record(op, strconv.Itoa(res.StatusCode), took)
		return res.StatusCode, nil
	}
	if p.once {
		return 0, fmt.Errorf("%s: %w: %s", op, errAnswered, last)
	}
	return 0, fmt.Errorf("%s: no good answer in %d attempts; last: %s", op, maxAttempts, last)
}

func (p *player) record(op, answer string, took time.Duration) {
	p.obs.Responses[op] = append(p.obs.Responses[op], answer)
	p.obs.Latencies[op] = append(p.obs.Latencies[op], took)
}
