// Package acmocktest runs an Activeconnect emulator inside a Go test: on a loopback port, with a
// virtual clock, ready-made clients for the demo application, and helpers to play the phone.
//
//	srv := acmocktest.Run(t)
//	session, _ := srv.Authentication().AuthenticateUser(ctx, "alice")
//	srv.Approve(session.Token) // or srv.Advance(2 * time.Second): alice approves after 2 s
package acmocktest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// Demo credentials of the built-in scenario.
const (
	DemoApplicationID     = scenario.DemoApplicationID
	DemoApplicationSecret = scenario.DemoApplicationSecret
)

// Option configures Start and Run.
type Option func(*config) error

type config struct {
	scenario  *scenario.Scenario
	realClock bool
	start     time.Time
	ids       store.IDs
	authOff   bool
	wrap      []func(http.Handler) http.Handler
}

// WithScenarioFile loads a scenario file instead of the built-in demo.
func WithScenarioFile(path string) Option {
	return func(c *config) error {
		sc, err := scenario.LoadFile(path)
		c.scenario = sc
		return err
	}
}

// WithScenarioYAML loads a scenario from YAML instead of the built-in demo.
func WithScenarioYAML(data []byte) Option {
	return func(c *config) error {
		sc, err := scenario.Parse("scenario.yaml", data)
		c.scenario = sc
		return err
	}
}

// WithRealClock runs timelines on the wall clock instead of the virtual one.
func WithRealClock() Option {
	return func(c *config) error { c.realClock = true; return nil }
}

// WithStartTime sets what the virtual clock reads at the start (default: the wall time).
func WithStartTime(t time.Time) Option {
	return func(c *config) error { c.start = t; return nil }
}

// WithFixedIDs makes session tokens, secrets and link codes the same on every run with the same
// seed, for golden files and logs that must not change.
func WithFixedIDs(seed uint64) Option {
	return func(c *config) error { c.ids = store.SeededIDs(seed); return nil }
}

// WithAuthOff accepts unsigned requests.
func WithAuthOff() Option {
	return func(c *config) error { c.authOff = true; return nil }
}

// WithMiddleware puts mw in front of the emulator: the server runs mw(emulator), so mw sees every
// request first and decides whether the emulator gets it. It is for tests that want to see or
// answer requests themselves, for example to simulate failures the scenario's faults cannot
// express (a proxy's HTML error page, an answer cut off mid-body, a service mounted under a path
// prefix). A request the middleware answers itself never reaches the emulator: it is not in the
// journal (Requests) and its answer is not checked against the API. With several WithMiddleware,
// the first given is the outermost and sees requests first.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(c *config) error {
		if mw == nil {
			return errors.New("WithMiddleware: the middleware is nil")
		}
		c.wrap = append(c.wrap, mw)
		return nil
	}
}

// Server is an emulator serving on a loopback port.
type Server struct {
	emu   *emulator.Emulator
	srv   *httptest.Server
	clock clock.Clock
	sc    *scenario.Scenario
}

// Start starts an emulator; call Close when done. Tests use Run instead.
func Start(opts ...Option) (*Server, error) {
	c := &config{scenario: scenario.Default(), start: time.Now()}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("acmocktest: %w", err)
		}
	}
	var clk clock.Clock = clock.NewVirtual(c.start)
	if c.realClock {
		clk = clock.Real{}
	}
	srv := httptest.NewUnstartedServer(nil)
	emu, err := emulator.New(emulator.Options{
		Clock: clk, Scenario: c.scenario, IDs: c.ids, AuthOff: c.authOff, ValidateResponses: true,
		PublicURL: "http://" + srv.Listener.Addr().String(),
	})
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("acmocktest: %w", err)
	}
	var h http.Handler = emu
	for i := len(c.wrap) - 1; i >= 0; i-- {
		if h = c.wrap[i](h); h == nil {
			srv.Close()
			emu.Close()
			return nil, errors.New("acmocktest: a WithMiddleware middleware returned a nil handler")
		}
	}
	srv.Config.Handler = h
	srv.Listener = emu.Listener(srv.Listener, srv.Config.MaxHeaderBytes)
	srv.Start()
	return &Server{emu: emu, srv: srv, clock: clk, sc: c.scenario}, nil
}

