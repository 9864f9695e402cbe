package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/store"
)

func userIDs(res *acctl.ListUsersResponse) []string {
	var out []string
	for _, app := range res.JSON200.Applications {
		for _, u := range app.Users {
			out = append(out, u.Id)
		}
	}
	return out
}

// TestUsersByPrefixArePaged: prefix finds users by the start of their ID in any case, in ID
// order, page by page; user_count says how many the application has.
func TestUsersByPrefixArePaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	users := []string{"Alan", "albert", "ALICE-2"}
	for i := range 12 {
		users = append(users, fmt.Sprintf("user-%02d", i))
	}
	if r := e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": users}); r.status != http.StatusCreated {
		t.Fatalf("add users: %d %s", r.status, r.raw)
	}
	res, err := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Application: ptr(demoApp), Prefix: ptr("aL")})
	if err != nil || res.JSON200 == nil {
		t.Fatalf("prefix aL: %v %v", err, res)
	}
	if got, want := userIDs(res), []string{"Alan", "albert", "alice", "ALICE-2"}; !slices.Equal(got, want) {
		t.Fatalf("prefix aL finds %v, want %v", got, want)
	}
	if n := res.JSON200.Applications[0].UserCount; n != 3+len(users) {
		t.Fatalf("user_count %d, want %d", n, 3+len(users))
	}
	var seen []string
	var cursor *string
	for pages := 1; ; pages++ {
		res, err := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Prefix: ptr("USER-"), Limit: ptr(5), Cursor: cursor})
		if err != nil || res.JSON200 == nil || len(userIDs(res)) > 5 {
			t.Fatalf("page %d: %v %v", pages, err, res)
		}
		seen = append(seen, userIDs(res)...)
		if cursor = res.JSON200.NextCursor; cursor == nil {
			break
		}
		if pages == 1 { // one that the next page would have started after is deleted meanwhile
			e.app(http.MethodPost, "/management/delete_users/"+demoApp, map[string]any{"users": []string{"user-04"}})
		}
	}
	if want := users[3:]; !slices.Equal(seen, want) {
		t.Fatalf("pages of prefix USER- listed %v, want %v", seen, want)
	}
	// A cursor of one kind does not go with the other.
	first, _ := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Limit: ptr(1)})
	mixed, _ := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Prefix: ptr("a"), Cursor: first.JSON200.NextCursor})
	if mixed.JSON400 == nil || mixed.JSON400.Field == nil || *mixed.JSON400.Field != "cursor" {
		t.Fatalf("a cursor without prefix used with one: %d %s", mixed.StatusCode(), mixed.Body)
	}
}

// TestUsersByID answers the users named, in the order given, leaving out unknown ones.
func TestUsersByID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.ctl().ListUsersWithResponse(ctx, &acctl.ListUsersParams{Application: ptr(demoApp), User: &[]string{"carol", "nobody", "alice", "carol"}})
	if err != nil || res.JSON200 == nil {
		t.Fatalf("%v %v", err, res)
	}
	if got := userIDs(res); !slices.Equal(got, []string{"carol", "alice"}) {
		t.Fatalf("users carol, nobody, alice: %v", got)
	}
	if res.JSON200.NextCursor != nil {
		t.Fatal("a list of named users has a next page")
	}
	for field, query := range map[string]string{"cursor": "&cursor=x", "prefix": "&prefix=a"} {
		expectError(t, e.do(http.MethodGet, "/_acmock/users?user=alice"+query, "", "", nil), http.StatusBadRequest, "invalid_request", field)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = "user=u" + fmt.Sprint(i)
	}
	r := e.do(http.MethodGet, "/_acmock/users?"+strings.Join(many, "&"), "", "", nil)
	expectError(t, r, http.StatusBadRequest, "invalid_request", "user")
}

// TestTimelineOfOneSession lists the steps of the session asked for alone.
func TestTimelineOfOneSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice, _, _, _ := e.login("alice") // approves at 2 s, times out at 60 s
	e.login("bob")
	res, err := e.ctl().GetTimelineWithResponse(ctx, &acctl.GetTimelineParams{Session: ptr(alice)})
	if err != nil || res.JSON200 == nil {
		t.Fatalf("%v %v", err, res)
	}
	tl := res.JSON200
	if tl.Total != 2 || len(tl.Steps) != 2 || tl.Steps[0].Session != alice || tl.Steps[1].Cause != acctl.TimelineStepCauseTimeout {
		t.Fatalf("alice's timeline: %+v", tl)
	}
	e.clock.Advance(2 * time.Second)
	if res, _ := e.ctl().GetTimelineWithResponse(ctx, &acctl.GetTimelineParams{Session: ptr(alice)}); res.JSON200.Total != 0 {
		t.Fatalf("an approved session still has steps: %s", res.Body)
	}
	if res, _ := e.ctl().GetTimelineWithResponse(ctx, &acctl.GetTimelineParams{Session: ptr("unknown")}); res.JSON200 == nil || res.JSON200.Total != 0 {
		t.Fatalf("an unknown session: %d %s", res.StatusCode(), res.Body)
	}
}

