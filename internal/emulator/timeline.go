package emulator

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/store"
)

// How timelines run, on each clock:
//
//   - A step with a zero delay (after: 0s) is applied as the login starts, before authenticate
//     answers, so the first poll sees it on every clock. Authenticate still answers pending, the
//     status every session starts with.
//   - Every other step, and the session's timeout, is a timer on the clock: on the real clock it
//     fires after its delay; on a virtual clock it fires when time is moved past it (Advance).
//   - On the automatic virtual clock (clock.NewAuto) status polls also move time. The first poll of
//     a session, and any poll that would answer a status different from the one the previous poll
//     of that session answered, answers at once. A poll that would answer the same status again
//     first moves time to the session's next step that changes its status, firing that step and
//     every step of any session due by then, in order; then it answers. A session with no such step
//     left (active with no later steps, or ended) does not move time. So successive polls see every
//     status of the timeline, one after the other, the sequence of distinct statuses a client
//     polling on the real clock sees, without waiting for it.
//   - A poll that a fault spoils (a malformed answer) neither moves time nor counts as seen; a poll
//     a fault answers instead of the emulator (503, dropped) never reaches this code.
//
// A plan lives from the login until its last step fired, the session ended or went away, or a
// reset; so there are at most as many plans as sessions with a step still to come.

// plan is what the scenario still has a session's phone do.
type plan struct {
	token string
	// app, user and seq are the session's, for the timeline the console lists; seq orders the
	// steps of logins due at the same moment.
	app, user string
	seq       uint64
	// steps are the timers of the session, in the order they fire.
	steps []*plannedStep
	// seen is the status the previous good poll of the session answered ("" before the first).
	seen acapi.SessionStatus
}

type plannedStep struct {
	status acapi.SessionStatus
	// timeout marks the session's timeout, which only a pending or identifying session reaches.
	timeout bool
	done    bool // fired, or cancelled because it can no longer change anything
	timer   clock.Timer
	due     time.Time // when it fires, for the timeline the console lists
	index   int       // its place in the session's store.Session.Steps
	plan    *plan
	at      int // its place in Emulator.timeline while it is still to fire
}

// soonestFirst orders the timeline: by due time, then by login, then in the order a plan fires.
type soonestFirst struct{}

func (soonestFirst) Less(a, b *plannedStep) bool {
	if c := a.due.Compare(b.due); c != 0 {
		return c < 0
	}
	if a.plan.seq != b.plan.seq {
		return a.plan.seq < b.plan.seq
	}
	return a.index < b.index
}

func (soonestFirst) At(s *plannedStep) *int { return &s.at }

// schedule adds a step to its plan and to the timeline. The caller holds plansMu.
func (e *Emulator) schedule(p *plan, s *plannedStep) {
	s.plan = p
	p.steps = append(p.steps, s)
	e.timeline.Push(s)
}

// finish marks a step done (fired, or cancelled because it can no longer change anything) and
// takes it off the timeline: a step is on it exactly while it is in a plan and not done. The
// caller holds plansMu.
func (e *Emulator) finish(s *plannedStep) {
	if !s.done {
		s.done = true
		e.timeline.Remove(s)
	}
}

// cancel marks the step done and stops its timer; a step that resumePlans fires at once, because
// it fell due while the emulator was stopped, has none. The caller holds plansMu.
func (s *plannedStep) cancel() {
	s.done = true
	if s.timer != nil {
		s.timer.Stop()
	}
}

// changes reports whether the step would change a session that is in status from.
func (s *plannedStep) changes(from acapi.SessionStatus) bool {
	if s.timeout {
		return timesOut(from)
	}
	return store.CanTransition(from, s.status)
}

// timesOut reports whether a session in status from can still time out: only one the phone has
// not answered.
func timesOut(from acapi.SessionStatus) bool {
	return from == acapi.SessionStatusPending || from == acapi.SessionStatusIdentifying
}

// nextChange is the first step still to fire that would change a session in status from. Steps
// before it change nothing (the session cannot make their change), so it is the next change the
// timeline makes. The caller holds plansMu.
func (p *plan) nextChange(from acapi.SessionStatus) *plannedStep {
	for _, s := range p.steps {
		if !s.done && s.changes(from) {
			return s
		}
	}
	return nil
}