// Run starts an emulator for the test and stops it when the test ends.
func Run(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and cancels pending timelines.
func (s *Server) Close() {
	s.srv.Close()
	s.emu.Close()
}

// URL is the base URL of the Activeconnect API and, under /_acmock/, of the control API.
func (s *Server) URL() string { return s.srv.URL }

// AppID is the first application of the scenario: the demo application unless a scenario says
// otherwise.
func (s *Server) AppID() string { return s.sc.Applications[0].ID }

// AppSecret is the secret of AppID.
func (s *Server) AppSecret() string { return s.sc.Applications[0].Secret }

// Management returns a management client for AppID that talks to this server.
func (s *Server) Management() *activeconnect.ManagementAPI {
	m, err := activeconnect.NewManagementAPI(s.AppID(), s.AppSecret(), s.clientOptions()...)
	if err != nil {
		panic(fmt.Sprintf("acmocktest: management client: %v", err)) // the options are ours and valid
	}
	return m
}

// Authentication returns an authentication client for AppID that talks to this server.
func (s *Server) Authentication() *activeconnect.AuthenticationAPI {
	a, err := activeconnect.NewAuthenticationAPI(s.AppID(), s.AppSecret(), s.clientOptions()...)
	if err != nil {
		panic(fmt.Sprintf("acmocktest: authentication client: %v", err))
	}
	return a
}

// NewApplication creates an application with no users next to the scenario's, for a test that wants
// one to itself; use its credentials with ClientOptions.
func (s *Server) NewApplication() (id, secret string, err error) {
	app, err := s.emu.Store().CreateApplication("", "")
	if err != nil {
		return "", "", fmt.Errorf("acmocktest: %w", err)
	}
	return app.ID, app.Secret, nil
}

// ClientOptions are the activeconnect options that point a client at this server, for clients of
// other applications of the scenario.
func (s *Server) ClientOptions() []activeconnect.Option { return s.clientOptions() }

func (s *Server) clientOptions() []activeconnect.Option {
	return []activeconnect.Option{activeconnect.WithBaseURL(s.srv.URL), activeconnect.WithHTTPClient(s.srv.Client())}
}

// HTTPClient is an http.Client that reaches the server.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// Advance moves the virtual clock forward, firing every timeline step that falls due. It panics on
// a real clock: such a test should wait instead.
func (s *Server) Advance(d time.Duration) {
	v, ok := s.clock.(*clock.Virtual)
	if !ok {
		panic("acmocktest: Advance needs the virtual clock; this server runs WithRealClock")
	}
	v.Advance(d)
}

// Now is what the emulator's clock reads.
func (s *Server) Now() time.Time { return s.clock.Now() }

// ErrBadTransition is returned when a session cannot make the change asked for, such as approving
// a session that was already closed.
var ErrBadTransition = store.ErrBadTransition

// SetStatus makes the phone change a session's status now.
func (s *Server) SetStatus(sessionToken string, status activeconnect.SessionStatus) error {
	if !status.Valid() {
		return fmt.Errorf("acmocktest: unknown status %q", status)
	}
	if _, err := s.emu.Store().Transition(sessionToken, acapi.SessionStatus(status), s.clock.Now(), "control"); err != nil {
		return fmt.Errorf("acmocktest: %w", err)
	}
	return nil
}

// Approve makes the phone approve the session (active).
func (s *Server) Approve(sessionToken string) error {
	return s.SetStatus(sessionToken, activeconnect.StatusActive)
}

// Deny makes the user decline the session (cancelled).
func (s *Server) Deny(sessionToken string) error {
	return s.SetStatus(sessionToken, activeconnect.StatusCancelled)
}

// Identify shows the phone processing the request (identifying).
func (s *Server) Identify(sessionToken string) error {
	return s.SetStatus(sessionToken, activeconnect.StatusIdentifying)
}

// WalkAway takes the phone away from an active session (walkaway); Approve brings it back.
func (s *Server) WalkAway(sessionToken string) error {
	return s.SetStatus(sessionToken, activeconnect.StatusWalkaway)
}

// CloseSession ends the session from the phone (closed).
func (s *Server) CloseSession(sessionToken string) error {
	return s.SetStatus(sessionToken, activeconnect.StatusClosed)
}

// Fail makes the session fail.
func (s *Server) Fail(sessionToken string) error {
	return s.SetStatus(sessionToken, activeconnect.StatusFailed)
}

// Session describes a session as the emulator sees it.
type Session struct {
	Token       string
	Application string
	User        string
	Status      activeconnect.SessionStatus
	// Methods are the authentication methods the login asked for, in order; empty when the
	// application let the service choose.
	Methods []activeconnect.AuthenticationMethod
	// Attempt is which login of the user this is, from 1.
	Attempt int
	// History lists every status the session had, oldest first.
	History []activeconnect.SessionStatus
}

// Sessions lists the sessions of a user (all users when user is empty), oldest first.
func (s *Server) Sessions(user string) []Session {
	var out []Session
	for _, sess := range s.emu.Store().Sessions(func(x *store.Session) bool { return user == "" || x.UserID == user }) {
		hs := make([]activeconnect.SessionStatus, len(sess.History))
		for i, h := range sess.History {
			hs[i] = activeconnect.SessionStatus(h.Status)
		}
		var ms []activeconnect.AuthenticationMethod
		for _, m := range sess.Methods {
			ms = append(ms, activeconnect.AuthenticationMethod(m))
		}
		out = append(out, Session{Token: sess.Token, Application: sess.AppID, User: sess.UserID,
			Status: activeconnect.SessionStatus(sess.Status), Methods: ms, Attempt: sess.Attempt + 1, History: hs})
	}
	return out
}

// RegisterPhone opens a new registration link for the user of AppID, as the mobile app would.
func (s *Server) RegisterPhone(ctx context.Context, user string) error {
	link, err := s.Management().GetRegistrationLink(ctx, user, "")
	if err != nil {
		return fmt.Errorf("acmocktest: register phone for %q: %w", user, err)
	}
	return s.OpenLink(ctx, link)
}

// OpenLink opens a registration link, as the mobile app would.
func (s *Server) OpenLink(ctx context.Context, link string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return fmt.Errorf("acmocktest: open link: %w", err)
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		return fmt.Errorf("acmocktest: open link: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("acmocktest: open link %s: status %d", link, res.StatusCode)
	}
	return nil
}

// LoadScenarioFile replaces the scenario and resets the state to it.
func (s *Server) LoadScenarioFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("acmocktest: %w", err)
	}
	return s.load(path, data)
}

