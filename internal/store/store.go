// Package store holds the emulator's state in memory: applications and their users, phones,
// registration links, the SMS outbox and authentication sessions. Every method is safe for
// concurrent use; failures are sentinel errors matched with errors.Is.
//
//	s := store.New(store.RandomIDs())
//	s.AddApplication("app", "secret")
//	created, existing, err := s.AddUsers("app", []string{"alice"})
//
// Everything that grows with use is bounded (see Limits), and no operation's cost grows with the
// number of users or sessions: lookups are maps, orders are kept by indexes that only append, and
// what is forgotten first sits at the front of a list.
package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/btree"

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
	ErrLimitReached        = errors.New("limit reached")
)

// Limits bound what the store keeps, so that its memory stays bounded however long it runs. A zero
// field takes its value from DefaultLimits.
type Limits struct {
	// MaxSessions is how many sessions are kept, live or finished. Past it the session that
	// finished longest ago is forgotten, or when none has finished the oldest live one; a
	// forgotten session is unknown from then on (its status calls answer 404).
	MaxSessions int
	// SessionLifetime is how long a live session lasts: that long after it started, a session
	// still pending, identifying, active or walkaway is closed (cause "expired").
	SessionLifetime time.Duration
	// MaxUsers is how many users all applications hold together; adding more fails with
	// ErrLimitReached.
	MaxUsers int
	// MaxApplications is how many applications there may be; CreateApplication past it fails
	// with ErrLimitReached (a scenario's own applications are always added).
	MaxApplications int
	// MaxLinksPerUser is how many registration links a user keeps; a new one makes the oldest
	// stop working.
	MaxLinksPerUser int
	// MaxOutbox is how many SMS the outbox keeps; the oldest go first.
	MaxOutbox int
}

// DefaultLimits are the limits of a store made without WithLimits.
var DefaultLimits = Limits{
	MaxSessions:     100_000,
	SessionLifetime: 24 * time.Hour,
	MaxUsers:        2_000_000,
	MaxApplications: 1_000,
	MaxLinksPerUser: 10,
	MaxOutbox:       1_000,
}

// MaxHistory is how many status changes a session remembers; older ones are dropped first.
const MaxHistory = 64

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	for _, f := range []struct{ v, def *int }{
		{&l.MaxSessions, &d.MaxSessions}, {&l.MaxUsers, &d.MaxUsers}, {&l.MaxApplications, &d.MaxApplications},
		{&l.MaxLinksPerUser, &d.MaxLinksPerUser}, {&l.MaxOutbox, &d.MaxOutbox},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	if l.SessionLifetime <= 0 {
		l.SessionLifetime = d.SessionLifetime
	}
	return l
}

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
	// Seq orders users by creation, across applications; pages of users start after one.
	Seq uint64
	// Phone is nil until a registration link is opened.
	Phone *Phone
	// Logins counts the sessions started for the user, so a scenario can act per attempt.
	Logins int
	// LiveSessions counts the user's sessions that are live (pending, identifying, active,
	// walkaway).
	LiveSessions int
	// Links are the user's registration links, oldest first (at most Limits.MaxLinksPerUser).
	Links []Link
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
	ids    IDs
	limits Limits
	now    func() time.Time
	onDone func(token string)

	mu       changeLock // its Unlock signals watchers (changes.go)
	apps     map[string]*application
	appIDs   []string // sorted
	slab     slab[user]
	users    int
	userSeq  uint64
	links    map[string]*Link
	outbox   []SMS // a ring of at most limits.MaxOutbox messages
	outStart int   // the oldest message, once the ring is full
	sessions sessionState
	settings Settings

	// The commit hook's state (durable.go); dir is nil for a store kept in memory only.
	dir          *durable.Dir
	compactAfter uint64   // CompactAfter when the store was opened
	pending      [][]byte // facts of the change being made
	failed       error    // the write that failed; every later change is refused
	replaying    bool
	compactNext  bool
}

