package emulator

import (
	"sort"
	"sync"
	"time"

	"github.com/acmock/acmock/generated/acapi"
)

// timelineStep is a status change scheduled on the clock: a step of a phone's timeline or the
// timeout of a login nobody answered. The console's clock view lists them.
type timelineStep struct {
	due     time.Time
	app     string
	user    string
	session string
	status  acapi.SessionStatus
	cause   string // "scenario" or "timeout"
}

// timeline remembers the steps scheduled and not yet fired or cancelled. It grows with the live
// sessions only: a step leaves it when it fires, and a reset empties it with the timers.
type timeline struct {
	mu    sync.Mutex
	next  uint64
	steps map[uint64]timelineStep
}

func (tl *timeline) add(st timelineStep) uint64 {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.steps == nil {
		tl.steps = map[uint64]timelineStep{}
	}
	tl.next++
	tl.steps[tl.next] = st
	return tl.next
}

func (tl *timeline) remove(id uint64) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	delete(tl.steps, id)
}

func (tl *timeline) clear() {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.steps = nil
}

// list returns the steps by due time, then by scheduling order.
func (tl *timeline) list() []timelineStep {
	tl.mu.Lock()
	ids := make([]uint64, 0, len(tl.steps))
	for id := range tl.steps {
		ids = append(ids, id)
	}
	steps := tl.steps
	sort.Slice(ids, func(i, j int) bool {
		a, b := steps[ids[i]], steps[ids[j]]
		if !a.due.Equal(b.due) {
			return a.due.Before(b.due)
		}
		return ids[i] < ids[j]
	})
	out := make([]timelineStep, len(ids))
	for i, id := range ids {
		out[i] = steps[id]
	}
	tl.mu.Unlock()
	return out
}

// schedule runs f after d on the emulator's timers and lists the step until it fires or a reset
// cancels it.
func (e *Emulator) schedule(d time.Duration, st timelineStep, f func()) {
	st.due = e.clock.Now().Add(d)
	id := e.timeline.add(st)
	e.timers.AfterFunc(d, func() {
		e.timeline.remove(id)
		f()
	})
}
