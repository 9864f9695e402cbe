package contracttests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// The demo application of the default scenario, the default credentials of the suite.
const (
	demoAppID     = "5ca1ab1e000000000000000000000001"
	demoAppSecret = "ACMOCKDEMOSECRET0000000000000001"
)

// virtualStart is what in-process virtual clocks read at the start.
var virtualStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// suiteConfig says where the suite runs, read once from the environment.
type suiteConfig struct {
	remote       bool   // ACMOCK_BASE_URL is set
	baseURL      string // the server's base URL, when remote
	appID        string
	appSecret    string
	controlToken string // ACMOCK_CONTROL_TOKEN, for an acmock started with --control-token
	// control is true when the server answers GET /_acmock/health like acmock.
	control bool
	// clockMode is the server's clock, "virtual" or "real", when control is true.
	clockMode string
	// noControl says why control is false, for skip messages.
	noControl string
	// probeErr is why the server could not be reached.
	probeErr error
}

// signing is how every request of the suite is signed, read once from the environment:
// ACMOCK_CONTRACT_HEADERS names the header family (acauth.ParseHeaderFamily: activeconnect,
// iampass, sonikpass or one of the six prefixes; default activeconnect, the official Python
// client's) and ACMOCK_CONTRACT_NONCES the nonce format (decimal, as the official client writes
// them, or hex, as the iOS SDK does). TestMain refuses values it does not know.
var signing = func() (s struct {
	family acauth.HeaderFamily
	hex    bool
	err    error
}) {
	s.family = acauth.FamilyActiveconnect
	if v := os.Getenv("ACMOCK_CONTRACT_HEADERS"); v != "" {
		s.family, s.err = acauth.ParseHeaderFamily(v)
	}
	switch v := os.Getenv("ACMOCK_CONTRACT_NONCES"); v {
	case "", "decimal":
	case "hex":
		s.hex = true
	default:
		s.err = errors.Join(s.err, fmt.Errorf("ACMOCK_CONTRACT_NONCES=%q: use decimal or hex", v))
	}
	return s
}()

// The timestamp and version headers the suite signs with, and the same lineage's other spelling.
var (
	hdrTimestamp      = signing.family.Timestamp()
	hdrVersion        = signing.family.Version()
	hdrTimestampOther = otherSpelling(signing.family).Timestamp()
	hdrVersionOther   = otherSpelling(signing.family).Version()
)

// otherSpelling is f with "Authentication" and "Authentiaction" swapped.
func otherSpelling(f acauth.HeaderFamily) acauth.HeaderFamily {
	if s, ok := strings.CutSuffix(string(f), "-Authentication"); ok {
		return acauth.HeaderFamily(s + "-Authentiaction")
	}
	return acauth.HeaderFamily(strings.TrimSuffix(string(f), "-Authentiaction") + "-Authentication")
}

// newSigner signs with clientID and secret the way the suite is configured to (see signing).
func newSigner(clientID, secret string) *acauth.Signer {
	s := acauth.NewSigner(clientID, secret)
	s.Headers = signing.family
	if signing.hex {
		s.FormatNonce = acauth.FormatNonceHex
	}
	return s
}

var config = sync.OnceValue(func() *suiteConfig {
	c := &suiteConfig{
		baseURL:      strings.TrimRight(os.Getenv("ACMOCK_BASE_URL"), "/"),
		appID:        envOr("ACMOCK_APP_ID", demoAppID),
		appSecret:    envOr("ACMOCK_APP_SECRET", demoAppSecret),
		controlToken: os.Getenv("ACMOCK_CONTROL_TOKEN"),
	}
	c.remote = c.baseURL != ""
	if !c.remote {
		c.control, c.clockMode = true, "virtual"
		return c
	}
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(c.baseURL + "/_acmock/health")
	if err != nil {
		c.probeErr = err
		return c
	}
	defer res.Body.Close()
	var h acctl.Health
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&h) != nil || h.Status != acctl.HealthStatusOk {
		c.noControl = fmt.Sprintf("GET /_acmock/health answers %s, not acmock's health", res.Status)
		return c
	}
	// The clock endpoint needs the control token when acmock has one, unlike health.
	req, _ := http.NewRequest(http.MethodGet, c.baseURL+"/_acmock/clock", nil)
	if c.controlToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.controlToken)
	}
	res, err = client.Do(req)
	if err != nil {
		c.probeErr = err
		return c
	}
	defer res.Body.Close()
	var clk acctl.Clock
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		c.noControl = "its control API wants a token (--control-token); set ACMOCK_CONTROL_TOKEN"
	case res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&clk) != nil:
		c.noControl = fmt.Sprintf("GET /_acmock/clock answers %s", res.Status)
	default:
		c.control, c.clockMode = true, string(clk.Mode)
	}
	return c
})

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// where names the server in skip messages.
func (c *suiteConfig) where() string {
	if !c.remote {
		return "the in-process emulator"
	}
	return c.baseURL
}

