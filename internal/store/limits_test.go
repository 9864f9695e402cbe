package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/store"
)

func withPhones(t *testing.T, s *store.Store, users ...string) {
	t.Helper()
	if _, _, err := s.AddUsers("app", users); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if err := s.RegisterPhone("app", u, nil, now); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLiveSessionsAreBoundedByTheCap: past the cap with every session still live (approved logins
// that nobody closes), the oldest live session is forgotten, one per login, and the count stays at
// the cap. The store used to keep every live session and scan them all on each login.
func TestLiveSessionsAreBoundedByTheCap(t *testing.T) {
	t.Parallel()
	var done []string
	eachStoreWith(t, []store.Option{store.WithLimits(store.Limits{MaxSessions: 100}), store.OnSessionDone(func(token string) { done = append(done, token) })}, func(t *testing.T, s *store.Store) {
		done = nil
		withPhones(t, s, "a", "b")
		var tokens []string
		for i := range 250 {
			sess, err := s.StartSession("app", []string{"a", "b"}[i%2], nil, now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Transition(sess.Token, "active", now, "test"); err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, sess.Token)
		}
		if n := s.SessionCount(); n != 100 {
			t.Fatalf("%d sessions kept with a cap of 100", n)
		}
		for i, tok := range tokens {
			_, err := s.Session(tok)
			if kept := i >= 150; kept != (err == nil) {
				t.Fatalf("session %d: kept %v, err %v; want the newest 100 kept", i, kept, err)
			}
		}
		if !slices.Equal(done, tokens[:150]) {
			t.Fatalf("OnSessionDone saw %d tokens, want the 150 forgotten live sessions in order", len(done))
		}
		// The forgotten sessions are gone from every index too.
		if page, _ := s.SessionsPage(store.SessionFilter{AppID: "app", UserID: "a"}, store.Page{Limit: 1000}); len(page) != 50 {
			t.Fatalf("user a lists %d sessions, want 50", len(page))
		}
	})
}

// TestFinishedGoBeforeLive: at the cap, a finished session is forgotten before any live one, even
// a live one older than it.
func TestFinishedGoBeforeLive(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, []store.Option{store.WithLimits(store.Limits{MaxSessions: 3})}, func(t *testing.T, s *store.Store) {
		withPhones(t, s, "a")
		oldLive, _ := s.StartSession("app", "a", nil, now)
		second, _ := s.StartSession("app", "a", nil, now)
		third, _ := s.StartSession("app", "a", nil, now)
		_, _ = s.Transition(third.Token, "cancelled", now, "test")
		_, _ = s.Transition(second.Token, "cancelled", now, "test")
		_, _ = s.StartSession("app", "a", nil, now)
		if _, err := s.Session(third.Token); !errors.Is(err, store.ErrSessionNotFound) {
			t.Fatalf("the session that finished first was kept: %v", err)
		}
		for _, tok := range []string{oldLive.Token, second.Token} {
			if _, err := s.Session(tok); err != nil {
				t.Fatalf("%s forgotten too early: %v", tok, err)
			}
		}
	})
}

func TestLiveSessionsExpireAfterTheirLifetime(t *testing.T) {
	t.Parallel()
	clock := now
	var done []string
	eachStoreWith(t, []store.Option{store.WithLimits(store.Limits{SessionLifetime: time.Hour}),
		store.WithClock(func() time.Time { return clock }), store.OnSessionDone(func(tok string) { done = append(done, tok) })}, func(t *testing.T, s *store.Store) {
		clock = now
		withPhones(t, s, "a")
		early, _ := s.StartSession("app", "a", nil, now)
		_, _ = s.Transition(early.Token, "active", now, "test")
		late, _ := s.StartSession("app", "a", nil, now.Add(30*time.Minute))
		finished, _ := s.StartSession("app", "a", nil, now)
		_, _ = s.Transition(finished.Token, "cancelled", now, "test")
		done = nil

		clock = now.Add(time.Hour - time.Nanosecond)
		if st, _ := s.SessionStatus(early.Token); st != "active" {
			t.Fatalf("before its lifetime: %s", st)
		}
		clock = now.Add(time.Hour) // a read alone, with no write since, sees the expiry
		if st, _ := s.SessionStatus(early.Token); st != "closed" {
			t.Fatalf("at its lifetime: %s", st)
		}
		got, _ := s.Session(early.Token)
		if last := got.History[len(got.History)-1]; last.Cause != "expired" || !last.At.Equal(now.Add(time.Hour)) {
			t.Fatalf("expiry recorded as %+v", last)
		}
		if st, _ := s.SessionStatus(late.Token); st != "pending" {
			t.Fatalf("the younger session expired too: %s", st)
		}
		if !slices.Equal(done, []string{early.Token}) {
			t.Fatalf("OnSessionDone saw %v", done)
		}
		// A write at a later time expires what is due before acting.
		if _, err := s.Transition(late.Token, "active", now.Add(2*time.Hour), "test"); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("an expired session could still be approved: %v", err)
		}
	})
}

