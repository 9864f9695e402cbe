package emulator

import (
	"errors"
	"sync"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/store"
)

// phones holds the pending timers of each live session, so that a session that ends or is forgotten
// takes them along: timers never outnumber the sessions the store keeps, however long the
// scenario's timelines are.
type phones struct {
	mu     sync.Mutex
	timers map[string][]clock.Timer
}

// stop cancels a session's pending timers. The store calls it, locked, when a session ends or is
// forgotten; it does not call the store.
func (p *phones) stop(token string) {
	p.mu.Lock()
	timers := p.timers[token]
	delete(p.timers, token)
	p.mu.Unlock()
	for _, t := range timers {
		t.Stop()
	}
}

// clear forgets every session's timers; the caller has stopped them all.
func (p *phones) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.timers)
}

// pending reports how many sessions have timers waiting.
func (p *phones) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.timers)
}

// playPhone schedules what the user's phone does in this session, as the scenario says, plus the
// timeout that ends a session nobody answered. Timers belong to the emulator's group, so a reset or
// a scenario swap cancels them, and to the session, so that its end cancels them.
func (e *Emulator) playPhone(sess store.Session) {
	sc := e.Scenario()
	steps := sc.BehaviourFor(sess.AppID, sess.UserID).Timeline(sess.Attempt)
	timers := make([]clock.Timer, 0, len(steps)+1)
	for _, step := range steps {
		timers = append(timers, e.timers.AfterFunc(step.After, func() {
			e.step(sess.Token, step.Status, "scenario")
		}))
	}
	timers = append(timers, e.timers.AfterFunc(sc.SessionTimeout(), func() {
		status, err := e.store.SessionStatus(sess.Token)
		if err == nil && (status == acapi.SessionStatusPending || status == acapi.SessionStatusIdentifying) {
			e.step(sess.Token, acapi.SessionStatusTimeout, "timeout")
		}
	}))
	e.phones.mu.Lock()
	e.phones.timers[sess.Token] = timers
	e.phones.mu.Unlock()
	// The session may have ended before its timers were filed (a control call, a lost phone).
	if status, err := e.store.SessionStatus(sess.Token); err != nil || !store.Live(status) {
		e.phones.stop(sess.Token)
	}
}

// step applies one status change. A change the session can no longer make (it was closed by a
// logout, say) is skipped: the phone's later steps do not resurrect a finished session.
func (e *Emulator) step(token string, status acapi.SessionStatus, cause string) {
	_, err := e.store.Transition(token, status, e.clock.Now(), cause)
	switch {
	case err == nil:
		e.log.Debug("session status changed", "session", token, "status", status, "cause", cause)
	case errors.Is(err, store.ErrBadTransition), errors.Is(err, store.ErrSessionNotFound):
		e.log.Debug("scenario step skipped", "session", token, "status", status, "reason", err)
	default:
		e.log.Error("scenario step failed", "session", token, "status", status, "err", err)
	}
}
