package emulator_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acapiserver"
	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/store"
)

// events reads change events from GET /_acmock/events.
type events struct {
	t    *testing.T
	res  *http.Response
	read *bufio.Reader
}

func (e *env) events(url string, client *http.Client) *events {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/_acmock/events", nil)
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return &events{t: e.t, res: res, read: bufio.NewReader(res.Body)}
}

// next returns the data of the next change event.
func (ev *events) next() acctl.ChangeEvent {
	ev.t.Helper()
	var name, data string
	for {
		line, err := ev.read.ReadString('\n')
		if err != nil {
			ev.t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && name == "change":
			var out acctl.ChangeEvent
			if err := json.Unmarshal([]byte(data), &out); err != nil {
				ev.t.Fatalf("event data %q: %v", data, err)
			}
			return out
		}
	}
}

func TestEventsFollowStoreJournalAndControl(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := e.events(e.srv.URL, e.srv.Client())
	first := ev.next()

	e.login("alice") // a session (store) and a journal entry
	got := ev.next()
	if got.Store <= first.Store || got.Journal <= first.Journal || got.Control != first.Control {
		t.Fatalf("after a login: %+v, was %+v", got, first)
	}
	if r, _ := e.ctl().AdvanceClockWithResponse(context.Background(), acctl.AdvanceRequest{Duration: "1s"}); r.StatusCode() != 200 {
		t.Fatalf("advance: %d", r.StatusCode())
	}
	after := ev.next()
	if after.Control <= got.Control {
		t.Fatalf("advancing the clock did not count as a control change: %+v, was %+v", after, got)
	}
	// Reads change nothing, so they send nothing: the next event is the next change.
	e.ctl().ListSessionsWithResponse(context.Background(), nil)
	e.ctl().GetClockWithResponse(context.Background())
	e.emu.Store().AddUsers(demoApp, []string{"dave"})
	if last := ev.next(); last.Store != after.Store+1 || last.Control != after.Control || last.Journal != after.Journal {
		t.Fatalf("after one store write: %+v, was %+v", last, after)
	}
}

// TestEventsOutliveTheWriteTimeout: a stream is not cut by the server's write timeout, which is
// for ordinary answers.
func TestEventsOutliveTheWriteTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.emu, WriteTimeout: 200 * time.Millisecond}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ev := e.events("http://"+ln.Addr().String(), http.DefaultClient)
	first := ev.next()
	time.Sleep(400 * time.Millisecond)
	e.emu.Store().AddUsers(demoApp, []string{"dave"})
	if got := ev.next(); got.Store != first.Store+1 {
		t.Fatalf("after the write timeout: %+v, was %+v", got, first)
	}
}

func TestEventsNeedTheControlToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.ControlToken = "s3cret" })
	r := e.do(http.MethodGet, "/_acmock/events", "", "", nil)
	expectError(t, r, http.StatusUnauthorized, "control_token", "Authorization")
}

func TestConsoleIsServedAndTheBaseURLLeadsThere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/_acmock/ui"} {
		res, err := client.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/_acmock/ui/" {
			t.Errorf("GET %s: %d to %q, want a redirect to /_acmock/ui/", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	page := e.do(http.MethodGet, "/_acmock/ui/", "", "", nil)
	if page.status != 200 || !strings.Contains(page.raw, `<script type="module" src="main.js">`) || page.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("the console page: %d %s", page.status, page.header.Get("Content-Type"))
	}
	expectError(t, e.do(http.MethodGet, "/_acmock/ui/nope.js", "", "", nil), http.StatusNotFound, "not_found", "")
	post := e.do(http.MethodPost, "/_acmock/ui/", "", "", "{}")
	expectError(t, post, http.StatusMethodNotAllowed, "method_not_allowed", "")
	if post.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("Allow: %q", post.header.Get("Allow"))
	}
	// POST / is still the API's 404, not a redirect.
	expectError(t, e.do(http.MethodPost, "/", "", "", "{}"), http.StatusNotFound, "not_found", "")
}

func TestLiveSessionsWithTheirAllowedChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	done, _, _, _ := e.login("bob")
	e.ctl().SetSessionStatusWithResponse(ctx, done, acctl.StatusChangeRequest{Status: "cancelled"})
	live, _, _, _ := e.login("alice")
	e.ctl().SetSessionStatusWithResponse(ctx, live, acctl.StatusChangeRequest{Status: "active"})

	r, _ := e.ctl().ListSessionsWithResponse(ctx, &acctl.ListSessionsParams{Live: ptr(true)})
	if len(r.JSON200.Sessions) != 1 || r.JSON200.Sessions[0].Token != live {
		t.Fatalf("live sessions: %s", r.Body)
	}
	if got := r.JSON200.Sessions[0].Allowed; !slices.Equal(got, []acctl.SessionStatus{"walkaway", "failed", "closed"}) {
		t.Fatalf("an active session may become %v", got)
	}
	r, _ = e.ctl().ListSessionsWithResponse(ctx, &acctl.ListSessionsParams{Live: ptr(false)})
	if len(r.JSON200.Sessions) != 1 || r.JSON200.Sessions[0].Token != done || len(r.JSON200.Sessions[0].Allowed) != 0 {
		t.Fatalf("finished sessions: %s", r.Body)
	}
}

func TestApplicationCredentialsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	users, _ := e.ctl().ListUsersWithResponse(ctx, nil)
	if strings.Contains(string(users.Body), demoSecret) {
		t.Fatal("the user list shows the application secret")
	}
	r, _ := e.ctl().GetApplicationCredentialsWithResponse(ctx, demoApp)
	if r.JSON200 == nil || r.JSON200.Secret != demoSecret || r.JSON200.Id != demoApp {
		t.Fatalf("credentials: %d %s", r.StatusCode(), r.Body)
	}
	unknown := e.do(http.MethodGet, "/_acmock/applications/nope/credentials", "", "", nil)
	expectError(t, unknown, http.StatusNotFound, "unknown_application", "application_id")
}

func TestLosePhoneFromTheControlAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	token, _, _, _ := e.login("alice")
	r, _ := e.ctl().LosePhoneWithResponse(ctx, demoApp, "alice")
	if r.JSON200 == nil || !strings.HasPrefix(r.JSON200.Url, e.srv.URL+"/_acmock/register/") || r.JSON200.UsedAt != nil {
		t.Fatalf("lose phone: %d %s", r.StatusCode(), r.Body)
	}
	if s, _ := e.emu.Store().Session(token); s.Status != "failed" {
		t.Fatalf("alice's waiting login is %s after her phone was lost, want failed", s.Status)
	}
	if u, _ := e.emu.Store().User(demoApp, "alice"); u.HasDevice() {
		t.Fatal("alice still has a usable phone")
	}
	// A user ID is one percent-encoded path segment, slashes included.
	e.emu.Store().AddUsers(demoApp, []string{"a/b c"})
	if r := e.do(http.MethodPost, "/_acmock/applications/"+demoApp+"/users/a%2Fb%20c/lose-phone", "", "", "{}"); r.status != 200 {
		t.Fatalf("lose the phone of %q: %d %s", "a/b c", r.status, r.raw)
	}
	expectError(t, e.do(http.MethodPost, "/_acmock/applications/"+demoApp+"/users/nobody/lose-phone", "", "", "{}"), 404, "unknown_user", "user_id")
	expectError(t, e.do(http.MethodPost, "/_acmock/applications/nope/users/alice/lose-phone", "", "", "{}"), 404, "unknown_application", "application_id")
}

func TestListApplicationsShowsNoSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	created, _ := e.ctl().CreateApplicationWithResponse(ctx, acctl.ApplicationCreate{Id: ptr("00aa")})
	r, _ := e.ctl().ListApplicationsWithResponse(ctx)
	if r.JSON200 == nil || len(r.JSON200.Applications) != 2 || r.JSON200.Applications[0].Id != "00aa" || r.JSON200.Applications[1].Id != demoApp {
		t.Fatalf("applications: %d %s", r.StatusCode(), r.Body)
	}
	if strings.Contains(string(r.Body), demoSecret) || strings.Contains(string(r.Body), created.JSON201.Secret) {
		t.Fatalf("the list shows a secret: %s", r.Body)
	}
}

func TestJournalKeepsTheStringToSignOfAMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), demoApp, "WRONGSECRET", nil)
	if r.status != 401 || r.str("code") != "signature_mismatch" || r.str("string_to_sign") == "" {
		t.Fatalf("a wrong secret: %d %s", r.status, r.raw)
	}
	e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil)
	list, _ := e.ctl().ListRequestsWithResponse(context.Background(), nil)
	entries := list.JSON200.Entries
	if len(entries) != 2 || entries[0].StringToSign == nil || *entries[0].StringToSign != r.str("string_to_sign") ||
		entries[0].Message == nil || *entries[0].Message != r.str("message") {
		t.Fatalf("journal: %s", list.Body)
	}
	if entries[1].StringToSign != nil || entries[1].Message != nil {
		t.Fatalf("a good request has a string to sign or a message: %s", list.Body)
	}
}

func TestTimelineListsWhatTheClockWillFire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice, _, _, _ := e.login("alice") // approves after 2s; times out after 60s unless answered
	bob, _, _, _ := e.login("bob")     // denies after 2s
	r, _ := e.ctl().GetTimelineWithResponse(ctx, nil)
	tl := r.JSON200
	if tl == nil || tl.Total != 4 || len(tl.Steps) != 4 || tl.Mode != "virtual" {
		t.Fatalf("timeline: %d %s", r.StatusCode(), r.Body)
	}
	first := tl.Steps[0]
	if first.User != "alice" || first.Session != alice || first.Status != "active" || first.Cause != "scenario" ||
		first.InMs != 2000 || !first.Due.Equal(tl.Now.Add(2*time.Second)) || first.SessionStatus != "pending" {
		t.Fatalf("the first step: %+v", first)
	}
	if tl.Steps[1].Session != bob || tl.Steps[1].Status != "cancelled" || tl.Steps[3].Cause != "timeout" || tl.Steps[3].InMs != 60000 {
		t.Fatalf("steps: %s", r.Body)
	}
	limited, _ := e.ctl().GetTimelineWithResponse(ctx, &acctl.GetTimelineParams{Limit: ptr(1)})
	if limited.JSON200.Total != 4 || len(limited.JSON200.Steps) != 1 {
		t.Fatalf("limit 1: %s", limited.Body)
	}
	expectError(t, e.do(http.MethodGet, "/_acmock/timeline?limit=0", "", "", nil), 400, "invalid_request", "limit")

	e.clock.Advance(2 * time.Second) // both phones answer; their timeouts no longer apply
	r, _ = e.ctl().GetTimelineWithResponse(ctx, nil)
	if r.JSON200.Total != 0 {
		t.Fatalf("after 2s: %s", r.Body)
	}
	if err := e.emu.Reset(); err != nil {
		t.Fatal(err)
	}
	e.login("alice")
	r, _ = e.ctl().GetTimelineWithResponse(ctx, nil)
	if r.JSON200.Total != 2 {
		t.Fatalf("after a reset and a login: %s", r.Body)
	}
}

func TestValidateScenarioLoadsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	token, _, _, _ := e.login("alice")
	bad, _ := e.ctl().ValidateScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader("name: x\ntimeout: soon\napplications: [{id: a, secret: s}]\n"))
	if bad.StatusCode() != 400 || bad.JSON400.Code != "invalid_scenario" || len(bad.JSON400.Problems) != 1 ||
		bad.JSON400.Problems[0].Line != 2 || bad.JSON400.Problems[0].Column != 10 {
		t.Fatalf("invalid scenario: %d %s", bad.StatusCode(), bad.Body)
	}
	good, _ := e.ctl().ValidateScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader("name: tiny\ndescription: one app\napplications: [{id: a, secret: s}]\n"))
	if good.JSON200 == nil || good.JSON200.Name != "tiny" || good.JSON200.Description == nil || *good.JSON200.Description != "one app" || good.JSON200.Applications != 1 {
		t.Fatalf("valid scenario: %d %s", good.StatusCode(), good.Body)
	}
	if e.emu.Scenario().Name != "default" {
		t.Fatalf("validating loaded %s", e.emu.Scenario().Name)
	}
	if _, err := e.emu.Store().Session(token); err != nil {
		t.Fatalf("validating reset the state: %v", err)
	}
	if got, _ := e.ctl().GetScenarioWithResponse(ctx); got.JSON200.Description == nil || !strings.Contains(*got.JSON200.Description, "alice") {
		t.Fatalf("the loaded scenario's description: %s", got.Body)
	}
}

