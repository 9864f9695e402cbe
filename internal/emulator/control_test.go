package emulator_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
)

func (e *env) ctl() *acctl.ClientWithResponses {
	e.t.Helper()
	c, err := acctl.NewClientWithResponses(e.srv.URL, acctl.WithHTTPClient(e.srv.Client()))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestControlHealthAndClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	h, err := e.ctl().GetHealthWithResponse(ctx)
	if err != nil || h.JSON200 == nil || h.JSON200.Clock != "virtual" || h.JSON200.Scenario != "default" {
		t.Fatalf("health: %v %s", err, h.Body)
	}
	e.login("alice")
	c, _ := e.ctl().GetClockWithResponse(ctx)
	if c.JSON200.Pending != 2 {
		t.Fatalf("pending after a login = %d, want 2 (the approval and the timeout)", c.JSON200.Pending)
	}
	start := c.JSON200.Now
	adv, _ := e.ctl().AdvanceClockWithResponse(ctx, acctl.AdvanceRequest{Duration: "90s"})
	// One step fires: the approval. The timeout was cancelled when the phone answered.
	if adv.JSON200 == nil || *adv.JSON200.Fired != 1 || adv.JSON200.Pending != 0 || adv.JSON200.Now.Sub(start) != 90*time.Second {
		t.Fatalf("advance: %s", adv.Body)
	}
	for _, bad := range []string{"soon", "-5s", ""} {
		r, _ := e.ctl().AdvanceClockWithResponse(ctx, acctl.AdvanceRequest{Duration: bad})
		if r.StatusCode() != 400 || r.JSON400.Field == nil || *r.JSON400.Field != "duration" {
			t.Errorf("advance %q: %d %s", bad, r.StatusCode(), r.Body)
		}
	}
	raw := e.do(http.MethodPost, "/_acmock/clock/advance", "", "", "{not json")
	if raw.status != 400 || raw.str("code") == "" {
		t.Errorf("advance with a broken body: %d %s", raw.status, raw.raw)
	}

	realEnv := newEnv(t, func(o *emulator.Options) { o.Clock = clock.Real{} })
	r, _ := realEnv.ctl().AdvanceClockWithResponse(ctx, acctl.AdvanceRequest{Duration: "1s"})
	if r.StatusCode() != 409 || r.JSON409.Code != "clock_not_virtual" {
		t.Fatalf("advancing a real clock: %d %s", r.StatusCode(), r.Body)
	}
}

func TestControlSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	token, secret, statusURL, _ := e.login("bob")
	e.login("alice")

	list, _ := e.ctl().ListSessionsWithResponse(ctx, &acctl.ListSessionsParams{User: ptr("bob")})
	if len(list.JSON200.Sessions) != 1 || list.JSON200.Sessions[0].Token != token || list.JSON200.Sessions[0].Attempt != 1 {
		t.Fatalf("sessions of bob: %s", list.Body)
	}
	// Make bob's phone approve now, although his scenario denies.
	set, _ := e.ctl().SetSessionStatusWithResponse(ctx, token, acctl.StatusChangeRequest{Status: "active"})
	if set.JSON200 == nil || set.JSON200.Status != "active" || len(set.JSON200.History) != 2 || set.JSON200.History[1].Cause != "control" {
		t.Fatalf("approve: %d %s", set.StatusCode(), set.Body)
	}
	if got := e.status(token, secret, statusURL); got != "active" {
		t.Fatalf("status after approving: %s", got)
	}
	walk, _ := e.ctl().SetSessionStatusWithResponse(ctx, token, acctl.StatusChangeRequest{Status: "walkaway"})
	back, _ := e.ctl().SetSessionStatusWithResponse(ctx, token, acctl.StatusChangeRequest{Status: "active"})
	closed, _ := e.ctl().SetSessionStatusWithResponse(ctx, token, acctl.StatusChangeRequest{Status: "closed"})
	if walk.StatusCode() != 200 || back.StatusCode() != 200 || closed.StatusCode() != 200 {
		t.Fatalf("walk away, come back, close: %d %d %d", walk.StatusCode(), back.StatusCode(), closed.StatusCode())
	}
	again, _ := e.ctl().SetSessionStatusWithResponse(ctx, token, acctl.StatusChangeRequest{Status: "active"})
	if again.StatusCode() != 409 || !strings.Contains(again.JSON409.Message, "is closed") {
		t.Fatalf("reopening a closed session: %d %s", again.StatusCode(), again.Body)
	}
	// The scenario's own denial at 2s no longer applies to the closed session.
	e.clock.Advance(2 * time.Second)
	if got := e.status(token, secret, statusURL); got != "closed" {
		t.Fatalf("after the scenario step: %s", got)
	}
	unknown, _ := e.ctl().SetSessionStatusWithResponse(ctx, "nope", acctl.StatusChangeRequest{Status: "active"})
	bad, _ := e.ctl().SetSessionStatusWithResponse(ctx, token, acctl.StatusChangeRequest{Status: "approved"})
	if unknown.StatusCode() != 404 || bad.StatusCode() != 400 {
		t.Fatalf("unknown session %d, unknown status %d", unknown.StatusCode(), bad.StatusCode())
	}
	byStatus, _ := e.ctl().ListSessionsWithResponse(ctx, &acctl.ListSessionsParams{Status: ptr(acctl.SessionStatus("active"))})
	if len(byStatus.JSON200.Sessions) != 1 || byStatus.JSON200.Sessions[0].User != "alice" {
		t.Fatalf("active sessions: %s", byStatus.Body)
	}
	badFilter := e.do(http.MethodGet, "/_acmock/sessions?status=approved", "", "", nil)
	if badFilter.status != 400 {
		t.Fatalf("unknown status filter: %d %s", badFilter.status, badFilter.raw)
	}
}

