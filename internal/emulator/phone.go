package emulator

import (
	"errors"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/store"
)

// playPhone schedules what the user's phone does in this session, as the scenario says, plus the
// timeout that ends a session nobody answered. Timers belong to the emulator's group, so a reset or
// a scenario swap cancels them.
func (e *Emulator) playPhone(sess store.Session) {
	sc := e.Scenario()
	at := timelineStep{app: sess.AppID, user: sess.UserID, session: sess.Token, cause: "scenario"}
	for _, step := range sc.BehaviourFor(sess.AppID, sess.UserID).Timeline(sess.Attempt) {
		at.status = step.Status
		e.schedule(step.After, at, func() {
			e.step(sess.Token, step.Status, "scenario")
		})
	}
	at.status, at.cause = acapi.SessionStatusTimeout, "timeout"
	e.schedule(sc.SessionTimeout(), at, func() {
		status, err := e.store.SessionStatus(sess.Token)
		if err == nil && waitsForPhone(status) {
			e.step(sess.Token, acapi.SessionStatusTimeout, "timeout")
		}
	})
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
