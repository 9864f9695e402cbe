package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/store"
)

// TestSetUserStatusPicksTheNewestSessionThatCan: approving a user reaches the newest login that
// can still be approved, not a newer one that already ended nor an older pending one.
func TestSetUserStatusPicksTheNewestSessionThatCan(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewVirtual(epoch), "")
	older := e.loginAs("quiet")
	newer := e.loginAs("quiet")
	newest := e.loginAs("quiet")
	if _, err := e.emu.SetSessionStatus(newest.token, "cancelled"); err != nil {
		t.Fatal(err)
	}
	s, err := e.emu.SetUserStatus("", "quiet", "active")
	if err != nil || s.Token != newer.token || s.Status != "active" {
		t.Fatalf("approved %s (%v), want the newer pending session %s", s.Token, err, newer.token)
	}
	if got := older.poll(); got != "pending" {
		t.Fatalf("the older session became %s", got)
	}
	// Walk away: only an active session can; the newest that can is the one just approved.
	if s, err := e.emu.SetStatus("quiet", "walkaway"); err != nil || s.Token != newer.token {
		t.Fatalf("walkaway reached %s: %v", s.Token, err)
	}
}

// TestSetUserStatusReachesAnOldSessionBehindManyNewer: a pending login older than a thousand
// finished ones is still the one approving reaches, and a refusal counts every session the user
// has.
func TestSetUserStatusReachesAnOldSessionBehindManyNewer(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewVirtual(epoch), "")
	old := e.loginAs("quiet")
	st := e.emu.Store()
	for range 1_001 {
		s, err := st.StartSession("app", "quiet", nil, epoch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Transition(s.Token, "cancelled", epoch, "control"); err != nil {
			t.Fatal(err)
		}
	}
	s, err := e.emu.SetUserStatus("", "quiet", "active")
	if err != nil || s.Token != old.token {
		t.Fatalf("approved %q (%v), want the old pending session %s", s.Token, err, old.token)
	}
	// Only a pending session can start identifying, and none is left.
	_, err = e.emu.SetUserStatus("app", "quiet", "identifying")
	want := `user "quiet" has no session that can become identifying: its 1002 sessions are, newest first, cancelled, cancelled, cancelled, cancelled, cancelled and 997 older`
	if !errors.Is(err, store.ErrBadTransition) || err.Error() != want {
		t.Fatalf("none can:\n got %v\nwant %s", err, want)
	}
}

func TestSetUserStatusErrors(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewVirtual(epoch), "")
	_, err := e.emu.SetUserStatus("", "alice", "active")
	if !errors.Is(err, store.ErrSessionNotFound) || err.Error() != `user "alice" has no session yet; start a login first` {
		t.Fatalf("no session yet: %v", err)
	}
	for range 2 {
		s := e.loginAs("alice")
		if _, err := e.emu.SetSessionStatus(s.token, "cancelled"); err != nil {
			t.Fatal(err)
		}
	}
	last := e.loginAs("alice")
	if _, err := e.emu.SetSessionStatus(last.token, "failed"); err != nil {
		t.Fatal(err)
	}
	_, err = e.emu.SetUserStatus("", "alice", "active")
	want := `user "alice" has no session that can become active: its 3 sessions are, newest first, failed, cancelled, cancelled`
	if !errors.Is(err, store.ErrBadTransition) || err.Error() != want {
		t.Fatalf("none can:\n got %v\nwant %s", err, want)
	}
	var none *emulator.NoSessionError
	if !errors.As(err, &none) || len(none.Statuses) != 3 {
		t.Fatalf("error %T %+v", err, none)
	}
	if _, err := e.emu.SetStatus("zed", "active"); !errors.Is(err, store.ErrSessionNotFound) || err.Error() != `no session or user "zed": unknown session` {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := e.emu.SetStatus("alice", "approved"); !errors.Is(err, emulator.ErrInvalidStatus) {
		t.Fatalf("unknown status: %v", err)
	}
	if _, err := e.emu.SetStatus(last.token, "active"); !errors.Is(err, store.ErrBadTransition) {
		t.Fatalf("by token, a failed session: %v", err)
	}
}