// TestOutboxSaysWhatBecameOfEachLink: each SMS carries its link's code and whether it still
// works, was used, or is gone.
func TestOutboxSaysWhatBecameOfEachLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(store.Limits{MaxLinksPerUser: 2}))
	ctx := context.Background()
	send := func(user string) {
		t.Helper()
		r := e.app(http.MethodPost, "/management/send_registration_sms/"+demoApp+"/"+user, map[string]any{"phone_number": "+15555550100", "message": "hi"})
		if r.status != http.StatusOK {
			t.Fatalf("send sms to %s: %d %s", user, r.status, r.raw)
		}
	}
	send("carol")
	send("carol")
	send("carol") // the first link is gone: a user keeps 2 here
	res, err := e.ctl().ListSmsWithResponse(ctx)
	if err != nil || res.JSON200 == nil || len(res.JSON200.Messages) != 3 {
		t.Fatalf("%v %v", err, res)
	}
	m := res.JSON200.Messages
	if !strings.HasSuffix(m[2].Link, "/"+m[2].Code) {
		t.Fatalf("the code %q is not the link's %q", m[2].Code, m[2].Link)
	}
	if r := e.do(http.MethodGet, "/_acmock/register/"+m[2].Code, "", "", nil); r.status != http.StatusOK {
		t.Fatalf("open the link: %d %s", r.status, r.raw)
	}
	res, _ = e.ctl().ListSmsWithResponse(ctx)
	m = res.JSON200.Messages
	got := []acctl.SmsLinkStatus{m[0].LinkStatus, m[1].LinkStatus, m[2].LinkStatus}
	if !slices.Equal(got, []acctl.SmsLinkStatus{acctl.SmsLinkStatusGone, acctl.SmsLinkStatusUnused, acctl.SmsLinkStatusUsed}) || m[2].UsedAt == nil || m[1].UsedAt != nil {
		t.Fatalf("link statuses %v, used at %v %v", got, m[1].UsedAt, m[2].UsedAt)
	}
	e.app(http.MethodPost, "/management/delete_users/"+demoApp, map[string]any{"users": []string{"carol"}})
	res, _ = e.ctl().ListSmsWithResponse(ctx)
	for _, m := range res.JSON200.Messages {
		if m.LinkStatus != acctl.SmsLinkStatusGone {
			t.Fatalf("the link of a removed user is %s", m.LinkStatus)
		}
	}
}

// TestTimelineLimitKeepsTheSoonest: with limit, the timeline holds the soonest steps in the order
// they fire, and total still counts them all.
func TestTimelineLimitKeepsTheSoonest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for i := range 6 {
		e.login([]string{"alice", "bob"}[i%2])
		e.clock.Advance(500 * time.Millisecond)
	}
	all, err := e.ctl().GetTimelineWithResponse(ctx, &acctl.GetTimelineParams{Limit: ptr(1000)})
	if err != nil || all.JSON200 == nil || all.JSON200.Total != len(all.JSON200.Steps) {
		t.Fatalf("%v %v", err, all)
	}
	steps := all.JSON200.Steps
	if !slices.IsSortedFunc(steps, func(a, b acctl.TimelineStep) int { return a.Due.Compare(b.Due) }) {
		t.Fatalf("not soonest first: %+v", steps)
	}
	some, _ := e.ctl().GetTimelineWithResponse(ctx, &acctl.GetTimelineParams{Limit: ptr(3)})
	if some.JSON200.Total != all.JSON200.Total || len(some.JSON200.Steps) != 3 {
		t.Fatalf("limit 3: total %d, %d steps; want %d and 3", some.JSON200.Total, len(some.JSON200.Steps), all.JSON200.Total)
	}
	for i, st := range some.JSON200.Steps {
		if st.Session != steps[i].Session || st.Cause != steps[i].Cause || !st.Due.Equal(steps[i].Due) {
			t.Fatalf("step %d of limit 3 is %+v, want %+v", i, st, steps[i])
		}
	}
}