type application struct {
	Application
	users    map[string]*user
	order    seqIndex[user]
	byID     *btree.BTreeG[*user] // find.go
	sessions seqIndex[session]
	// deleted are the users deleted at run time that the emulator asked to remember (those its
	// scenario lists), so that a reload does not add them back; nil when there are none.
	deleted map[string]struct{}
}

// user is a User as the store keeps it.
type user struct {
	id     string
	seq    uint64
	app    *application
	phone  *Phone
	logins int
	links  []*Link
	// sessions is made with the user's first session; live holds those still live.
	sessions *userSessions
	live     sessionList
}

// Option configures a Store.
type Option func(*Store)

// WithLimits sets the store's limits; zero fields keep their defaults.
func WithLimits(l Limits) Option { return func(s *Store) { s.limits = l.withDefaults() } }

// WithClock gives the store the time to check session lifetimes against when it is read; writes
// pass their own time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// OnSessionDone registers f to be called with a session's token when the session reaches a final
// status or is forgotten while live, so that whatever was scheduled for it can be cancelled. f runs
// with the store locked: it must not call the store.
func OnSessionDone(f func(token string)) Option { return func(s *Store) { s.onDone = f } }

// New returns an empty store.
func New(ids IDs, opts ...Option) *Store {
	s := &Store{ids: ids, limits: DefaultLimits, settings: Settings{MaxSkew: acauth.DefaultMaxSkew}}
	for _, o := range opts {
		o(s)
	}
	s.resetLocked()
	return s
}

// Limits returns the store's limits.
func (s *Store) Limits() Limits { return s.limits }

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
	s.appIDs = nil
	s.slab = slab[user]{}
	s.users = 0
	s.links = map[string]*Link{}
	s.outbox, s.outStart = nil, 0
	s.sessions = newSessionState()
}

func limitError(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrLimitReached)
}

// AddApplication registers an application.
func (s *Store) AddApplication(id, secret string) (err error) {
	defer s.write(&err)()
	return s.addApplication(id, secret)
}

func (s *Store) addApplication(id, secret string) error {
	if _, ok := s.apps[id]; ok {
		return fmt.Errorf("add application %s: %w", id, ErrApplicationExists)
	}
	s.record(fact{Op: "add_application", App: id, Secret: secret})
	s.putApplication(id, secret)
	return nil
}

// putApplication adds an application known to be new.
func (s *Store) putApplication(id, secret string) *application {
	app := &application{Application: Application{ID: id, Secret: secret}, users: map[string]*user{}, byID: newIDIndex()}
	s.apps[id] = app
	i, _ := slices.BinarySearch(s.appIDs, id)
	s.appIDs = slices.Insert(s.appIDs, i, id)
	return app
}

// CreateApplication registers an application, making up the ID (32 hex digits) or the secret
// (32 letters and digits) when they are empty. Past Limits.MaxApplications it fails with
// ErrLimitReached.
func (s *Store) CreateApplication(id, secret string) (_ Application, err error) {
	if id == "" {
		id = s.ids.SessionToken()
	}
	if secret == "" {
		secret = s.ids.SessionSecret()
	}
	defer s.write(&err)()
	if len(s.apps) >= s.limits.MaxApplications {
		return Application{}, limitError("create application: the emulator holds %d applications and at most %d", len(s.apps), s.limits.MaxApplications)
	}
	if err := s.addApplication(id, secret); err != nil {
		return Application{}, err
	}
	return Application{ID: id, Secret: secret}, nil
}

// Application returns an application's credentials.
func (s *Store) Application(id string) (Application, error) {
	s.mu.RLock()
	defer s.readUnlock()
	app, ok := s.apps[id]
	if !ok {
		return Application{}, fmt.Errorf("application %s: %w", id, ErrApplicationNotFound)
	}
	return app.Application, nil
}

