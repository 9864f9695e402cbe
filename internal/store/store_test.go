package store_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/store"
)

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	s := store.New(store.SeededIDs(1))
	if err := s.AddApplication("app", "secret"); err != nil {
		t.Fatal(err)
	}
	return s
}

// eachStore runs body against a store kept in memory and against one kept in a data directory,
// each holding the application "app". The disk one is then closed and opened again, and must hold
// exactly what it held: every change the body made was replayed from disk.
func eachStore(t *testing.T, body func(t *testing.T, s *store.Store)) {
	t.Helper()
	eachStoreWith(t, nil, body)
}

// eachStoreWith is eachStore for stores made with opts.
func eachStoreWith(t *testing.T, opts []store.Option, body func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		s := store.New(store.SeededIDs(1), opts...)
		if err := s.AddApplication("app", "secret"); err != nil {
			t.Fatal(err)
		}
		body(t, s)
	})
	t.Run("disk", func(t *testing.T) {
		dir := t.TempDir()
		s, fresh, err := store.Open(dir, store.SeededIDs(1), func(w string) { t.Errorf("warning: %s", w) }, opts...)
		if err != nil || !fresh {
			t.Fatalf("Open: fresh %v, %v", fresh, err)
		}
		if err := s.AddApplication("app", "secret"); err != nil {
			t.Fatal(err)
		}
		body(t, s)
		before := s.Export()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		again, fresh, err := store.Open(dir, store.SeededIDs(2), func(w string) { t.Errorf("warning: %s", w) }, opts...)
		if err != nil || fresh {
			t.Fatalf("Open again: fresh %v, %v", fresh, err)
		}
		defer again.Close()
		if after := again.Export(); !reflect.DeepEqual(before, after) {
			t.Fatalf("the reopened store differs:\nbefore %+v\nafter  %+v", before, after)
		}
	})
}

func TestAddUsersReportsCreatedAndExisting(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *store.Store) {
		created, existing, err := s.AddUsers("app", []string{"a", "b", "a"})
		if err != nil || !slices.Equal(created, []string{"a", "b"}) || len(existing) != 0 {
			t.Fatalf("first add: %v %v %v", created, existing, err)
		}
		created, existing, _ = s.AddUsers("app", []string{"b", "c"})
		if !slices.Equal(created, []string{"c"}) || !slices.Equal(existing, []string{"b"}) {
			t.Fatalf("second add: %v %v", created, existing)
		}
		if _, _, err := s.AddUsers("nope", []string{"x"}); !errors.Is(err, store.ErrApplicationNotFound) {
			t.Fatalf("unknown application: %v", err)
		}
		if err := s.AddApplication("app", "other"); !errors.Is(err, store.ErrApplicationExists) {
			t.Fatalf("duplicate application: %v", err)
		}
	})
}

func TestLinksRegisterOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *store.Store) {
		_, _, _ = s.AddUsers("app", []string{"a"})
		l, err := s.NewLink("app", "a", "A", now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UseLink(l.Code, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UseLink(l.Code, now); !errors.Is(err, store.ErrLinkUsed) {
			t.Fatalf("second use: %v", err)
		}
		if _, err := s.UseLink("nope", now); !errors.Is(err, store.ErrLinkNotFound) {
			t.Fatalf("unknown link: %v", err)
		}
		u, _ := s.User("app", "a")
		if !u.HasDevice() || u.Links[0].UsedAt.IsZero() {
			t.Fatalf("user after registering: %+v", u)
		}
		if _, err := s.SendSMS("app", "a", "+15555550100", "", "hi", func(c string) string { return c }, now); !errors.Is(err, store.ErrDeviceRegistered) {
			t.Fatalf("sms to a registered user: %v", err)
		}
		if _, err := s.LoseDevice("app", "a", now); err != nil {
			t.Fatal(err)
		}
		if u, _ := s.User("app", "a"); u.HasDevice() || len(u.Links) != 2 {
			t.Fatalf("after losing the phone: %+v", u)
		}
	})
}

func TestSessionsFollowTheTransitionTable(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *store.Store) {
		_, _, _ = s.AddUsers("app", []string{"a", "b"})
		if _, err := s.StartSession("app", "a", nil, now); !errors.Is(err, store.ErrNoDevice) {
			t.Fatalf("session without a phone: %v", err)
		}
		_ = s.RegisterPhone("app", "a", nil, now)
		first, _ := s.StartSession("app", "a", nil, now)
		second, _ := s.StartSession("app", "a", []acapi.AuthenticationMethod{"facial"}, now.Add(time.Second))
		if first.Attempt != 0 || second.Attempt != 1 || first.Token == second.Token || first.Secret == second.Secret {
			t.Fatalf("two sessions: %+v %+v", first, second)
		}
		steps := []acapi.SessionStatus{"identifying", "active", "walkaway", "active", "closed"}
		for _, st := range steps {
			if _, err := s.Transition(first.Token, st, now, "test"); err != nil {
				t.Fatalf("to %s: %v", st, err)
			}
		}
		if _, err := s.Transition(first.Token, "active", now, "test"); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("reopening a closed session: %v", err)
		}
		got, _ := s.Session(first.Token)
		if len(got.History) != 6 || got.History[5].Status != "closed" || got.History[0].Cause != "authenticate" {
			t.Fatalf("history: %+v", got.History)
		}
		if err := s.DeleteUsers("app", []string{"a"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(second.Token); !errors.Is(err, store.ErrSessionNotFound) {
			t.Fatalf("a deleted user's session survived: %v", err)
		}
	})
}

