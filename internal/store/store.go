// Package store holds the emulator's state in memory: applications and their users, phones,
// registration links, the SMS outbox and authentication sessions. Every method is safe for
// concurrent use; failures are sentinel errors matched with errors.Is.
//
//	s := store.New(store.RandomIDs())
//	s.AddApplication("app", "secret")
//	created, existing, err := s.AddUsers("app", []string{"alice"})
package store

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/durable"
)

// Sentinel errors.
var (
	ErrApplicationNotFound = errors.New("unknown application")
	ErrApplicationExists   = errors.New("application already exists")
	ErrUserNotFound        = errors.New("unknown user")
	ErrSessionNotFound     = errors.New("unknown session")
	ErrLinkNotFound        = errors.New("unknown registration link")
	ErrLinkUsed            = errors.New("registration link already used")
	ErrDeviceRegistered    = errors.New("user already has a registered phone")
	ErrNoDevice            = errors.New("user has no registered phone")
	ErrBadTransition       = errors.New("transition not possible")
)

// Application is an application's credentials.
type Application struct {
	ID     string
	Secret string
}

// Phone is a user's phone.
type Phone struct {
	RegisteredAt time.Time
	Methods      []acapi.AuthenticationMethod
	// Lost is set by lost_user_mobile_device; a lost phone approves nothing.
	Lost bool
}

// User is an application's user.
type User struct {
	AppID string
	ID    string
	// Phone is nil until a registration link is opened.
	Phone *Phone
	// Logins counts the sessions started for the user, so a scenario can act per attempt.
	Logins int
	Links  []Link
}

// HasDevice reports whether the user has a usable registered phone.
func (u *User) HasDevice() bool { return u.Phone != nil && !u.Phone.Lost }

// Link is a registration link.
type Link struct {
	Code        string
	AppID       string
	UserID      string
	DisplayName string
	CreatedAt   time.Time
	// UsedAt is zero until a phone registered through the link.
	UsedAt time.Time
}

// SMS is a message that the emulator would have sent.
type SMS struct {
	AppID       string
	UserID      string
	PhoneNumber string
	Body        string
	Link        string
	SentAt      time.Time
}

// StatusChange is one entry of a session's history.
type StatusChange struct {
	Status acapi.SessionStatus
	At     time.Time
	// Cause says what made the change: "authenticate", "scenario", "timeout", "logout", "control".
	Cause string
}

// Session is an authentication session.
type Session struct {
	// Seq orders sessions by creation; under a virtual clock many share a start time.
	Seq     uint64
	Token   string
	Secret  string
	AppID   string
	UserID  string
	Methods []acapi.AuthenticationMethod
	// Attempt is the user's login count when the session started, from 0.
	Attempt int
	Status  acapi.SessionStatus
	History []StatusChange
	// Steps is the timeline the scenario planned at login (see Plan), kept so that a restart
	// schedules what was still to come.
	Steps []Step
}

// IDs makes the identifiers the emulator hands out.
type IDs interface {
	// SessionToken returns a new session token (also the session's client ID for signing).
	SessionToken() string
	// SessionSecret returns a new session secret.
	SessionSecret() string
	// LinkCode returns a new registration link code.
	LinkCode() string
}

// Store is the emulator's state.
type Store struct {
	ids IDs

	mu       changeLock // its Unlock signals watchers (changes.go)
	apps     map[string]*application
	sessions map[string]*Session
	links    map[string]*Link
	outbox   []SMS
	seq      uint64
	settings Settings

	// The commit hook's state (durable.go); dir is nil for a store kept in memory only.
	dir         *durable.Dir
	pending     [][]byte // facts of the change being made
	failed      error    // the write that failed; every later change is refused
	replaying   bool
	compactNext bool
}

type application struct {
	Application
	users map[string]*User
}

// New returns an empty store.
func New(ids IDs) *Store {
	s := &Store{ids: ids, settings: Settings{MaxSkew: acauth.DefaultMaxSkew}}
	s.resetLocked()
	return s
}

// Reset forgets everything.
func (s *Store) Reset() {
	_ = s.ResetErr()
}

// ResetErr forgets everything and reports whether that could be saved.
func (s *Store) ResetErr() (err error) {
	defer s.write(&err)()
	s.record(fact{Op: "reset"})
	s.resetLocked()
	return nil
}

