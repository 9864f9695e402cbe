package store_test

import (
	"fmt"
	"runtime"
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

// BenchmarkCollectWithSessions measures a full garbage collection of a store holding n sessions
// (live, 100 per user, each with the two planned steps of the default scenario, as make load's
// scale row holds them; or finished): what holding them costs the collector on every cycle.
func BenchmarkCollectWithSessions(b *testing.B) {
	for _, c := range []struct {
		name   string
		finish bool
	}{{"live", false}, {"finished", true}} {
		b.Run(c.name+"/100k", func(b *testing.B) {
			const n = 100_000
			s := store.New(store.RandomIDs(), store.WithLimits(store.Limits{MaxSessions: n}))
			_ = s.AddApplication("app", "secret")
			for u := range n / 100 {
				id := fmt.Sprintf("u%05d", u)
				_, _, _ = s.AddUsers("app", []string{id})
				_ = s.RegisterPhone("app", id, nil, now)
			}
			steps := []store.Step{{Status: "active", Due: now.Add(2 * time.Second)}, {Status: "timeout", Due: now.Add(5 * time.Minute), Timeout: true}}
			for i := range n {
				sess, err := s.StartSession("app", fmt.Sprintf("u%05d", i%(n/100)), nil, now)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Plan(sess.Token, steps); err != nil {
					b.Fatal(err)
				}
				if c.finish {
					if _, err := s.Transition(sess.Token, "cancelled", now.Add(time.Second), "control"); err != nil {
						b.Fatal(err)
					}
				}
			}
			runtime.GC()
			b.ResetTimer()
			for b.Loop() {
				runtime.GC()
			}
			b.StopTimer()
			runtime.KeepAlive(s)
		})
	}
}