func TestControlScenario(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	got, err := e.ctl().GetScenarioWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.JSON200 == nil || !strings.Contains(got.JSON200.Source, "name: default") || got.JSON200.Name != "default" || got.JSON200.Expectations != 4 {
		t.Fatalf("get scenario: %d %s", got.StatusCode(), got.Body)
	}
	bad, _ := e.ctl().PutScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader("name: x\ntimeout: soon\napplications: [{id: a, secret: s}]\n"))
	if bad.StatusCode() != 400 || len(bad.JSON400.Problems) != 1 || bad.JSON400.Problems[0].Text != `scenario.yaml:2:10: timeout must be a duration such as 500ms, 2s or 1m30s, not "soon"` {
		t.Fatalf("invalid scenario: %d %s", bad.StatusCode(), bad.Body)
	}
	if h, _ := e.ctl().GetHealthWithResponse(ctx); h.JSON200.Scenario != "default" {
		t.Fatal("an invalid scenario replaced the loaded one")
	}
	e.login("alice")
	good, _ := e.ctl().PutScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader(`
name: tiny
applications:
  - id: app1
    secret: S1
    users: [{id: zed, phone: true, login: [{after: 1s, status: cancelled}]}]
`))
	if good.StatusCode() != 200 || good.JSON200.Name != "tiny" || good.JSON200.Applications != 1 {
		t.Fatalf("put scenario: %d %s", good.StatusCode(), good.Body)
	}
	if s := e.emu.Store().Sessions(nil); len(s) != 0 || e.clock.Pending() != 0 {
		t.Fatalf("the swap left %d sessions and %d timers", len(s), e.clock.Pending())
	}
	users, _ := e.ctl().ListUsersWithResponse(ctx, nil)
	if len(users.JSON200.Applications) != 1 || users.JSON200.Applications[0].Users[0].Id != "zed" {
		t.Fatalf("users after the swap: %s", users.Body)
	}
}

func TestControlUsersAndSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.app(http.MethodPost, userPath("/management/send_registration_sms", "carol"), map[string]any{"phone_number": "+15555550100", "message": "Hi"})
	sms, _ := e.ctl().ListSmsWithResponse(ctx)
	if len(sms.JSON200.Messages) != 1 || sms.JSON200.Messages[0].User != "carol" || !strings.HasPrefix(sms.JSON200.Messages[0].Body, "Hi ") {
		t.Fatalf("sms: %s", sms.Body)
	}
	users, _ := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Application: ptr(demoApp)})
	var carol acctl.UserState
	for _, u := range users.JSON200.Applications[0].Users {
		if u.Id == "carol" {
			carol = u
		}
	}
	if carol.Phone != nil || len(carol.Links) != 1 || carol.Links[0].Url != sms.JSON200.Messages[0].Link || carol.Links[0].UsedAt != nil {
		t.Fatalf("carol: %+v", carol)
	}
	reg := e.do(http.MethodGet, carol.Links[0].Url, "", "", nil, func(r *http.Request) { r.Header.Set("Accept", "application/json") })
	if reg.status != 200 || reg.str("user_id") != "carol" {
		t.Fatalf("register as JSON: %d %s", reg.status, reg.raw)
	}
	unknown, _ := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Application: ptr("nope")})
	if unknown.StatusCode() != 404 {
		t.Fatalf("unknown application: %d", unknown.StatusCode())
	}
}

