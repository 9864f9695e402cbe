package cli_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/internal/cli"
)

// world is an acmocktest server (virtual clock, loopback port) for acclient to talk to.
type world struct {
	t   *testing.T
	srv *acmocktest.Server
}

// newWorld starts the demo, or the scenario given when it is not nil, with more options such as
// acmocktest.WithMiddleware.
func newWorld(t *testing.T, scenario acmocktest.Option, opts ...acmocktest.Option) *world {
	t.Helper()
	// The commands' pauses advance the clock (see run), so time moves only when the tests say.
	opts = append([]acmocktest.Option{acmocktest.WithStartTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), acmocktest.WithManualClock()}, opts...)
	if scenario != nil {
		opts = append(opts, scenario)
	}
	return &world{t: t, srv: acmocktest.Run(t, opts...)}
}

// unavailablePolls answers session status polls with a 503 whenever fail says so, before the
// emulator sees them; retryAfter, when set, goes in a Retry-After header.
func unavailablePolls(retryAfter string, fail func() bool) acmocktest.Option {
	return acmocktest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/authentication/session_status/") || !fail() {
				next.ServeHTTP(rw, r)
				return
			}
			rw.Header().Set("Content-Type", "application/json")
			if retryAfter != "" {
				rw.Header().Set("Retry-After", retryAfter)
			}
			rw.WriteHeader(http.StatusServiceUnavailable)
			_, _ = rw.Write([]byte(`{"status": false, "code": "injected_fault", "message": "service unavailable"}`))
		})
	})
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
	cfg := runConfig{env: map[string]string{"ACTIVECONNECT_BASE_URL": w.srv.URL()}, ctx: context.Background(),
		sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			w.srv.Advance(d)
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

// silentScenario: no phone ever answers, so sessions time out after 60 s.
func silentScenario() acmocktest.Option {
	return demoScenario("{id: alice, phone: true}, {id: bob, phone: true}, {id: carol}", "")
}

// failingScenario: alice's phone reports failed after 2 s; the rest is the demo.
func failingScenario() acmocktest.Option {
	return demoScenario("{id: alice, phone: true, login: [{after: 2s, status: failed}]}, "+
		"{id: bob, phone: true, login: [{after: 2s, status: cancelled}]}, {id: carol}",
		"defaults: {login: [{after: 2s, status: active}]}")
}

// demoScenario is the demo application with these users, as YAML flow mappings, and the
// scenario's other top-level keys.
func demoScenario(users, rest string) acmocktest.Option {
	return acmocktest.WithScenarioYAML([]byte("applications: [{id: " + demoApp + ", secret: " + demoSecret +
		", users: [" + users + "]}]\n" + rest + "\n"))
}

const demoApp = acmocktest.DemoApplicationID

const demoSecret = acmocktest.DemoApplicationSecret

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
