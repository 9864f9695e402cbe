package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestFailedWriteIsNeverAcknowledged: once the log cannot be written, the change that hit it and
// every later one fail with ErrStorage, instead of being answered as if they were saved.
func TestFailedWriteIsNeverAcknowledged(t *testing.T) {
	s, _, err := Open(t.TempDir(), SeededIDs(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddApplication("app", "secret"); err != nil {
		t.Fatal(err)
	}
	s.dir.Close() // the disk goes away under the store: its writes now fail
	if _, _, err := s.AddUsers("app", []string{"a"}); !errors.Is(err, ErrStorage) {
		t.Fatalf("a write that did not reach the disk: %v, want ErrStorage", err)
	}
	if err := s.AddApplication("other", "secret"); !errors.Is(err, ErrStorage) {
		t.Fatalf("a later write: %v, want ErrStorage", err)
	}
	if _, err := s.Application("app"); err != nil {
		t.Fatalf("reads still work: %v", err)
	}
}

// TestTheLogIsFoldedIntoSnapshots: once the log holds compactAfter facts, or as many as the state
// has users and sessions when that is more, the store writes a snapshot and starts an empty log;
// a reopen gives back the same state.
func TestTheLogIsFoldedIntoSnapshots(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir, SeededIDs(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.compactAfter = 10
	if err := s.AddApplication("app", "secret"); err != nil {
		t.Fatal(err)
	}
	folds, most, last := 0, uint64(0), uint64(0)
	write := func(f func() error) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		n := s.dir.Records()
		if n >= max(10, uint64(s.users)) {
			t.Fatalf("the log holds %d facts with %d users", n, s.users)
		}
		if n < last {
			folds++
		}
		most, last = max(most, n), n
	}
	for i := range 40 {
		write(func() error { _, _, err := s.AddUsers("app", []string{fmt.Sprint("u", i)}); return err })
	}
	// With 40 users the log grows to 40 facts before it is folded, however many writes there are.
	for i := range 100 {
		write(func() error { return s.DeleteUsers("app", []string{fmt.Sprint("u", i)}) })
		write(func() error { _, _, err := s.AddUsers("app", []string{fmt.Sprint("r", i)}); return err })
	}
	if folds < 4 || most < 30 {
		t.Fatalf("%d snapshots written, the log held up to %d facts; want several, and up to about the 40 users", folds, most)
	}
	snap, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err != nil || !strings.Contains(string(snap), `"id":"r50"`) {
		t.Fatalf("the last snapshot does not hold what was written before it: %v", err)
	}
	before := s.Export()
	_ = s.Close()
	again, _, err := Open(dir, SeededIDs(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if after := again.Export(); !reflect.DeepEqual(before, after) {
		t.Fatal("the reopened store differs")
	}
}

// BenchmarkCompactLargeStore measures writing the snapshot of a store holding 100,000 users and
// 10,000 sessions, which holds writers back while it runs.
func BenchmarkCompactLargeStore(b *testing.B) {
	s, _, err := Open(b.TempDir(), SeededIDs(1), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.compactAfter = 1 << 62 // only the compactions measured
	FillLarge(b, s)
	b.ResetTimer()
	for b.Loop() {
		s.mu.Lock()
		err := s.compactLocked()
		s.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// FillLarge gives a store the application "app" with 100,000 users, 1,000 of them with a phone,
// and 10,000 sessions of those, for the benchmarks of large stores.
func FillLarge(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.AddApplication("app", "secret"); err != nil {
		tb.Fatal(err)
	}
	ids := make([]string, 1000)
	for chunk := range 100 {
		for i := range ids {
			ids[i] = fmt.Sprintf("user-%d-%d", chunk, i)
		}
		if _, _, err := s.AddUsers("app", ids); err != nil {
			tb.Fatal(err)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		u := fmt.Sprintf("user-0-%d", i%1000)
		if i < 1000 {
			if err := s.RegisterPhone("app", u, nil, now); err != nil {
				tb.Fatal(err)
			}
		}
		if _, err := s.StartSession("app", u, nil, now); err != nil {
			tb.Fatal(err)
		}
	}
}