// playPhone schedules what the user's phone does in this session, as the scenario says, plus the
// timeout that ends a session nobody answered. Timers belong to the emulator's group, so a reset or
// a scenario swap cancels them.
func (e *Emulator) playPhone(sess store.Session) {
	sc := e.Scenario()
	type timed struct {
		after time.Duration
		step  *plannedStep
	}
	var later []timed
	for _, st := range sc.BehaviourFor(sess.AppID, sess.UserID).Timeline(sess.Attempt) {
		if st.After <= 0 {
			e.step(sess.Token, st.Status, sess.History[0].At, "scenario") // at the login's own time
			continue
		}
		later = append(later, timed{st.After, &plannedStep{status: st.Status, due: sess.History[0].At.Add(st.After)}})
	}
	// The timeout comes after the steps due at the same moment, as it always has: a phone that
	// answers at the last moment is in time.
	later = append(later, timed{sc.SessionTimeout(), &plannedStep{status: acapi.SessionStatusTimeout, timeout: true,
		due: sess.History[0].At.Add(sc.SessionTimeout())}})
	slices.SortStableFunc(later, func(a, b timed) int { return cmp.Compare(a.after, b.after) })

	// The plan is saved with the session before its timers start, so that a restart schedules
	// what is still to come.
	saved := make([]store.Step, len(later))
	for i, t := range later {
		t.step.index = i
		saved[i] = store.Step{Status: t.step.status, Due: t.step.due, Timeout: t.step.timeout}
	}
	if err := e.store.Plan(sess.Token, saved); err != nil {
		e.log.Error("session timeline not saved", "session", sess.Token, "err", err)
	}
	p := &plan{token: sess.Token, app: sess.AppID, user: sess.UserID, seq: sess.Seq}
	e.plansMu.Lock()
	defer e.plansMu.Unlock()
	for _, t := range later {
		e.schedule(p, t.step)
		// Scheduled under plansMu, so a timer that fires at once finds its timer field set.
		t.step.timer = e.timers.AfterFunc(t.after, func() { e.fire(p, t.step) })
	}
	e.plans[sess.Token] = p
}

// resumePlans schedules again, after a restart or an import, the steps that the sessions' saved
// timelines still have to come, at their due times on the emulator's clock. Steps already due (the
// clock moved while acmock was stopped, or it stopped in the middle of an advance) get no timer:
// they fire at once, in order, each at the clock's present time, and each one's effects (a
// cancelled timeout) apply before the next, as they would have had the emulator run. A live session saved without a timeline (acmock stopped between the login and saving its
// plan, before authenticate answered) gets its timeline from the scenario, as a new login does.
func (e *Emulator) resumePlans() {
	now := e.clock.Now()
	for _, sess := range e.store.Sessions(func(s *store.Session) bool { return store.Live(s.Status) }) {
		if sess.Steps == nil {
			e.playPhone(sess)
			continue
		}
		p := &plan{token: sess.Token, app: sess.AppID, user: sess.UserID, seq: sess.Seq}
		var due []*plannedStep
		e.plansMu.Lock()
		for i, st := range sess.Steps {
			if st.Done {
				continue
			}
			ps := &plannedStep{status: st.Status, timeout: st.Timeout, due: st.Due, index: i}
			e.schedule(p, ps)
			if !st.Due.After(now) {
				due = append(due, ps)
				continue
			}
			ps.timer = e.timers.AfterFunc(st.Due.Sub(now), func() { e.fire(p, ps) })
		}
		e.plans[sess.Token] = p
		e.plansMu.Unlock()
		for _, ps := range due {
			e.plansMu.Lock()
			done := ps.done // settled by a step before it
			e.plansMu.Unlock()
			if !done {
				e.fire(p, ps)
			}
		}
		e.settle(sess.Token)
	}
}

// fire runs one planned step.
func (e *Emulator) fire(p *plan, s *plannedStep) {
	e.plansMu.Lock()
	e.finish(s)
	e.plansMu.Unlock()
	changed, err := e.store.FireStep(p.token, s.index, e.clock.Now())
	switch {
	case changed:
		e.log.Debug("session status changed", "session", p.token, "status", s.status, "timeout", s.timeout)
	case err == nil, errors.Is(err, store.ErrSessionNotFound):
		e.log.Debug("scenario step skipped", "session", p.token, "status", s.status, "reason", err)
	default:
		e.log.Error("scenario step failed", "session", p.token, "status", s.status, "err", err)
	}
	e.settle(p.token)
}