func TestUsersAreBounded(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, []store.Option{store.WithLimits(store.Limits{MaxUsers: 5})}, func(t *testing.T, s *store.Store) {
		_ = s.AddApplication("other", "s")
		if _, _, err := s.AddUsers("app", []string{"a", "b", "c"}); err != nil {
			t.Fatal(err)
		}
		// Existing users and duplicates do not count; the limit spans applications.
		if created, _, err := s.AddUsers("other", []string{"a", "a", "b"}); err != nil || len(created) != 2 {
			t.Fatalf("up to the limit: %v %v", created, err)
		}
		_, _, err := s.AddUsers("app", []string{"a", "d"})
		if !errors.Is(err, store.ErrLimitReached) {
			t.Fatalf("past the limit: %v", err)
		}
		if _, err := s.User("app", "d"); !errors.Is(err, store.ErrUserNotFound) {
			t.Fatalf("a refused batch created a user: %v", err)
		}
		_ = s.DeleteUsers("other", []string{"a"})
		if _, _, err := s.AddUsers("app", []string{"d"}); err != nil || s.UserCount() != 5 {
			t.Fatalf("after a delete: %v, %d users", err, s.UserCount())
		}
		if err := s.ResetApplication("app"); err != nil || s.UserCount() != 1 {
			t.Fatalf("after a reset: %v, %d users", err, s.UserCount())
		}
	})
}

func TestApplicationsAreBounded(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, []store.Option{store.WithLimits(store.Limits{MaxApplications: 3})}, func(t *testing.T, s *store.Store) {
		for range 2 {
			if _, err := s.CreateApplication("", ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateApplication("", ""); !errors.Is(err, store.ErrLimitReached) {
			t.Fatalf("a fourth application: %v", err)
		}
		if err := s.AddApplication("scenario-app", "s"); err != nil {
			t.Fatalf("a scenario's application is always added: %v", err)
		}
		if ids := s.Applications(); len(ids) != 4 || !slices.IsSortedFunc(ids, func(a, b store.Application) int { return cmpString(a.ID, b.ID) }) {
			t.Fatalf("applications: %v", ids)
		}
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestLinksPerUserAreBounded(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, []store.Option{store.WithLimits(store.Limits{MaxLinksPerUser: 3})}, func(t *testing.T, s *store.Store) {
		_, _, _ = s.AddUsers("app", []string{"a"})
		var codes []string
		for i := range 5 {
			l, err := s.NewLink("app", "a", fmt.Sprint(i), now)
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, l.Code)
		}
		u, _ := s.User("app", "a")
		if len(u.Links) != 3 || u.Links[0].Code != codes[2] {
			t.Fatalf("user keeps %d links, first %v", len(u.Links), u.Links)
		}
		if _, err := s.UseLink(codes[1], now); !errors.Is(err, store.ErrLinkNotFound) {
			t.Fatalf("a link pushed out still works: %v", err)
		}
		if _, err := s.UseLink(codes[4], now); err != nil {
			t.Fatalf("the newest link: %v", err)
		}
		if u, _ := s.User("app", "a"); !u.HasDevice() || u.Links[2].UsedAt.IsZero() {
			t.Fatalf("after using a link: %+v", u)
		}
		// Losing the phone hands out a link too, within the same bound.
		if _, err := s.LoseDevice("app", "a", now); err != nil {
			t.Fatal(err)
		}
		if u, _ := s.User("app", "a"); len(u.Links) != 3 {
			t.Fatalf("after a lost phone: %d links", len(u.Links))
		}
	})
}

func TestOutboxKeepsTheNewest(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, []store.Option{store.WithLimits(store.Limits{MaxOutbox: 3})}, func(t *testing.T, s *store.Store) {
		_ = s.AddApplication("other", "s")
		_, _, _ = s.AddUsers("app", []string{"a"})
		_, _, _ = s.AddUsers("other", []string{"b"})
		for i := range 5 {
			app, user := "app", "a"
			if i == 3 {
				app, user = "other", "b"
			}
			if _, err := s.SendSMS(app, user, "+15555550100", "", fmt.Sprint(i), func(c string) string { return c }, now); err != nil {
				t.Fatal(err)
			}
		}
		var bodies []string
		for _, m := range s.Outbox() {
			bodies = append(bodies, m.Body[:1])
		}
		if !slices.Equal(bodies, []string{"2", "3", "4"}) {
			t.Fatalf("outbox %v, want the last three oldest first", bodies)
		}
		_ = s.ResetApplication("app")
		if out := s.Outbox(); len(out) != 1 || out[0].AppID != "other" {
			t.Fatalf("after resetting app: %+v", out)
		}
		if _, err := s.SendSMS("app", "a", "+15555550100", "", "x", func(c string) string { return c }, now); err == nil {
			t.Fatal("the reset forgot the user, yet the SMS went out")
		}
	})
}

func TestHistoryIsBounded(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, nil, func(t *testing.T, s *store.Store) {
		withPhones(t, s, "a")
		sess, _ := s.StartSession("app", "a", []acapi.AuthenticationMethod{"facial", "facial", "device", "facial"}, now)
		_, _ = s.Transition(sess.Token, "active", now, "test")
		for i := range 200 {
			_, _ = s.Transition(sess.Token, []acapi.SessionStatus{"walkaway", "active"}[i%2], now.Add(time.Duration(i)*time.Second), "test")
		}
		got, _ := s.Session(sess.Token)
		if len(got.History) != store.MaxHistory || got.History[len(got.History)-1].At != now.Add(199*time.Second) {
			t.Fatalf("history of %d changes, last %+v", len(got.History), got.History[len(got.History)-1])
		}
		if !slices.Equal(got.Methods, []acapi.AuthenticationMethod{"facial", "device"}) {
			t.Fatalf("methods kept as %v", got.Methods)
		}
	})
}

