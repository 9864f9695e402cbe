package emulator_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

func withLimits(l store.Limits) func(*emulator.Options) {
	return func(o *emulator.Options) { o.Limits = l }
}

// TestEndedSessionsTakeTheirTimers: a session's pending timeline steps and timeout go when the
// session ends or is forgotten, so timers never outnumber the sessions kept.
func TestEndedSessionsTakeTheirTimers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(store.Limits{MaxSessions: 5}))
	token, secret, _, logoutURL := e.login("alice") // approves at 2 s, times out at 60 s
	if n := e.clock.Pending(); n != 2 {
		t.Fatalf("%d timers pending after a login, want 2", n)
	}
	if r := e.do(http.MethodPost, logoutURL, token, secret, nil); r.status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.status, r.raw)
	}
	if n := e.clock.Pending(); n != 0 {
		t.Fatalf("%d timers still pending for a closed session", n)
	}
	e.login("alice")
	e.clock.Advance(2 * time.Second) // approved: it can no longer time out
	if n := e.clock.Pending(); n != 0 {
		t.Fatalf("%d timers still pending for an approved session", n)
	}
	for range 50 {
		e.login("alice")
	}
	if n := e.clock.Pending(); n != 10 {
		t.Fatalf("%d timers pending for the 5 sessions kept, want 10", n)
	}
}

func TestScenarioProblemsAreCapped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("applications:\n  - id: a\n    secret: s\n    users:\n")
	for i := range 500 {
		fmt.Fprintf(&b, "      - {id: u%d, phon: true}\n", i)
	}
	res, err := e.ctl().PutScenarioWithBodyWithResponse(context.Background(), "application/yaml", strings.NewReader(b.String()))
	if err != nil || res.JSON400 == nil {
		t.Fatalf("want 400: %v %v", err, res)
	}
	p := res.JSON400
	if len(p.Problems) != 100 || p.More == nil || *p.More != 400 || !strings.Contains(p.Message, "500 problems") {
		t.Fatalf("%d problems listed, more %v, message %q", len(p.Problems), p.More, p.Message)
	}
	if p.Problems[99].Line != 104 {
		t.Fatalf("the 100th problem is at line %d, want 104", p.Problems[99].Line)
	}
	if len(res.Body) > 64<<10 {
		t.Fatalf("a %d-byte answer", len(res.Body))
	}
	if e.emu.Scenario().Name != "default" {
		t.Fatal("the refused scenario was loaded")
	}
}

func TestScenarioOverTheUserLimitIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(store.Limits{MaxUsers: 3}))
	yaml := "applications:\n  - id: a\n    secret: s\n    users: [{id: a}, {id: b}, {id: c}, {id: d}]\n"
	res, err := e.ctl().PutScenarioWithBodyWithResponse(context.Background(), "application/yaml", strings.NewReader(yaml))
	if err != nil || res.JSON400 == nil || !strings.Contains(res.JSON400.Problems[0].Message, "4 users") {
		t.Fatalf("want a 400 naming the users: %v %s", err, res.Body)
	}
	if e.emu.Scenario().Name != "default" {
		t.Fatal("the refused scenario was loaded")
	}
}

func TestApplicationLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(store.Limits{MaxApplications: 2}))
	ctx := context.Background()
	if res, _ := e.ctl().CreateApplicationWithResponse(ctx, acctl.ApplicationCreate{}); res.StatusCode() != http.StatusCreated {
		t.Fatalf("second application: %d %s", res.StatusCode(), res.Body)
	}
	res, _ := e.ctl().CreateApplicationWithResponse(ctx, acctl.ApplicationCreate{})
	if res.JSON409 == nil || res.JSON409.Code != "limit_reached" {
		t.Fatalf("third application: %d %s", res.StatusCode(), res.Body)
	}
}

