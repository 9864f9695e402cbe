package clock

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestVirtualFiresInOrderAtDueTime(t *testing.T) {
	t.Parallel()
	c := NewVirtual(epoch)
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, name+"@"+c.Now().Sub(epoch).String()) }
	}
	c.AfterFunc(3*time.Second, at("active"))
	c.AfterFunc(1*time.Second, at("identifying"))
	c.AfterFunc(60*time.Second, at("walkaway"))
	c.AfterFunc(3*time.Second, at("second-at-3s"))

	if n := c.Advance(2 * time.Second); n != 1 {
		t.Fatalf("Advance(2s) fired %d, want 1", n)
	}
	c.Advance(58 * time.Second)
	want := []string{"identifying@1s", "active@3s", "second-at-3s@3s", "walkaway@1m0s"}
	if !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if now := c.Now().Sub(epoch); now != time.Minute {
		t.Fatalf("clock reads %v after advancing 60s", now)
	}
}

func TestVirtualChainedTimersFireWithinOneAdvance(t *testing.T) {
	t.Parallel()
	c := NewVirtual(epoch)
	var fired []time.Duration
	c.AfterFunc(time.Second, func() {
		fired = append(fired, c.Now().Sub(epoch))
		c.AfterFunc(time.Second, func() { fired = append(fired, c.Now().Sub(epoch)) })
	})
	c.Advance(5 * time.Second)
	if !slices.Equal(fired, []time.Duration{time.Second, 2 * time.Second}) {
		t.Fatalf("fired at %v", fired)
	}
}

func TestVirtualStop(t *testing.T) {
	t.Parallel()
	c := NewVirtual(epoch)
	var n atomic.Int32
	tm := c.AfterFunc(time.Second, func() { n.Add(1) })
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer returned false")
	}
	if tm.Stop() {
		t.Fatal("second Stop returned true")
	}
	c.Advance(time.Hour)
	if n.Load() != 0 {
		t.Fatal("stopped timer fired")
	}
}

func TestGroupStopAllCancelsEverything(t *testing.T) {
	t.Parallel()
	c := NewVirtual(epoch)
	g := NewGroup(c)
	var n atomic.Int32
	for i := range 5 {
		g.AfterFunc(time.Duration(i)*time.Second, func() { n.Add(1) })
	}
	if got := g.StopAll(); got != 5 {
		t.Fatalf("StopAll = %d, want 5", got)
	}
	g.AfterFunc(time.Second, func() { n.Add(10) })
	c.Advance(time.Minute)
	if n.Load() != 10 {
		t.Fatalf("after StopAll only the new timer may fire: counter %d", n.Load())
	}
	if g.Len() != 0 || c.Pending() != 0 {
		t.Fatalf("timers left: group %d, clock %d", g.Len(), c.Pending())
	}
}

// TestGroupCountsWhatIsPending: the group's count follows timers stopped first, last and in the
// middle of the order they were scheduled in, and timers that fired; only those not stopped fire.
func TestGroupCountsWhatIsPending(t *testing.T) {
	t.Parallel()
	c := NewVirtual(epoch)
	g := NewGroup(c)
	var fired []int
	timers := make([]Timer, 5)
	for i := range timers {
		timers[i] = g.AfterFunc(time.Duration(i+1)*time.Second, func() { fired = append(fired, i) })
	}
	for _, i := range []int{2, 4, 0} {
		if !timers[i].Stop() {
			t.Fatalf("Stop of pending timer %d returned false", i)
		}
		if timers[i].Stop() {
			t.Fatalf("second Stop of timer %d returned true", i)
		}
	}
	if g.Len() != 2 {
		t.Fatalf("Len = %d after three of five stopped, want 2", g.Len())
	}
	c.Advance(2 * time.Second)
	if g.Len() != 1 || !slices.Equal(fired, []int{1}) {
		t.Fatalf("after 2s: Len %d, fired %v; want 1 and [1]", g.Len(), fired)
	}
	c.Advance(time.Minute)
	if g.Len() != 0 || !slices.Equal(fired, []int{1, 3}) {
		t.Fatalf("after a minute: Len %d, fired %v; want 0 and [1 3]", g.Len(), fired)
	}
	if timers[3].Stop() {
		t.Fatal("Stop of a timer that fired returned true")
	}
	if got := g.StopAll(); got != 0 {
		t.Fatalf("StopAll with nothing pending = %d", got)
	}
}

