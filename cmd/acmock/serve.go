package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/scenario"
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
}

const usage = `acmock: an emulator of the Activeconnect API

Usage:
  acmock [flags]            serve the emulator
  acmock validate FILE...   check scenario files without serving

Examples:
  acmock                                        serve the demo application on 127.0.0.1:8080
  acmock --scenario scenarios/deny.yaml         serve a scenario
  acmock --clock virtual                        time moves only through POST /_acmock/clock/advance
  acmock --clock auto                           polls move time to the next step: no waiting
  acmock --control-token s3cret                 the control API under /_acmock/ requires the token
  acmock --auth off                             accept unsigned requests (for curl experiments)
  acmock --addr 0.0.0.0:8080 --public-url http://myhost:8080   expose it (it ships demo credentials)

Flags (each also read from the environment variable in brackets):
`

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("acmock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprintln(stderr)
		ctlUsage(stderr)
	}
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	fs.StringVar(&c.addr, "addr", env("ACMOCK_ADDR", "127.0.0.1:8080"), "listen address [ACMOCK_ADDR]")
	fs.StringVar(&c.publicURL, "public-url", env("ACMOCK_PUBLIC_URL", ""), "base of the URLs handed out (default http://ADDR) [ACMOCK_PUBLIC_URL]")
	fs.StringVar(&c.scenarioFile, "scenario", env("ACMOCK_SCENARIO", ""), "scenario YAML file (default: the built-in demo) [ACMOCK_SCENARIO]")
	fs.StringVar(&c.clock, "clock", env("ACMOCK_CLOCK", "real"), "what scenario timelines run on: real, virtual (moves only when advanced) or auto (status polls move it too; see scenarios/README.md) [ACMOCK_CLOCK]")
	skew, err := time.ParseDuration(env("ACMOCK_MAX_CLOCK_SKEW", "300s"))
	if err != nil {
		return c, fmt.Errorf("ACMOCK_MAX_CLOCK_SKEW: %w", err)
	}
	fs.DurationVar(&c.maxSkew, "max-clock-skew", skew, "how far a signed timestamp may be from real time [ACMOCK_MAX_CLOCK_SKEW]")
	fs.StringVar(&c.logFormat, "log-format", env("ACMOCK_LOG_FORMAT", "text"), "text or json [ACMOCK_LOG_FORMAT]")
	fs.StringVar(&c.logLevel, "log-level", env("ACMOCK_LOG_LEVEL", "info"), "debug, info, warn or error [ACMOCK_LOG_LEVEL]")
	fs.StringVar(&c.auth, "auth", env("ACMOCK_AUTH", "verify"), "verify or off: off accepts unsigned requests [ACMOCK_AUTH]")
	maxBody, err := strconv.ParseInt(env("ACMOCK_MAX_BODY_BYTES", strconv.Itoa(emulator.DefaultMaxBodyBytes)), 10, 64)
	if err != nil {
		return c, fmt.Errorf("ACMOCK_MAX_BODY_BYTES: %w", err)
	}
	fs.Int64Var(&c.maxBody, "max-body-bytes", maxBody, "largest request body accepted [ACMOCK_MAX_BODY_BYTES]")
	fs.StringVar(&c.controlToken, "control-token", env("ACMOCK_CONTROL_TOKEN", ""), "require this bearer token on the control API under /_acmock/ [ACMOCK_CONTROL_TOKEN]")
	journalSize, err := strconv.Atoi(env("ACMOCK_JOURNAL_SIZE", strconv.Itoa(journal.DefaultSize)))
	if err != nil {
		return c, fmt.Errorf("ACMOCK_JOURNAL_SIZE: %w", err)
	}
	fs.IntVar(&c.journalSize, "journal-size", journalSize, "how many requests the journal keeps [ACMOCK_JOURNAL_SIZE]")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see acmock --help)", fs.Arg(0))
	}
	if c.clock != "real" && c.clock != "virtual" && c.clock != "auto" {
		return c, fmt.Errorf("--clock must be real, virtual or auto, not %q", c.clock)
	}
	if c.auth != "verify" && c.auth != "off" {
		return c, fmt.Errorf("--auth must be verify or off, not %q", c.auth)
	}
	if c.maxSkew < time.Second {
		return c, fmt.Errorf("--max-clock-skew must be at least 1s, not %v", c.maxSkew)
	}
	if c.journalSize < 1 || c.maxBody < 1 {
		return c, errors.New("--journal-size and --max-body-bytes must be at least 1")
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("--log-format must be text or json, not %q", c.logFormat)
	}
	return c, nil
}