func TestTransitionTable(t *testing.T) {
	t.Parallel()
	final := []acapi.SessionStatus{"timeout", "cancelled", "failed", "closed"}
	for _, f := range final {
		if store.Live(f) {
			t.Errorf("%s counted as live", f)
		}
		for _, to := range []acapi.SessionStatus{"pending", "identifying", "active", "walkaway", "timeout", "cancelled", "failed", "closed"} {
			if store.CanTransition(f, to) {
				t.Errorf("%s -> %s allowed out of a final status", f, to)
			}
		}
	}
	for _, bad := range [][2]acapi.SessionStatus{{"pending", "walkaway"}, {"active", "identifying"}, {"active", "pending"}, {"walkaway", "cancelled"}} {
		if store.CanTransition(bad[0], bad[1]) {
			t.Errorf("%s -> %s allowed", bad[0], bad[1])
		}
	}
}

func TestSeededIDsRepeat(t *testing.T) {
	t.Parallel()
	a, b := store.SeededIDs(9), store.SeededIDs(9)
	if a.SessionToken() != b.SessionToken() || a.SessionSecret() != b.SessionSecret() || a.LinkCode() != b.LinkCode() {
		t.Fatal("the same seed gave different IDs")
	}
	r := store.RandomIDs()
	if tok := r.SessionToken(); len(tok) != 32 || tok == r.SessionToken() {
		t.Fatalf("random tokens: %q", tok)
	}
}

func TestLosingThePhoneEndsItsSessions(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *store.Store) {
		_, _, _ = s.AddUsers("app", []string{"a"})
		_ = s.RegisterPhone("app", "a", nil, now)
		waiting, _ := s.StartSession("app", "a", nil, now)
		live, _ := s.StartSession("app", "a", nil, now)
		_, _ = s.Transition(live.Token, "active", now, "test")
		if _, err := s.LoseDevice("app", "a", now); err != nil {
			t.Fatal(err)
		}
		w, _ := s.Session(waiting.Token)
		l, _ := s.Session(live.Token)
		if w.Status != "failed" || l.Status != "closed" || w.History[1].Cause != "lost device" {
			t.Fatalf("after the loss: waiting %s, live %s", w.Status, l.Status)
		}
		if _, err := s.Transition(waiting.Token, "active", now, "scenario"); !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("the lost phone approved a login: %v", err)
		}
	})
}

func TestFinishedSessionsAreForgottenPastTheCap(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, []store.Option{store.WithLimits(store.Limits{MaxSessions: 10})}, func(t *testing.T, s *store.Store) {
		_, _, _ = s.AddUsers("app", []string{"a"})
		_ = s.RegisterPhone("app", "a", nil, now)
		live, _ := s.StartSession("app", "a", nil, now)
		for range 30 {
			sess, _ := s.StartSession("app", "a", nil, now)
			_, _ = s.Transition(sess.Token, "cancelled", now, "test")
		}
		if n := s.SessionCount(); n != 10 {
			t.Fatalf("%d sessions kept with a cap of 10", n)
		}
		if _, err := s.Session(live.Token); err != nil {
			t.Fatalf("a live session was forgotten while finished ones were kept: %v", err)
		}
	})
}

func TestResetApplicationLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *store.Store) {
		_ = s.AddApplication("other", "s2")
		_, _, _ = s.AddUsers("app", []string{"a"})
		_, _, _ = s.AddUsers("other", []string{"b"})
		if err := s.ResetApplication("app"); err != nil {
			t.Fatal(err)
		}
		if users, _ := s.Users("app"); len(users) != 0 {
			t.Fatalf("app kept %d users", len(users))
		}
		if users, _ := s.Users("other"); len(users) != 1 {
			t.Fatalf("other lost its users: %d", len(users))
		}
		if err := s.ResetApplication("nope"); !errors.Is(err, store.ErrApplicationNotFound) {
			t.Fatalf("unknown application: %v", err)
		}
	})
}

// TestSessionSnapshotKeepsItsSteps: a Session handed out is a copy. Its Steps do not change when
// the store fires a step, forgets the session, and gives its place to a new one with other steps
// (the store keeps two steps inside the session itself, in a slot it reuses).
func TestSessionSnapshotKeepsItsSteps(t *testing.T) {
	s := store.New(store.RandomIDs(), store.WithLimits(store.Limits{MaxSessions: 1}))
	_ = s.AddApplication("app", "secret")
	_, _, _ = s.AddUsers("app", []string{"a"})
	_ = s.RegisterPhone("app", "a", nil, now)
	first, err := s.StartSession("app", "a", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	steps := []store.Step{{Status: "active", Due: now.Add(time.Second)}, {Status: "timeout", Due: now.Add(time.Minute), Timeout: true}}
	if err := s.Plan(first.Token, steps); err != nil {
		t.Fatal(err)
	}
	steps[0].Status = "cancelled" // the caller's slice is the caller's
	snap, err := s.Session(first.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FireStep(first.Token, 0, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	second, err := s.StartSession("app", "a", nil, now.Add(2*time.Second)) // forgets the first: the cap is 1
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Plan(second.Token, []store.Step{{Status: "walkaway", Due: now.Add(3 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	want := []store.Step{{Status: "active", Due: now.Add(time.Second)}, {Status: "timeout", Due: now.Add(time.Minute), Timeout: true}}
	if !reflect.DeepEqual(snap.Steps, want) {
		t.Fatalf("the snapshot's steps became %+v, want %+v", snap.Steps, want)
	}
	if got, _ := s.Session(second.Token); len(got.Steps) != 1 || got.Steps[0].Status != "walkaway" || got.Steps[0].Done {
		t.Fatalf("the new session's steps: %+v", got.Steps)
	}
}