// need is a capability a test requires beyond the Activeconnect API itself.
type need struct {
	kind   needKind
	why    string       // completes "this test needs ... to <why>"
	limits store.Limits // for needLimits
}

type needKind int

const (
	// needAcmock: acmock's control API, or acmock's behaviour where the real service's is not
	// reachable from a test (opening a registration link registers a phone).
	needAcmock needKind = iota
	// needExclusive: the test changes state every test sees (the scenario, a reset, the clock,
	// the wall-clock shift); against a shared server it runs alone and restores the scenario.
	needExclusive
	// needClock: time must pass on a virtual clock (implies needExclusive on a shared server).
	needClock
	// needStill: the test makes the phone act on a login that must still be pending, so the
	// server's clock must be virtual: on a real clock the demo scenario's phones act by
	// themselves 2 s after a login, and a slow or serial run passes that mark.
	needStill
	// needLimits: an in-process emulator with small limits, to reach them with a few requests.
	needLimits
)

func acmockTo(why string) need    { return need{needAcmock, why, store.Limits{}} }
func exclusiveTo(why string) need { return need{needExclusive, why, store.Limits{}} }
func clockTo(why string) need     { return need{needClock, why, store.Limits{}} }
func stillTo(why string) need     { return need{needStill, why, store.Limits{}} }
func limitsTo(why string, l store.Limits) need {
	return need{needLimits, why, l}
}

// target is the server one top-level test talks to, with clients whose transports validate
// every exchange against the spec.
type target struct {
	t         *testing.T
	cfg       *suiteConfig
	baseURL   string
	appID     string
	appSecret string
	// emu and clock are set in-process only.
	emu   *emulator.Emulator
	clock *clock.Virtual
	// isolated is true when no other test shares the server (in-process) or the test runs alone
	// on it (exclusive), so its subtests may run in parallel and it may reset or advance.
	isolated  bool
	exclusive bool
	// client sends every request of the test through a Validator that reports to t.
	client *http.Client
	// api is the generated client, signed with the application's credentials.
	api *acapi.ClientWithResponses
	// ctl is the generated control API client (nil when the server has no control API).
	ctl *acctl.ClientWithResponses
	// excuse, when set, excuses violations the test provoked on purpose.
	excuse atomic.Pointer[func(Violation) bool]

	prefix string
	seq    atomic.Int64
	mu     sync.Mutex
	added  []string // users to delete when the test ends, on a shared server
}