func newLogger(c config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
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
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "acmock: %v\n", err)
		return 2
	}
	log, err := newLogger(c, stderr)
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
	base := "http://" + ln.Addr().String()
	publicURL := c.publicURL
	if publicURL == "" {
		publicURL = base
	}
	emu, err := emulator.New(emulator.Options{
		Clock: clk, Scenario: sc, PublicURL: publicURL, AuthOff: c.auth == "off",
		MaxClockSkew: c.maxSkew, MaxBodyBytes: c.maxBody, Logger: emuLog,
		ControlToken: c.controlToken, JournalSize: c.journalSize,
	})
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "acmock: %v\n", err)
		return 1
	}
	// Requests see a context that ends when shutdown starts, so long waits (a journal read with
	// min_count) answer at once instead of holding the shutdown up.
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           emu,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second, // room for latency faults
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	printBanner(stdout, base, publicURL, sc, c)
	if c.auth == "off" {
		log.Warn("SIGNATURES ARE NOT CHECKED (--auth off): any unsigned request is accepted")
	}
	log.Info("listening", "addr", ln.Addr().String(), "scenario", sc.Name, "clock", c.clock)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready <- base
	}

	select {
	case err := <-served:
		log.Error("server stopped", "err", err)
		return 1
	case sig := <-stop:
		log.Info("shutting down: finishing requests in flight", "signal", sig.String())
	}
	emu.Close() // cancels pending steps and delayed responses
	cancelBase()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func printBanner(w io.Writer, base, publicURL string, sc *scenario.Scenario, c config) {
	var b strings.Builder
	fmt.Fprintf(&b, "acmock is serving the Activeconnect API at %s (scenario %s, %s clock)\n\n", base, sc.Name, c.clock)
	if c.auth == "off" {
		b.WriteString("WARNING: --auth off: signatures are NOT checked; any unsigned request is accepted\n\n")
	}
	if publicURL != base {
		fmt.Fprintf(&b, "URLs handed out start with %s\n\n", publicURL)
	}
	for _, app := range sc.Applications {
		fmt.Fprintf(&b, "export ACTIVECONNECT_BASE_URL=%s\n", publicURL)
		fmt.Fprintf(&b, "export ACTIVECONNECT_APP_ID=%s\n", app.ID)
		fmt.Fprintf(&b, "export ACTIVECONNECT_APP_SECRET=%s\n", app.Secret)
		for _, u := range app.Users {
			fmt.Fprintf(&b, "#   %-12s %s\n", u.ID, describeUser(sc, app.ID, u))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "console: %s/_acmock/ui/\n", base)
	fmt.Fprintf(&b, "health: %s/_acmock/health\n", base)
	_, _ = io.WriteString(w, b.String())
}

// describeUser says in a few words what a user's phone does on the first login, for the banner.
func describeUser(sc *scenario.Scenario, appID string, u scenario.User) string {
	if u.Phone == nil {
		return "no phone: logins answer NO_MOBILE_DEVICE"
	}
	steps := sc.BehaviourFor(appID, u.ID).Timeline(0)
	if len(steps) == 0 {
		return fmt.Sprintf("phone never answers: timeout after %v", sc.SessionTimeout())
	}
	parts := make([]string, len(steps))
	for i, st := range steps {
		parts[i] = fmt.Sprintf("%s after %v", st.Status, st.After)
	}
	return "phone: " + strings.Join(parts, ", then ")
}
