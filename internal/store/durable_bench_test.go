package store_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/store"
)

// BenchmarkOpenLargeStore measures a start-up on a data directory holding 100,000 users and
// 10,000 sessions: reading the snapshot, checking it and building the store.
func BenchmarkOpenLargeStore(b *testing.B) {
	dir := b.TempDir()
	s, _, err := store.Open(dir, store.SeededIDs(1), nil)
	if err != nil {
		b.Fatal(err)
	}
	store.FillLarge(b, s)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	// The first open compacts the log into the snapshot; the ones measured read the snapshot.
	s, _, err = store.Open(dir, store.SeededIDs(1), nil)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ResetTimer()
	for b.Loop() {
		s, _, err := store.Open(dir, store.SeededIDs(1), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

// BenchmarkDurableWrite measures adding a user to a store kept on disk, by 1 and by 8 writers at
// once (which share fsyncs), and reports the latency percentiles of one write.
func BenchmarkDurableWrite(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, _, err := store.Open(b.TempDir(), store.SeededIDs(1), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.AddApplication("app", "secret"); err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			n := 0
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N/writers + 1
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := make([]time.Duration, 0, per)
					for i := range per {
						start := time.Now()
						if _, _, err := s.AddUsers("app", []string{fmt.Sprintf("w%d-%d", w, i)}); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(start))
					}
					mu.Lock()
					lat = append(lat, mine...)
					n += len(mine)
					mu.Unlock()
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}
