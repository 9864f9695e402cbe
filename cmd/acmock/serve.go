package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/deadline"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/reqlog"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
	"github.com/acmock/acmock/internal/watch"
)

// config is what the flags (and their ACMOCK_* environment fallbacks) say.
type config struct {
	addr         string
	publicURL    string
	scenarioFile string
	clock        string
	maxSkew      time.Duration
	logFormat    string
	logLevel     string
	auth         string
	maxBody      int64
	controlToken string
	journalSize  int
	limits       store.Limits
	dataDir      string
	watch        bool
}

const usage = `acmock: an emulator of the Activeconnect API

Usage:
  acmock [flags]            serve the emulator
  acmock validate FILE...   check scenario files without serving
  acmock state export FILE  save a running emulator's state (- for stdout)
  acmock state import FILE  replace a running emulator's state with a saved one

Examples:
  acmock                                        serve the demo application on 127.0.0.1:8080
  acmock --scenario scenarios/deny.yaml         serve a scenario
  acmock --clock virtual                        time moves only through POST /_acmock/clock/advance
  acmock --clock auto                           polls move time to the next step: no waiting
  acmock --control-token s3cret                 the control API under /_acmock/ requires the token
  acmock --auth off                             accept unsigned requests (for curl experiments)
  acmock --data ~/.acmock                       keep the state on disk: a restart (even kill -9) loses nothing
  acmock --scenario mine.yaml --watch           reload mine.yaml when it is saved (SIGHUP reloads too)
  acmock --addr 0.0.0.0:8080 --public-url http://myhost:8080   expose it (it ships demo credentials)

Flags (each also read from the environment variable in brackets):
`

// newFlagSet declares the flags of the serve command into c.
func newFlagSet(c *config) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet("acmock", flag.ContinueOnError)
	// Errors are printed by run, in one line with a hint; --help by printUsage, on stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	var err error
	fs.StringVar(&c.addr, "addr", env("ACMOCK_ADDR", "127.0.0.1:8080"), "listen address [ACMOCK_ADDR]")
	fs.StringVar(&c.publicURL, "public-url", env("ACMOCK_PUBLIC_URL", ""), "base of the URLs handed out (default http://ADDR) [ACMOCK_PUBLIC_URL]")
	fs.StringVar(&c.scenarioFile, "scenario", env("ACMOCK_SCENARIO", ""), "scenario YAML file (default: the built-in demo) [ACMOCK_SCENARIO]")
	fs.StringVar(&c.clock, "clock", env("ACMOCK_CLOCK", "real"), "what scenario timelines run on: real, virtual (moves only when advanced) or auto (status polls move it too; see scenarios/README.md) [ACMOCK_CLOCK]")
	skew, err := envDuration("max-clock-skew", 300*time.Second)
	if err != nil {
		return nil, err
	}
	fs.DurationVar(&c.maxSkew, "max-clock-skew", skew, "how far a signed timestamp may be from real time [ACMOCK_MAX_CLOCK_SKEW]")
	fs.StringVar(&c.logFormat, "log-format", env("ACMOCK_LOG_FORMAT", "text"), "text or json [ACMOCK_LOG_FORMAT]")
	fs.StringVar(&c.logLevel, "log-level", env("ACMOCK_LOG_LEVEL", "info"), "debug, info, warn or error [ACMOCK_LOG_LEVEL]")
	fs.StringVar(&c.auth, "auth", env("ACMOCK_AUTH", "verify"), "verify or off: off accepts unsigned requests [ACMOCK_AUTH]")
	maxBody, err := envInt("max-body-bytes", emulator.DefaultMaxBodyBytes)
	if err != nil {
		return nil, err
	}
	fs.Int64Var(&c.maxBody, "max-body-bytes", int64(maxBody), "largest request body accepted [ACMOCK_MAX_BODY_BYTES]")
	fs.StringVar(&c.controlToken, "control-token", env("ACMOCK_CONTROL_TOKEN", ""), "require this bearer token on the control API under /_acmock/ [ACMOCK_CONTROL_TOKEN]")
	journalSize, err := envInt("journal-size", journal.DefaultSize)
	if err != nil {
		return nil, err
	}
	fs.IntVar(&c.journalSize, "journal-size", journalSize, "how many requests the journal keeps [ACMOCK_JOURNAL_SIZE]")
	if err := limitFlags(fs, &c.limits); err != nil {
		return nil, err
	}
	fs.StringVar(&c.dataDir, "data", env("ACMOCK_DATA", ""), "keep the state in this directory, every change on disk before it is answered (default: in memory, lost on exit) [ACMOCK_DATA]")
	watch, err := envBool("watch", false)
	if err != nil {
		return nil, err
	}
	fs.BoolVar(&c.watch, "watch", watch, "reload the --scenario file when it is saved, keeping the state [ACMOCK_WATCH]")
	return fs, nil
}

