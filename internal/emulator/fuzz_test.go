package emulator_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapispec"
	"github.com/acmock/acmock/generated/acctlspec"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/speccheck"
	"github.com/acmock/acmock/internal/store"
)

// FuzzHandler sends the whole handler requests built from a method, a request target, header
// lines, a body and a signing mode (0 unsigned, 1 the demo application's credentials, 2 a live
// session's), and holds every answer to three rules:
//   - no 5xx: bad input is the client's fault, never the emulator's;
//   - every answer is one the spec documents for the operation (status, headers, body), or,
//     for a path no operation has, the spec's Error;
//   - a request that is refused (4xx) changes no state: users, phones, links, sessions, the
//     outbox and the applications are as before.
//
// In the target, {app} stands for the demo application, {token} for a pending session of alice
// and {code} for an unused registration link of carol, so that mutations reach every operation.
// PUT /_acmock/scenario is left to the scenario loader's own fuzz target. Run it with
//
//	go test -run '^$' -fuzz FuzzHandler ./internal/emulator/
//
// Without -fuzz it runs the seeds below and testdata/fuzz/FuzzHandler as a unit test.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		method, target, headers, body string
		mode                          uint8
	}{
		{"POST", "/management/add_users/{app}", "Content-Type: application/json", `{"users": ["dave", "MY USER 1"]}`, 1},
		{"POST", "/management/add_users/{app}", "Content-Type: application/json", `{"users":["ok"],"Users":[""]}`, 1},
		{"POST", "/management/add_users/{app}", "Content-Type: APPLICATION/JSON", `{"users":["x"]} trailing`, 1},
		{"POST", "/management/add_users/{app}", "Content-Type: application/json", "{\"users\":[\"\xff\"]}", 1},
		{"POST", "/management/add_users/{app}", "Content-Type: application/json", `{"users": []}`, 0},
		{"POST", "/management/delete_users/{app}", "Content-Type: application/json", `{"users": ["alice"]}`, 1},
		{"GET", "/management/device_registration_link/{app}/carol?display_name=carol%40myapp", "", "", 1},
		{"POST", "/management/send_registration_sms/{app}/carol", "Content-Type: application/json", `{"phone_number": "+15555550100", "message": "Hi"}`, 1},
		{"POST", "/management/send_registration_sms/{app}/carol", "Content-Type: application/json", `{"phone_number": "555-0100"}`, 1},
		{"GET", "/management/has_registered_mobile_device/{app}/alice", "", "", 1},
		{"GET", "/management/has_registered_mobile_device/{app}/MY+USER+1", "", "", 1},
		{"GET", "/management/lost_user_mobile_device/{app}/alice", "", "", 1},
		{"POST", "/authentication/authenticate_user/{app}/alice?methods=acceptance,facial", "Content-Type: application/json", `{}`, 1},
		{"POST", "/authentication/authenticate_user/{app}/bob?methods=", "Content-Type: application/json", ``, 1},
		{"GET", "/authentication/session_status/{token}", "", "", 2},
		{"POST", "/authentication/logout/{token}", "Content-Type: application/json", "", 2},
		{"GET", "/authentication/session_status/{token}", "Authorization: Bearer x", "", 1},
		{"GET", "/management/nothing/{app}", "", "", 1},
		{"DELETE", "/management/add_users/{app}", "", "", 1},
		{"GET", "/_acmock/health", "", "", 0},
		{"POST", "/_acmock/reset", "", "", 0},
		{"POST", "/_acmock/applications", "Content-Type: application/x-www-form-urlencoded", `{"id": "0000000000000000000000000000beef"}`, 0},
		{"POST", "/_acmock/applications/{app}/reset", "", "", 0},
		{"GET", "/_acmock/scenario", "", "", 0},
		{"GET", "/_acmock/clock", "", "", 0},
		{"POST", "/_acmock/clock/advance", "Content-Type: application/json", `{"duration": "3s"}`, 0},
		{"PUT", "/_acmock/wallclock", "Content-Type: application/json", `{"shift": "-10m", "max_skew": "1h"}`, 0},
		{"GET", "/_acmock/users?application={app}", "", "", 0},
		{"GET", "/_acmock/sessions?user=alice&status=pending", "", "", 0},
		{"POST", "/_acmock/sessions/{token}/status", "Content-Type: application/json", `{"status": "active"}`, 0},
		{"GET", "/_acmock/requests?min_count=1&timeout=1s", "", "", 0},
		{"DELETE", "/_acmock/requests", "", "", 0},
		{"GET", "/_acmock/sms", "", "", 0},
		{"GET", "/_acmock/register/{code}", "Accept: application/json", "", 0},
		{"GET", "/_acmock/register/{code}", "", "", 0},
		// Each of these once broke a rule: an answer the spec did not document.
		{"POST", "/_acmock/reset?a=%zz", "", "", 0},
		{"POST", "/_acmock/applications/%FF/reset", "", "", 0},
		{"GET", "/_acmock/register/%FF", "", "", 0},
		{"GET", "/_acmock/health", "", strings.Repeat("x", 5000), 0},
		{"GET", "/_acmock/users?application=%FF", "", "", 0},
		{"DELETE", "/_acmock/requests?x=;", "", "", 0},
		{"GET", "/management/device_registration_link/{app}/alice?x=1;display_name=b", "", "", 1},
		{"POST", "/_acmock/clock/advance", "Content-Type: application/json", `{"duration":"1s","Duration":"x"}`, 0},
		{"POST", "/_acmock/sessions/{token}/status", "Content-Type: application/json", `{"status":"active"} x`, 0},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.headers, []byte(s.body), s.mode)
	}
	h := newFuzzHarness(f)
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte, mode uint8) {
		h.check(t, method, target, headers, body, mode)
	})
}

