package emulator

import (
	"errors"
	"sync"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/store"
)

// phones holds the pending timers of each session's phone: its timeline steps and its timeout. A
// timer leaves when it fires, the timeout when the session is decided, and all of them when the
// session ends or is forgotten, so timers never outnumber the undecided sessions the store keeps,
// however long the scenario's timelines are.
type phones struct {
	mu    sync.Mutex
	plans map[string]*phonePlan
}

type phonePlan struct {
	timers  []clock.Timer
	timeout clock.Timer
	left    int // timers neither fired nor stopped
}

// stop cancels a session's pending timers. The store calls it, locked, when a session ends or is
// forgotten; it does not call the store.
func (p *phones) stop(token string) {
	p.mu.Lock()
	plan := p.plans[token]
	delete(p.plans, token)
	p.mu.Unlock()
	if plan != nil {
		for _, t := range plan.timers {
			t.Stop()
		}
	}
}

// fired notes that one of a session's timers ran.
func (p *phones) fired(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if plan := p.plans[token]; plan != nil {
		if plan.left--; plan.left <= 0 {
			delete(p.plans, token)
		}
	}
}

// decided cancels a session's timeout: it left pending and identifying, so it can no longer time
// out.
func (p *phones) decided(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	plan := p.plans[token]
	if plan == nil || plan.timeout == nil {
		return
	}
	if plan.timeout.Stop() {
		plan.left--
	}
	plan.timeout = nil
	if plan.left <= 0 {
		delete(p.plans, token)
	}
}

// clear forgets every session's timers; the caller has stopped them all.
func (p *phones) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.plans)
}

// undecided reports whether a session can still time out.
func undecided(status acapi.SessionStatus) bool {
	return status == acapi.SessionStatusPending || status == acapi.SessionStatusIdentifying
}

// playPhone schedules what the user's phone does in this session, as the scenario says, plus the
// timeout that ends a session nobody answered. Timers belong to the emulator's group, so a reset or
// a scenario swap cancels them, and to the session (see phones). The closures hold the token alone.
func (e *Emulator) playPhone(sess store.Session) {
	sc := e.Scenario()
	token := sess.Token
	steps := sc.BehaviourFor(sess.AppID, sess.UserID).Timeline(sess.Attempt)
	plan := &phonePlan{timers: make([]clock.Timer, 0, len(steps)+1), left: len(steps) + 1}
	e.phones.mu.Lock() // a timer that fires at once waits until the plan is filed
	for _, step := range steps {
		plan.timers = append(plan.timers, e.timers.AfterFunc(step.After, func() {
			e.phones.fired(token)
			if e.step(token, step.Status, "scenario") && !undecided(step.Status) {
				e.phones.decided(token)
			}
		}))
	}
	plan.timeout = e.timers.AfterFunc(sc.SessionTimeout(), func() {
		e.phones.fired(token)
		if status, err := e.store.SessionStatus(token); err == nil && undecided(status) {
			e.step(token, acapi.SessionStatusTimeout, "timeout")
		}
	})
	plan.timers = append(plan.timers, plan.timeout)
	e.phones.plans[token] = plan
	e.phones.mu.Unlock()
	// The session may have ended before its timers were filed (a control call, a lost phone).
	if status, err := e.store.SessionStatus(token); err != nil || !store.Live(status) {
		e.phones.stop(token)
	}
}

// step applies one status change and reports whether it did. A change the session can no longer
// make (it was closed by a logout, say) is skipped: the phone's later steps do not resurrect a
// finished session.
func (e *Emulator) step(token string, status acapi.SessionStatus, cause string) bool {
	_, err := e.store.Transition(token, status, e.clock.Now(), cause)
	switch {
	case err == nil:
		e.log.Debug("session status changed", "session", token, "status", status, "cause", cause)
		return true
	case errors.Is(err, store.ErrBadTransition), errors.Is(err, store.ErrSessionNotFound):
		e.log.Debug("scenario step skipped", "session", token, "status", status, "reason", err)
	default:
		e.log.Error("scenario step failed", "session", token, "status", status, "err", err)
	}
	return false
}
