package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestMemoryLimitFor(t *testing.T) {
	t.Parallel()
	for live, want := range map[uint64]int64{0: 36 << 20, 12 << 20: 36 << 20, 20 << 20: 52 << 20, 26 << 20: 64 << 20, 40 << 20: 92 << 20, 72 << 20: 156 << 20, 100 << 20: 240 << 20, 200 << 20: 540 << 20, 1 << 40: 3<<40 - 60<<20} {
		if got := memoryLimitFor(live); got != want {
			t.Errorf("live heap %d MiB: limit %d MiB, want %d MiB", live>>20, got>>20, want>>20)
		}
	}
}

// TestMemoryLimitFollowsTheLiveHeap: with a lot of state live, the soft limit rises to about three times it, so
// the collector does not run all the time; once the state is gone it falls back to the floor. The
// fixed 36 MiB limit did neither.
func TestMemoryLimitFollowsTheLiveHeap(t *testing.T) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		t.Skip("GOMEMLIMIT is set, which replaces the policy")
	}
	stop := startMemoryPolicy()
	defer stop()
	limitAfterGC := func(ok func(int64) bool) int64 {
		var limit int64
		for range 50 { // the limit is set on the finalizer goroutine, just after a collection
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
			if limit = debug.SetMemoryLimit(-1); ok(limit) {
				break
			}
		}
		return limit
	}
	state := make([][]byte, 96)
	for i := range state {
		state[i] = make([]byte, 1<<20)
	}
	if limit := limitAfterGC(func(l int64) bool { return l >= 228<<20 }); limit < 228<<20 {
		t.Fatalf("with 96 MiB live the limit is %d MiB, want at least 228", limit>>20)
	}
	runtime.KeepAlive(state)
	state = nil
	if limit := limitAfterGC(func(l int64) bool { return l < 64<<20 }); limit >= 64<<20 {
		t.Fatalf("with the state gone the limit stays at %d MiB", limit>>20)
	}
}
