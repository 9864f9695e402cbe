package emulator

import (
	"errors"
	"fmt"
	"strings"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/store"
)

// The verbs below make the phone act now, for the control API, acmocktest and the terminal
// commands alike.

// ErrInvalidStatus is returned for a status the API does not define.
var ErrInvalidStatus = errors.New("invalid status")

// targetStatuses are the statuses a phone can move a session to, for error messages.
const targetStatuses = "identifying, active, walkaway, timeout, cancelled, failed or closed"

func checkStatus(to acapi.SessionStatus) error {
	if !to.Valid() {
		return fmt.Errorf("unknown status %q; use %s: %w", to, targetStatuses, ErrInvalidStatus)
	}
	return nil
}

// SetSessionStatus makes the phone change a session's status now. A change the real service could
// not make (anything out of a final status, say) is store.ErrBadTransition, and the session
// returned is the session as it stands; an unknown token is store.ErrSessionNotFound.
func (e *Emulator) SetSessionStatus(token string, to acapi.SessionStatus) (store.Session, error) {
	if err := checkStatus(to); err != nil {
		return store.Session{}, err
	}
	s, err := e.store.Transition(token, to, e.clock.Now(), "control")
	if err == nil {
		e.settle(token)
	}
	return s, err
}

// NoSessionError says that no session of a user can make a change. It matches
// store.ErrBadTransition when the user has sessions (none of which can make it) and
// store.ErrUserNotFound or store.ErrSessionNotFound otherwise.
type NoSessionError struct {
	User string
	// To is the status asked for.
	To acapi.SessionStatus
	// Known is false when no application has the user.
	Known bool
	// Count is how many sessions the user has.
	Count int
	// Statuses are those of the user's newest sessions (at most maxListed), newest first.
	Statuses []acapi.SessionStatus
}

// maxListed caps the statuses an error lists; a user may have many sessions.
const maxListed = 5

func (e *NoSessionError) Error() string {
	switch {
	case !e.Known:
		return fmt.Sprintf("no application has a user %q", clip.Input(e.User))
	case e.Count == 0:
		return fmt.Sprintf("user %q has no session yet; start a login first", clip.Input(e.User))
	}
	names := make([]string, 0, maxListed)
	for _, s := range e.Statuses[:min(len(e.Statuses), maxListed)] {
		names = append(names, string(s))
	}
	list := strings.Join(names, ", ")
	if more := e.Count - len(names); more > 0 {
		list += fmt.Sprintf(" and %d older", more)
	}
	what := "its only session is"
	if e.Count > 1 {
		what = fmt.Sprintf("its %d sessions are, newest first,", e.Count)
	}
	return fmt.Sprintf("user %q has no session that can become %s: %s %s", clip.Input(e.User), clip.Input(string(e.To)), what, list)
}

// Is lets errors.Is match the store's sentinels.
func (e *NoSessionError) Is(target error) bool {
	switch target {
	case store.ErrBadTransition:
		return e.Count > 0
	case store.ErrSessionNotFound:
		return e.Count == 0
	case store.ErrUserNotFound:
		return !e.Known
	}
	return false
}

// SetUserStatus makes the phone change the newest session of a user that can make the change,
// now, as a user who opens the app and taps would: approving reaches the newest pending login, not
// an older one that already ended. appID "" means any application. With no such session the error
// is a *NoSessionError naming the user and the statuses of its sessions. The store keeps each
// user's live sessions by status, so this costs the same however many sessions the user has.
func (e *Emulator) SetUserStatus(appID, userID string, to acapi.SessionStatus) (store.Session, error) {
	if err := checkStatus(to); err != nil {
		return store.Session{}, err
	}
	s, sum, err := e.store.TransitionNewest(appID, userID, to, e.clock.Now(), "control", maxListed)
	switch {
	case err == nil:
		e.settle(s.Token)
		return s, nil
	case errors.Is(err, store.ErrUserNotFound), errors.Is(err, store.ErrSessionNotFound), errors.Is(err, store.ErrBadTransition):
		return store.Session{}, &NoSessionError{User: userID, To: to, Known: sum.Known, Count: sum.Count, Statuses: sum.Newest}
	}
	return store.Session{}, err
}

// SetStatus makes the phone act on who: the session with that token or, when no session has it,
// the newest session of the user with that ID, in any application, that can make the change (see
// SetUserStatus).
func (e *Emulator) SetStatus(who string, to acapi.SessionStatus) (store.Session, error) {
	s, err := e.SetSessionStatus(who, to)
	if !errors.Is(err, store.ErrSessionNotFound) {
		return s, err
	}
	s, err = e.SetUserStatus("", who, to)
	var none *NoSessionError
	if errors.As(err, &none) && !none.Known {
		return s, fmt.Errorf("no session or user %q: %w", clip.Input(who), store.ErrSessionNotFound)
	}
	return s, err
}