// settle cancels what can no longer happen to a session: its timeout once the phone answered (a
// session never goes back to pending or identifying), and its whole plan once every step fired or
// the session ended or is gone. Whatever changes a session's status calls it.
func (e *Emulator) settle(token string) {
	status, err := e.store.SessionStatus(token)
	e.plansMu.Lock()
	defer e.plansMu.Unlock()
	p := e.plans[token]
	if p == nil {
		return
	}
	ended := err != nil || !store.Live(status)
	left := 0
	for _, s := range p.steps {
		if s.done {
			continue
		}
		if ended || (s.timeout && !s.changes(status)) {
			e.finish(s)
			s.cancel()
			continue
		}
		left++
	}
	if left == 0 {
		delete(e.plans, token)
	}
}

// endPlan cancels a session's plan. The store calls it, locked, when a session ends or is forgotten
// (evicted past the session cap, expired, its user deleted), including the ways that do not pass
// through settle; so it must not call the store.
func (e *Emulator) endPlan(token string) {
	e.plansMu.Lock()
	defer e.plansMu.Unlock()
	p := e.plans[token]
	if p == nil {
		return
	}
	for _, s := range p.steps {
		if !s.done {
			e.finish(s)
			s.cancel()
		}
	}
	delete(e.plans, token)
}

// forgetPlans drops every plan; the caller has stopped the timers (a reset).
func (e *Emulator) forgetPlans() {
	e.plansMu.Lock()
	defer e.plansMu.Unlock()
	for _, p := range e.plans {
		for _, s := range p.steps {
			s.done = true // a timer that fires all the same finds it done
		}
	}
	e.timeline.Clear()
	e.plans = map[string]*plan{}
}

// pollStatus answers a status poll; on the automatic clock it moves time as described at the top
// of this file.
func (e *Emulator) pollStatus(ctx context.Context, token string) (acapi.SessionStatus, error) {
	v, ok := e.clock.(*clock.Virtual)
	if !ok || !v.Auto() {
		// identify read the status with the session's secret, a moment ago: unless a fault held the
		// request up since, that read is the poll's (one lookup of the session per poll, not two).
		if info := infoFrom(ctx); info != nil && info.session == token && info.status != "" && info.fault == "" {
			return info.status, nil
		}
		return e.store.SessionStatus(token)
	}
	// One poll at a time decides and moves time, so two polls of one session cannot both jump.
	e.pollMu.Lock()
	defer e.pollMu.Unlock()
	status, err := e.store.SessionStatus(token)
	if err != nil {
		return "", err
	}
	info := infoFrom(ctx)
	spoiled := info != nil && info.spoiled
	e.plansMu.Lock()
	p := e.plans[token]
	var next *plannedStep
	if p != nil && !spoiled && p.seen == status {
		next = p.nextChange(status)
	}
	e.plansMu.Unlock()
	if next != nil {
		for e.waitsFor(p, next) {
			fired, err := e.moveClock(v, func(now time.Time) time.Time {
				if due, ok := v.NextDue(); ok {
					return due
				}
				return now
			})
			if err != nil {
				return "", err
			}
			if fired == 0 {
				break
			}
		}
		if status, err = e.store.SessionStatus(token); err != nil {
			return "", err
		}
		if info != nil {
			info.at = v.Now()
		}
	}
	if p != nil && !spoiled {
		e.plansMu.Lock()
		p.seen = status
		e.plansMu.Unlock()
	}
	e.settle(token)
	return status, nil
}

// waitsFor reports whether the plan is still the session's and its step s is still to come.
func (e *Emulator) waitsFor(p *plan, s *plannedStep) bool {
	e.plansMu.Lock()
	defer e.plansMu.Unlock()
	return e.plans[p.token] == p && !s.done
}

// step applies one status change. A change the session can no longer make (it was closed by a
// logout, say) is skipped: the phone's later steps do not resurrect a finished session.
func (e *Emulator) step(token string, status acapi.SessionStatus, at time.Time, cause string) {
	_, err := e.store.Transition(token, status, at, cause)
	switch {
	case err == nil:
		e.log.Debug("session status changed", "session", token, "status", status, "cause", cause)
	case errors.Is(err, store.ErrBadTransition), errors.Is(err, store.ErrSessionNotFound):
		e.log.Debug("scenario step skipped", "session", token, "status", status, "reason", err)
	default:
		e.log.Error("scenario step failed", "session", token, "status", status, "err", err)
	}
}