func TestControlRequestsJournal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil)
	e.do(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), "", "", nil)
	list, _ := e.ctl().ListRequestsWithResponse(ctx, &acctl.ListRequestsParams{Operation: ptr("hasRegisteredMobileDevice")})
	entries := list.JSON200.Entries
	if len(entries) != 2 || entries[0].Hmac != "ok" || entries[1].Hmac != "missing_header" || entries[1].Status != 401 || *entries[0].User != "alice" {
		t.Fatalf("journal: %s", list.Body)
	}
	onlyFailed, _ := e.ctl().ListRequestsWithResponse(ctx, &acctl.ListRequestsParams{Status: ptr(401)})
	if len(onlyFailed.JSON200.Entries) != 1 {
		t.Fatalf("status filter: %s", onlyFailed.Body)
	}

	// A waiting read is held until the client has polled three times.
	token, secret, statusURL, _ := e.login("alice")
	e.status(token, secret, statusURL)
	e.status(token, secret, statusURL)
	done := make(chan *acctl.ListRequestsResponse, 1)
	go func() {
		r, _ := e.ctl().ListRequestsWithResponse(ctx, &acctl.ListRequestsParams{Operation: ptr("getSessionStatus"), MinCount: ptr(3), Timeout: ptr("10s")})
		done <- r
	}()
	select {
	case r := <-done:
		t.Fatalf("the wait answered after two polls: %s", r.Body)
	case <-time.After(100 * time.Millisecond):
	}
	e.status(token, secret, statusURL)
	r := <-done
	if r.JSON200 == nil || r.JSON200.TimedOut || len(r.JSON200.Entries) != 3 {
		t.Fatalf("wait: %s", r.Body)
	}
	short, _ := e.ctl().ListRequestsWithResponse(ctx, &acctl.ListRequestsParams{Operation: ptr("logout"), MinCount: ptr(1), Timeout: ptr("20ms")})
	if !short.JSON200.TimedOut || len(short.JSON200.Entries) != 0 {
		t.Fatalf("wait that times out: %s", short.Body)
	}
	// limit keeps the newest matching entries, oldest first, as without it.
	all, _ := e.ctl().ListRequestsWithResponse(ctx, &acctl.ListRequestsParams{})
	newest, _ := e.ctl().ListRequestsWithResponse(ctx, &acctl.ListRequestsParams{Limit: ptr(2)})
	if n := len(all.JSON200.Entries); n < 3 || len(newest.JSON200.Entries) != 2 ||
		newest.JSON200.Entries[0].Seq != all.JSON200.Entries[n-2].Seq || newest.JSON200.Entries[1].Seq != all.JSON200.Entries[n-1].Seq {
		t.Fatalf("limit=2 gave %s of %s", newest.Body, all.Body)
	}
	for _, q := range []string{"timeout=5s", "min_count=1&timeout=2h", "min_count=x", "status=abc", "min_count=-1", "min_count=100001", "status=700", "limit=0", "limit=x"} {
		if r := e.do(http.MethodGet, "/_acmock/requests?"+q, "", "", nil); r.status != 400 || r.str("message") == "" {
			t.Errorf("?%s: %d %s", q, r.status, r.raw)
		}
	}
	// Past journal.MaxWaiters waits in progress, one more is a 503 at once, naming min_count.
	waitCtx, stopWaits := context.WithCancel(ctx)
	waits := make(chan error, journal.MaxWaiters)
	for range journal.MaxWaiters {
		go func() {
			for { // until it holds a place: the probes below take one for a moment
				err := e.emu.Journal().WaitFor(waitCtx, journal.Filter{Operation: "deleteUsers"}, 1)
				if !errors.Is(err, journal.ErrTooManyWaiters) {
					waits <- err
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	var busy reply
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if busy = e.do(http.MethodGet, "/_acmock/requests?operation=deleteUsers&min_count=1&timeout=0s", "", "", nil); busy.status != 200 || time.Now().After(deadline) {
			break
		}
	}
	stopWaits()
	for range journal.MaxWaiters {
		<-waits
	}
	if busy.status != http.StatusServiceUnavailable || busy.str("code") != "busy" || busy.str("field") != "min_count" {
		t.Fatalf("a wait past the bound: %d %s", busy.status, busy.raw)
	}
	clear, _ := e.ctl().ClearRequestsWithResponse(ctx)
	after, _ := e.ctl().ListRequestsWithResponse(ctx, nil)
	if clear.StatusCode() != 200 || len(after.JSON200.Entries) != 0 {
		t.Fatalf("clear: %d, then %s", clear.StatusCode(), after.Body)
	}
}

// TestJournalStaysBoundedUnderLoad sends many more requests than the journal keeps.
func TestJournalStaysBoundedUnderLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.JournalSize = 50; o.CheckResponse = nil })
	for range 500 {
		e.do(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), "", "", nil)
	}
	list, _ := e.ctl().ListRequestsWithResponse(context.Background(), nil)
	if n := len(list.JSON200.Entries); n != 50 || list.JSON200.Entries[49].Seq != 500 {
		t.Fatalf("journal kept %d entries (last seq %d); want the last 50 of 500", n, list.JSON200.Entries[n-1].Seq)
	}
}

func TestControlWallClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	path := userPath("/management/has_registered_mobile_device", "alice")
	w, _ := e.ctl().PutWallClockWithResponse(ctx, acctl.WallClockUpdate{Shift: ptr("-10m")})
	if w.JSON200 == nil || w.JSON200.Shift != "-10m0s" || w.JSON200.MaxSkew != "5m0s" {
		t.Fatalf("shift: %s", w.Body)
	}
	expectError(t, e.app(http.MethodGet, path, nil), 401, "stale_timestamp", "X-Activeconnect-Authentication-Timestamp")
	w, _ = e.ctl().PutWallClockWithResponse(ctx, acctl.WallClockUpdate{MaxSkew: ptr("15m")})
	if w.JSON200.MaxSkew != "15m0s" || w.JSON200.Shift != "-10m0s" {
		t.Fatalf("skew: %s", w.Body)
	}
	if r := e.app(http.MethodGet, path, nil); r.status != 200 {
		t.Fatalf("with a 15m window: %d %s", r.status, r.raw)
	}
	for _, bad := range []acctl.WallClockUpdate{{Shift: ptr("later")}, {MaxSkew: ptr("0s")}, {MaxSkew: ptr("x")}} {
		r, _ := e.ctl().PutWallClockWithResponse(ctx, bad)
		if r.StatusCode() != 400 {
			t.Errorf("%+v: %d", bad, r.StatusCode())
		}
	}
	got, _ := e.ctl().GetWallClockWithResponse(ctx)
	if got.JSON200.MaxSkew != "15m0s" {
		t.Fatalf("bad updates changed the settings: %s", got.Body)
	}
}

func TestControlResetAndToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.ControlToken = "s3cret" })
	ctx := context.Background()
	if r, _ := e.ctl().ResetWithResponse(ctx); r.StatusCode() != 401 {
		t.Fatalf("reset without the token: %d", r.StatusCode())
	}
	if h, _ := e.ctl().GetHealthWithResponse(ctx); h.StatusCode() != 200 {
		t.Fatalf("health must not need the token: %d", h.StatusCode())
	}
	link := e.app(http.MethodGet, userPath("/management/device_registration_link", "carol"), nil).str("register_url")
	if r := e.do(http.MethodGet, link, "", "", nil); r.status != 200 {
		t.Fatalf("registration links must not need the token: %d", r.status)
	}
	withToken := func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer s3cret")
		return nil
	}
	e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"dave"}})
	r, _ := e.ctl().ResetWithResponse(ctx, withToken)
	if r.StatusCode() != 200 {
		t.Fatalf("reset with the token: %d %s", r.StatusCode(), r.Body)
	}
	if _, err := e.emu.Store().User(demoApp, "dave"); err == nil {
		t.Fatal("reset kept a user added at run time")
	}
	if u, _ := e.emu.Store().User(demoApp, "carol"); u.Phone != nil {
		t.Fatal("reset kept carol's phone")
	}
}