// Applications lists every application, ordered by ID.
func (s *Store) Applications() []Application {
	s.mu.RLock()
	defer s.readUnlock()
	out := make([]Application, len(s.appIDs))
	for i, id := range s.appIDs {
		out[i] = s.apps[id].Application
	}
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

func (s *Store) user(appID, userID string) (*user, error) {
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
// existed. Duplicates in ids count once. When the new users would take the store past
// Limits.MaxUsers, none is created and the error is ErrLimitReached.
func (s *Store) AddUsers(appID string, ids []string) (created, existing []string, err error) {
	defer s.write(&err)()
	app, err := s.app(appID)
	if err != nil {
		return nil, nil, err
	}
	created, existing = []string{}, []string{}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := app.users[id]; ok {
			existing = append(existing, id)
		} else {
			created = append(created, id)
		}
	}
	if s.users+len(created) > s.limits.MaxUsers {
		what := "1 user"
		if len(created) != 1 {
			what = fmt.Sprintf("%d users", len(created))
		}
		return nil, nil, limitError("add %s: the emulator holds %d users and at most %d", what, s.users, s.limits.MaxUsers)
	}
	if len(created) > 0 {
		s.record(fact{Op: "add_users", App: appID, Users: created})
	}
	for _, id := range created {
		s.addUser(app, id)
	}
	return created, existing, nil
}

// addUser creates a user known to be new, with the next sequence number. The caller holds the
// write lock and has checked the limit.
func (s *Store) addUser(app *application, id string) *user {
	s.userSeq++
	u := s.slab.alloc()
	*u = user{id: id, seq: s.userSeq, app: app, live: sessionList{at: byUser}}
	app.users[id] = u
	app.order.add(u.seq, u)
	app.byID.ReplaceOrInsert(u)
	delete(app.deleted, id) // added again: no longer a deleted user
	s.users++
	return u
}

// DeleteUsers removes users with their links and sessions; unknown IDs are ignored. Those of the
// users deleted that remember names are remembered as deleted (see Deleted) until they are added
// again, their application is reset, or ForgetDeleted.
func (s *Store) DeleteUsers(appID string, ids []string, remember ...string) (err error) {
	defer s.write(&err)()
	app, err := s.app(appID)
	if err != nil {
		return err
	}
	var gone []string
	if len(remember) > 0 {
		deleting := make(map[string]bool, len(ids))
		for _, id := range ids {
			_, ok := app.users[id]
			deleting[id] = ok
		}
		for _, id := range remember {
			if deleting[id] {
				gone = append(gone, id)
				deleting[id] = false // once
			}
		}
	}
	s.record(fact{Op: "delete_users", App: appID, Users: ids, Gone: gone})
	for _, id := range ids {
		if u, ok := app.users[id]; ok {
			s.deleteUser(u)
		}
	}
	for _, id := range gone {
		if app.deleted == nil {
			app.deleted = map[string]struct{}{}
		}
		app.deleted[id] = struct{}{}
	}
	return nil
}

// Deleted returns, by application, the users deleted at run time that DeleteUsers was asked to
// remember, sorted; applications with none are left out.
func (s *Store) Deleted() map[string][]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string][]string{}
	for id, app := range s.apps {
		if len(app.deleted) > 0 {
			out[id] = slices.Sorted(maps.Keys(app.deleted))
		}
	}
	return out
}

// ForgetDeleted stops remembering users of an application as deleted.
func (s *Store) ForgetDeleted(appID string, ids []string) (err error) {
	defer s.write(&err)()
	app, err := s.app(appID)
	if err != nil {
		return err
	}
	s.record(fact{Op: "forget_deleted", App: appID, Users: ids})
	for _, id := range ids {
		delete(app.deleted, id)
	}
	return nil
}

// deleteUser forgets a user with everything it owns. The caller holds the lock.
func (s *Store) deleteUser(u *user) {
	for _, l := range u.links {
		delete(s.links, l.Code)
	}
	if u.sessions != nil {
		for _, sess := range collect(&u.sessions.seqIndex) {
			s.forget(sess)
		}
	}
	delete(u.app.users, u.id)
	u.app.order.remove(u.seq)
	u.app.byID.Delete(u)
	s.users--
	s.slab.release(u)
}

