package cli_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/cli"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/scenario"
)

// world is an emulator with a virtual clock on a loopback server, for acclient to talk to.
type world struct {
	t     *testing.T
	emu   *emulator.Emulator
	srv   *httptest.Server
	clock *clock.Virtual

	mu        sync.Mutex
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

func newWorld(t *testing.T, sc *scenario.Scenario) *world {
	t.Helper()
	clk := clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	emu, err := emulator.New(emulator.Options{Clock: clk, Scenario: sc, ValidateResponses: true})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	w := &world{t: t, emu: emu, clock: clk}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		intercept := w.intercept
		w.mu.Unlock()
		if intercept != nil && intercept(rw, r) {
			return
		}
		emu.ServeHTTP(rw, r)
	}))
	t.Cleanup(func() {
		w.srv.Close()
		emu.Close()
	})
	return w
}

func (w *world) setIntercept(f func(rw http.ResponseWriter, r *http.Request) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.intercept = f
}

// result is what one acclient run left behind.
type result struct {
	stdout, stderr string
	code           int
}

// runConfig adjusts a run.
type runConfig struct {
	env      map[string]string
	stdin    string
	terminal bool
	sleep    func(ctx context.Context, d time.Duration) error
	ctx      context.Context
}

type runOption func(*runConfig)

func withEnv(kv ...string) runOption {
	return func(c *runConfig) {
		for i := 0; i+1 < len(kv); i += 2 {
			c.env[kv[i]] = kv[i+1]
		}
	}
}

func withStdin(s string) runOption { return func(c *runConfig) { c.stdin = s } }

func onTerminal() runOption { return func(c *runConfig) { c.terminal = true } }

func withSleep(f func(ctx context.Context, d time.Duration) error) runOption {
	return func(c *runConfig) { c.sleep = f }
}

func withContext(ctx context.Context) runOption { return func(c *runConfig) { c.ctx = ctx } }

// run runs acclient in-process against the world: ACTIVECONNECT_BASE_URL points at the emulator,
// and the pauses between polls advance the virtual clock instead of sleeping.
func (w *world) run(args []string, opts ...runOption) result {
	w.t.Helper()
	cfg := runConfig{env: map[string]string{"ACTIVECONNECT_BASE_URL": w.srv.URL}, ctx: context.Background(),
		sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			w.clock.Advance(d)
			return nil
		}}
	for _, o := range opts {
		o(&cfg)
	}
	return runCLI(w.t, cfg, args)
}

func runCLI(t *testing.T, cfg runConfig, args []string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cli.Env{
		Stdin:      strings.NewReader(cfg.stdin),
		Stdout:     &stdout,
		Stderr:     &stderr,
		LookupEnv:  func(name string) (string, bool) { v, ok := cfg.env[name]; return v, ok },
		IsTerminal: func(io.Writer) bool { return cfg.terminal },
		Sleep:      cfg.sleep,
	}
	code := cli.Main(cfg.ctx, args, env)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// args splits a command line on spaces (tests quote nothing).
func args(line string) []string { return strings.Fields(line) }

// expect checks the exit code and that stdout and stderr contain the given texts.
func (r result) expect(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stdout, stdout) || !strings.Contains(r.stderr, stderr) {
		t.Fatalf("exit %d, want %d\nstdout: %q (want %q)\nstderr: %q (want %q)", r.code, code, r.stdout, stdout, r.stderr, stderr)
	}
}

// oneLineError checks that stderr is exactly one line.
func (r result) oneLineError(t *testing.T) {
	t.Helper()
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(r.stderr, "acclient: ") {
		t.Fatalf("stderr is not one acclient: line: %q", r.stderr)
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentScenario: no phone ever answers, so sessions time out.
func silentScenario() *scenario.Scenario {
	sc := scenario.Default()
	sc.Defaults = scenario.Behaviour{}
	for i := range sc.Applications[0].Users {
		sc.Applications[0].Users[i].Behaviour = nil
	}
	return sc
}

// failingScenario: alice's phone reports failed after 2 s.
func failingScenario() *scenario.Scenario {
	sc := scenario.Default()
	fail := scenario.Always(scenario.Step{After: 2 * time.Second, Status: "failed"})
	sc.Applications[0].Users[0].Behaviour = &fail
	return sc
}

const demoApp = scenario.DemoApplicationID

const demoSecret = scenario.DemoApplicationSecret

func journalAll() journal.Filter { return journal.Filter{} }

// hangingServer returns the URL of a server that accepts connections and never answers, like a
// stuck proxy. accepted receives a value for each connection it takes.
func hangingServer(t *testing.T) (url string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 100)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String(), ch
}

// rewriteSessionHost points a saved session's URLs at another server.
func rewriteSessionHost(t *testing.T, file, from, to string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(from)) {
		t.Fatalf("%s does not mention %s", file, from)
	}
	if err := os.WriteFile(file, bytes.ReplaceAll(data, []byte(from), []byte(to)), 0o600); err != nil {
		t.Fatal(err)
	}
}