func ptr[T any](v T) *T { return &v }

func TestControlRoutingErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodDelete, "/_acmock/scenario", "", "", nil)
	expectError(t, r, 405, "method_not_allowed", "")
	if r.header.Get("Allow") != "GET, PUT" || !strings.Contains(r.str("message"), "use GET or PUT") {
		t.Fatalf("405 on a control path: %v %s", r.header, r.raw)
	}
	if r := e.do(http.MethodGet, "/_acmock/nothing", "", "", nil); r.status != 404 || !strings.Contains(r.str("message"), "api/control.yaml") {
		t.Fatalf("unknown control path: %d %s", r.status, r.raw)
	}
	// Path parameters arrive decoded.
	r = e.do(http.MethodPost, "/_acmock/sessions/a%2Fb/status", "", "", map[string]any{"status": "active"})
	if r.status != 404 || !strings.Contains(r.str("message"), "no session a/b") {
		t.Fatalf("encoded token: %d %s", r.status, r.raw)
	}
}

// TestApplicationsSideBySide: a suite creates its own application and resets only it.
func TestApplicationsSideBySide(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	created, _ := e.ctl().CreateApplicationWithResponse(ctx, acctl.ApplicationCreate{})
	if created.JSON201 == nil || len(created.JSON201.Id) != 32 || len(created.JSON201.Secret) != 32 {
		t.Fatalf("create: %d %s", created.StatusCode(), created.Body)
	}
	id, secret := created.JSON201.Id, created.JSON201.Secret
	if r := e.do(http.MethodPost, "/management/add_users/"+id, id, secret, map[string]any{"users": []string{"alice"}}); r.status != 201 {
		t.Fatalf("add users to the new application: %d %s", r.status, r.raw)
	}
	e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"dave"}})
	reset, _ := e.ctl().ResetApplicationWithResponse(ctx, id)
	if reset.StatusCode() != 200 {
		t.Fatalf("reset: %d %s", reset.StatusCode(), reset.Body)
	}
	if users, _ := e.emu.Store().Users(id); len(users) != 0 {
		t.Fatalf("the reset application kept %d users", len(users))
	}
	if _, err := e.emu.Store().User(demoApp, "dave"); err != nil {
		t.Fatal("resetting one application touched another")
	}
	// Resetting a scenario application restores its scenario users only.
	e.ctl().ResetApplicationWithResponse(ctx, demoApp)
	if users, _ := e.emu.Store().Users(demoApp); len(users) != 3 {
		t.Fatalf("the demo application after its reset: %d users", len(users))
	}
	dup, _ := e.ctl().CreateApplicationWithResponse(ctx, acctl.ApplicationCreate{Id: ptr(demoApp)})
	unknown, _ := e.ctl().ResetApplicationWithResponse(ctx, "nope")
	if dup.StatusCode() != 409 || unknown.StatusCode() != 404 {
		t.Fatalf("duplicate %d, unknown %d", dup.StatusCode(), unknown.StatusCode())
	}
}