// User returns a copy of a user.
func (s *Store) User(appID, userID string) (User, error) {
	s.mu.RLock()
	defer s.readUnlock()
	u, err := s.user(appID, userID)
	if err != nil {
		return User{}, err
	}
	return u.copy(), nil
}

// UserHasDevice reports whether the user has a usable phone (User(...).HasDevice()), without
// copying the user: a device check is among the calls clients make most.
func (s *Store) UserHasDevice(appID, userID string) (bool, error) {
	s.mu.RLock()
	defer s.readUnlock()
	u, err := s.user(appID, userID)
	if err != nil {
		return false, err
	}
	return u.phone != nil && !u.phone.Lost, nil
}

// Users lists all of an application's users, in the order they were added. Its cost grows with
// the application's users: serve lists from UsersAfter.
func (s *Store) Users(appID string) ([]User, error) {
	users, _, err := s.UsersAfter(appID, 0, -1)
	return users, err
}

// UsersAfter lists up to limit of an application's users (all when limit < 0), in the order they
// were added, starting after the user whose Seq is after (0: from the first). more reports whether
// users follow the last one returned.
func (s *Store) UsersAfter(appID string, after uint64, limit int) (users []User, more bool, err error) {
	return s.UsersBetween(appID, after, ^uint64(0), limit)
}

// UsersBetween is UsersAfter for the users whose Seq is at most upto: those of a walk that
// started when upto was the last Seq given (LastUserSeq), leaving the users added since for later.
func (s *Store) UsersBetween(appID string, after, upto uint64, limit int) (users []User, more bool, err error) {
	s.mu.RLock()
	defer s.readUnlock()
	app, err := s.app(appID)
	if err != nil {
		return nil, false, err
	}
	users = []User{}
	app.order.ascend(after, func(seq uint64, u *user) bool {
		if seq > upto {
			return false
		}
		if limit >= 0 && len(users) == limit {
			more = true
			return false
		}
		users = append(users, u.copy())
		return true
	})
	return users, more, nil
}

// LastUserSeq returns the Seq of the newest user added in any application (0 before the first):
// every user added later has a larger one.
func (s *Store) LastUserSeq() uint64 {
	s.mu.RLock()
	defer s.readUnlock()
	return s.userSeq
}

// UserCount returns how many users all applications hold together.
func (s *Store) UserCount() int {
	s.mu.RLock()
	defer s.readUnlock()
	return s.users
}

func (u *user) copy() User {
	c := User{AppID: u.app.ID, ID: u.id, Seq: u.seq, Logins: u.logins, LiveSessions: u.live.n, Links: make([]Link, len(u.links))}
	if u.phone != nil {
		p := *u.phone
		p.Methods = slices.Clone(p.Methods)
		c.Phone = &p
	}
	for i, l := range u.links {
		c.Links[i] = *l
	}
	return c
}

// NewLink hands out a registration link for a user.
func (s *Store) NewLink(appID, userID, displayName string, now time.Time) (_ Link, err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return Link{}, err
	}
	code := s.ids.LinkCode()
	s.record(fact{Op: "new_link", App: appID, User: userID, Name: displayName, Code: code, At: now})
	return s.newLink(u, displayName, code, now), nil
}

// newLink adds a link to the user, forgetting the user's oldest past Limits.MaxLinksPerUser.
func (s *Store) newLink(u *user, displayName, code string, now time.Time) Link {
	l := &Link{Code: code, AppID: u.app.ID, UserID: u.id, DisplayName: displayName, CreatedAt: now}
	if len(u.links) >= s.limits.MaxLinksPerUser {
		drop := len(u.links) - s.limits.MaxLinksPerUser + 1
		for _, old := range u.links[:drop] {
			delete(s.links, old.Code)
		}
		u.links = slices.Delete(u.links, 0, drop)
	}
	s.links[l.Code] = l
	u.links = append(u.links, l)
	return *l
}

