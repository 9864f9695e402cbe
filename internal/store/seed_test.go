package store_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/store"
)

// TestAddMissingIsAllOrNothing: what a scenario lists is added as one change, only what is
// missing (a secret or phone that exists stays), and not at all when the users would pass the
// limit; a reopened directory holds the same.
func TestAddMissingIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, _, err := store.Open(dir, store.SeededIDs(1), nil, store.WithLimits(store.Limits{MaxUsers: 4}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddApplication("a", "kept"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddUsers("a", []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	before := s.Export()
	tooMany := []store.SeedApplication{
		{ID: "a", Secret: "other", Users: []store.SeedUser{{ID: "alice", Phone: &store.SeedPhone{}}, {ID: "p1", Phone: &store.SeedPhone{}}}},
		{ID: "b", Secret: "b", Users: []store.SeedUser{{ID: "q1"}, {ID: "q2"}, {ID: "q3"}}},
	}
	if _, _, err := s.AddMissing(tooMany, at); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("past the limit: %v", err)
	}
	if got := s.Export(); !reflect.DeepEqual(got, before) {
		t.Fatalf("a refused AddMissing changed the state")
	}
	apps, users, err := s.AddMissing(tooMany[:1], at)
	if err != nil || apps != 0 || users != 1 {
		t.Fatalf("AddMissing: %d applications, %d users, %v", apps, users, err)
	}
	if app, _ := s.Application("a"); app.Secret != "kept" {
		t.Errorf("the secret of an existing application became %q", app.Secret)
	}
	if u, _ := s.User("a", "alice"); u.Phone != nil {
		t.Errorf("an existing user was given a phone")
	}
	if u, _ := s.User("a", "p1"); u.Phone == nil || !u.Phone.RegisteredAt.Equal(at) {
		t.Errorf("a new user did not get its phone: %+v", u.Phone)
	}
	after := s.Export()
	_ = s.Close()
	s, _, err = store.Open(dir, store.SeededIDs(1), nil, store.WithLimits(store.Limits{MaxUsers: 4}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Export(); !reflect.DeepEqual(got, after) {
		t.Fatalf("after a reopen:\n%+v\nwant\n%+v", got, after)
	}
}