// TestListsArePaged walks GET /_acmock/users and GET /_acmock/sessions page by page and checks
// that every item comes exactly once, in order.
func TestListsArePaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var users []string
	for i := range 25 {
		users = append(users, fmt.Sprintf("user-%02d", i))
	}
	if r := e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": users}); r.status != http.StatusCreated {
		t.Fatalf("add users: %d %s", r.status, r.raw)
	}
	other, _ := e.ctl().CreateApplicationWithResponse(ctx, acctl.ApplicationCreate{Id: ptr("ffff-last")})
	if other.StatusCode() != http.StatusCreated {
		t.Fatalf("create application: %s", other.Body)
	}
	var seen []string
	var cursor *string
	for pages := 1; ; pages++ {
		res, err := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Limit: ptr(4), Cursor: cursor})
		if err != nil || res.JSON200 == nil {
			t.Fatalf("page %d: %v %v", pages, err, res)
		}
		n := 0
		for _, app := range res.JSON200.Applications {
			for _, u := range app.Users {
				seen = append(seen, app.Id+"/"+u.Id)
				n++
			}
		}
		if n > 4 {
			t.Fatalf("page %d holds %d users", pages, n)
		}
		if cursor = res.JSON200.NextCursor; cursor == nil {
			if last := res.JSON200.Applications; len(last) == 0 || last[len(last)-1].Id != "ffff-last" {
				t.Fatalf("the last page does not end with the empty application: %s", res.Body)
			}
			break
		}
	}
	want := []string{demoApp + "/alice", demoApp + "/bob", demoApp + "/carol"}
	for _, u := range users {
		want = append(want, demoApp+"/"+u)
	}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("pages listed\n%v\nwant\n%v", seen, want)
	}
	if res, _ := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Cursor: ptr("nonsense")}); res.StatusCode() != http.StatusBadRequest {
		t.Fatalf("a bad cursor: %d %s", res.StatusCode(), res.Body)
	}

	var tokens []string
	for range 9 {
		token, _, _, _ := e.login("alice")
		tokens = append(tokens, token)
	}
	for _, order := range []acctl.ListSessionsParamsOrder{acctl.ListSessionsParamsOrderOldest, acctl.ListSessionsParamsOrderNewest} {
		var got []string
		cursor = nil
		for {
			res, err := e.ctl().ListSessionsWithResponse(ctx, &acctl.ListSessionsParams{User: ptr("alice"), Order: &order, Limit: ptr(2), Cursor: cursor})
			if err != nil || res.JSON200 == nil || len(res.JSON200.Sessions) > 2 {
				t.Fatalf("sessions page: %v %v", err, res)
			}
			for _, s := range res.JSON200.Sessions {
				got = append(got, s.Token)
			}
			if cursor = res.JSON200.NextCursor; cursor == nil {
				break
			}
		}
		want := append([]string(nil), tokens...)
		if order == acctl.ListSessionsParamsOrderNewest {
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("order %s: pages listed %v, want %v", order, got, want)
		}
	}
	if res, _ := e.ctl().ListSessionsWithResponse(ctx, &acctl.ListSessionsParams{Limit: ptr(1001)}); res.StatusCode() != http.StatusBadRequest {
		t.Fatalf("limit 1001: %d %s", res.StatusCode(), res.Body)
	}
}

// TestSessionsExpire: an approved session nobody closes is closed once its lifetime is over.
func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(store.Limits{SessionLifetime: time.Hour}))
	token, secret, statusURL, _ := e.login("alice")
	e.clock.Advance(2 * time.Second)
	if st := e.status(token, secret, statusURL); st != "active" {
		t.Fatalf("after approval: %s", st)
	}
	e.clock.Advance(time.Hour)
	if st := e.status(token, secret, statusURL); st != "closed" {
		t.Fatalf("after its lifetime: %s", st)
	}
	s, _ := e.emu.Store().Session(token)
	if last := s.History[len(s.History)-1]; last.Cause != "expired" {
		t.Fatalf("history: %+v", s.History)
	}
}

// TestValidateRefusesWhatLoadingRefuses: POST /_acmock/scenario/validate answers what PUT would:
// a scenario past the user or application bound is a 400 with the same problem, in both.
func TestValidateRefusesWhatLoadingRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(store.Limits{MaxUsers: 5, MaxApplications: 3}))
	ctx := context.Background()
	apps := func(n, users int) string {
		var b strings.Builder
		b.WriteString("applications:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - id: app%d\n    secret: s\n    users: [", i)
			for j := range users {
				fmt.Fprintf(&b, "{id: u%d}, ", j)
			}
			b.WriteString("]\n")
		}
		return b.String()
	}
	for _, c := range []struct{ yaml, want string }{
		{apps(1, 6), "the scenario lists 6 users and the emulator holds at most 5 (set by --max-users or ACMOCK_MAX_USERS)"},
		{apps(4, 0), "the scenario lists 4 applications and the emulator holds at most 3"},
	} {
		v, err := e.ctl().ValidateScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader(c.yaml))
		if err != nil || v.JSON400 == nil || !strings.Contains(v.JSON400.Problems[0].Message, c.want) {
			t.Fatalf("validate: want a 400 saying %q: %v %s", c.want, err, v.Body)
		}
		p, err := e.ctl().PutScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader(c.yaml))
		if err != nil || p.JSON400 == nil || p.JSON400.Problems[0].Message != v.JSON400.Problems[0].Message {
			t.Fatalf("PUT: want the same 400 as validate (%q): %v %s", v.JSON400.Problems[0].Message, err, p.Body)
		}
		if e.emu.Scenario().Name != "default" {
			t.Fatal("the refused scenario was loaded")
		}
	}
	fits := apps(3, 1)
	if v, _ := e.ctl().ValidateScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader(fits)); v.StatusCode() != http.StatusOK {
		t.Fatalf("validate a scenario that fits: %d %s", v.StatusCode(), v.Body)
	}
	if p, _ := e.ctl().PutScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader(fits)); p.StatusCode() != http.StatusOK {
		t.Fatalf("load a scenario that fits: %d %s", p.StatusCode(), p.Body)
	}
	// The application bound now holds for POST /_acmock/applications, with the real count.
	res, _ := e.ctl().CreateApplicationWithResponse(ctx, acctl.ApplicationCreate{})
	if res.JSON409 == nil || !strings.Contains(res.JSON409.Message, "holds 3 applications and at most 3") {
		t.Fatalf("a 4th application: %d %s", res.StatusCode(), res.Body)
	}
}

