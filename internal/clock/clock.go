// Package clock gives the emulator its notion of time: the wall clock, or a virtual clock that
// stands still until it is moved, so "approves after 30 s" takes no real time. A virtual clock is
// either manual (only Advance moves it) or automatic (NewAuto): the emulator then also moves it
// itself when a status poll would otherwise wait for the phone; package emulator says exactly when.
//
//	c := clock.NewVirtual(start)
//	c.AfterFunc(30*time.Second, approve)
//	c.Advance(30 * time.Second) // approve runs now, on this goroutine
package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Clock tells the time and runs functions later. Timelines of scenarios run on it; HMAC timestamps
// never do (they are checked against real time).
type Clock interface {
	Now() time.Time
	// AfterFunc runs f once d has passed on this clock. Stop cancels it.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call made by AfterFunc.
type Timer interface {
	// Stop cancels the call and reports whether it was still pending.
	Stop() bool
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now.
func (Real) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Virtual is a clock that moves only when Advance or AdvanceToNext is called. Functions that fall
// due run in order of their due time (then of scheduling), on the goroutine that advances, with the
// clock set to their due time, so a function that schedules another sees consistent time.
type Virtual struct {
	mu      sync.Mutex
	now     time.Time
	pending timerHeap
	seq     uint64
	auto    bool
	// advancing serialises advances so steps fire in order even under concurrent advances.
	advancing sync.Mutex
}

// NewVirtual returns a manual virtual clock that reads start: only Advance moves it.
func NewVirtual(start time.Time) *Virtual {
	return &Virtual{now: start}
}

// NewAuto returns a virtual clock that reads start and that its owner may also move by itself
// (Auto reports true). The clock behaves exactly like NewVirtual's; the difference is a promise to
// the emulator, which then moves time to a session's next step when a poll would see no change.
func NewAuto(start time.Time) *Virtual {
	return &Virtual{now: start, auto: true}
}

// Auto reports whether the clock was made by NewAuto.
func (v *Virtual) Auto() bool { return v.auto }

// Mode names the kind of clock c is: "real", "virtual" (manual) or "auto".
func Mode(c Clock) string {
	switch v, ok := c.(*Virtual); {
	case !ok:
		return "real"
	case v.auto:
		return "auto"
	default:
		return "virtual"
	}
}

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// AfterFunc schedules f at Now()+d. A d of zero or less is due at once but still waits for the
// next advance, which keeps every callback on the advancing goroutine (the emulator applies a
// timeline's zero-delay steps itself, without a timer).
func (v *Virtual) AfterFunc(d time.Duration, f func()) Timer {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seq++
	t := &virtualTimer{clock: v, due: v.now.Add(d), seq: v.seq, f: f, index: -1}
	heap.Push(&v.pending, t)
	return t
}

// Advance moves the clock forward by d, running every function that falls due, in order.
// It returns the number of functions run.
func (v *Virtual) Advance(d time.Duration) int {
	v.advancing.Lock()
	defer v.advancing.Unlock()
	v.mu.Lock()
	target := v.now.Add(d)
	v.mu.Unlock()
	return v.runUntil(target)
}

// AdvanceToNext moves the clock to the due time of the earliest pending function and runs every
// function due by then, in order. It returns the number run: 0 when nothing waits, and the clock
// then stays where it is.
func (v *Virtual) AdvanceToNext() int {
	v.advancing.Lock()
	defer v.advancing.Unlock()
	v.mu.Lock()
	if len(v.pending) == 0 {
		v.mu.Unlock()
		return 0
	}
	target := v.pending[0].due
	v.mu.Unlock()
	return v.runUntil(target)
}

func (v *Virtual) runUntil(target time.Time) int {
	fired := 0
	for {
		v.mu.Lock()
		if len(v.pending) == 0 || v.pending[0].due.After(target) {
			if target.After(v.now) {
				v.now = target
			}
			v.mu.Unlock()
			return fired
		}
		t := heap.Pop(&v.pending).(*virtualTimer)
		if t.due.After(v.now) {
			v.now = t.due
		}
		v.mu.Unlock()
		t.f()
		fired++
	}
}

// Set makes the clock read t without running anything: a restart or an import puts back the
// time a virtual clock had. Functions already scheduled keep their due times.
func (v *Virtual) Set(t time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.now = t
}

// Pending reports how many functions wait to run.
func (v *Virtual) Pending() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.pending)
}

type virtualTimer struct {
	clock *Virtual
	due   time.Time
	seq   uint64
	f     func()
	index int // position in the heap, -1 once popped or stopped
}

func (t *virtualTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.clock.pending, t.index)
	return true
}

type timerHeap []*virtualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*virtualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

// Group tracks the timers one owner scheduled so that a reset can cancel all of them at once:
// nothing scheduled before a reset may fire after it.
type Group struct {
	Clock
	mu     sync.Mutex
	gen    uint64
	timers map[*groupTimer]struct{}
}

// NewGroup wraps c.
func NewGroup(c Clock) *Group {
	return &Group{Clock: c, timers: map[*groupTimer]struct{}{}}
}

// AfterFunc schedules f on the underlying clock and remembers it until it runs or is stopped.
func (g *Group) AfterFunc(d time.Duration, f func()) Timer {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := &groupTimer{group: g, gen: g.gen}
	gt.inner = g.Clock.AfterFunc(d, func() {
		g.mu.Lock()
		_, live := g.timers[gt]
		delete(g.timers, gt)
		stale := gt.gen != g.gen
		g.mu.Unlock()
		if live && !stale {
			f()
		}
	})
	g.timers[gt] = struct{}{}
	return gt
}

// StopAll cancels every pending timer of the group and returns how many there were.
func (g *Group) StopAll() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.timers)
	for t := range g.timers {
		t.inner.Stop()
	}
	g.timers = map[*groupTimer]struct{}{}
	g.gen++
	return n
}

// Len reports how many timers of the group are pending.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.timers)
}

type groupTimer struct {
	group *Group
	gen   uint64
	inner Timer
}

func (t *groupTimer) Stop() bool {
	t.group.mu.Lock()
	_, live := t.group.timers[t]
	delete(t.group.timers, t)
	t.group.mu.Unlock()
	return t.inner.Stop() && live
}