// BenchmarkGroupTimer measures what a login costs the group for each of its timers: schedule one
// on the real clock and stop it, with as many others pending as a login load keeps.
func BenchmarkGroupTimer(b *testing.B) {
	g := NewGroup(Real{})
	for range 64 {
		g.AfterFunc(time.Hour, func() {})
	}
	b.ReportAllocs()
	for b.Loop() {
		g.AfterFunc(time.Hour, func() {}).Stop()
	}
	g.StopAll()
}

func TestGroupOnRealClock(t *testing.T) {
	t.Parallel()
	g := NewGroup(Real{})
	done := make(chan struct{})
	g.AfterFunc(time.Millisecond, func() { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("real timer did not fire")
	}
	stopped := g.AfterFunc(time.Hour, func() { t.Error("fired after StopAll") })
	g.StopAll()
	if stopped.Stop() {
		t.Fatal("timer still pending after StopAll")
	}
}

func TestVirtualAdvanceToNext(t *testing.T) {
	t.Parallel()
	c := NewAuto(epoch)
	if n := c.AdvanceToNext(); n != 0 || !c.Now().Equal(epoch) {
		t.Fatalf("with nothing pending: fired %d, clock moved to %v", n, c.Now())
	}
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, name+"@"+c.Now().Sub(epoch).String()) }
	}
	c.AfterFunc(3*time.Second, at("c"))
	c.AfterFunc(time.Second, at("a"))
	c.AfterFunc(time.Second, at("b"))
	if n := c.AdvanceToNext(); n != 2 {
		t.Fatalf("first AdvanceToNext fired %d, want both steps due at 1s", n)
	}
	if n := c.AdvanceToNext(); n != 1 || c.Now().Sub(epoch) != 3*time.Second {
		t.Fatalf("second AdvanceToNext fired %d and reads %v", n, c.Now().Sub(epoch))
	}
	if want := []string{"a@1s", "b@1s", "c@3s"}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
}

func TestMode(t *testing.T) {
	t.Parallel()
	for c, want := range map[Clock]string{Real{}: "real", NewVirtual(epoch): "virtual", NewAuto(epoch): "auto"} {
		if got := Mode(c); got != want {
			t.Errorf("Mode(%T) = %q, want %q", c, got, want)
		}
	}
	if NewVirtual(epoch).Auto() || !NewAuto(epoch).Auto() {
		t.Error("Auto reports the wrong kind")
	}
}

// TestVirtualAdvanceToAndNextDue: NextDue tells where the next function is due without moving;
// AdvanceTo moves to a time (never back) running what is due by then.
func TestVirtualAdvanceToAndNextDue(t *testing.T) {
	t.Parallel()
	c := NewVirtual(epoch)
	if _, ok := c.NextDue(); ok {
		t.Fatal("NextDue with nothing pending")
	}
	ran := 0
	c.AfterFunc(2*time.Second, func() { ran++ })
	c.AfterFunc(5*time.Second, func() { ran++ })
	if due, ok := c.NextDue(); !ok || !due.Equal(epoch.Add(2*time.Second)) || !c.Now().Equal(epoch) {
		t.Fatalf("NextDue: %v %v, clock %v", due, ok, c.Now())
	}
	if n := c.AdvanceTo(epoch.Add(3 * time.Second)); n != 1 || ran != 1 || !c.Now().Equal(epoch.Add(3*time.Second)) {
		t.Fatalf("AdvanceTo +3s: ran %d (%d), clock %v", n, ran, c.Now())
	}
	if n := c.AdvanceTo(epoch); n != 0 || !c.Now().Equal(epoch.Add(3*time.Second)) {
		t.Fatalf("AdvanceTo a past time: ran %d, clock %v", n, c.Now())
	}
}