// newTarget gives a top-level test its server: a fresh in-process emulator by default, the server
// of ACMOCK_BASE_URL otherwise. It skips the test, saying why, when the server lacks what needs
// ask for. Tests that need exclusive use of a shared server run one at a time before the parallel
// tests (they do not call t.Parallel); every other test runs in parallel.
func newTarget(t *testing.T, needs ...need) *target {
	t.Helper()
	c := config()
	exclusive := false
	var limits store.Limits
	for _, n := range needs {
		if n.kind == needLimits {
			if c.remote {
				t.Skipf("skipped against %s: this test needs an in-process emulator with small limits to %s", c.where(), n.why)
			}
			limits = n.limits
		}
		switch n.kind {
		case needAcmock, needExclusive, needClock, needStill:
			if c.remote && !c.control {
				t.Skipf("skipped against %s: this test needs acmock (its control API under /_acmock/, or its registration links) to %s, and %s", c.where(), n.why, c.noControl)
			}
			if n.kind == needClock && c.clockMode != "virtual" {
				t.Skipf("skipped against %s: this test lets time pass to %s, and the server's clock is %s; start acmock with --clock virtual", c.where(), n.why, c.clockMode)
			}
			if n.kind == needStill && c.clockMode != "virtual" {
				t.Skipf("skipped against %s: this test needs acmock to %s while a login is still pending, and the server's clock is %s, so the demo phones act by themselves after 2 s; start acmock with --clock virtual", c.where(), n.why, c.clockMode)
			}
			exclusive = exclusive || n.kind == needExclusive || n.kind == needClock
		}
	}
	if c.probeErr != nil {
		t.Fatalf("cannot reach ACMOCK_BASE_URL=%s: %v", c.baseURL, c.probeErr)
	}
	// On a shared server an exclusive test runs during the serial phase, before any parallel
	// test has started; everything else runs in parallel.
	if !c.remote || !exclusive {
		t.Parallel()
	}
	tg := &target{t: t, cfg: c, appID: c.appID, appSecret: c.appSecret, exclusive: exclusive,
		isolated: !c.remote || exclusive, prefix: "ct-" + randomHex(4) + "-"}
	tg.client = tg.newClient()
	if c.remote {
		tg.baseURL = c.baseURL
	} else {
		tg.clock = clock.NewVirtual(virtualStart)
		emu, err := emulator.New(emulator.Options{Clock: tg.clock, Limits: limits})
		if err != nil {
			t.Fatalf("emulator.New: %v", err)
		}
		srv := httptest.NewServer(emu) // 127.0.0.1, an ephemeral port
		t.Cleanup(func() {
			srv.Close()
			emu.Close()
		})
		tg.emu, tg.baseURL = emu, srv.URL
	}
	var err error
	tg.api, err = acapi.NewClientWithResponses(tg.baseURL, acapi.WithHTTPClient(tg.client),
		acapi.WithRequestEditorFn(newSigner(tg.appID, tg.appSecret).SignRequest))
	if err != nil {
		t.Fatal(err)
	}
	if c.control {
		opts := []acctl.ClientOption{acctl.WithHTTPClient(tg.client)}
		if c.controlToken != "" {
			opts = append(opts, acctl.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+c.controlToken)
				return nil
			}))
		}
		if tg.ctl, err = acctl.NewClientWithResponses(tg.baseURL, opts...); err != nil {
			t.Fatal(err)
		}
	}
	if c.remote && exclusive {
		tg.restoreScenarioAtEnd()
	}
	if c.remote {
		t.Cleanup(tg.deleteAddedUsers)
	}
	return tg
}

// newClient returns an HTTP client whose transport validates every exchange and reports
// violations to the test (unless the test excused them).
func (tg *target) newClient() *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	tg.t.Cleanup(base.CloseIdleConnections)
	v := &Validator{
		Base:    base,
		Report:  func(vi Violation) { tg.t.Errorf("contract violation: %v", vi) },
		Observe: observe,
		Excuse: func(vi Violation) bool {
			if f := tg.excuse.Load(); f != nil {
				return (*f)(vi)
			}
			return false
		},
	}
	return &http.Client{Transport: v, Timeout: 30 * time.Second,
		// Registration links and status URLs are followed as handed out; a redirect would be a
		// finding of its own.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// parallel marks a subtest parallel when the target allows it: always in-process, and on a shared
// server only for tests that do not hold it exclusively (their subtests share its state).
func (tg *target) parallel(t *testing.T) {
	if !tg.cfg.remote || !tg.exclusive {
		t.Parallel()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// user returns a user ID of this test: unique on a shared server, readable in failures.
func (tg *target) user(name string) string {
	return fmt.Sprintf("%s%d-%s", tg.prefix, tg.seq.Add(1), name)
}

// signer returns a signer for the application's credentials.
func (tg *target) signer() *acauth.Signer { return newSigner(tg.appID, tg.appSecret) }

// userURL builds a user-scoped URL, encoding the user ID like the official client (quote_plus).
func (tg *target) userURL(prefix, user string) string {
	return tg.baseURL + prefix + "/" + url.PathEscape(tg.appID) + "/" + url.QueryEscape(user)
}

// appURL builds an application-scoped URL.
func (tg *target) appURL(prefix string) string {
	return tg.baseURL + prefix + "/" + url.PathEscape(tg.appID)
}

// tb is what the helpers need of a test: *testing.T, or a worker goroutine's stand-in.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// reply is a response with its body read and, for errors, decoded.
type reply struct {
	status int
	header http.Header
	raw    []byte
	err    acapi.Error // the Error body, when the answer is one
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.raw)) }

// call is a request sent by do.
type call struct {
	method      string
	url         string
	body        []byte // nil: no body
	contentType string // default application/json when there is a body
	signer      *acauth.Signer
	edit        func(*http.Request) // after signing
	breaks      string              // the request breaks the spec on purpose, because...
}

// do sends one request through the validating client.
func (tg *target) do(t tb, c call) reply {
	t.Helper()
	ctx := context.Background()
	if c.breaks != "" {
		ctx = BreaksSpec(ctx, c.breaks)
	}
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		t.Fatalf("new request %s %s: %v", c.method, c.url, err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	} else if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.signer != nil {
		if err := c.signer.SignRequest(ctx, req); err != nil {
			t.Fatalf("sign %s %s: %v", c.method, c.url, err)
		}
	}
	if c.edit != nil {
		c.edit(req)
	}
	res, err := tg.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.url, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", c.method, c.url, err)
	}
	r := reply{status: res.StatusCode, header: res.Header, raw: data}
	if res.StatusCode >= 400 {
		_ = json.Unmarshal(data, &r.err)
	}
	return r
}