// printUsage writes the help: what acmock does, examples, the flags and the control commands.
func printUsage(w io.Writer) {
	var c config
	fs, err := newFlagSet(&c)
	if err != nil { // a bad ACMOCK_* variable: the help is still useful without the defaults
		fmt.Fprint(w, usage)
		return
	}
	fmt.Fprint(w, usage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, fixedBounds)
	ctlUsage(w)
	fmt.Fprint(w, exitCodes)
}

const fixedBounds = `
Bounds: besides the limits the flags above set, acmock keeps at most 1,000 applications, a
user's last 10 registration links, the last 1,000 SMS, a session's last 64 status changes, the
last 100,000 nonces for the replay check and 100,000 fault call counters; it answers pages of at
most 1,000 users or sessions, request lines and headers of at most 64 KiB each. All of them, and
what happens past each: README.md (Bounds) and api/control.yaml (Bounds).

`

const exitCodes = `
Exit codes:
  0  stopped by SIGINT or SIGTERM: requests in flight get 5 s to finish, then what is still busy
     (a client that stopped reading) is cut and logged; --help; all files valid
  1  could not serve (the address is taken, say) or stopped on an error; a scenario file has
     problems (validate); a control command failed
  2  bad flags, arguments, environment variables or scenario file at start-up
`

// parseFlags reads the serve command's flags. --help gives flag.ErrHelp.
func parseFlags(args []string) (config, error) {
	var c config
	fs, err := newFlagSet(&c)
	if err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.clock != "real" && c.clock != "virtual" && c.clock != "auto":
		return c, flagError(fs, "clock", "must be real, virtual or auto, not %q", c.clock)
	case c.auth != "verify" && c.auth != "off":
		return c, flagError(fs, "auth", "must be verify or off, not %q", c.auth)
	case c.maxSkew < time.Second:
		return c, flagError(fs, "max-clock-skew", "must be at least 1s, not %v", c.maxSkew)
	case c.journalSize < 1:
		return c, flagError(fs, "journal-size", "must be at least 1, not %d", c.journalSize)
	case c.maxBody < 1:
		return c, flagError(fs, "max-body-bytes", "must be at least 1, not %d", c.maxBody)
	case c.watch && c.scenarioFile == "":
		return c, errors.New("--watch needs --scenario FILE: the built-in scenario has no file to watch")
	case c.logFormat != "text" && c.logFormat != "json":
		return c, flagError(fs, "log-format", "must be text or json, not %q", c.logFormat)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return c, flagError(fs, "log-level", "must be debug, info, warn or error, not %q", c.logLevel)
	}
	if c.publicURL != "" {
		u, err := checkPublicURL(c.publicURL)
		if err != nil {
			return c, flagError(fs, "public-url", "%v", err)
		}
		c.publicURL = u
	}
	return c, checkLimits(fs, c.limits)
}