func (s *Store) resetLocked() {
	s.apps = map[string]*application{}
	s.sessions = map[string]*Session{}
	s.links = map[string]*Link{}
	s.outbox = nil
}

// AddApplication registers an application.
func (s *Store) AddApplication(id, secret string) (err error) {
	defer s.write(&err)()
	if _, ok := s.apps[id]; ok {
		return fmt.Errorf("add application %s: %w", id, ErrApplicationExists)
	}
	s.record(fact{Op: "add_application", App: id, Secret: secret})
	s.apps[id] = &application{Application: Application{ID: id, Secret: secret}, users: map[string]*User{}}
	return nil
}

// CreateApplication registers an application, making up the ID (32 hex digits) or the secret
// (32 letters and digits) when they are empty.
func (s *Store) CreateApplication(id, secret string) (Application, error) {
	if id == "" {
		id = s.ids.SessionToken()
	}
	if secret == "" {
		secret = s.ids.SessionSecret()
	}
	if err := s.AddApplication(id, secret); err != nil {
		return Application{}, err
	}
	return Application{ID: id, Secret: secret}, nil
}

// Application returns an application's credentials.
func (s *Store) Application(id string) (Application, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	app, ok := s.apps[id]
	if !ok {
		return Application{}, fmt.Errorf("application %s: %w", id, ErrApplicationNotFound)
	}
	return app.Application, nil
}