// mustUnmarshal decodes JSON or fails the test.
func mustUnmarshal(t tb, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// expectError checks an error answer: status, code and, when given, field; and that the body is
// the spec's Error with status false and a message (the Validator has checked its schema).
func expectError(t tb, r reply, status int, code acapi.ErrorCode, field string) {
	t.Helper()
	got := ""
	if r.err.Field != nil {
		got = *r.err.Field
	}
	if r.status != status || r.err.Code != code || (field != "" && got != field) {
		t.Errorf("got %s, want %d code=%s field=%q", r, status, code, field)
		return
	}
	if r.err.Status || r.err.Message == "" {
		t.Errorf("an error body needs status false and a message: %s", r.raw)
	}
}

// addUsers adds users with the generated client and expects them created; on a shared server
// they are deleted when the test ends.
func (tg *target) addUsers(t tb, users ...string) {
	t.Helper()
	res, err := tg.api.AddUsersWithResponse(context.Background(), tg.appID, acapi.UsersRequest{Users: users})
	if err != nil {
		t.Fatalf("add users: %v", err)
	}
	if res.StatusCode() != http.StatusCreated || res.JSON201 == nil {
		t.Fatalf("add users %q: %d %s", users, res.StatusCode(), res.Body)
	}
	tg.mu.Lock()
	tg.added = append(tg.added, users...)
	tg.mu.Unlock()
	created := slices.Clone(res.JSON201.Users.Created)
	want := slices.Clone(users)
	sort.Strings(created)
	sort.Strings(want)
	if !slices.Equal(slices.Compact(created), slices.Compact(want)) {
		t.Fatalf("add users %q: created %q existing %q", users, res.JSON201.Users.Created, res.JSON201.Users.Existing)
	}
}

func (tg *target) deleteAddedUsers() {
	tg.mu.Lock()
	users := tg.added
	tg.added = nil
	tg.mu.Unlock()
	for len(users) > 0 {
		n := min(len(users), 1000)
		res, err := tg.api.DeleteUsersWithResponse(context.Background(), tg.appID, acapi.UsersRequest{Users: users[:n]})
		if err != nil || res.StatusCode() != http.StatusOK {
			tg.t.Errorf("clean up: delete %d users: %v %v", n, err, res)
		}
		users = users[n:]
	}
}

// registerPhone registers a phone for user by opening a registration link, as the mobile app
// would. Only acmock registers a phone that way.
func (tg *target) registerPhone(t tb, user string) {
	t.Helper()
	r := tg.do(t, call{method: http.MethodGet, url: tg.userURL("/management/device_registration_link", user), signer: tg.signer()})
	var link acapi.RegistrationLinkResponse
	if r.status != http.StatusOK || json.Unmarshal(r.raw, &link) != nil {
		t.Fatalf("registration link for %q: %s", user, r)
	}
	tg.openLink(t, link.RegisterUrl)
}

// openLink opens a registration link as the phone and expects the phone registered.
func (tg *target) openLink(t tb, link string) {
	t.Helper()
	r := tg.do(t, call{method: http.MethodGet, url: link, edit: func(r *http.Request) { r.Header.Set("Accept", "application/json") }})
	if r.status != http.StatusOK {
		t.Fatalf("open registration link %s: %s", link, r)
	}
}

// session is a started login session.
type session struct {
	user      string
	token     string
	secret    string
	statusURL string
	logoutURL string
}

func (s session) signer() *acauth.Signer { return newSigner(s.token, s.secret) }

// authenticate starts a login for user the way the official client does (the user ID encoded with
// quote_plus, ?methods= empty, body {}) and expects a 202 with the session's credentials.
func (tg *target) authenticate(t tb, user string) session {
	t.Helper()
	r := tg.do(t, call{method: http.MethodPost, url: tg.userURL("/authentication/authenticate_user", user) + "?methods=",
		body: []byte("{}"), signer: tg.signer()})
	var out acapi.AuthenticateResponse
	if r.status != http.StatusAccepted || json.Unmarshal(r.raw, &out) != nil {
		t.Fatalf("authenticate %q: %s", user, r)
	}
	st := out.AuthenticationStatus
	if !st.Authenticated || st.SessionStatus != acapi.SessionStatusPending || st.SessionToken == nil || st.SessionSecret == nil || st.StatusUrl == nil || st.LogoutUrl == nil {
		t.Fatalf("authenticate %q: a started session needs authenticated true, status pending and its four fields: %s", user, r.raw)
	}
	return session{user: user, token: *st.SessionToken, secret: *st.SessionSecret, statusURL: *st.StatusUrl, logoutURL: *st.LogoutUrl}
}

// status polls a session's status URL, signed with the session's credentials.
func (tg *target) status(t tb, s session) acapi.SessionState {
	t.Helper()
	r := tg.do(t, call{method: http.MethodGet, url: s.statusURL, signer: s.signer()})
	var out acapi.SessionStatusResponse
	if r.status != http.StatusOK || json.Unmarshal(r.raw, &out) != nil {
		t.Fatalf("status of %s: %s", s.token, r)
	}
	st := out.AuthenticationStatus
	if st.Authenticated != (st.SessionStatus == acapi.SessionStatusActive) {
		t.Errorf("status of %s: authenticated is %v with status %s; it must be true only while active", s.token, st.Authenticated, st.SessionStatus)
	}
	return st
}

// logout ends a session the way the official client does: POST with Content-Type
// application/json and no body.
func (tg *target) logout(t tb, s session) {
	t.Helper()
	r := tg.do(t, call{method: http.MethodPost, url: s.logoutURL, signer: s.signer(), contentType: "application/json"})
	if r.status != http.StatusOK {
		t.Fatalf("logout %s: %s", s.token, r)
	}
}

// setStatus makes the phone act on a session now, through the control API.
func (tg *target) setStatus(t tb, token string, status acapi.SessionStatus) acctl.Session {
	t.Helper()
	res, err := tg.ctl.SetSessionStatusWithResponse(context.Background(), token, acctl.StatusChangeRequest{Status: acctl.SessionStatus(status)})
	if err != nil || res.JSON200 == nil {
		t.Fatalf("set session %s to %s: %v %v", token, status, err, res)
	}
	return *res.JSON200
}

// advance moves the virtual clock: directly in-process, through the control API otherwise (the
// test holds the server, see needClock).
func (tg *target) advance(d time.Duration) error {
	if tg.clock != nil {
		tg.clock.Advance(d)
		return nil
	}
	if !tg.exclusive {
		return fmt.Errorf("advancing a shared server's clock would move every other test's sessions; declare clockTo")
	}
	res, err := tg.ctl.AdvanceClockWithResponse(context.Background(), acctl.AdvanceRequest{Duration: d.String()})
	if err != nil {
		return err
	}
	if res.StatusCode() != http.StatusOK {
		return fmt.Errorf("advance %v: %d %s", d, res.StatusCode(), res.Body)
	}
	return nil
}

// loadScenario replaces the server's scenario through the control API (PUT /_acmock/scenario).
func (tg *target) loadScenario(t tb, yaml []byte) {
	t.Helper()
	if !tg.isolated {
		t.Fatalf("%s", "loading a scenario on a shared server needs exclusiveTo")
	}
	res, err := tg.ctl.PutScenarioWithBodyWithResponse(context.Background(), "application/yaml", bytes.NewReader(yaml))
	if err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("load scenario: %v %v", err, res)
	}
}

