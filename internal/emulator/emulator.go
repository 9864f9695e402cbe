// Package emulator is the Activeconnect emulator: an http.Handler that serves every operation of
// api/openapi.yaml from in-memory state, validates each request against the spec, checks
// its HMAC signature like the real service and lets a scenario decide what phones do.
//
//	emu, _ := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now())})
//	srv := httptest.NewServer(emu)
//	// sign requests with scenario.DemoApplicationID and scenario.DemoApplicationSecret
package emulator

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acapiserver"
	"github.com/acmock/acmock/generated/acspec"
	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/heapq"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/reqlog"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// DefaultMaxBodyBytes is the largest request body accepted unless Options says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Options configures an Emulator. The zero value is usable: real clock, default scenario, random
// IDs, signatures verified, public URL taken from each request's Host.
type Options struct {
	// Clock runs scenario timelines (default the wall clock): clock.Real, a manual clock.NewVirtual
	// that only Advance moves, or clock.NewAuto, which status polls move too (see timeline.go).
	// HMAC timestamps are always checked against real time.
	Clock clock.Clock
	// Scenario is the world to start with (default scenario.Default()).
	Scenario *scenario.Scenario
	// IDs makes session tokens, secrets and link codes (default crypto-random).
	IDs store.IDs
	// PublicURL is the base of the URLs handed out (registration links, status and logout URLs),
	// e.g. "http://127.0.0.1:8080". Empty means http:// plus the Host of each request.
	PublicURL string
	// AuthOff accepts unsigned requests. Every log line says so.
	AuthOff bool
	// MaxClockSkew is how far a request's timestamp may be from real time (default 300 s).
	MaxClockSkew time.Duration
	// MaxBodyBytes caps request bodies (default DefaultMaxBodyBytes); larger bodies get a 413.
	MaxBodyBytes int64
	// JournalSize is how many requests the journal keeps (default journal.DefaultSize).
	JournalSize int
	// Limits bound the sessions, users, applications, links and messages kept (zero fields take
	// store.DefaultLimits).
	Limits store.Limits
	// CheckResponse, when set, is given every response of the API before it is sent; an error
	// turns the response into a 500 naming it. Tests set it to a check against the spec (as
	// acmocktest does) so that the emulator cannot drift from the spec.
	CheckResponse ResponseCheck
	// ControlToken, when set, is required as a bearer token on the control API (but for health and
	// registration links).
	ControlToken string
	// Logger receives one line per request (default: discard).
	Logger *slog.Logger
	// RequestLog, when set, writes the request lines in Logger's place, the same bytes without
	// slog's generic path; Logger still writes the other lines. Build it for the writer, format
	// and level of Logger's handler (a TextHandler or JSONHandler with only a level set, and no
	// With or WithGroup of its own): the emulator adds the attributes it adds to Logger.
	RequestLog *reqlog.Logger
	// ServerHandler says that the emulator is the http.Server's Handler, serving the connections
	// of Listener with ConnContext, and that no handler wraps it to act after it returns (drop
	// the connection, hold the answer back, wait). The emulator then sends a whole answer as soon
	// as the journal has its request, before the request's log line is made and before net/http's
	// own work at the end of a request, so that a client waits less for it; and it keeps
	// net/http's background read of the connection off the socket while it serves an API call
	// (see backgroundRead), which costs less.
	ServerHandler bool
	// DataDir, when set, keeps the state in that directory (see store.Open): every change is on
	// disk before it is answered, and a new emulator on the same directory starts where the last
	// one stopped, with the scenario applied on top as ApplyScenario does. Close releases it.
	DataDir string
	// Snapshot, when set, is the state to start from (a GET /_acmock/state document) instead of
	// the scenario's initial state; with DataDir it is used only when the directory is empty.
	Snapshot *store.State

	// generatedWrappers serves every operation through the generated wrappers and strict
	// handler rather than StrictDirectHandlers, for the tests and benchmarks that compare the two.
	generatedWrappers bool
}

