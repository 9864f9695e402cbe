// Package acmocktest runs an Activeconnect emulator inside a Go test: on a loopback port, with
// ready-made clients for the demo application, helpers to play the phone, and a clock that never
// makes anyone wait.
//
// Test your application's own code, polling as it does in production (with its own sleeps or with
// activeconnect's Session.Wait); the test needs no session token and never moves time:
//
//	func TestLogin(t *testing.T) {
//		srv := acmocktest.Run(t)
//		app := myapp.New(srv.Authentication()) // your code, with a short poll interval
//		if !app.Login(t.Context(), "alice") {  // the demo's alice approves after 2 s
//			t.Fatal("alice should be logged in")
//		}
//	}
//
// Or play the phone from the test: srv.Approve("bob") approves bob's newest pending login, and
// srv.Advance(2*time.Second) moves time on. To act on the phone while your application polls,
// use WithManualClock: on the default clock the application's second poll of a login nobody has
// answered already jumps to that login's next step, or to its timeout when it has none.
//
// # The clock
//
// By default the emulator runs on an automatic virtual clock. It starts at the wall time (or
// WithStartTime) and moves only in two ways:
//
//   - A status poll. The first poll of a session, and any poll that would answer a status other
//     than the one the previous poll of that session answered, answers at once. A poll that would
//     answer the same status again first moves time to the session's next step that changes its
//     status (firing that step and every step of any session due by then, in time order), then
//     answers. So successive polls see every status of the timeline in turn: for the demo's
//     alice, pending, then active; a phone that never answers gives pending, then timeout, 60 s
//     of scenario time later (the scenario's timeout); scenarios.Walkaway gives pending,
//     identifying, active, walkaway, active. That is the sequence of distinct statuses a client
//     polling on the real clock sees, without the wait. A session with no step left that would
//     change it (approved with nothing more planned, or ended) does not move time.
//   - Advance, which moves time forward at once by the given duration, firing the steps due.
//
// Sleeping, in the test or in the application, does not move it. Steps due at 0s apply as the
// login starts, on every clock, so the first poll sees them. Changes made by the helpers (Approve,
// SetStatus, ...), the control API, a logout or Advance are what the next poll sees, without
// moving time. A poll that a scenario fault answers instead (a 503, a dropped connection) or cuts
// short (malformed) does not move time either: the retry sees what it would have seen.
//
// Walk-aways and remote logouts are steps like the others: an application that polls an approved
// session again (on each page view, say) sees the next change, so with scenarios.Walkaway the
// poll after the approval sees walkaway and the one after that active again.
//
// Time is shared by all sessions: a jump made for one session fires the steps of others that fall
// due by then, so a second session polled afterwards may be further on than its own polls alone
// would have taken it, like a client that polls less often on the real clock. For exact sequences
// keep one login in flight at a time, or use the manual clock.
//
// Scenario time is what the emulator records: each step in a session's history at its scheduled
// time (the login's time plus the step's delay), a change made from the test at the time it was
// made, and each request in the journal at the time it arrived, except that a poll that moved
// the clock is recorded at the time it moved to. Now reads scenario time.
//
// WithManualClock gives the strictly manual virtual clock instead: only Advance moves it, so an
// application polling with real sleeps sees pending until the test acts (Approve, Deny, ...) or
// advances time. That is the clock for tests that play the phone while the application polls.
// WithRealClock runs timelines on the wall clock, taking their real time.
package acmocktest

import (
	"context"
	"encoding/json"
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
	"github.com/acmock/acmock/internal/speccheck"
	"github.com/acmock/acmock/internal/store"
	"github.com/acmock/acmock/scenarios"
)

// Demo credentials of the built-in scenario.
const (
	DemoApplicationID     = scenario.DemoApplicationID
	DemoApplicationSecret = scenario.DemoApplicationSecret
)

// Option configures Start and Run.
type Option func(*config) error

type config struct {
	scenario *scenario.Scenario
	clock    clockKind
	start    time.Time
	ids      store.IDs
	authOff  bool
	wrap     []func(http.Handler) http.Handler
	snapshot *store.State
	limits   Limits
}

type clockKind int

const (
	autoClock clockKind = iota
	manualClock
	realClock
)

// WithSnapshot starts from the state saved in a snapshot file (what GET /_acmock/state, `acmock
// state export FILE` or Server.SaveState wrote) instead of the scenario's initial state: the
// applications, users, phones, sessions and messages of the snapshot, its clock time (on the
// virtual clocks) and its skew settings. A file that is not a good snapshot fails Start with what
// is wrong in it. The scenario still decides what phones do, and Server.Reset goes back to the
// scenario's initial state, not to the snapshot: a test that needs the snapshot again starts
// another Server with it.
func WithSnapshot(path string) Option {
	return func(c *config) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("WithSnapshot: %w", err)
		}
		st, err := store.ParseState(data, store.Limits{}) // the emulator checks it again against its own limits
		if err != nil {
			return fmt.Errorf("WithSnapshot %s: %w", path, err)
		}
		c.snapshot = st
		return nil
	}
}