// reset puts the server back to its scenario's initial state through the control API.
func (tg *target) reset() error {
	res, err := tg.ctl.ResetWithResponse(context.Background())
	if err != nil {
		return err
	}
	if res.StatusCode() != http.StatusOK {
		return fmt.Errorf("reset: %d %s", res.StatusCode(), res.Body)
	}
	return nil
}

// restoreScenarioAtEnd puts the shared server's scenario (and wall clock) back when the test ends.
func (tg *target) restoreScenarioAtEnd() {
	tg.t.Helper()
	res, err := tg.ctl.GetScenarioWithResponse(context.Background())
	if err != nil || res.JSON200 == nil {
		tg.t.Fatalf("read the server's scenario: %v %v", err, res)
	}
	source := res.JSON200.Source
	tg.t.Cleanup(func() {
		zero := "0s"
		if res, err := tg.ctl.PutWallClockWithResponse(context.Background(), acctl.WallClockUpdate{Shift: &zero}); err != nil || res.StatusCode() != http.StatusOK {
			tg.t.Errorf("restore the server's wall clock: %v %v", err, res)
		}
		tg.loadScenario(tg.t, []byte(source))
	})
}

// appScenario is a scenario YAML holding the test's application (with its secret) plus extra YAML
// under it, so that loading it keeps the credentials the suite signs with.
func (tg *target) appScenario(name, usersAndBehaviour, rest string) []byte {
	return fmt.Appendf(nil, "name: %s\napplications:\n  - id: %s\n    secret: %s\n%s%s", name, tg.appID, tg.appSecret, usersAndBehaviour, rest)
}