// newLogger returns the logger for acmock's lines and the writer of the request lines, which
// writes what the logger's handler would, the same bytes, without slog's generic path.
func newLogger(c config, w io.Writer) (*slog.Logger, *reqlog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), reqlog.New(w, reqlog.JSON, level), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), reqlog.New(w, reqlog.Text, level), nil
}

// run serves until ctx-equivalent signals arrive and returns the exit code. ready, when not nil,
// receives the base URL once the listener is open (tests use it).
func run(args []string, stdout, stderr io.Writer, ready chan<- string) int {
	if len(args) > 0 && args[0] == "validate" {
		return validate(args[1:], stdout, stderr)
	}

	if len(args) > 0 {
		if _, ok := ctlCommands[args[0]]; ok {
			return runCtl(args[0], args[1:], stdout, stderr)
		}
	}
	if len(args) > 0 && args[0] == "help" {
		printUsage(stdout)
		return 0
	}
	c, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "acmock: %v\nRun acmock --help for the flags and commands.\n", err)
		return 2
	}
	// The log is written off the request path, and flushed on every way out of run.
	logOut := newLogWriter(stderr)
	defer logOut.Close()
	log, reqLog, err := newLogger(c, logOut)
	if err != nil {
		fmt.Fprintf(stderr, "acmock: %v\n", err)
		return 2
	}
	emuLog := log // the emulator marks its own lines when auth is off
	if c.auth == "off" {
		log = log.With("auth", "OFF: unsigned requests accepted")
	}
	sc := scenario.Default()
	if c.scenarioFile != "" {
		if sc, err = scenario.LoadFile(c.scenarioFile); err != nil {
			fmt.Fprintf(stderr, "acmock: %v\n", err)
			return 2
		}
	}
	var clk clock.Clock = clock.Real{}
	switch c.clock {
	case "virtual":
		clk = clock.NewVirtual(time.Now())
	case "auto":
		clk = clock.NewAuto(time.Now())
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		fmt.Fprintf(stderr, "acmock: listen on %s: %v\n", c.addr, err)
		return 1
	}
	b := describeBinding(c.addr, ln.Addr(), c.publicURL)
	emu, err := emulator.New(emulator.Options{
		Clock: clk, Scenario: sc, PublicURL: b.publicURL, AuthOff: c.auth == "off",
		MaxClockSkew: c.maxSkew, MaxBodyBytes: c.maxBody, Logger: emuLog, RequestLog: reqLog,
		ControlToken: c.controlToken, JournalSize: c.journalSize, Limits: c.limits, DataDir: c.dataDir,
		ServerHandler: true, // nothing wraps the emulator
	})
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "acmock: %v\n", err)
		return 1
	}
	defer emu.Close() // releases the data directory, also on the error paths below
	// Requests see a context that ends when shutdown starts, so long waits (a journal read with
	// min_count) answer at once instead of holding the shutdown up.
	baseCtx, cancelBase := context.WithCancelCause(context.Background())
	defer cancelBase(nil)
	conns := newConnCounter()
	srv := &http.Server{
		Handler:           emu,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ConnContext:       emu.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second, // room for latency faults
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:         conns.track,
	}

	printBanner(stdout, b, sc, c, servedState(emu))
	if c.auth == "off" {
		log.Warn("SIGNATURES ARE NOT CHECKED (--auth off): any unsigned request is accepted")
	}
	if b.exposed {
		log.Warn("acmock is reachable from other machines, with the scenario's credentials", "addr", ln.Addr().String(),
			"public_url", cmp.Or(b.publicURL, "each request's Host"))
	}
	listening := []any{"addr", ln.Addr().String(), "scenario", sc.Name, "clock", c.clock, "storage", storageName(c.dataDir)}
	if limits := changedLimits(c); len(limits) > 0 {
		listening = append(listening, "limits", strings.Join(limits, " "))
	}
	log.Info("listening", listening...)
	if c.watch {
		stopWatch, err := watch.File(c.scenarioFile, watch.DefaultDebounce, func() { _ = emu.ReloadFile(c.scenarioFile) }, log)
		if err != nil {
			fmt.Fprintf(stderr, "acmock: --watch: %v\n", err)
			return 1
		}
		defer stopWatch()
		log.Info("watching the scenario file: a save reloads it", "file", c.scenarioFile)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	hupDone := make(chan struct{})
	defer close(hupDone)
	go func() {
		for {
			select {
			case <-hupDone:
				return
			case <-hup:
			}
			if c.scenarioFile == "" {
				log.Warn("SIGHUP: nothing to reload, the built-in scenario is in use (see --scenario)")
				continue
			}
			_ = emu.ReloadFile(c.scenarioFile)
		}
	}()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	served := make(chan error, 1)
	// The server's timeouts hold as they are; the wrapper only spares the sockets most of the
	// deadlines net/http sets on each request (internal/deadline).
	go func() {
		served <- srv.Serve(emu.Listener(deadline.Listener(ln, srv.ReadHeaderTimeout), srv.MaxHeaderBytes))
	}()
	if ready != nil {
		ready <- b.local
	}

	select {
	case err := <-served:
		log.Error("server stopped", "err", err)
		return 1
	case sig := <-stop:
		log.Info("shutting down: finishing requests in flight", "signal", sig.String(), "grace", shutdownGrace.String())
	}
	// Pending steps and delayed responses end now; long waits (a journal read with min_count, an
	// event stream) and request bodies still arriving end with the base context (limitBody answers
	// those 503 shutting_down). The store stays open until the server has stopped, so that what a
	// request in flight changes is on disk before it is answered.
	emu.StopTimelines()
	cancelBase(emulator.ErrShuttingDown)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		// What is left is a client that does not read its answer (or a handler that does not
		// end): cut it rather than wait for the write timeout.
		busy := conns.open()
		_ = srv.Close()
		log.Warn("stopped: cut the connections still busy after the grace", "connections", busy,
			"grace", shutdownGrace.String(), "err", err)
		return 0
	}
	log.Info("stopped")
	return 0
}