// fuzzHarness is one emulator for the whole fuzz run, put back to the same state before each
// input.
type fuzzHarness struct {
	mu     sync.Mutex
	emu    *emulator.Emulator
	clock  *clock.Virtual
	api    []specRoute
	ctl    []specRoute
	errSch *openapi3.Schema
	nonce  atomic.Uint64
	// set by reset for each input
	token, secret, code string
}

// specRoute is one operation of a spec, matched like the emulator's router does: on the escaped
// path, one segment per parameter.
type specRoute struct {
	route   *routers.Route
	pattern *regexp.Regexp
}

func newFuzzHarness(f *testing.F) *fuzzHarness {
	clk := clock.NewVirtual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	emu, err := emulator.New(emulator.Options{Clock: clk, IDs: store.SeededIDs(7), CheckResponse: speccheck.Response, MaxBodyBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(emu.Close)
	h := &fuzzHarness{emu: emu, clock: clk}
	api, err := acapispec.GetSwagger()
	if err != nil {
		f.Fatal(err)
	}
	ctl, err := acctlspec.GetSwagger()
	if err != nil {
		f.Fatal(err)
	}
	h.api, h.ctl = specRoutes(api), specRoutes(ctl)
	h.errSch = api.Components.Schemas["Error"].Value
	return h
}

var templateParam = regexp.MustCompile(`\\\{[^}]+\\\}`)

func specRoutes(spec *openapi3.T) []specRoute {
	spec.Servers = nil
	var out []specRoute
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, specRoute{
				route:   &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op},
				pattern: regexp.MustCompile("^" + templateParam.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$"),
			})
		}
	}
	return out
}