// Emulator serves the Activeconnect API. Create it with New.
type Emulator struct {
	opts      Options
	clock     clock.Clock
	timers    *clock.Group
	store     *store.Store
	journal   *journal.Journal
	verifier  *acauth.Verifier
	log       *slog.Logger
	reqLog    *reqlog.Logger        // the request lines' writer, when Options.RequestLog is set
	ops       map[string]*operation // by "METHOD /path/template", api/openapi.yaml
	ctlOps    map[string]*operation // the same for api/control.yaml
	handler   http.Handler
	opNames   opNames      // the names a journal filter may use
	wallShift atomic.Int64 // time.Duration added to real time for signature checks
	delayed   atomic.Int64 // responses held by latency faults right now
	// controlChanges counts state-changing control calls, for the console's event stream.
	controlChanges store.Signal

	plansMu sync.Mutex
	plans   map[string]*plan // by session token: the timeline steps still to come (timeline.go)
	// timeline holds the steps of plans still to fire, soonest first, for GET /_acmock/timeline.
	timeline heapq.Heap[*plannedStep, soonestFirst]
	pollMu   sync.Mutex // one status poll at a time moves the automatic clock

	mu       sync.RWMutex // guards scenario and faults
	scenario *scenario.Scenario
	faults   *faultState
	reload   *ReloadStatus // the last ReloadFile
	reloadMu sync.Mutex    // one ReloadFile at a time
	applyMu  sync.Mutex    // one ApplyScenario at a time: the scenario swapped is the one added
	clockMu  sync.Mutex    // one move of the virtual clock, or change of the wall clock, at a time

	resumed bool // started from the state a data directory held
}

var _ acapiserver.StrictServerInterface = (*Emulator)(nil)

// ErrShuttingDown is the cause a server should give when it ends its requests' contexts to stop
// (context.WithCancelCause on its BaseContext): a request whose body was still arriving is then
// answered 503 shutting_down. A context that ends for another reason (the client went away, the
// server's read timeout) gets a 400 naming the body instead.
var ErrShuttingDown = errors.New("acmock is shutting down")

// New builds an emulator and loads its scenario.
func New(opts Options) (*Emulator, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Scenario == nil {
		opts.Scenario = scenario.Default()
	}
	if opts.IDs == nil {
		opts.IDs = store.RandomIDs()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxClockSkew <= 0 {
		opts.MaxClockSkew = acauth.DefaultMaxSkew
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	log, reqLog := opts.Logger, opts.RequestLog
	if opts.AuthOff {
		log = log.With(authOffKey, authOffValue)
		if reqLog != nil {
			reqLog = reqLog.With(authOffKey, authOffValue)
		}
	}
	e := &Emulator{
		opts:    opts,
		clock:   opts.Clock,
		timers:  clock.NewGroup(opts.Clock),
		journal: journal.New(opts.JournalSize),
		log:     log,
		reqLog:  reqLog,
		plans:   map[string]*plan{},
	}
	storeOpts := []store.Option{store.WithLimits(opts.Limits), store.WithClock(opts.Clock.Now), store.OnSessionDone(e.endPlan)}
	fresh := true
	if opts.DataDir != "" {
		st, isFresh, err := store.Open(opts.DataDir, opts.IDs, func(w string) { log.Warn("data directory repaired", "what", w) }, storeOpts...)
		if err != nil {
			return nil, err
		}
		e.store, fresh = st, isFresh
		e.resumed = !isFresh
	} else {
		e.store = store.New(opts.IDs, storeOpts...)
	}
	e.verifier = acauth.NewVerifier(acauth.SecretLookupFunc(e.lookupSecret),
		acauth.WithClock(e.wallNow), acauth.WithMaxSkew(opts.MaxClockSkew))

	ops, err := loadOperations(&acspec.API)
	if err != nil {
		return nil, err
	}
	ctlOps, err := loadOperations(&acspec.Control)
	if err != nil {
		return nil, err
	}
	e.ops, e.ctlOps = ops, ctlOps
	e.opNames = newOpNames(journalledOps(ops, ctlOps))
	if e.handler, err = e.routes(); err != nil {
		e.store.Close()
		return nil, err
	}
	if err := e.start(opts, fresh); err != nil {
		e.store.Close()
		return nil, err
	}
	return e, nil
}

// ServeHTTP serves the API and the emulator's own endpoints under /_acmock/.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.handler.ServeHTTP(w, r)
}

func (e *Emulator) routes() (http.Handler, error) {
	// SkipClean: a path with // or /./ gets a JSON 404 rather than a redirect to a cleaned path.
	root := mux.NewRouter().UseEncodedPath().SkipClean(true)
	root.NotFoundHandler = http.HandlerFunc(e.notFound)
	root.MethodNotAllowedHandler = http.HandlerFunc(e.notFound)

	// The API first: it takes most of the traffic. Each operation's route matches without a
	// regular expression and runs a middleware chain built here, once (see routing.go).
	strictOptions := acapiserver.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, decodeError(r, err))
		},
		ResponseErrorHandlerFunc: e.internalError,
	}
	paramError := func(w http.ResponseWriter, r *http.Request, err error) {
		writeError(w, r, errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, paramName(err), "%v", err))
	}
	strict := acapiserver.NewStrictHandlerWithOptions(e, nil, strictOptions)
	api := acapiserver.Handlers(strict, acapiserver.GorillaServerOptions{ErrorHandlerFunc: paramError})
	// The operations with string path parameters, string query parameters and JSON bodies (all of
	// the API's) call the strict server directly, with the path values identify decoded and the
	// body limitBody read, and answer exactly as the generated wrappers would.
	if !e.opts.generatedWrappers {
		hooks := acapiserver.DirectHooks{PathValue: decodedParam, Body: requestBody, ParamError: paramError}
		for key, h := range acapiserver.StrictDirectHandlers(e, hooks, strictOptions) {
			if op := e.ops[key]; op != nil {
				api[key], op.direct = h, true
			}
		}
	}
	// The signature is checked before anything about the request's content: a caller that is not
	// authenticated learns nothing about its body or parameters.
	err := addRoutes(root, &acspec.API, e.ops, api, func(op *operation, h http.Handler) http.Handler {
		return e.identify(op, e.injectFaults(e.validateResponse(e.authenticate(e.validateRequest(h)))))
	})
	if err != nil {
		return nil, err
	}

	e.consoleRoutes(root)
	// A matcher, not PathPrefix: the generated routes carry the full /_acmock/... paths.
	if err := e.controlRoutes(root.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool {
		return strings.HasPrefix(escapedPath(r), "/_acmock/")
	}).Subrouter()); err != nil {
		return nil, err
	}
	return e.observe(e.limitBody(e.dispatch(root))), nil
}