// shutdownGrace is how long a shutdown lets the requests in flight finish before it cuts their
// connections. Every answer acmock gives takes milliseconds to make and, to a client that reads it,
// well under a second to send (the largest, a state export or a journal of 10,000 entries, is tens
// of megabytes on a local network), so only a client that stopped reading is still there after
// it. Five seconds stays inside the time a supervisor waits before it kills a process that
// ignores SIGTERM (docker stop: 10 s; Kubernetes: 30 s; systemd: 90 s), so acmock always gets to
// close its data directory and exit 0 itself.
const shutdownGrace = 5 * time.Second

// connCounter follows the server's connections (http.Server.ConnState), to say how many a
// shutdown had to cut. It notes only when a connection opens and closes: the two changes each
// request makes (active, then idle) cost a lock and a map write apiece, about 1% of the server's
// CPU under load, and are not needed. When Shutdown gives up it has closed the idle connections
// (it looks for them every half second at most), so the connections still open are those busy
// with a request, and those that connected in the last five seconds without sending one, which
// the map counted as busy too.
type connCounter struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newConnCounter() *connCounter { return &connCounter{conns: map[net.Conn]struct{}{}} }

func (c *connCounter) track(conn net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		c.mu.Lock()
		c.conns[conn] = struct{}{}
		c.mu.Unlock()
	case http.StateClosed, http.StateHijacked:
		c.mu.Lock()
		delete(c.conns, conn)
		c.mu.Unlock()
	}
}

// open counts the connections the server has not closed.
func (c *connCounter) open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.conns)
}

// binding is where acmock listens, seen from the clients' side.
type binding struct {
	local     string // a base URL that works on this machine, e.g. http://127.0.0.1:8080
	publicURL string // the base of the URLs handed out; "" means each request's Host
	exposed   bool   // other machines can reach the listener
}