func TestControlSetUserStatus(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewVirtual(epoch), "")
	ctx := context.Background()
	set := func(user, status string, app *string) *acctl.SetUserStatusResponse {
		t.Helper()
		r, err := e.ctl().SetUserStatusWithResponse(ctx, user, &acctl.SetUserStatusParams{Application: app}, acctl.StatusChangeRequest{Status: acctl.SessionStatus(status)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	errorIs := func(r *acctl.SetUserStatusResponse, status int, code, text string) {
		t.Helper()
		var body *acctl.Error
		switch status {
		case 404:
			body = (*acctl.Error)(r.JSON404)
		case 409:
			body = (*acctl.Error)(r.JSON409)
		case 400:
			body = r.JSON400
		}
		if r.StatusCode() != status || body == nil || body.Code != code || !strings.Contains(body.Message, text) {
			t.Fatalf("got %d %s, want %d %s containing %q", r.StatusCode(), r.Body, status, code, text)
		}
	}
	errorIs(set("alice", "active", nil), 409, "no_session", `user "alice" has no session yet`)
	errorIs(set("zed", "active", nil), 404, "unknown_user", `no application has a user "zed"`)
	errorIs(set("alice", "active", ptr("app")), 409, "no_session", `user "alice" has no session yet`)
	errorIs(set("alice", "active", ptr("nope")), 404, "unknown_application", "no application nope")
	errorIs(set("alice", "approved", nil), 400, "invalid_request", "not one of the allowed values")

	s := e.loginAs("alice")
	r := set("alice", "active", nil)
	if r.JSON200 == nil || r.JSON200.Token != s.token || r.JSON200.Status != "active" || r.JSON200.History[1].Cause != "control" {
		t.Fatalf("approve alice: %d %s", r.StatusCode(), r.Body)
	}
	errorIs(set("alice", "identifying", nil), 409, "bad_transition", `user "alice" has no session that can become identifying: its only session is active`)
	if got := s.poll(); got != "active" {
		t.Fatalf("alice's poll after approving: %s", got)
	}
}

// TestJournalFilterNames: a filter takes an operationId or the URL's name; anything else is an
// error listing both, in Go and as a 400 on the control API.
func TestJournalFilterNames(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewVirtual(epoch), "")
	e.loginAs("alice").poll()
	for _, name := range []string{"authenticateUser", "authenticate_user"} {
		got, err := e.emu.Requests(journalFilter(name))
		if err != nil || len(got) != 1 || got[0].Operation != "authenticateUser" {
			t.Fatalf("filter %q: %v %+v", name, err, got)
		}
	}
	_, err := e.emu.Requests(journalFilter("nosuchop"))
	if !errors.Is(err, emulator.ErrUnknownOperation) ||
		!strings.Contains(err.Error(), `unknown operation "nosuchop"`) ||
		!strings.Contains(err.Error(), "getSessionStatus") || !strings.Contains(err.Error(), "session_status") {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := e.emu.WaitRequests(context.Background(), journalFilter("get_session_status"), 1); !errors.Is(err, emulator.ErrUnknownOperation) {
		t.Fatalf("WaitRequests must refuse a bad name at once: %v", err)
	}

	r := e.do(http.MethodGet, "/_acmock/requests?operation=nosuchop", "", "", nil)
	expectError(t, r, http.StatusBadRequest, "invalid_request", "operation")
	if !strings.Contains(r.str("message"), "authenticate_user") {
		t.Fatalf("the 400 should list the names: %s", r.raw)
	}
	// The same with min_count: refused at once rather than after the wait.
	r = e.do(http.MethodGet, "/_acmock/requests?operation=nosuchop&min_count=1&timeout=60s", "", "", nil)
	expectError(t, r, http.StatusBadRequest, "invalid_request", "operation")
	ok := e.do(http.MethodGet, "/_acmock/requests?operation=session_status&method=get", "", "", nil)
	if entries, _ := ok.field("entries").([]any); ok.status != 200 || len(entries) != 1 {
		t.Fatalf("operation=session_status&method=get: %d %s", ok.status, ok.raw)
	}
}

// TestJournalNamesRegistrationLinks: the links phones open are journalled under their operation.
func TestJournalNamesRegistrationLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	link := e.app(http.MethodGet, userPath("/management/device_registration_link", "carol"), nil).str("register_url")
	if r := e.do(http.MethodGet, link, "", "", nil); r.status != 200 {
		t.Fatalf("open link: %d %s", r.status, r.raw)
	}
	got, err := e.emu.Requests(journalFilter("register"))
	if err != nil || len(got) != 1 || got[0].Operation != "openRegistrationLink" || got[0].User != "carol" {
		t.Fatalf("journal of link opens: %v %+v", err, got)
	}
}
