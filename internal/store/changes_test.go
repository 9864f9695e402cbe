package store_test

import (
	"slices"
	"testing"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/store"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestWritesSignalWatchersAndReadsDoNot(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *store.Store) {
		v0, ch := s.Changes()
		if _, err := s.Users("app"); err != nil {
			t.Fatal(err)
		}
		s.Outbox()
		if v, _ := s.Changes(); v != v0 || closed(ch) {
			t.Fatalf("reads moved the version from %d to %d", v0, v)
		}
		if _, _, err := s.AddUsers("app", []string{"a"}); err != nil {
			t.Fatal(err)
		}
		v1, ch1 := s.Changes()
		if v1 != v0+1 || !closed(ch) {
			t.Fatalf("after a write the version is %d (was %d) and the watcher woke: %v", v1, v0, closed(ch))
		}
		if closed(ch1) {
			t.Fatal("a fresh watcher channel is already closed")
		}
		if err := s.RegisterPhone("app", "a", nil, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartSession("app", "a", nil, now); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Changes(); v != v1+2 || !closed(ch1) {
			t.Fatalf("two writes took the version from %d to %d", v1, v)
		}
	})
}

func TestSignalZeroValue(t *testing.T) {
	t.Parallel()
	var sig store.Signal
	v, ch := sig.Changed()
	sig.Bump()
	sig.Bump()
	if v2, _ := sig.Changed(); v != 0 || v2 != 2 || !closed(ch) {
		t.Fatalf("versions %d then %d, closed %v", v, v2, closed(ch))
	}
}

func TestTransitionsFollowTheTable(t *testing.T) {
	t.Parallel()
	for _, from := range []acapi.SessionStatus{"pending", "identifying", "active", "walkaway", "timeout", "cancelled", "failed", "closed"} {
		got := store.Transitions(from)
		for _, to := range []acapi.SessionStatus{"pending", "identifying", "active", "walkaway", "timeout", "cancelled", "failed", "closed"} {
			if slices.Contains(got, to) != store.CanTransition(from, to) {
				t.Errorf("Transitions(%s) = %v disagrees with CanTransition(%s, %s)", from, got, from, to)
			}
		}
		if (len(got) > 0) != store.Live(from) {
			t.Errorf("%s: %d transitions, live %v", from, len(got), store.Live(from))
		}
	}
}

// BenchmarkWriteSignal is what a store write pays for the change signal: a bump nobody watches,
// and a bump with a watcher that takes a new channel each time (the console's event stream).
func BenchmarkWriteSignal(b *testing.B) {
	b.Run("unwatched", func(b *testing.B) {
		var sig store.Signal
		for b.Loop() {
			sig.Bump()
		}
	})
	b.Run("watched", func(b *testing.B) {
		var sig store.Signal
		for b.Loop() {
			sig.Changed()
			sig.Bump()
		}
	})
}