// Applications lists every application, ordered by ID.
func (s *Store) Applications() []Application {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Application, 0, len(s.apps))
	for _, app := range s.apps {
		out = append(out, app.Application)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// app returns the application; the caller holds the lock.
func (s *Store) app(id string) (*application, error) {
	app, ok := s.apps[id]
	if !ok {
		return nil, fmt.Errorf("application %s: %w", id, ErrApplicationNotFound)
	}
	return app, nil
}

func (s *Store) user(appID, userID string) (*User, error) {
	app, err := s.app(appID)
	if err != nil {
		return nil, err
	}
	u, ok := app.users[userID]
	if !ok {
		return nil, fmt.Errorf("user %q of application %s: %w", userID, appID, ErrUserNotFound)
	}
	return u, nil
}

// AddUsers creates the users that do not exist yet and reports which were created and which
// existed. Duplicates in ids count once.
func (s *Store) AddUsers(appID string, ids []string) (created, existing []string, err error) {
	defer s.write(&err)()
	app, err := s.app(appID)
	if err != nil {
		return nil, nil, err
	}
	created, existing = []string{}, []string{}
	for _, id := range ids {
		if _, ok := app.users[id]; ok {
			if !slices.Contains(existing, id) && !slices.Contains(created, id) {
				existing = append(existing, id)
			}
			continue
		}
		app.users[id] = &User{AppID: appID, ID: id}
		created = append(created, id)
	}
	if len(created) > 0 {
		s.record(fact{Op: "add_users", App: appID, Users: created})
	}
	return created, existing, nil
}

// DeleteUsers removes users with their links and sessions; unknown IDs are ignored.
func (s *Store) DeleteUsers(appID string, ids []string) (err error) {
	defer s.write(&err)()
	app, err := s.app(appID)
	if err != nil {
		return err
	}
	s.record(fact{Op: "delete_users", App: appID, Users: ids})
	for _, id := range ids {
		u, ok := app.users[id]
		if !ok {
			continue
		}
		for _, l := range u.Links {
			delete(s.links, l.Code)
		}
		delete(app.users, id)
	}
	for token, sess := range s.sessions {
		if sess.AppID == appID && slices.Contains(ids, sess.UserID) {
			delete(s.sessions, token)
		}
	}
	return nil
}

// User returns a copy of a user.
func (s *Store) User(appID, userID string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, err := s.user(appID, userID)
	if err != nil {
		return User{}, err
	}
	return copyUser(u), nil
}

// Users lists an application's users ordered by ID.
func (s *Store) Users(appID string) ([]User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	app, err := s.app(appID)
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(app.users))
	for _, u := range app.users {
		out = append(out, copyUser(u))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func copyUser(u *User) User {
	c := *u
	if u.Phone != nil {
		p := *u.Phone
		p.Methods = slices.Clone(p.Methods)
		c.Phone = &p
	}
	c.Links = slices.Clone(u.Links)
	return c
}

// NewLink hands out a registration link for a user.
func (s *Store) NewLink(appID, userID, displayName string, now time.Time) (l Link, err error) {
	defer s.write(&err)()
	if l, err = s.newLink(appID, userID, displayName, now); err == nil {
		s.record(fact{Op: "new_link", App: appID, User: userID, Name: displayName, Code: l.Code, At: now})
	}
	return l, err
}

func (s *Store) newLink(appID, userID, displayName string, now time.Time) (Link, error) {
	u, err := s.user(appID, userID)
	if err != nil {
		return Link{}, err
	}
	return s.newLinkCode(u, appID, userID, displayName, s.ids.LinkCode(), now), nil
}

func (s *Store) newLinkCode(u *User, appID, userID, displayName, code string, now time.Time) Link {
	l := Link{Code: code, AppID: appID, UserID: userID, DisplayName: displayName, CreatedAt: now}
	s.links[l.Code] = &l
	u.Links = append(u.Links, l)
	return l
}

// RegisterPhone registers a phone for a user directly, as a scenario's initial state does.
func (s *Store) RegisterPhone(appID, userID string, methods []acapi.AuthenticationMethod, now time.Time) (err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return err
	}
	s.record(fact{Op: "register_phone", App: appID, User: userID, Methods: methods, At: now})
	u.Phone = &Phone{RegisteredAt: now, Methods: slices.Clone(methods)}
	return nil
}

// UseLink registers a phone through a registration link, as the mobile app does when it opens
// the link. A link works once.
func (s *Store) UseLink(code string, now time.Time) (_ Link, err error) {
	defer s.write(&err)()
	l, ok := s.links[code]
	if !ok {
		return Link{}, fmt.Errorf("link %s: %w", code, ErrLinkNotFound)
	}
	if !l.UsedAt.IsZero() {
		return *l, fmt.Errorf("link %s: %w", code, ErrLinkUsed)
	}
	u, err := s.user(l.AppID, l.UserID)
	if err != nil {
		return Link{}, err
	}
	s.record(fact{Op: "use_link", Code: code, At: now})
	l.UsedAt = now
	u.Phone = &Phone{RegisteredAt: now}
	for i := range u.Links {
		if u.Links[i].Code == code {
			u.Links[i].UsedAt = now
		}
	}
	return *l, nil
}

// LoseDevice disables the user's phone and hands out a new registration link. A lost phone
// approves nothing more: the user's logins that wait for it fail, and those it keeps alive close.
func (s *Store) LoseDevice(appID, userID string, now time.Time) (l Link, err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return Link{}, err
	}
	code := s.ids.LinkCode()
	s.record(fact{Op: "lose_device", App: appID, User: userID, Code: code, At: now})
	if u.Phone != nil {
		u.Phone.Lost = true
	}
	for _, sess := range s.sessions {
		if sess.AppID != appID || sess.UserID != userID {
			continue
		}
		switch sess.Status {
		case acapi.SessionStatusPending, acapi.SessionStatusIdentifying:
			s.transition(sess, acapi.SessionStatusFailed, now, "lost device")
		case acapi.SessionStatusActive, acapi.SessionStatusWalkaway:
			s.transition(sess, acapi.SessionStatusClosed, now, "lost device")
		}
	}
	return s.newLinkCode(u, appID, userID, "", code, now), nil
}

// SendSMS stores a registration SMS in the outbox, with a new link appended to message. A user
// with a registered phone gets ErrDeviceRegistered.
func (s *Store) SendSMS(appID, userID, phoneNumber, displayName, message string, linkURL func(code string) string, now time.Time) (_ SMS, err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return SMS{}, err
	}
	if u.HasDevice() {
		return SMS{}, fmt.Errorf("send sms to user %q: %w", userID, ErrDeviceRegistered)
	}
	l, err := s.newLink(appID, userID, displayName, now)
	if err != nil {
		return SMS{}, err
	}
	link := linkURL(l.Code)
	s.record(fact{Op: "send_sms", App: appID, User: userID, Phone: phoneNumber, Name: displayName, Message: message,
		Code: l.Code, Link: link, At: now})
	msg := SMS{AppID: appID, UserID: userID, PhoneNumber: phoneNumber, Body: message + " " + link, Link: link, SentAt: now}
	s.outbox = append(s.outbox, msg)
	return msg, nil
}

// Outbox returns every SMS sent, oldest first.
func (s *Store) Outbox() []SMS {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.outbox)
}