// reset puts the emulator back to the demo scenario with one pending session and one unused
// link, and real time for signatures.
func (h *fuzzHarness) reset(t *testing.T) {
	if err := h.emu.Reset(); err != nil {
		t.Fatal(err)
	}
	h.emu.SetWallClockShift(0)
	h.emu.Verifier().SetMaxSkew(acauth.DefaultMaxSkew)
	sess, err := h.emu.Store().StartSession(demoApp, "alice", nil, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	link, err := h.emu.Store().NewLink(demoApp, "carol", "", h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.token, h.secret, h.code = sess.Token, sess.Secret, link.Code
}

// state is everything a refused request must leave alone.
func (h *fuzzHarness) state() string {
	st := h.emu.Store()
	var all []any
	for _, app := range st.Applications() {
		users, _ := st.Users(app.ID)
		all = append(all, app, users)
	}
	all = append(all, st.Sessions(nil), st.Outbox())
	data, err := json.Marshal(all)
	if err != nil {
		panic(err)
	}
	return string(data)
}

func (h *fuzzHarness) check(t *testing.T, method, target, headers string, body []byte, mode uint8) {
	h.mu.Lock() // one emulator: inputs run one at a time
	defer h.mu.Unlock()
	h.reset(t)
	target = strings.NewReplacer("{app}", demoApp, "{token}", h.token, "{code}", h.code).Replace(target)
	req := buildRequest(method, target, headers, body)
	if req == nil {
		return // not an HTTP request net/http would hand a handler
	}
	if path := req.URL.EscapedPath(); method == http.MethodPut && strings.HasPrefix(path, "/_acmock/scenario") {
		return // the scenario loader has its own fuzz target
	}
	switch mode % 3 {
	case 1:
		h.sign(req, demoApp, demoSecret)
	case 2:
		h.sign(req, h.token, h.secret)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond) // journal waits
	defer cancel()
	req = req.WithContext(ctx)

	before := h.state()
	rec := httptest.NewRecorder()
	h.emu.ServeHTTP(rec, req)
	res := rec.Result()
	data, _ := io.ReadAll(res.Body)
	describe := func() string {
		return fmt.Sprintf("%s %s (mode %d, headers %q, body %q)\n-> %d %v %s", method, target, mode, headers, body, res.StatusCode, res.Header, data)
	}

	if res.StatusCode >= 500 {
		t.Fatalf("a 5xx for a client's request:\n%s", describe())
	}
	if err := h.validate(req, res, data); err != nil {
		t.Fatalf("the answer breaks the spec: %v\n%s", err, describe())
	}
	if res.StatusCode >= 400 {
		if after := h.state(); after != before {
			t.Fatalf("a refused request changed the state:\n%s\nbefore: %s\nafter:  %s", describe(), before, after)
		}
	}
}

// buildRequest parses the request the way net/http's server does; nil when it would refuse it.
func buildRequest(method, target, headers string, body []byte) *http.Request {
	var raw bytes.Buffer
	fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: acmock.test\r\n", method, target)
	for _, line := range strings.Split(headers, "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			raw.WriteString(line + "\r\n")
		}
	}
	if len(body) > 0 {
		fmt.Fprintf(&raw, "Content-Length: %d\r\n", len(body))
	}
	raw.WriteString("\r\n")
	raw.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&raw))
	if err != nil {
		return nil
	}
	// ReadRequest leaves a body it did not frame unread; what the server would read is enough.
	data, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		return nil
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.RemoteAddr = "127.0.0.1:4711"
	return req
}

func (h *fuzzHarness) sign(req *http.Request, clientID, secret string) {
	nonce := strconv.FormatUint(h.nonce.Add(1), 10)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set(acauth.HeaderAuthentication, acauth.FormatAuthentication(clientID, nonce, acauth.Sign(secret, nonce, acauth.IncomingURI(req), ts)))
	req.Header.Set(acauth.HeaderTimestamp, ts)
	req.Header.Set(acauth.HeaderVersion, acauth.Version)
}

// validate checks an answer against the operation the path belongs to, or against the Error
// schema when no operation has the path.
func (h *fuzzHarness) validate(req *http.Request, res *http.Response, data []byte) error {
	routes := h.api
	if strings.HasPrefix(req.URL.Path, "/_acmock/") {
		routes = h.ctl
	}
	var route *routers.Route
	for _, r := range routes {
		if r.pattern.MatchString(req.URL.EscapedPath()) && r.route.Method == req.Method {
			route = r.route
		}
	}
	if route == nil {
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed && res.StatusCode != http.StatusRequestEntityTooLarge {
			return fmt.Errorf("status %d for a path and method no operation has", res.StatusCode)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("the body is not JSON: %w", err)
		}
		return h.errSch.VisitJSON(v)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		opts.ExcludeResponseBody = true // kin-openapi has no HTML decoder; status and type are checked
	}
	return openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route, Options: &openapi3filter.Options{}},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(data)),
		Options:                opts,
	})
}