// parseScenario parses YAML with the emulator's loader.
func parseScenario(t *testing.T, name string, data []byte) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse(name, data)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return sc
}

// Coverage: which (operation, status) pairs the suite saw, checked by TestMain.
var (
	seenMu sync.Mutex
	seen   = map[string]map[string]bool{}
)

func observe(op string, status int) {
	seenMu.Lock()
	defer seenMu.Unlock()
	if seen[op] == nil {
		seen[op] = map[string]bool{}
	}
	seen[op][fmt.Sprint(status)] = true
	if status >= 500 {
		seen[op]["5XX"] = true
	}
}

// unreachable lists the documented responses that no request can provoke, with the reason; see
// README.md, NOTES.
var unreachable = map[string]string{}

// TestMain runs the suite and, when the whole suite ran in-process, fails unless every documented
// response of every operation was seen (or is listed in unreachable with a reason).
func TestMain(m *testing.M) {
	flag.Parse()
	if signing.err != nil {
		fmt.Fprintln(os.Stderr, "contract tests:", signing.err)
		os.Exit(2)
	}
	code := m.Run()
	full := flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == ""
	if code != 0 || !full || config().remote || testing.Short() {
		os.Exit(code)
	}
	ops, err := Operations()
	if err != nil {
		fmt.Fprintln(os.Stderr, "coverage:", err)
		os.Exit(1)
	}
	var missing []string
	for op, statuses := range ops {
		for _, st := range statuses {
			if !seen[op][st] && unreachable[op+" "+st] == "" {
				missing = append(missing, op+" "+st)
			}
		}
	}
	for key, why := range unreachable {
		op, st, _ := strings.Cut(key, " ")
		if seen[op][st] {
			missing = append(missing, fmt.Sprintf("%s (listed as unreachable: %s; it was seen, so update the list)", key, why))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: coverage: the suite never saw these documented responses: %s\n", strings.Join(missing, ", "))
		os.Exit(1)
	}
	os.Exit(code)
}
