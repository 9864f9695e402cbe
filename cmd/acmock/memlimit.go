package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// The memory policy. Under load most of acmock's heap is short-lived request garbage: with Go's
// defaults (GOGC=100, no limit) the heap doubles before each collection and the default workload
// peaks above 70 MiB resident. A fixed soft limit keeps that small, but once the state the emulator
// keeps (users, sessions) nears the limit the collector runs all the time: at a million users a
// 36 MiB limit cost 38% of the CPU. So the soft limit follows the live heap, set after every
// collection to
//
//	max(36 MiB, 2 × live heap + 12 MiB, 3 × live heap − 60 MiB)
//
// The limit counts all of the Go runtime's memory, about 10 MiB of which is not heap (stacks,
// metadata), so the floor leaves request garbage about 26 MiB minus the live heap. The device
// checks of make load keep about 12 MiB live (the replay cache, the journal) and stay at the
// floor, under 50 MiB resident. Above that the limit leaves about one byte of headroom per live
// byte, as Go's default GOGC=100 would: a login flow load grows its sessions to 20 to 30 MiB live,
// and with 24 MiB above the live heap (the policy before) it collected about nine times a second,
// marking those sessions each time (about 7% of acmock's CPU per login flow; one byte of headroom
// per live byte saves about 3%, for 68 instead of 56 MiB resident after a 10 s flow soak). With
// the floor alone, a flow load at 23 MiB live left 3 MiB for garbage and collected about ten times
// a second. A
// large state (from 72 MiB live) gets about two bytes of headroom per live byte, as with
// GOGC=200: users and sessions are dense with pointers, so marking them costs more than their
// bytes suggest, and a collection that comes once per two live heaps' worth of allocation keeps
// them to a few percent of the CPU. (With one byte per live byte, 100,000 sessions still cost the
// login flow 15 to 25%.) GOMEMLIMIT, when set, replaces the policy.
const (
	floorMemoryLimit = 36 << 20
	offsetDoubled    = 12 << 20 // added to the doubled live heap
	growthFactor     = 3
	offsetLiveHeap   = 60 << 20 // taken off the tripled live heap: the factor takes over at 72 MiB live
)

// memoryLimitFor returns the soft memory limit for a live heap of that many bytes.
func memoryLimitFor(live uint64) int64 {
	l := int64(min(live, 1<<58))
	return max(floorMemoryLimit, 2*l+offsetDoubled, growthFactor*l-offsetLiveHeap)
}

// startMemoryPolicy applies the policy unless GOMEMLIMIT is set, and returns what ends it (tests
// call that; acmock never does).
func startMemoryPolicy() (stop func()) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return func() {}
	}
	debug.SetMemoryLimit(floorMemoryLimit)
	var stopped atomic.Bool
	watchCollections(func() bool {
		if stopped.Load() {
			return false
		}
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(memoryLimitFor(sample[0].Value.Uint64()))
		}
		return true
	})
	return func() {
		stopped.Store(true)
		debug.SetMemoryLimit(math.MaxInt64)
	}
}

// sentinel is an object nothing refers to, so each collection finalizes it. It holds a pointer so
// that it is not packed with other small objects by the tiny allocator, which would delay that.
type sentinel struct{ _ *byte }

// watchCollections calls f after every garbage collection, on the finalizer goroutine, until f
// returns false.
func watchCollections(f func() bool) {
	s := &sentinel{}
	runtime.SetFinalizer(s, func(*sentinel) {
		if f() {
			watchCollections(f)
		}
	})
}
