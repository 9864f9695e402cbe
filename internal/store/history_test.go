package store_test

import (
	"testing"
	"time"

	"github.com/acmock/acmock/internal/store"
)

// TestAHistoryRunsForward: callers read the time before they take the store's lock, so a change
// may arrive with a time a little before the previous change's; it takes that change's time, and
// the store's export stays a snapshot its own checks accept.
func TestAHistoryRunsForward(t *testing.T) {
	s := store.New(store.SeededIDs(1))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.AddApplication("app", "secret"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddUsers("app", []string{"u"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterPhone("app", "u", nil, at); err != nil {
		t.Fatal(err)
	}
	sess, err := s.StartSession("app", "u", nil, at)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Transition(sess.Token, "active", at.Add(-time.Microsecond), "test")
	if err != nil {
		t.Fatal(err)
	}
	if h := got.History; len(h) != 2 || !h[1].At.Equal(at) {
		t.Fatalf("history %+v, want the change at %v", h, at)
	}
	st := s.Export()
	st.Clock.Now = at
	if err := st.Check(store.Limits{}); err != nil {
		t.Fatalf("the store's own export is refused: %v", err)
	}
}