// describeBinding works out the URLs for the address acmock listens on. An unspecified address
// (0.0.0.0, ::, or none) listens on every interface: ln.Addr() is then http://[::]:PORT, which is
// no address for a client, so the local URL uses loopback and, unless --public-url says otherwise,
// the URLs handed out follow each request's Host, so every client gets URLs it can reach.
func describeBinding(requested string, addr net.Addr, publicURL string) binding {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return binding{local: "http://" + addr.String(), publicURL: cmp.Or(publicURL, "http://"+addr.String())}
	}
	port := strconv.Itoa(tcp.Port)
	switch {
	case tcp.IP.IsLoopback():
		local := "http://" + net.JoinHostPort(tcp.IP.String(), port)
		return binding{local: local, publicURL: cmp.Or(publicURL, local)}
	case tcp.IP.IsUnspecified():
		host, _, _ := net.SplitHostPort(requested)
		loopback := "127.0.0.1"
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			loopback = "::1" // asked for [::]: IPv4 may be off on this listener
		}
		return binding{local: "http://" + net.JoinHostPort(loopback, port), publicURL: publicURL, exposed: true}
	default:
		local := "http://" + net.JoinHostPort(tcp.IP.String(), port)
		return binding{local: local, publicURL: cmp.Or(publicURL, local), exposed: true}
	}
}

// served is the state acmock serves when a data directory held one: the secrets and users in
// effect, which the scenario file does not override (scenarios/README.md#reloading). A nil
// *served is a start from the scenario alone.
type served struct {
	dir                             string
	apps, users, sessions, messages int
	store                           *store.Store
}

// servedState describes what emu resumed from its data directory; nil when it started from the
// scenario (in memory, or an empty directory).
func servedState(emu *emulator.Emulator) *served {
	if !emu.Resumed() {
		return nil
	}
	st := emu.Store()
	return &served{dir: emu.DataDir(), apps: len(st.Applications()), users: st.UserCount(),
		sessions: st.SessionCount(), messages: len(st.Outbox()), store: st}
}

// secret is the secret in effect for an application of the scenario.
func (s *served) secret(app scenario.Application) string {
	if s == nil {
		return app.Secret
	}
	if a, err := s.store.Application(app.ID); err == nil {
		return a.Secret
	}
	return app.Secret
}

// user is what the state holds of a user of the scenario: has is false when the application
// deleted the user at run time; phone and lost say what phone the user has now.
func (s *served) user(appID string, u scenario.User) (has, phone, lost bool) {
	if s == nil {
		return true, u.Phone != nil, false
	}
	got, err := s.store.User(appID, u.ID)
	if err != nil {
		return false, false, false
	}
	return true, got.Phone != nil, got.Phone != nil && got.Phone.Lost
}

// others counts the users of an application that the scenario does not list: those created at
// run time.
func (s *served) others(app scenario.Application) int {
	if s == nil {
		return 0
	}
	n, err := s.store.UserCountOf(app.ID)
	if err != nil {
		return 0
	}
	for _, u := range app.Users {
		if has, _, _ := s.user(app.ID, u); has {
			n--
		}
	}
	return n
}