// LoadScenarioYAML replaces the scenario with YAML and resets the state to it.
func (s *Server) LoadScenarioYAML(data []byte) error { return s.load("scenario.yaml", data) }

func (s *Server) load(name string, data []byte) error {
	sc, err := scenario.Parse(name, data)
	if err != nil {
		return fmt.Errorf("acmocktest: %w", err)
	}
	if err := s.emu.LoadScenario(sc); err != nil {
		return fmt.Errorf("acmocktest: %w", err)
	}
	s.sc = sc
	return nil
}

// Reset puts the state back to the scenario's initial one, cancels pending steps and empties the
// request journal; the clock is kept.
func (s *Server) Reset() error { return s.emu.Reset() }

// SMS is a registration message the emulator would have sent.
type SMS struct {
	User        string
	PhoneNumber string
	Body        string
	Link        string
}

// Outbox returns the registration SMS sent so far, oldest first.
func (s *Server) Outbox() []SMS {
	var out []SMS
	for _, m := range s.emu.Store().Outbox() {
		out = append(out, SMS{User: m.UserID, PhoneNumber: m.PhoneNumber, Body: m.Body, Link: m.Link})
	}
	return out
}

// Filter selects requests of the journal; empty fields match everything.
type Filter struct {
	Operation   string // an operationId of api/openapi.yaml, such as "getSessionStatus"
	Application string
	User        string
	Session     string
	Status      int
}

// Request is one request the emulator served.
type Request struct {
	Method, Path, Operation, Application, User, Session string
	Status                                              int
	// HMAC is the signature verdict: "ok", "off", or the rejection code.
	HMAC string
	// Fault names the scenario fault that acted on the request, if one did.
	Fault string
}

func (f Filter) journal() journal.Filter {
	return journal.Filter{Operation: f.Operation, Application: f.Application, User: f.User, Session: f.Session, Status: f.Status}
}

func requests(entries []journal.Entry) []Request {
	out := make([]Request, len(entries))
	for i, e := range entries {
		out[i] = Request{Method: e.Method, Path: e.Path, Operation: e.Operation, Application: e.Application,
			User: e.User, Session: e.Session, Status: e.Status, HMAC: e.HMAC, Fault: e.Fault}
	}
	return out
}

// Requests returns the journal's requests that match f, oldest first.
func (s *Server) Requests(f Filter) []Request { return requests(s.emu.Journal().List(f.journal())) }

// WaitRequests waits until at least n requests match f (or ctx ends) and returns them.
func (s *Server) WaitRequests(ctx context.Context, f Filter, n int) ([]Request, error) {
	entries, err := s.emu.Journal().Wait(ctx, f.journal(), n)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return requests(entries), fmt.Errorf("acmocktest: %d of %d requests arrived: %w", len(entries), n, err)
	}
	return requests(entries), err
}