// StartSession starts a pending session for a user with a registered phone, counting the login.
func (s *Store) StartSession(appID, userID string, methods []acapi.AuthenticationMethod, now time.Time) (_ Session, err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return Session{}, err
	}
	if !u.HasDevice() {
		return Session{}, fmt.Errorf("start session for %q: %w", userID, ErrNoDevice)
	}
	s.seq++
	sess := &Session{
		Seq:     s.seq,
		Token:   s.ids.SessionToken(),
		Secret:  s.ids.SessionSecret(),
		AppID:   appID,
		UserID:  userID,
		Methods: slices.Clone(methods),
		Attempt: u.Logins,
		Status:  acapi.SessionStatusPending,
		History: []StatusChange{{Status: acapi.SessionStatusPending, At: now, Cause: "authenticate"}},
	}
	s.record(fact{Op: "start_session", App: appID, User: userID, Methods: methods, Token: sess.Token, Secret: sess.Secret, At: now})
	u.Logins++
	s.sessions[sess.Token] = sess
	if len(s.sessions) > MaxSessions {
		s.forgetFinished(len(s.sessions) - MaxSessions*9/10)
	}
	return copySession(sess), nil
}

// MaxSessions bounds the sessions kept, so a long-running emulator does not grow without limit.
// Past it, the oldest finished sessions are forgotten (their status calls then answer 404);
// live sessions are always kept.
var MaxSessions = 100_000

// forgetFinished drops up to n of the oldest sessions in a final status. The caller holds the lock.
func (s *Store) forgetFinished(n int) {
	var finished []*Session
	for _, sess := range s.sessions {
		if !Live(sess.Status) {
			finished = append(finished, sess)
		}
	}
	sort.Slice(finished, func(i, j int) bool { return finished[i].Seq < finished[j].Seq })
	for _, sess := range finished[:min(n, len(finished))] {
		delete(s.sessions, sess.Token)
	}
}

// ResetApplication forgets an application's users, phones, links, sessions and messages, leaving
// other applications alone, so one test suite can start afresh while others run.
func (s *Store) ResetApplication(appID string) (err error) {
	defer s.write(&err)()
	app, err := s.app(appID)
	if err != nil {
		return err
	}
	s.record(fact{Op: "reset_application", App: appID})
	app.users = map[string]*User{}
	for code, l := range s.links {
		if l.AppID == appID {
			delete(s.links, code)
		}
	}
	for token, sess := range s.sessions {
		if sess.AppID == appID {
			delete(s.sessions, token)
		}
	}
	s.outbox = slices.DeleteFunc(s.outbox, func(m SMS) bool { return m.AppID == appID })
	return nil
}