// TestApplyingAScenarioKeepsTheBounds: a reload (ApplyScenario keeps the state) that would take
// the applications or users past their bounds is refused whole, naming the counts, and changes
// nothing.
func TestApplyingAScenarioKeepsTheBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(store.Limits{MaxUsers: 5, MaxApplications: 2}))
	if _, err := e.emu.Store().CreateApplication("mine", "s"); err != nil {
		t.Fatal(err)
	}
	parse := func(yaml string) *scenario.Scenario {
		sc, err := scenario.Parse("reload.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	for _, c := range []struct{ yaml, want string }{
		{"applications: [{id: other, secret: s}]\n", "would add 1 application to the 2 the emulator holds, and it holds at most 2"},
		{"applications: [{id: mine, secret: s, users: [{id: a}, {id: b}, {id: c}]}]\n", "would add 3 users to the 3 the emulator holds, and it holds at most 5"},
	} {
		err := e.emu.ApplyScenario(parse(c.yaml))
		if !errors.Is(err, store.ErrLimitReached) || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("want a refusal saying %q, got %v", c.want, err)
		}
		if e.emu.Scenario().Name != "default" || len(e.emu.Store().Applications()) != 2 || e.emu.Store().UserCount() != 3 {
			t.Fatalf("the refused scenario changed something: %s, %d applications, %d users",
				e.emu.Scenario().Name, len(e.emu.Store().Applications()), e.emu.Store().UserCount())
		}
	}
}

// TestUsersPageIsBoundedByLimit: applications without users count on a page of GET
// /_acmock/users like users do, so limit=1 answers one entry however many such applications
// there are, and the walk still lists every application and user once.
func TestUsersPageIsBoundedByLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for i := range 200 {
		if _, err := e.emu.Store().CreateApplication(fmt.Sprintf("empty-%03d", i), "s"); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	var cursor *string
	for pages := 1; ; pages++ {
		res, err := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Limit: ptr(1), Cursor: cursor})
		if err != nil || res.JSON200 == nil {
			t.Fatalf("page %d: %v %v", pages, err, res)
		}
		if n := len(res.JSON200.Applications); n != 1 || len(res.Body) > 1024 {
			t.Fatalf("page %d of limit=1 holds %d applications, %d bytes", pages, n, len(res.Body))
		}
		for _, app := range res.JSON200.Applications {
			seen = append(seen, app.Id)
			for _, u := range app.Users {
				seen = append(seen, app.Id+"/"+u.Id)
			}
		}
		if cursor = res.JSON200.NextCursor; cursor == nil {
			break
		}
	}
	if len(seen) != 200+3+3 { // each empty application once; the demo one on each page of its 3 users
		t.Fatalf("the walk listed %d entries: %v", len(seen), seen[:min(len(seen), 10)])
	}
}

// TestBoundErrorsNameTheirFlags: an answer at a bound says which bound, in plain numbers, and the
// flag (and variable) that changes it; the 404 of a session or link that a bound made acmock
// forget says that this can be why.
func TestBoundErrorsNameTheirFlags(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(store.Limits{MaxUsers: 3, MaxSessions: 2}), func(o *emulator.Options) {
		o.MaxBodyBytes, o.JournalSize = 100, 5
	})
	check := func(what string, r reply, status int, want ...string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
		}
		for _, w := range want {
			if !strings.Contains(r.str("message"), w) {
				t.Errorf("%s: message %q lacks %q", what, r.str("message"), w)
			}
		}
	}
	check("add_users at the bound", e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"dave"}}),
		http.StatusConflict, "add 1 user: the emulator holds 3 users and at most 3", "--max-users", "ACMOCK_MAX_USERS")
	check("a body over the limit", e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{strings.Repeat("d", 200)}}),
		http.StatusRequestEntityTooLarge, "larger than 100 bytes", "--max-body-bytes", "ACMOCK_MAX_BODY_BYTES")
	first, secret, statusURL, _ := e.login("alice")
	e.login("alice")
	e.login("alice") // the first is forgotten
	check("a poll of a session past the cap", e.do(http.MethodGet, statusURL, first, secret, nil),
		http.StatusNotFound, "no session "+first, "--max-sessions", "ACMOCK_MAX_SESSIONS")
	firstLink := e.app(http.MethodGet, userPath("/management/device_registration_link", "carol"), nil).str("register_url")
	for range 10 {
		e.app(http.MethodGet, userPath("/management/device_registration_link", "carol"), nil)
	}
	check("the 11th link's oldest", e.do(http.MethodGet, firstLink, "", "", nil, func(r *http.Request) { r.Header.Set("Accept", "application/json") }),
		http.StatusNotFound, "a user keeps its last 10")
	check("min_count past the journal", e.do(http.MethodGet, "/_acmock/requests?min_count=6", "", "", nil),
		http.StatusBadRequest, "the journal keeps the last 5 requests", "--journal-size", "ACMOCK_JOURNAL_SIZE")
}