// decodedParam gives StrictDirectHandlers a path parameter as identify decoded it.
func decodedParam(r *http.Request, name string) string {
	v, _ := infoFrom(r.Context()).pathParam(name)
	return v
}

// requestBody gives StrictDirectHandlers the body limitBody read: the bytes validateRequest
// checked, which the generated strict handlers would read again from r.Body.
func requestBody(r *http.Request) []byte { return infoFrom(r.Context()).body }

// notFound answers a path no route matched, or a known path with the wrong method (gorilla/mux
// does not always report a method mismatch inside a matcher subrouter, so it is checked here too).
func (e *Emulator) notFound(w http.ResponseWriter, r *http.Request) {
	ops, doc := e.ops, "api/openapi.yaml"
	if strings.HasPrefix(r.URL.Path, "/_acmock/") {
		ops, doc = e.ctlOps, "api/control.yaml"
	}
	var allowed []string
	for _, op := range ops {
		if op.matches(r.URL.EscapedPath()) {
			allowed = append(allowed, op.method)
		}
	}
	if len(allowed) > 0 {
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, r, errorf(http.StatusMethodNotAllowed, acapi.ErrorCodeMethodNotAllowed, "",
			"%s is not allowed on %s; use %s", clip.Input(r.Method), clip.Input(r.URL.EscapedPath()), strings.Join(allowed, " or ")))
		return
	}
	writeError(w, r, errorf(http.StatusNotFound, acapi.ErrorCodeNotFound, "",
		"no endpoint %s %s; see %s for the paths acmock serves", clip.Input(r.Method), clip.Input(r.URL.EscapedPath()), doc))
}

func (e *Emulator) internalError(w http.ResponseWriter, r *http.Request, err error) {
	e.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	if errors.Is(err, store.ErrStorage) {
		// Not a bug: the data directory failed (a full or failing disk). The store refuses every
		// change from then on, and a restart starts from what the directory holds.
		writeError(w, r, errorf(http.StatusInternalServerError, acapi.ErrorCodeInternalError, "",
			"acmock failed to answer: %v; it refuses every change until it is restarted, which starts from what the data directory holds", err))
		return
	}
	writeError(w, r, errorf(http.StatusInternalServerError, acapi.ErrorCodeInternalError, "",
		"acmock failed to answer: %v (this is a bug in acmock; please report it)", err))
}

// wallNow is real time shifted by the control API's wall-clock offset; signatures are checked
// against it.
func (e *Emulator) wallNow() time.Time {
	return time.Now().Add(time.Duration(e.wallShift.Load()))
}

// Resumed reports whether the emulator started from the state its data directory held (with
// the scenario applied on top, as a reload does), rather than from the scenario alone.
func (e *Emulator) Resumed() bool { return e.resumed }

// Store gives access to the state, for the control API and tests.
func (e *Emulator) Store() *store.Store { return e.store }

// Journal gives access to the request journal.
func (e *Emulator) Journal() *journal.Journal { return e.journal }

// Clock returns the clock that timelines run on.
func (e *Emulator) Clock() clock.Clock { return e.clock }