// TestJournalNamesHeaderFamily: each journal entry, and the control API's listing, says under
// which names the request carried its timestamp and version, whether or not it verified.
func TestJournalNamesHeaderFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := userPath("/management/has_registered_mobile_device", "alice")
	sign := func(family acauth.HeaderFamily, secret string) func(*http.Request) {
		return func(req *http.Request) {
			s := acauth.NewSigner(demoApp, secret)
			s.Headers = family
			if err := s.SignRequest(req.Context(), req); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		edit   func(*http.Request)
		status int
		hmac   string
		want   []string
	}{
		{"IAMPASS client", sign(acauth.FamilyIAMPASS, demoSecret), 200, "ok",
			[]string{"X-IAMPASS-Authentiaction-Timestamp", "X-IAMPASS-Authentiaction-Version"}},
		{"mobile SDK, wrong secret", sign(acauth.FamilySonikpass, "WRONGSECRET"), 401, "signature_mismatch",
			[]string{"X-Sonikpass-Authentication-Timestamp", "X-Sonikpass-Authentication-Version"}},
		{"conflicting timestamps", func(req *http.Request) {
			sign(acauth.FamilyIAMPASS, demoSecret)(req)
			req.Header.Set("x-activeconnect-authentiaction-timestamp", "1")
		}, 401, "bad_header", []string{"X-Activeconnect-Authentiaction-Timestamp", "X-IAMPASS-Authentiaction-Timestamp", "X-IAMPASS-Authentiaction-Version"}},
		{"unsigned", nil, 401, "missing_header", nil},
	}
	for _, tc := range tests {
		var edits []func(*http.Request)
		if tc.edit != nil {
			edits = append(edits, tc.edit)
		}
		if r := e.do(http.MethodGet, path, "", "", nil, edits...); r.status != tc.status {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	list, err := e.ctl().ListRequestsWithResponse(context.Background(), &acctl.ListRequestsParams{Operation: ptr("hasRegisteredMobileDevice")})
	if err != nil || list.JSON200 == nil || len(list.JSON200.Entries) != len(tests) {
		t.Fatalf("journal: %v %s", err, list.Body)
	}
	for i, tc := range tests {
		en := list.JSON200.Entries[i]
		var got []string
		if en.AuthHeaders != nil {
			got = *en.AuthHeaders
		}
		if en.Hmac != tc.hmac || !slices.Equal(got, tc.want) {
			t.Errorf("%s: hmac %s auth_headers %q, want %s %q", tc.name, en.Hmac, got, tc.hmac, tc.want)
		}
	}
	if j := e.emu.Journal().List(journalFilter("hasRegisteredMobileDevice")); !slices.Equal(j[0].AuthHeaders, tests[0].want) {
		t.Errorf("journal entry: %+v", j[0])
	}
}

// TestResetAndLoadEmptyTheJournal: after a reset or a scenario load the journal holds only what
// came after, with sequence numbers that keep counting; an application reset leaves it alone.
func TestResetAndLoadEmptyTheJournal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	has := userPath("/management/has_registered_mobile_device", "alice")
	e.app(http.MethodGet, has, nil)
	first := e.emu.Journal().List(journal.Filter{})
	if len(first) != 1 {
		t.Fatalf("journal before: %+v", first)
	}
	if r := e.do(http.MethodPost, "/_acmock/reset", "", "", nil); r.status != 200 {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	if got := e.emu.Journal().List(journal.Filter{}); len(got) != 0 {
		t.Fatalf("the journal kept %d entries through a reset", len(got))
	}
	e.app(http.MethodGet, has, nil)
	after := e.emu.Journal().List(journal.Filter{})
	if len(after) != 1 || after[0].Seq <= first[0].Seq {
		t.Fatalf("after the reset: %+v (sequence numbers must keep counting past %d)", after, first[0].Seq)
	}
	r := e.do(http.MethodPut, "/_acmock/scenario", "", "", nil, func(req *http.Request) {
		req.Body = io.NopCloser(strings.NewReader(demoYAML(t)))
		req.Header.Set("Content-Type", "application/yaml")
	})
	if r.status != 200 {
		t.Fatalf("load: %d %s", r.status, r.raw)
	}
	if got := e.emu.Journal().List(journal.Filter{}); len(got) != 0 {
		t.Fatalf("the journal kept %d entries through a scenario load", len(got))
	}
	e.app(http.MethodGet, has, nil)
	if r := e.do(http.MethodPost, "/_acmock/applications/"+demoApp+"/reset", "", "", nil); r.status != 200 {
		t.Fatalf("application reset: %d %s", r.status, r.raw)
	}
	if got := e.emu.Journal().List(journal.Filter{}); len(got) != 1 {
		t.Fatalf("an application reset changed the journal: %+v", got)
	}
}

// TestRequestsJournalIsPaged: a journal larger than a page answers the newest 1,000 entries with
// a cursor, and walking the cursors gives every kept entry once, as a filtered walk does.
func TestRequestsJournalIsPaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.CheckResponse = nil })
	ctx := context.Background()
	const sent = 1_234
	for i := range sent {
		user := "alice"
		if i%10 == 0 {
			user = "bob"
		}
		e.do(http.MethodGet, userPath("/management/has_registered_mobile_device", user), "", "", nil)
	}
	first, err := e.ctl().ListRequestsWithResponse(ctx, nil)
	if err != nil || first.JSON200 == nil {
		t.Fatalf("list: %v %s", err, first.Body)
	}
	if n := len(first.JSON200.Entries); n != 1000 || first.JSON200.NextCursor == nil || first.JSON200.Entries[999].Seq != sent {
		t.Fatalf("first page: %d entries, next_cursor %v; want the newest 1000 and a cursor", n, first.JSON200.NextCursor)
	}
	walk := func(params acctl.ListRequestsParams) []acctl.RequestEntry {
		var all []acctl.RequestEntry
		for pages := 0; ; pages++ {
			r, err := e.ctl().ListRequestsWithResponse(ctx, &params)
			if err != nil || r.JSON200 == nil || pages > 100 {
				t.Fatalf("page %d: %v %s", pages, err, r.Body)
			}
			all = append(r.JSON200.Entries, all...)
			if r.JSON200.NextCursor == nil {
				return all
			}
			params.Cursor = r.JSON200.NextCursor
		}
	}
	all := walk(acctl.ListRequestsParams{Limit: ptr(300)})
	if len(all) != sent {
		t.Fatalf("walking pages of 300 gave %d entries, want %d", len(all), sent)
	}
	for i, en := range all {
		if en.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d", i, en.Seq)
		}
	}
	bobs := walk(acctl.ListRequestsParams{User: ptr("bob"), Limit: ptr(50)})
	if len(bobs) != sent/10+1 {
		t.Fatalf("bob's entries: %d, want %d", len(bobs), sent/10+1)
	}
	since := walk(acctl.ListRequestsParams{Since: ptr(uint64(sent - 5)), Limit: ptr(2)})
	if len(since) != 5 || since[0].Seq != sent-4 {
		t.Fatalf("since: %d entries from %d", len(since), since[0].Seq)
	}
	for _, q := range []string{"limit=1001", "cursor=x", "cursor=0", "cursor=-1"} {
		r := e.do(http.MethodGet, "/_acmock/requests?"+q, "", "", nil)
		field := "limit"
		if strings.HasPrefix(q, "cursor") {
			field = "cursor"
		}
		expectError(t, r, 400, "invalid_request", field)
	}
}

