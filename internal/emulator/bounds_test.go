package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/emulator"
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