// TestUsersAddedWhilePagingAppearAtTheEnd: a walk of GET /_acmock/users lists, after the users
// there were when it started, those added during it: in an application created mid-walk whose ID
// sorts before the cursor's, in one the walk has passed, and in the one it is in. Each user comes
// once; a user deleted before the walk reaches it is not listed.
func TestUsersAddedWhilePagingAppearAtTheEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	add := func(app string, users ...string) {
		t.Helper()
		if err := e.emu.Store().AddApplication(app, "SECRET0000000000000000000000000000"[:32]); err != nil && !errors.Is(err, store.ErrApplicationExists) {
			t.Fatal(err)
		}
		if _, _, err := e.emu.Store().AddUsers(app, users); err != nil {
			t.Fatal(err)
		}
	}
	var ks []string
	for i := range 10 {
		ks = append(ks, fmt.Sprintf("k%d", i))
	}
	add(demoApp, ks...)
	add("00000000000000000000000000000001", "first")
	want := map[string]bool{}
	for _, u := range append([]string{"alice", "bob", "carol"}, ks...) {
		want[demoApp+"/"+u] = true
	}
	want["00000000000000000000000000000001/first"] = true
	seen := map[string]int{}
	var cursor *string
	for pages := 1; ; pages++ {
		res, err := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Limit: ptr(5), Cursor: cursor})
		if err != nil || res.JSON200 == nil || pages > 20 {
			t.Fatalf("page %d: %v %s", pages, err, res.Body)
		}
		for _, app := range res.JSON200.Applications {
			for _, u := range app.Users {
				seen[app.Id+"/"+u.Id]++
			}
		}
		if pages == 2 { // the walk is inside the demo application
			add("00000000000000000000000000000aaa", "early1", "early2")
			add("00000000000000000000000000000001", "passed")
			add(demoApp, "k10")
			add("ffffffffffffffffffffffffffffffff", "late1")
			for _, u := range []string{"00000000000000000000000000000aaa/early1", "00000000000000000000000000000aaa/early2",
				"00000000000000000000000000000001/passed", demoApp + "/k10", "ffffffffffffffffffffffffffffffff/late1"} {
				want[u] = true
			}
			if err := e.emu.Store().DeleteUsers(demoApp, []string{"k9"}); err != nil {
				t.Fatal(err)
			}
			delete(want, demoApp+"/k9")
		}
		if cursor = res.JSON200.NextCursor; cursor == nil {
			break
		}
	}
	for u := range want {
		if seen[u] != 1 {
			t.Errorf("%s listed %d times", u, seen[u])
		}
	}
	for u := range seen {
		if !want[u] {
			t.Errorf("%s listed, but it is not a user", u)
		}
	}
}

// TestBodyReadCutEndsWithItsRequest: when a request's context is over while its body is read (a
// shutdown, a client gone), the cut that ends the read is finished before the request is: the
// request's record, which the next request reuses, is not touched after it (run with -race).
func TestBodyReadCutEndsWithItsRequest(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				req := httptest.NewRequest(http.MethodPost, "/_acmock/clock/advance", strings.NewReader(`{"by":"1s"}`)).WithContext(ctx)
				req.Header.Set("Content-Type", "application/json")
				emu.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
	wg.Wait()
}

// TestSlowBodyIsNotAShutdown: a body that stops arriving until the server's read timeout cuts it
// gets a 400 that says so, not the 503 shutting_down of a server that is stopping (it is not).
func TestSlowBodyIsNotAShutdown(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(emulator.Options{AuthOff: true})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: emu, ReadTimeout: 300 * time.Millisecond}
	go func() { _ = srv.Serve(emu.Listener(ln, 0)) }()
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /management/add_users/"+scenario.DemoApplicationID+" HTTP/1.1\r\nHost: x\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"users\":["); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":"invalid_request"`) ||
		!strings.Contains(string(body), "read timeout") {
		t.Fatalf("a body cut by the read timeout: %d %s", res.StatusCode, body)
	}
}