// WithScenario loads a scenario shipped with acmock, by name, instead of the built-in demo:
// WithScenario(scenarios.Deny). A name no shipped scenario has fails Start with the list of names.
func WithScenario(name scenarios.Name) Option {
	return func(c *config) error {
		data, err := name.YAML()
		if err != nil {
			return err
		}
		sc, err := scenario.Parse(name.File(), data)
		c.scenario = sc
		return err
	}
}

// WithScenarioFile loads a scenario file instead of the built-in demo. A relative path is relative
// to the test's package directory; for the scenarios shipped with acmock use WithScenario.
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

// WithRealClock runs timelines on the wall clock instead of the automatic virtual one: a step
// after 2 s takes 2 s.
func WithRealClock() Option {
	return func(c *config) error { c.clock = realClock; return nil }
}

// WithManualClock runs timelines on a virtual clock that only Advance moves, for tests that want
// time to stand still between polls: an application that polls with its own sleeps sees pending
// until the test plays the phone (Approve, Deny, ...) or calls Advance. Use it to act on the phone
// while the application polls; on the default clock that application's second poll would already
// have moved the login on to its next step or its timeout.
func WithManualClock() Option {
	return func(c *config) error { c.clock = manualClock; return nil }
}

// WithStartTime sets what the virtual clock, automatic or manual, reads at the start (default: the
// wall time).
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
// journal (Requests) and its answer is not checked against the API. A middleware can also let the
// emulator act and then keep its answer from the client: dropping the connection with
// panic(http.ErrAbortHandler) once the emulator returns cuts any answer, and holding it back (a
// sleep) delays the API's answers, which net/http keeps in its buffer until the middleware returns;
// a larger answer (over net/http's 2 KiB buffer, such as a long journal page) or an event stream
// starts on its way while it is written. With several WithMiddleware, the first given is the
// outermost and sees requests first.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(c *config) error {
		if mw == nil {
			return errors.New("WithMiddleware: the middleware is nil")
		}
		c.wrap = append(c.wrap, mw)
		return nil
	}
}

// Limits bound what the emulator keeps, as acmock's flags do (api/control.yaml, Bounds). A zero
// field keeps its default, given in brackets.
type Limits struct {
	// MaxSessions is how many sessions are kept, live or finished [100,000; --max-sessions]. Past
	// it the one that finished longest ago, else the oldest live one, is forgotten: its status
	// and logout calls answer 404, which activeconnect.IsNotFound reports.
	MaxSessions int
	// SessionLifetime is how long a live session lasts before it is closed with cause "expired"
	// [24h; --session-lifetime], on the emulator's clock: Advance past it to reach it.
	SessionLifetime time.Duration
	// MaxUsers is how many users all applications hold together [2,000,000; --max-users];
	// add_users past it answers 409 limit_reached.
	MaxUsers int
	// MaxApplications is how many applications there may be [1,000]; NewApplication past it fails.
	MaxApplications int
	// JournalSize is how many requests Requests remembers [10,000; --journal-size].
	JournalSize int
	// MaxBodyBytes is the largest request body accepted [1 MiB; --max-body-bytes]; a larger one
	// answers 413.
	MaxBodyBytes int64
}