// Verifier returns the HMAC verifier, whose skew window can be changed while serving.
func (e *Emulator) Verifier() *acauth.Verifier { return e.verifier }

// SetWallClockShift makes signature checks see real time shifted by d, to test clients whose clock
// is wrong.
func (e *Emulator) SetWallClockShift(d time.Duration) { e.wallShift.Store(int64(d)) }

// WallClockShift returns the shift set by SetWallClockShift.
func (e *Emulator) WallClockShift() time.Duration { return time.Duration(e.wallShift.Load()) }

// Delayed reports how many responses latency faults are holding right now.
func (e *Emulator) Delayed() int { return int(e.delayed.Load()) }

// Scenario returns the loaded scenario.
func (e *Emulator) Scenario() *scenario.Scenario {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.scenario
}

// LoadScenario replaces the scenario and resets the state to it (journal included, see Reset). A
// scenario with more applications or users than the store may hold is refused (the error wraps
// scenario.Problems and store.ErrLimitReached) and the loaded one stays.
func (e *Emulator) LoadScenario(sc *scenario.Scenario) error {
	return e.loadScenario(sc, true)
}

func (e *Emulator) loadScenario(sc *scenario.Scenario, clearJournal bool) error {
	if err := scenario.CheckLimits(sc, e.store.Limits()); err != nil {
		return fmt.Errorf("load scenario %s: %w", sc.Name, overLimit{err})
	}
	e.mu.Lock()
	e.scenario = sc
	e.mu.Unlock()
	return e.reset(clearJournal)
}

// Reset cancels every pending step and puts the state back to the scenario's initial one. The
// request journal starts afresh too (its sequence numbers keep counting), so that what a test
// reads after a reset is its own; the clock is kept.
func (e *Emulator) Reset() error { return e.reset(true) }

func (e *Emulator) reset(clearJournal bool) error {
	e.timers.StopAll()
	e.forgetPlans()
	if clearJournal {
		e.journal.Clear()
	}
	e.mu.Lock()
	if e.faults != nil {
		e.faults.stop()
	}
	e.faults = newFaultState(e.scenario)
	e.mu.Unlock()
	if err := e.store.ResetErr(); err != nil {
		return err
	}
	sc := e.Scenario()
	if _, _, err := e.store.AddMissing(seedOf(sc.Applications, nil), e.clock.Now()); err != nil {
		return fmt.Errorf("load scenario %s: %w", sc.Name, err)
	}
	return nil
}

// ResetApplication puts one application back to the scenario's initial state (no users for an
// application created at run time), leaving the others, the journal and the clock alone: other
// test suites may be using them.
func (e *Emulator) ResetApplication(appID string) error {
	if err := e.store.ResetApplication(appID); err != nil {
		return err
	}
	for _, app := range e.Scenario().Applications {
		if app.ID == appID {
			_, _, err := e.store.AddMissing(seedOf([]scenario.Application{app}, nil), e.clock.Now())
			return err
		}
	}
	return nil
}

// StopTimelines cancels every pending timer and delayed response, and keeps the state open: what
// a shutdown calls first, so that the requests it lets finish still reach the data directory.
// The emulator serves no more timelines afterwards.
func (e *Emulator) StopTimelines() {
	e.timers.StopAll()
	e.forgetPlans()
	e.mu.Lock()
	e.faults.stop()
	e.mu.Unlock()
}

// Close cancels every pending timer and delayed response and releases the data directory; the
// emulator serves no more timelines afterwards.
func (e *Emulator) Close() {
	e.StopTimelines()
	if err := e.store.Close(); err != nil {
		e.log.Error("close the data directory", "err", err)
	}
}

// paramName names the parameter of a binding error from the generated wrapper (a repeated query
// parameter, say), so the 400 says which field is at fault like every other 400.
func paramName(err error) string {
	var invalid *acapiserver.InvalidParamFormatError
	var required *acapiserver.RequiredParamError
	var tooMany *acapiserver.TooManyValuesForParamError
	var unmarshal *acapiserver.UnmarshalingParamError
	switch {
	case errors.As(err, &invalid):
		return invalid.ParamName
	case errors.As(err, &required):
		return required.ParamName
	case errors.As(err, &tooMany):
		return tooMany.ParamName
	case errors.As(err, &unmarshal):
		return unmarshal.ParamName
	}
	return ""
}

// overLimit is a scenario's problems with a bound: errors.Is finds store.ErrLimitReached in it,
// while its text is the problems' alone, which already say that the limit is reached.
type overLimit struct{ problems error }

func (o overLimit) Error() string   { return o.problems.Error() }
func (o overLimit) Unwrap() []error { return []error{o.problems, store.ErrLimitReached} }