// RegisterPhone registers a phone for a user directly, as a scenario's initial state does.
func (s *Store) RegisterPhone(appID, userID string, methods []acapi.AuthenticationMethod, now time.Time) (err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return err
	}
	s.record(fact{Op: "register_phone", App: appID, User: userID, Methods: methods, At: now})
	u.phone = &Phone{RegisteredAt: now, Methods: slices.Clone(methods)}
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
	u.phone = &Phone{RegisteredAt: now}
	return *l, nil
}

// LoseDevice disables the user's phone and hands out a new registration link. A lost phone
// approves nothing more: the user's logins that wait for it fail, and those it keeps alive close.
func (s *Store) LoseDevice(appID, userID string, now time.Time) (_ Link, err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return Link{}, err
	}
	code := s.ids.LinkCode()
	s.expireDue(now)
	s.record(fact{Op: "lose_device", App: appID, User: userID, Code: code, At: now})
	if u.phone != nil {
		u.phone.Lost = true
	}
	for sess := u.live.head; sess != nil; {
		next := sess.mine.next // the transition takes it off the list
		switch sess.Status {
		case acapi.SessionStatusPending, acapi.SessionStatusIdentifying:
			s.transition(sess, acapi.SessionStatusFailed, now, "lost device")
		case acapi.SessionStatusActive, acapi.SessionStatusWalkaway:
			s.transition(sess, acapi.SessionStatusClosed, now, "lost device")
		}
		sess = next
	}
	return s.newLink(u, "", code, now), nil
}

// SendSMS stores a registration SMS in the outbox, with a new link appended to message. A user
// with a registered phone gets ErrDeviceRegistered. The outbox keeps the last Limits.MaxOutbox
// messages.
func (s *Store) SendSMS(appID, userID, phoneNumber, displayName, message string, linkURL func(code string) string, now time.Time) (_ SMS, err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return SMS{}, err
	}
	if u.phone != nil && !u.phone.Lost {
		return SMS{}, fmt.Errorf("send sms to user %q: %w", userID, ErrDeviceRegistered)
	}
	l := s.newLink(u, displayName, s.ids.LinkCode(), now)
	link := linkURL(l.Code)
	s.record(fact{Op: "send_sms", App: appID, User: userID, Phone: phoneNumber, Name: displayName, Message: message,
		Code: l.Code, Link: link, At: now})
	msg := SMS{AppID: appID, UserID: userID, PhoneNumber: phoneNumber, Body: message + " " + link, Link: link, SentAt: now}
	if len(s.outbox) < s.limits.MaxOutbox {
		s.outbox = append(s.outbox, msg)
	} else {
		s.outbox[s.outStart] = msg
		s.outStart = (s.outStart + 1) % len(s.outbox)
	}
	return msg, nil
}

// Outbox returns the SMS kept, oldest first.
func (s *Store) Outbox() []SMS {
	s.mu.RLock()
	defer s.readUnlock()
	return s.oldestFirst()
}

// ResetApplication forgets an application's users, phones, links, sessions and messages, leaving
// other applications alone, so one test suite can start afresh while others run. Its cost is that
// of what it forgets.
func (s *Store) ResetApplication(appID string) (err error) {
	defer s.write(&err)()
	app, err := s.app(appID)
	if err != nil {
		return err
	}
	s.record(fact{Op: "reset_application", App: appID})
	for _, u := range collect(&app.order) {
		s.deleteUser(u)
	}
	app.deleted = nil
	app.order, app.sessions = seqIndex[user]{}, seqIndex[session]{}
	s.outbox, s.outStart = slices.DeleteFunc(s.oldestFirst(), func(m SMS) bool { return m.AppID == appID }), 0
	return nil
}

// oldestFirst returns the outbox in the order the messages were sent. The caller holds the lock.
func (s *Store) oldestFirst() []SMS {
	return append(slices.Clone(s.outbox[s.outStart:]), s.outbox[:s.outStart]...)
}

// Settings returns the emulator settings the store keeps (see Settings).
func (s *Store) Settings() Settings {
	s.mu.RLock()
	defer s.readUnlock()
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