func printBanner(w io.Writer, b binding, sc *scenario.Scenario, c config, st *served) {
	var out strings.Builder
	fmt.Fprintf(&out, "acmock is serving the Activeconnect API at %s (scenario %s, %s clock)\n\n", b.local, sc.Name, c.clock)
	switch {
	case st != nil:
		fmt.Fprintf(&out, "State resumed from %s: %s, %s, %s, %s.\n", st.dir, plural(st.apps, "application"),
			plural(st.users, "user"), plural(st.sessions, "session"), plural(st.messages, "SMS message"))
		out.WriteString("The scenario decides what phones do from now on; the applications, secrets and users below\n")
		out.WriteString("are the state's (see scenarios/README.md#reloading; POST /_acmock/reset starts over from the scenario).\n\n")
	case c.dataDir != "":
		fmt.Fprintf(&out, "State kept in %s (nothing saved there yet: starting from the scenario).\n\n", c.dataDir)
	}
	if c.auth == "off" {
		out.WriteString("WARNING: --auth off: signatures are NOT checked; any unsigned request is accepted\n\n")
	}
	if b.exposed {
		fmt.Fprintf(&out, "WARNING: --addr %s: other machines can reach acmock, and the scenario's credentials\n", c.addr)
		out.WriteString("(the demo ones are public) sign requests for them; use --control-token to guard the control API.\n")
		if b.publicURL == "" {
			out.WriteString("URLs handed out (status, logout, registration links) follow each request's Host header;\n")
			out.WriteString("set --public-url to fix them.\n")
		}
		out.WriteString("\n")
	}
	if b.publicURL != "" && b.publicURL != b.local {
		fmt.Fprintf(&out, "URLs handed out start with %s\n\n", b.publicURL)
	}
	if limits := changedLimits(c); len(limits) > 0 {
		fmt.Fprintf(&out, "Limits changed from their defaults: %s (see acmock --help, Bounds)\n\n", strings.Join(limits, " "))
	}
	if c.clock == "virtual" {
		out.WriteString("The clock is virtual: it moves only when told to (acmock advance 2s, or POST\n")
		out.WriteString("/_acmock/clock/advance), so a phone's steps and the session timeout wait for it.\n\n")
	}
	clientURL := cmp.Or(b.publicURL, b.local)
	for i, app := range sc.Applications {
		suffix := ""
		if i > 0 {
			// Names of their own, so that pasting every block keeps the first application the
			// one acclient and the official client use.
			suffix = "_" + strconv.Itoa(i+1)
			fmt.Fprintf(&out, "# application %d, in variables of its own (use it with acclient --app-id \"$ACTIVECONNECT_APP_ID%s\" --app-secret \"$ACTIVECONNECT_APP_SECRET%s\" ...)\n", i+1, suffix, suffix)
		} else {
			fmt.Fprintf(&out, "export ACTIVECONNECT_BASE_URL=%s\n", shellQuote(clientURL))
		}
		fmt.Fprintf(&out, "export ACTIVECONNECT_APP_ID%s=%s\n", suffix, shellQuote(app.ID))
		secret := st.secret(app)
		fmt.Fprintf(&out, "export ACTIVECONNECT_APP_SECRET%s=%s\n", suffix, shellQuote(secret))
		if secret != app.Secret {
			out.WriteString("#   (the state's secret: the scenario file gives another, which applies only after POST /_acmock/reset)\n")
		}
		for _, u := range app.Users {
			fmt.Fprintf(&out, "#   %-12s %s\n", u.ID, describeUser(sc, app.ID, u, st))
		}
		if n := st.others(app); n > 0 {
			fmt.Fprintf(&out, "#   and %s created at run time (acmock users)\n", plural(n, "more user"))
		}
		out.WriteString("\n")
	}
	if len(sc.Faults) > 0 {
		out.WriteString("Faults the scenario injects:\n")
		for _, f := range sc.Faults {
			fmt.Fprintf(&out, "  %s\n", describeFault(f))
		}
		out.WriteString("\n")
	}
	out.WriteString("Next:\n")
	for _, line := range nextCommands(sc, c, st) {
		fmt.Fprintf(&out, "  %s\n", line)
	}
	if c.controlToken != "" {
		out.WriteString("  The control API and console need the token: export ACMOCK_CONTROL_TOKEN=<the --control-token value>\n")
		out.WriteString("  for the acmock commands above (or pass --control-token); HTTP clients send Authorization: Bearer <token>\n")
	}
	fmt.Fprintf(&out, "console: %s/_acmock/ui/\n", b.local)
	fmt.Fprintf(&out, "control API: %s/_acmock/ (described in api/control.yaml)\n", b.local)
	fmt.Fprintf(&out, "health: %s/_acmock/health\n", b.local)
	_, _ = io.WriteString(w, out.String())
}