// TestJournalNamesHeaderFamilyBeforeVerifying: the requests answered before any signature check
// (an unknown application or session) and those of an emulator that checks none (--auth off)
// are journaled with the header names they carried too.
func TestJournalNamesHeaderFamilyBeforeVerifying(t *testing.T) {
	t.Parallel()
	want := []string{"X-IAMPASS-Authentiaction-Timestamp", "X-IAMPASS-Authentiaction-Version"}
	sign := func(clientID, secret string) func(*http.Request) {
		return func(req *http.Request) {
			s := acauth.NewSigner(clientID, secret)
			s.Headers = acauth.FamilyIAMPASS
			if err := s.SignRequest(req.Context(), req); err != nil {
				t.Fatal(err)
			}
		}
	}
	const unknownApp = "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name    string
		authOff bool
		path    string
		op      string
		client  string
		status  int
	}{
		{"unknown application", false, "/management/has_registered_mobile_device/" + unknownApp + "/alice", "hasRegisteredMobileDevice", unknownApp, 404},
		{"unknown session", false, "/authentication/session_status/0123456789abcdef0123456789abcdef", "getSessionStatus", "0123456789abcdef0123456789abcdef", 404},
		{"auth off", true, userPath("/management/has_registered_mobile_device", "alice"), "hasRegisteredMobileDevice", demoApp, 200},
	} {
		e := newEnv(t, func(o *emulator.Options) { o.AuthOff = tc.authOff })
		if r := e.do(http.MethodGet, tc.path, "", "", nil, sign(tc.client, demoSecret)); r.status != tc.status {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.raw)
		}
		j := e.emu.Journal().List(journalFilter(tc.op))
		if len(j) != 1 || !slices.Equal(j[0].AuthHeaders, want) {
			t.Errorf("%s: journal %+v, want auth headers %q", tc.name, j, want)
		}
	}
}
