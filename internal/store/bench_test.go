package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/store"
)

// BenchmarkStartSessionAtTheCap starts (and approves) a session in a store already holding n live
// sessions, its cap, so that each one also forgets the oldest: the cost must not grow with n.
func BenchmarkStartSessionAtTheCap(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := store.New(store.RandomIDs(), store.WithLimits(store.Limits{MaxSessions: n}))
			_ = s.AddApplication("app", "secret")
			_, _, _ = s.AddUsers("app", []string{"a"})
			_ = s.RegisterPhone("app", "a", nil, now)
			login := func() {
				sess, err := s.StartSession("app", "a", nil, now)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Transition(sess.Token, "active", now.Add(time.Second), "scenario"); err != nil {
					b.Fatal(err)
				}
			}
			for range n {
				login()
			}
			b.ReportAllocs()
			for b.Loop() {
				login()
			}
		})
	}
}