// changedLimits lists the bounds set to other values than their defaults, as flags: what a user
// who wonders why a session went missing wants to see at start-up.
func changedLimits(c config) []string {
	d := store.DefaultLimits
	var out []string
	add := func(flag string, value, def any, set bool) {
		if set && value != def {
			out = append(out, fmt.Sprintf("--%s %v", flag, value))
		}
	}
	add("max-sessions", c.limits.MaxSessions, d.MaxSessions, c.limits.MaxSessions > 0)
	add("session-lifetime", c.limits.SessionLifetime, d.SessionLifetime, c.limits.SessionLifetime > 0)
	add("max-users", c.limits.MaxUsers, d.MaxUsers, c.limits.MaxUsers > 0)
	add("journal-size", c.journalSize, journal.DefaultSize, c.journalSize > 0)
	add("max-body-bytes", c.maxBody, int64(emulator.DefaultMaxBodyBytes), c.maxBody > 0)
	return out
}

// nextCommands suggests what to run now, for the user whose first login shows the most.
func nextCommands(sc *scenario.Scenario, c config, st *served) []string {
	var user string
	appFlags := ""
	for i, app := range sc.Applications {
		for _, u := range app.Users {
			if user != "" {
				break
			}
			if _, phone, lost := st.user(app.ID, u); phone && !lost {
				user = u.ID
				if i > 0 {
					appFlags = fmt.Sprintf(" --app-id \"$ACTIVECONNECT_APP_ID_%d\" --app-secret \"$ACTIVECONNECT_APP_SECRET_%d\"", i+1, i+1)
				}
			}
		}
	}
	client, self := shellQuote(commandPath("acclient")), shellQuote(commandPath("acmock"))
	var out []string
	if user == "" {
		out = append(out, fmt.Sprintf("%-42s add a user (no user of the scenario has a phone)", client+" users add dave"),
			fmt.Sprintf("%-42s register a phone for dave by opening the link", "curl \"$("+client+" device link dave)\""))
		user = "dave"
	}
	u := shellQuote(user)
	out = append(out, fmt.Sprintf("%-42s log %s in and wait for the phone (exit 0 once approved)", client+" authenticate "+u+" --wait"+appFlags, user))
	if c.clock == "virtual" {
		out = append(out, fmt.Sprintf("%-42s move the virtual clock, from another terminal", self+" advance 5s"))
	}
	out = append(out,
		fmt.Sprintf("%-42s play the phone now (also deny, walkaway, close)", self+" approve "+u),
		fmt.Sprintf("%-42s watch the requests arrive", self+" requests --follow"))
	return out
}

// commandPath is how the user can run one of acmock's commands from where they are: its name when
// it is on PATH; else its path beside the running acmock (make run builds both into bin/),
// relative to the working directory when it is below it; else its name.
func commandPath(name string) string {
	self, _ := os.Executable()
	wd, _ := os.Getwd()
	return commandPathFrom(name, self, wd, func(n string) bool { _, err := exec.LookPath(n); return err == nil })
}

func commandPathFrom(name, self, wd string, onPath func(string) bool) string {
	if onPath(name) || self == "" {
		return name
	}
	p := filepath.Join(filepath.Dir(self), name)
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return name
	}
	if wd != "" {
		if rel, err := filepath.Rel(wd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			if !strings.Contains(rel, string(filepath.Separator)) {
				rel = "." + string(filepath.Separator) + rel
			}
			return rel
		}
	}
	return p
}