// TestSessionsPage walks every filter through pages in both directions and checks each page against
// a plain filter of all sessions.
func TestSessionsPage(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	_ = s.AddApplication("other", "s")
	withPhones(t, s, "a", "b")
	_, _, _ = s.AddUsers("other", []string{"a"})
	_ = s.RegisterPhone("other", "a", nil, now)
	for i := range 60 {
		app, user := "app", []string{"a", "b"}[i%2]
		if i%3 == 0 {
			app, user = "other", "a"
		}
		sess, _ := s.StartSession(app, user, nil, now)
		if i%4 == 0 {
			_, _ = s.Transition(sess.Token, "active", now, "test")
		}
	}
	filters := []store.SessionFilter{{}, {AppID: "app"}, {UserID: "a"}, {AppID: "app", UserID: "b"}, {Status: "active"},
		{AppID: "other", Status: "pending"}, {UserID: "b", Status: "active"}, {AppID: "nope"}, {UserID: "nobody"}}
	for _, f := range filters {
		want := s.Sessions(func(x *store.Session) bool {
			return (f.AppID == "" || x.AppID == f.AppID) && (f.UserID == "" || x.UserID == f.UserID) && (f.Status == "" || x.Status == f.Status)
		})
		for _, newest := range []bool{false, true} {
			var got []store.Session
			p := store.Page{Limit: 7, Newest: newest}
			for range 100 {
				page, next := s.SessionsPage(f, p)
				got = append(got, page...)
				if next == 0 {
					break
				}
				p.After, p.Before = next, next
			}
			if newest {
				slices.Reverse(got)
			}
			if !slices.EqualFunc(got, want, func(a, b store.Session) bool { return a.Token == b.Token }) {
				t.Errorf("filter %+v newest %v: %d sessions through pages, want %d", f, newest, len(got), len(want))
			}
		}
	}
}

// TestSessionsPageStopsScanning: a filter that matches nothing among many sessions answers after
// looking at a bounded number of them, with a cursor to go on from, instead of scanning them all.
func TestSessionsPageStopsScanning(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	withPhones(t, s, "a")
	n := 3*store.MaxScan + 5
	var last store.Session
	for range n {
		last, _ = s.StartSession("app", "a", nil, now)
	}
	_, _ = s.Transition(last.Token, "cancelled", now, "test")
	p, calls := store.Page{Limit: 10}, 0
	var found []store.Session
	for {
		calls++
		page, next := s.SessionsPage(store.SessionFilter{Status: "cancelled"}, p)
		found = append(found, page...)
		if next == 0 {
			break
		}
		if next <= p.After {
			t.Fatalf("the cursor did not move: %d after %d", next, p.After)
		}
		p.After = next
	}
	if len(found) != 1 || found[0].Token != last.Token || calls < 3 {
		t.Fatalf("found %d sessions in %d calls; want the one cancelled session, after several bounded calls", len(found), calls)
	}
}

func TestUsersAfterPagesInOrderOfCreation(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, nil, func(t *testing.T, s *store.Store) {
		_, _, _ = s.AddUsers("app", []string{"zed", "amy", "kim", "bob", "eve"})
		_ = s.DeleteUsers("app", []string{"kim"})
		var names []string
		var after uint64
		for {
			page, more, err := s.UsersAfter("app", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page {
				names = append(names, u.ID)
			}
			if !more {
				break
			}
			after = page[len(page)-1].Seq
		}
		if !slices.Equal(names, []string{"zed", "amy", "bob", "eve"}) {
			t.Fatalf("pages gave %v", names)
		}
	})
}