// startLogins starts n logins of user through the handler method itself (no HTTP), each with the
// timeline its scenario plans.
func startLogins(t testing.TB, emu *emulator.Emulator, app, user string, n int) {
	for range n {
		r, err := emu.AuthenticateUser(context.Background(), acapiserver.AuthenticateUserRequestObject{ApplicationId: app, UserId: user})
		if err != nil {
			t.Fatalf("login of %s: %v", user, err)
		}
		if rec := httptest.NewRecorder(); r.VisitAuthenticateUserResponse(rec) != nil || rec.Code != http.StatusAccepted {
			t.Fatalf("login of %s: %d %s", user, rec.Code, rec.Body)
		}
	}
}

// TestTimelineIsWhatTheSessionsPlan compares the timeline, whole and in part, with the steps the
// store's live sessions still have to come, sorted: soonest first, then by login, then in plan
// order, without the timeouts of logins the phone has answered.
func TestTimelineIsWhatTheSessionsPlan(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewVirtual(epoch), "")
	for i := range 30 {
		startLogins(t, e.emu, "app", []string{"erin", "alice", "quiet", "zero"}[i%4], 1+i%3)
		e.clock.Advance(time.Duration(300+i*170) * time.Millisecond)
	}
	type step struct {
		session, status, cause string
		due                    time.Time
	}
	var want []step
	type keyed struct {
		step
		seq   uint64
		index int
	}
	var all []keyed
	for _, s := range e.emu.Store().Sessions(func(s *store.Session) bool { return store.Live(s.Status) }) {
		for i, st := range s.Steps {
			answered := s.Status != "pending" && s.Status != "identifying"
			if st.Done || st.Timeout && answered {
				continue
			}
			k := keyed{step{session: s.Token, status: string(st.Status), cause: "scenario", due: st.Due}, s.Seq, i}
			if st.Timeout {
				k.cause = "timeout"
			}
			all = append(all, k)
		}
	}
	slices.SortFunc(all, func(a, b keyed) int {
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		if a.seq != b.seq {
			return cmp.Compare(a.seq, b.seq)
		}
		return cmp.Compare(a.index, b.index)
	})
	for _, k := range all {
		want = append(want, k.step)
	}
	if len(want) < 20 {
		t.Fatalf("only %d steps pending; the test needs more", len(want))
	}
	for _, limit := range []int{1, 7, len(want), 1000} {
		r, _ := e.ctl().GetTimelineWithResponse(context.Background(), &acctl.GetTimelineParams{Limit: ptr(limit)})
		if r.JSON200 == nil || r.JSON200.Total != len(want) || len(r.JSON200.Steps) != min(limit, len(want)) {
			t.Fatalf("limit %d: %d %s", limit, r.StatusCode(), r.Body)
		}
		for i, got := range r.JSON200.Steps {
			w := want[i]
			if got.Session != w.session || string(got.Status) != w.status || string(got.Cause) != w.cause || !got.Due.Equal(w.due) {
				t.Fatalf("limit %d, step %d: %+v, want %+v", limit, i, got, w)
			}
		}
	}
}

// TestTimelineCostFollowsThePage: reading the soonest step among 20,000 pending logins allocates
// what one step needs, not something per login. (Before the timeline was kept in order, every
// read copied every plan and every session.)
func TestTimelineCostFollowsThePage(t *testing.T) {
	e := timelineEnv(t, clock.NewVirtual(epoch), "")
	startLogins(t, e.emu, "app", "quiet", 20_000)
	read := func() {
		rec := httptest.NewRecorder()
		e.emu.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/_acmock/timeline?limit=1", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"total":20000`) {
			t.Fatalf("timeline: %d %s", rec.Code, rec.Body)
		}
	}
	allocs := testing.AllocsPerRun(5, read)
	t.Logf("%.0f allocations a read", allocs)
	if allocs > 2_000 {
		t.Fatalf("a timeline page of 1 step among 20,000 made %.0f allocations", allocs)
	}
}