// Session returns a copy of a session.
func (s *Store) Session(token string) (Session, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sess, ok := s.sessions[token]
	if !ok {
		return Session{}, fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	return copySession(sess), nil
}

// SessionSecret returns a session's secret and the application it belongs to, without copying the
// history: it is on the path of every signed status poll.
func (s *Store) SessionSecret(token string) (secret, appID, userID string, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sess, ok := s.sessions[token]
	if !ok {
		return "", "", "", fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	return sess.Secret, sess.AppID, sess.UserID, nil
}

// SessionStatus returns a session's status.
func (s *Store) SessionStatus(token string) (acapi.SessionStatus, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sess, ok := s.sessions[token]
	if !ok {
		return "", fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	return sess.Status, nil
}

// Sessions returns copies of the sessions that keep returns true for, oldest first.
func (s *Store) Sessions(keep func(*Session) bool) []Session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Session
	for _, sess := range s.sessions {
		if keep == nil || keep(sess) {
			out = append(out, copySession(sess))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

func copySession(s *Session) Session {
	c := *s
	c.Methods = slices.Clone(s.Methods)
	c.History = slices.Clone(s.History)
	c.Steps = slices.Clone(s.Steps)
	return c
}

// Transition moves a session to a new status when the real service could make that change, and
// returns ErrBadTransition (naming the current status) when it could not.
func (s *Store) Transition(token string, to acapi.SessionStatus, now time.Time, cause string) (_ Session, err error) {
	defer s.write(&err)()
	sess, ok := s.sessions[token]
	if !ok {
		return Session{}, fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	if !CanTransition(sess.Status, to) {
		return copySession(sess), fmt.Errorf("session %s is %s, cannot become %s: %w", token, sess.Status, to, ErrBadTransition)
	}
	s.record(fact{Op: "transition", Token: token, Status: to, At: now, Cause: cause})
	s.transition(sess, to, now, cause)
	return copySession(sess), nil
}

func (s *Store) transition(sess *Session, to acapi.SessionStatus, now time.Time, cause string) {
	sess.Status = to
	sess.History = append(sess.History, StatusChange{Status: to, At: now, Cause: cause})
}

// transitions lists the changes the real service can make. pending, identifying, active and
// walkaway are live; timeout, cancelled, failed and closed are final.
var transitions = map[acapi.SessionStatus][]acapi.SessionStatus{
	acapi.SessionStatusPending: {acapi.SessionStatusIdentifying, acapi.SessionStatusActive, acapi.SessionStatusTimeout,
		acapi.SessionStatusCancelled, acapi.SessionStatusFailed, acapi.SessionStatusClosed},
	acapi.SessionStatusIdentifying: {acapi.SessionStatusActive, acapi.SessionStatusTimeout, acapi.SessionStatusCancelled,
		acapi.SessionStatusFailed, acapi.SessionStatusClosed},
	acapi.SessionStatusActive:   {acapi.SessionStatusWalkaway, acapi.SessionStatusFailed, acapi.SessionStatusClosed},
	acapi.SessionStatusWalkaway: {acapi.SessionStatusActive, acapi.SessionStatusTimeout, acapi.SessionStatusFailed, acapi.SessionStatusClosed},
}

// CanTransition reports whether a session can go from one status to another.
func CanTransition(from, to acapi.SessionStatus) bool {
	return slices.Contains(transitions[from], to)
}

// Live reports whether a status is one of the live ones (pending, identifying, active, walkaway).
func Live(status acapi.SessionStatus) bool {
	return len(transitions[status]) > 0
}

// Plan records the timeline steps the scenario has in store for a session, in the order they
// fire, so that they can be scheduled again after a restart.
func (s *Store) Plan(token string, steps []Step) (err error) {
	defer s.write(&err)()
	sess, ok := s.sessions[token]
	if !ok {
		return fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	s.record(fact{Op: "plan", Token: token, Steps: steps})
	sess.Steps = slices.Clone(steps)
	return nil
}

// FireStep marks the i-th planned step of a session done and makes its change at now when the
// session can still make it (a timeout only ends a pending or identifying session), in one change.
// It reports whether the status changed.
func (s *Store) FireStep(token string, i int, now time.Time) (changed bool, err error) {
	defer s.write(&err)()
	sess, ok := s.sessions[token]
	if !ok {
		return false, fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	if i < 0 || i >= len(sess.Steps) {
		return false, fmt.Errorf("session %s has no step %d: %w", token, i, ErrBadTransition)
	}
	if sess.Steps[i].Done {
		return false, nil
	}
	s.record(fact{Op: "fire_step", Token: token, Step: i, At: now})
	st := sess.Steps[i]
	sess.Steps[i].Done = true
	switch {
	case st.Timeout && (sess.Status == acapi.SessionStatusPending || sess.Status == acapi.SessionStatusIdentifying):
		s.transition(sess, acapi.SessionStatusTimeout, now, "timeout")
	case !st.Timeout && CanTransition(sess.Status, st.Status):
		s.transition(sess, st.Status, now, "scenario")
	default:
		return false, nil
	}
	return true, nil
}

// Settings returns the emulator settings the store keeps (see Settings).
func (s *Store) Settings() Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.settings
}

// SetClockTime records the time of the emulator's virtual clock.
func (s *Store) SetClockTime(t time.Time) (err error) {
	defer s.write(&err)()
	if t.Equal(s.settings.ClockNow) {
		return nil
	}
	s.record(fact{Op: "clock", At: t})
	s.settings.ClockNow = t
	return nil
}

// SetWallClock records the signature-check settings; a nil argument keeps its setting.
func (s *Store) SetWallClock(shift, maxSkew *time.Duration) (err error) {
	defer s.write(&err)()
	s.record(fact{Op: "wall_clock", Shift: shift, Skew: maxSkew})
	if shift != nil {
		s.settings.Shift = *shift
	}
	if maxSkew != nil {
		s.settings.MaxSkew = *maxSkew
	}
	return nil
}