// WithLimits sets the emulator's bounds, so that a test reaches them cheaply: WithLimits(Limits{
// MaxSessions: 3}) makes the 4th login forget the 1st. Negative values are an error.
func WithLimits(l Limits) Option {
	return func(c *config) error {
		if l.MaxSessions < 0 || l.SessionLifetime < 0 || l.MaxUsers < 0 || l.MaxApplications < 0 || l.JournalSize < 0 || l.MaxBodyBytes < 0 {
			return fmt.Errorf("WithLimits: a limit is negative: %+v", l)
		}
		if l.SessionLifetime != 0 && l.SessionLifetime < time.Second {
			return fmt.Errorf("WithLimits: SessionLifetime must be at least 1s, not %v", l.SessionLifetime)
		}
		c.limits = l
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
	var clk clock.Clock
	switch c.clock {
	case autoClock:
		clk = clock.NewAuto(c.start)
	case manualClock:
		clk = clock.NewVirtual(c.start)
	default:
		clk = clock.Real{}
	}
	srv := httptest.NewUnstartedServer(nil)
	emu, err := emulator.New(emulator.Options{
		Clock: clk, Scenario: c.scenario, IDs: c.ids, AuthOff: c.authOff, CheckResponse: speccheck.Response, Snapshot: c.snapshot,
		PublicURL: "http://" + srv.Listener.Addr().String(),
		Limits: store.Limits{MaxSessions: c.limits.MaxSessions, SessionLifetime: c.limits.SessionLifetime,
			MaxUsers: c.limits.MaxUsers, MaxApplications: c.limits.MaxApplications},
		JournalSize: c.limits.JournalSize, MaxBodyBytes: c.limits.MaxBodyBytes,
		// A middleware in front of the emulator may act once it returns (drop the connection,
		// hold the answer back, wait): the answer then waits for it, and net/http's background
		// read of the connection stays on the socket, to notice a client that leaves.
		ServerHandler: len(c.wrap) == 0,
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
	srv.Config.ConnContext = emu.ConnContext
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

// Advance moves the virtual clock (automatic or manual) forward by d at once, firing every
// timeline step that falls due, in order. It panics on a real clock: such a test should wait
// instead.
func (s *Server) Advance(d time.Duration) {
	v, ok := s.clock.(*clock.Virtual)
	if !ok {
		panic("acmocktest: Advance needs a virtual clock; this server runs WithRealClock")
	}
	v.Advance(d)
}

// Now is what the emulator's clock reads: scenario time on a virtual clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// ErrBadTransition is returned when no session can make the change asked for, such as approving
// a session that was already closed, or a user whose sessions have all ended.
var ErrBadTransition = store.ErrBadTransition

// ErrNoSession is returned when nothing matches: no session has the token and no application has
// the user, or the user has not started a login yet.
var ErrNoSession = store.ErrSessionNotFound

// SetStatus makes the phone change a session's status now. who is a session token or a user ID:
// for a user, the change reaches the user's newest session, in any application, that can make it,
// as `acmock approve USER` does. When none can, the error names the user and the statuses of its
// sessions, and matches ErrBadTransition (or ErrNoSession when the user has none).
func (s *Server) SetStatus(who string, status activeconnect.SessionStatus) error {
	if _, err := s.emu.SetStatus(who, acapi.SessionStatus(status)); err != nil {
		return fmt.Errorf("acmocktest: %w", err)
	}
	return nil
}

// Approve makes the phone approve (active) the session, or the user's newest session that can be
// approved; see SetStatus.
func (s *Server) Approve(who string) error {
	return s.SetStatus(who, activeconnect.StatusActive)
}

// Deny makes the user decline (cancelled) the session, or the user's newest pending one.
func (s *Server) Deny(who string) error {
	return s.SetStatus(who, activeconnect.StatusCancelled)
}

// Identify shows the phone processing the request (identifying).
func (s *Server) Identify(who string) error {
	return s.SetStatus(who, activeconnect.StatusIdentifying)
}

// WalkAway takes the phone away from an active session (walkaway); Approve brings it back.
func (s *Server) WalkAway(who string) error {
	return s.SetStatus(who, activeconnect.StatusWalkaway)
}

// CloseSession ends the session from the phone (closed).
func (s *Server) CloseSession(who string) error {
	return s.SetStatus(who, activeconnect.StatusClosed)
}

// Fail makes the session fail.
func (s *Server) Fail(who string) error {
	return s.SetStatus(who, activeconnect.StatusFailed)
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

// Sessions lists the sessions of a user (all users when user is empty), oldest first. A user's
// are read through the user's own index, so they cost no more when other users have many.
func (s *Server) Sessions(user string) []Session {
	var out []Session
	var all []store.Session
	page := store.Page{Limit: 1000}
	for {
		sessions, next := s.emu.Store().SessionsPage(store.SessionFilter{UserID: user}, page)
		all = append(all, sessions...)
		if next == 0 {
			break
		}
		page.After = next
	}
	for _, sess := range all {
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

// Reset puts the state back to the scenario's initial one (also after WithSnapshot: the snapshot
// is not the scenario), cancels pending steps and empties the request journal; the clock is kept.
func (s *Server) Reset() error { return s.emu.Reset() }

// SaveState writes a snapshot of the state to path, for WithSnapshot or `acmock state import`.
func (s *Server) SaveState(path string) error {
	data, err := json.Marshal(s.emu.ExportState())
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

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
	// Operation is an operationId of api/openapi.yaml ("getSessionStatus"), openRegistrationLink,
	// or the name in the operation's URL ("session_status", "authenticate_user", "register").
	// Any other name is an error that lists the valid ones. Request.Operation is the operationId.
	Operation   string
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

// Requests returns the journal's requests that match f, oldest first. It panics, with an error
// that lists the valid names, when f.Operation names no operation: a typo must fail the test, not
// read as "no such request".
func (s *Server) Requests(f Filter) []Request {
	entries, err := s.emu.Requests(f.journal())
	if err != nil {
		panic(fmt.Errorf("acmocktest: Requests: %w", err))
	}
	return requests(entries)
}

// WaitRequests waits until at least n requests match f (or ctx ends) and returns them. A filter
// that names no operation is an error at once, listing the valid names.
func (s *Server) WaitRequests(ctx context.Context, f Filter, n int) ([]Request, error) {
	entries, err := s.emu.WaitRequests(ctx, f.journal(), n)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return requests(entries), fmt.Errorf("acmocktest: %d of %d requests arrived: %w", len(entries), n, err)
	}
	if err != nil {
		return nil, fmt.Errorf("acmocktest: %w", err)
	}
	return requests(entries), nil
}