// shellQuote writes s so that a shell reads it back as one word, for the banner's commands and
// export lines: as it is when it holds only characters no shell treats specially there, else in
// single quotes. A user ID may hold anything, a public URL ';' or '$' in its path, a scenario's
// secret any character; '=' is quoted too, which zsh expands at the start of a value.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+:/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// describeFault says in a few words what a fault does and to which calls.
func describeFault(f scenario.Fault) string {
	var what string
	switch {
	case f.Drop:
		what = "drops the connection"
	case f.Malformed:
		what = "cuts the JSON answer short"
	case f.Status != 0:
		what = fmt.Sprintf("answers %d", f.Status)
	}
	if f.Latency > 0 {
		what = strings.TrimPrefix(what+fmt.Sprintf(", after a delay of %v", f.Latency), ", ")
		if f.Status == 0 && !f.Drop && !f.Malformed {
			what = fmt.Sprintf("delays the answer by %v", f.Latency)
		}
	}
	which := f.Operation
	if f.Application != "" {
		which += " of application " + f.Application
	}
	if f.User != "" {
		which += " for user " + f.User
	}
	var when []string
	if f.Call != 0 {
		when = append(when, fmt.Sprintf("call %d only", f.Call))
	}
	if f.Times != 0 {
		when = append(when, fmt.Sprintf("the first %d times", f.Times))
	}
	if f.Probability != 0 {
		when = append(when, fmt.Sprintf("with probability %g", f.Probability))
	}
	line := fmt.Sprintf("%s: %s on %s", f.Describe(), what, which)
	if len(when) > 0 {
		line += " (" + strings.Join(when, ", ") + ")"
	}
	return line
}

// describeUser says in a few words what a user's phone does on the first login and, when they
// differ, on the later ones, for the banner.
func describeUser(sc *scenario.Scenario, appID string, u scenario.User, st *served) string {
	has, phone, lost := st.user(appID, u)
	switch {
	case !has:
		return "deleted at run time: not in the state (a reload or restart does not add the user back)"
	case lost:
		return "phone lost: logins answer NO_MOBILE_DEVICE until a new one is registered"
	case !phone:
		return "no phone: logins answer NO_MOBILE_DEVICE"
	}
	b := sc.BehaviourFor(appID, u.ID)
	if len(b.Attempts) <= 1 {
		return "phone: " + describeTimeline(sc, b.Timeline(0))
	}
	parts := make([]string, len(b.Attempts))
	for i := range b.Attempts {
		label := fmt.Sprintf("login %d", i+1)
		if i == len(b.Attempts)-1 {
			label = fmt.Sprintf("login %d and later", i+1)
		}
		parts[i] = label + ": " + describeTimeline(sc, b.Attempts[i])
	}
	return "phone: " + strings.Join(parts, "; ")
}

func describeTimeline(sc *scenario.Scenario, steps []scenario.Step) string {
	if len(steps) == 0 {
		return fmt.Sprintf("never answers (timeout after %v)", sc.SessionTimeout())
	}
	parts := make([]string, len(steps))
	for i, st := range steps {
		parts[i] = fmt.Sprintf("%s after %v", st.Status, st.After)
	}
	return strings.Join(parts, ", then ")
}

func storageName(dataDir string) string {
	if dataDir == "" {
		return "memory"
	}
	return "disk:" + dataDir
}

// checkPublicURL checks the base of the URLs acmock hands out (status and logout URLs,
// registration links): an absolute http or https URL with a host, and a port if any, that the
// URLs can be appended to. A trailing slash is dropped, so that the URLs get no empty segment.
func checkPublicURL(s string) (string, error) {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return "", fmt.Errorf("must start with http:// or https://, not %q (for example http://myhost:8080)", s)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", fmt.Errorf("is not a URL: %v", err)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("must name a host, as in http://myhost:8080, not %q", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(u.Host, ":"):
		return "", fmt.Errorf("must be a scheme, a host, an optional port and an optional path, not %q", s)
	}
	if !validHostname(u.Hostname()) {
		return "", fmt.Errorf("has host %q: a host is a name (letters, digits, dots, hyphens) or an IP address", u.Hostname())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("has port %q: a port is 1 to 65535", p)
		}
	}
	if u.String() != s && u.String() != strings.TrimRight(s, "/") {
		return "", fmt.Errorf("must be written as a URL, with its special characters escaped: %q, not %q", u.String(), s)
	}
	return strings.TrimRight(s, "/"), nil
}

func validHostname(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return h != ""
}
