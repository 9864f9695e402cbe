package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/speccheck"
)

const (
	demoApp    = scenario.DemoApplicationID
	demoSecret = scenario.DemoApplicationSecret
)

// env is an emulator on a loopback httptest server with a virtual clock.
type env struct {
	t     *testing.T
	emu   *emulator.Emulator
	srv   *httptest.Server
	clock *clock.Virtual
}

func newEnv(t *testing.T, mutate ...func(*emulator.Options)) *env {
	t.Helper()
	clk := clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	opts := emulator.Options{Clock: clk, CheckResponse: speccheck.Response, ServerHandler: true}
	for _, m := range mutate {
		m(&opts)
	}
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	// As the binary does: net/http's own rejections get the JSON error body too, and each
	// connection has a slot for the request it serves.
	srv := httptest.NewUnstartedServer(emu)
	srv.Config.MaxHeaderBytes = 64 << 10
	srv.Config.ConnContext = emu.ConnContext
	srv.Listener = emu.Listener(srv.Listener, srv.Config.MaxHeaderBytes)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})
	return &env{t: t, emu: emu, srv: srv, clock: clk}
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// field digs into the JSON body: r.field("authentication_status", "session_status").
func (r reply) field(path ...string) any {
	var v any = r.body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func (r reply) str(path ...string) string {
	s, _ := r.field(path...).(string)
	return s
}

// do sends a request signed with clientID/secret (unsigned when clientID is empty). target is a
// path (joined to the server URL) or an absolute URL.
func (e *env) do(method, target, clientID, secret string, body any, edit ...func(*http.Request)) reply {
	e.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = e.srv.URL + target
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		e.t.Fatalf("new request %s %s: %v", method, target, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if clientID != "" {
		if err := acauth.NewSigner(clientID, secret).SignRequest(req.Context(), req); err != nil {
			e.t.Fatalf("sign: %v", err)
		}
	}
	for _, f := range edit {
		f(req)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header, raw: string(data)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &r.body); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %v: %s", method, target, err, data)
		}
	}
	return r
}

// app sends a request signed with the demo application's credentials.
func (e *env) app(method, target string, body any) reply {
	e.t.Helper()
	return e.do(method, target, demoApp, demoSecret, body)
}

// userPath encodes a user ID the way the official client does (Python's quote_plus).
func userPath(prefix, user string) string {
	return prefix + "/" + demoApp + "/" + url.QueryEscape(user)
}

// expectError checks an error response: status, code and field.
func expectError(t *testing.T, r reply, status int, code, field string) {
	t.Helper()
	if r.status != status || r.str("code") != code || r.str("field") != field {
		t.Fatalf("got %d code=%q field=%q (%s), want %d code=%q field=%q", r.status, r.str("code"), r.str("field"), r.raw, status, code, field)
	}
	if r.field("status") != false || r.str("message") == "" {
		t.Fatalf("error body needs status false and a message: %s", r.raw)
	}
}

// login authenticates a user and returns the session fields.
func (e *env) login(user string) (token, secret, statusURL, logoutURL string) {
	e.t.Helper()
	r := e.app(http.MethodPost, userPath("/authentication/authenticate_user", user), map[string]any{})
	if r.status != http.StatusAccepted {
		e.t.Fatalf("authenticate %s: %d %s", user, r.status, r.raw)
	}
	return r.str("authentication_status", "session_token"), r.str("authentication_status", "session_secret"),
		r.str("authentication_status", "status_url"), r.str("authentication_status", "logout_url")
}

// status polls a session's status URL, signed with the session's credentials.
func (e *env) status(token, secret, statusURL string) string {
	e.t.Helper()
	r := e.do(http.MethodGet, statusURL, token, secret, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("status: %d %s", r.status, r.raw)
	}
	return r.str("authentication_status", "session_status")
}

func journalFilter(op string) journal.Filter { return journal.Filter{Operation: op} }

// raw sends bytes over a new connection and returns everything the server answers.
func (e *env) raw(request string) string {
	e.t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		e.t.Fatal(err)
	}
	out, _ := io.ReadAll(conn)
	return string(out)
}

// syncWriter collects log output written by the server while a test reads it.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
