package store

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/heapq"
)

// StatusChange is one entry of a session's history.
type StatusChange struct {
	Status acapi.SessionStatus
	At     time.Time
	// Cause says what made the change: "authenticate", "scenario", "timeout", "logout", "control",
	// "lost device", "expired".
	Cause string
}

// Session is an authentication session.
type Session struct {
	// Seq orders sessions by creation; under a virtual clock many share a start time. Pages of
	// sessions start after (or before) one.
	Seq     uint64
	Token   string
	Secret  string
	AppID   string
	UserID  string
	Methods []acapi.AuthenticationMethod
	// Attempt is the user's login count when the session started, from 0.
	Attempt int
	Status  acapi.SessionStatus
	// History holds the last MaxHistory status changes, oldest first.
	History []StatusChange
	// Steps is the timeline the scenario planned at login (see Plan), kept so that a restart
	// schedules what was still to come.
	Steps []Step
}

// session is a Session as the store keeps it, linked into the lists that decide what is forgotten
// or expires first.
type session struct {
	Session
	started time.Time
	user    *user
	order   link // in sessionState.live (by start) or sessionState.finished (by end)
	mine    link // in the user's live list
	rank    int  // its place in the user's heap of live sessions of its status
	// hist holds History's first changes, and plan Steps when there are no more than two (the
	// default scenario plans a phone's answer and a timeout), so that most sessions are one object
	// for the collector (with their credentials).
	hist [2]StatusChange
	plan [2]Step
}

// setSteps makes steps the session's Steps, a copy of them, kept in the session itself when they fit.
func (sess *session) setSteps(steps []Step) {
	switch {
	case steps == nil:
		sess.Steps = nil
	case len(steps) <= len(sess.plan):
		sess.Steps = append(sess.plan[:0:len(sess.plan)], steps...)
	default:
		sess.Steps = slices.Clone(steps)
	}
}

type link struct{ prev, next *session }

// sessionList is a doubly linked list threaded through one link of its sessions, so adding,
// removing, counting and taking the oldest are O(1) and allocate nothing.
type sessionList struct {
	head, tail *session
	at         func(*session) *link
	n          int
}

func byOrder(s *session) *link { return &s.order }
func byUser(s *session) *link  { return &s.mine }

func (l *sessionList) pushBack(s *session) {
	ln := l.at(s)
	ln.prev, ln.next = l.tail, nil
	if l.tail != nil {
		l.at(l.tail).next = s
	} else {
		l.head = s
	}
	l.tail = s
	l.n++
}

func (l *sessionList) remove(s *session) {
	ln := l.at(s)
	if ln.prev == nil && ln.next == nil && l.head != s {
		return // not in the list
	}
	l.n--
	if ln.prev != nil {
		l.at(ln.prev).next = ln.next
	} else if l.head == s {
		l.head = ln.next
	}
	if ln.next != nil {
		l.at(ln.next).prev = ln.prev
	} else if l.tail == s {
		l.tail = ln.prev
	}
	ln.prev, ln.next = nil, nil
}

// userSessions indexes one user's sessions: all of them by Seq, and the live ones by status, each
// newest on top, so that the newest session that can make a change is found without looking at
// the others: a user can have as many live sessions as the store keeps.
type userSessions struct {
	seqIndex[session]
	live [len(liveStatuses)]heapq.Heap[*session, newestFirst]
}

var liveStatuses = [...]acapi.SessionStatus{acapi.SessionStatusPending, acapi.SessionStatusIdentifying,
	acapi.SessionStatusActive, acapi.SessionStatusWalkaway}

type newestFirst struct{}

func (newestFirst) Less(a, b *session) bool { return a.Seq > b.Seq }
func (newestFirst) At(s *session) *int      { return &s.rank }

func (us *userSessions) heap(status acapi.SessionStatus) *heapq.Heap[*session, newestFirst] {
	i := slices.Index(liveStatuses[:], status)
	return &us.live[i]
}

// addLive and removeLive keep a live session in the heap of its status; the caller changes the
// status only between the two.
func (us *userSessions) addLive(sess *session)    { us.heap(sess.Status).Push(sess) }
func (us *userSessions) removeLive(sess *session) { us.heap(sess.Status).Remove(sess) }

// newestFor returns the user's newest session that can become to, or nil: the newest of the tops
// of the heaps of the statuses that can make the change.
func (us *userSessions) newestFor(to acapi.SessionStatus) *session {
	var best *session
	for i, from := range liveStatuses {
		if !CanTransition(from, to) {
			continue
		}
		if top, ok := us.live[i].Min(); ok && (best == nil || top.Seq > best.Seq) {
			best = top
		}
	}
	return best
}

// sessionState indexes the sessions: by token for lookups, by creation for pages, and in two lists
// for forgetting and expiring: the live sessions by start, the finished ones by end.
type sessionState struct {
	byToken        map[string]*session
	bySeq          seqIndex[session]
	slab           slab[session]
	live, finished sessionList
	seq            uint64
}

func newSessionState() sessionState {
	return sessionState{byToken: map[string]*session{},
		live: sessionList{at: byOrder}, finished: sessionList{at: byOrder}}
}

// StartSession starts a pending session for a user with a registered phone, counting the login.
// Past Limits.MaxSessions it forgets the session that finished longest ago, or the oldest live one.
// Its cost does not depend on how many sessions there are.
func (s *Store) StartSession(appID, userID string, methods []acapi.AuthenticationMethod, now time.Time) (_ Session, err error) {
	defer s.write(&err)()
	u, err := s.user(appID, userID)
	if err != nil {
		return Session{}, err
	}
	if u.phone == nil || u.phone.Lost {
		return Session{}, fmt.Errorf("start session for %q: %w", userID, ErrNoDevice)
	}
	s.expireDue(now)
	st := &s.sessions
	st.seq++
	token, secret := s.ids.SessionToken(), s.ids.SessionSecret()
	creds := token + secret // one object for the collector to mark instead of two
	sess := st.slab.alloc()
	*sess = session{Session: Session{
		Seq:     st.seq,
		Token:   creds[:len(token)],
		Secret:  creds[len(token):],
		AppID:   u.app.ID, // the store's own strings: the caller's may pin a whole request line
		UserID:  u.id,
		Methods: distinct(methods),
		Attempt: u.logins,
		Status:  acapi.SessionStatusPending,
	}, started: now, user: u}
	s.record(fact{Op: "start_session", App: appID, User: userID, Methods: sess.Methods, Token: token, Secret: secret, At: now})
	sess.hist[0] = StatusChange{Status: acapi.SessionStatusPending, At: now, Cause: "authenticate"}
	sess.History = sess.hist[:1]
	u.logins++
	st.byToken[sess.Token] = sess
	st.bySeq.add(sess.Seq, sess)
	u.app.sessions.add(sess.Seq, sess)
	if u.sessions == nil {
		u.sessions = &userSessions{}
	}
	u.sessions.add(sess.Seq, sess)
	u.sessions.addLive(sess)
	u.live.pushBack(sess)
	st.live.pushBack(sess)
	s.forgetPastCap()
	return copySession(&sess.Session), nil
}

// forgetPastCap forgets sessions past Limits.MaxSessions: the one that finished longest ago, or
// when none has finished the oldest live one. The caller holds the write lock.
func (s *Store) forgetPastCap() {
	st := &s.sessions
	for len(st.byToken) > s.limits.MaxSessions {
		oldest := st.finished.head
		if oldest == nil {
			oldest = st.live.head
		}
		s.forget(oldest)
	}
}

// distinct keeps each method once, in order: a query string can repeat one thousands of times.
func distinct(methods []acapi.AuthenticationMethod) []acapi.AuthenticationMethod {
	var out []acapi.AuthenticationMethod
	for _, m := range methods {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// forget removes a session from every index. The caller holds the lock.
func (s *Store) forget(sess *session) {
	st := &s.sessions
	delete(st.byToken, sess.Token)
	st.bySeq.remove(sess.Seq)
	sess.user.app.sessions.remove(sess.Seq)
	sess.user.sessions.remove(sess.Seq)
	if Live(sess.Status) {
		st.live.remove(sess)
		sess.user.live.remove(sess)
		sess.user.sessions.removeLive(sess)
		if s.onDone != nil {
			s.onDone(sess.Token)
		}
	} else {
		st.finished.remove(sess)
	}
	st.slab.release(sess)
}

// expire closes the live sessions whose lifetime ended by now. They are the oldest of the live
// list, so this costs only what it closes. The caller holds the write lock.
func (s *Store) expire(now time.Time) {
	for h := s.sessions.live.head; h != nil; h = s.sessions.live.head {
		end := h.started.Add(s.limits.SessionLifetime)
		if end.After(now) {
			return
		}
		s.transition(h, acapi.SessionStatusClosed, end, "expired")
	}
}

// expireDue expires what is due by now, as a fact of its own: the method that expires may go on to
// fail, and what it expired stays expired. The caller holds the write lock.
func (s *Store) expireDue(now time.Time) {
	if s.expiryDue(now) {
		s.record(fact{Op: "expire", At: now})
		s.expire(now)
	}
}

// expiryDue reports whether a live session has outlived its lifetime. The caller holds a lock.
func (s *Store) expiryDue(now time.Time) bool {
	h := s.sessions.live.head
	return h != nil && !h.started.Add(s.limits.SessionLifetime).After(now)
}

// readLock takes the read lock, closing first the sessions whose lifetime is over, so that no read
// sees a session alive past its lifetime even when nothing has been written for a while.
func (s *Store) readLock() {
	if s.now == nil {
		s.mu.RLock()
		return
	}
	now := s.now()
	s.mu.RLock()
	if !s.expiryDue(now) {
		return
	}
	s.mu.RUnlock()
	_ = s.expireAt(now) // a failure to save it refuses the next write
	s.mu.RLock()
}

// readUnlock releases the read lock a read took. What the read saw may include changes that are
// still on their way to the disk (their writers wait for the fsync after releasing the write
// lock); with a data directory it waits for them too, so that no answer tells of a change a crash
// could still lose. When everything is on disk that costs two atomic loads. A failed write is the
// writer's to report: the store refuses every change after it.
func (s *Store) readUnlock() {
	d := s.dir
	if d == nil {
		s.mu.RUnlock()
		return
	}
	n := d.Appended()
	s.mu.RUnlock()
	if !d.Synced(n) {
		_ = d.Wait(n)
	}
}

// expireAt closes the sessions whose lifetime ended by now, as a change of its own: a read found
// them due.
func (s *Store) expireAt(now time.Time) (err error) {
	defer s.write(&err)()
	s.expireDue(now)
	return nil
}

// Session returns a copy of a session.
func (s *Store) Session(token string) (Session, error) {
	s.readLock()
	defer s.readUnlock()
	sess, ok := s.sessions.byToken[token]
	if !ok {
		return Session{}, fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	return copySession(&sess.Session), nil
}

// SessionKeys is what a request that names a session needs of it: the secret that signs it, the
// application and user it belongs to, and its status.
type SessionKeys struct {
	Secret, AppID, UserID string
	Status                acapi.SessionStatus
}

// SessionKeys returns a session's keys, without copying the history: it is on the path of every
// signed status poll, which answers the status it read here. Like every read, it closes first the
// sessions whose lifetime is over.
func (s *Store) SessionKeys(token string) (SessionKeys, error) {
	s.readLock()
	defer s.readUnlock()
	sess, ok := s.sessions.byToken[token]
	if !ok {
		return SessionKeys{}, fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	return SessionKeys{Secret: sess.Secret, AppID: sess.AppID, UserID: sess.UserID, Status: sess.Status}, nil
}

// SessionStatus returns a session's status.
func (s *Store) SessionStatus(token string) (acapi.SessionStatus, error) {
	s.readLock()
	defer s.readUnlock()
	sess, ok := s.sessions.byToken[token]
	if !ok {
		return "", fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	return sess.Status, nil
}

// SessionCount returns how many sessions the store keeps, live or finished.
func (s *Store) SessionCount() int {
	s.mu.RLock()
	defer s.readUnlock()
	return len(s.sessions.byToken)
}

// Sessions returns copies of all the sessions that keep returns true for (all when keep is nil),
// oldest first. Its cost grows with the number of sessions: serve lists from SessionsPage.
func (s *Store) Sessions(keep func(*Session) bool) []Session {
	s.readLock()
	defer s.readUnlock()
	var out []Session
	s.sessions.bySeq.ascend(0, func(_ uint64, sess *session) bool {
		if keep == nil || keep(&sess.Session) {
			out = append(out, copySession(&sess.Session))
		}
		return true
	})
	return out
}

// SessionFilter selects sessions; empty fields match every session.
type SessionFilter struct {
	AppID  string
	UserID string
	Status acapi.SessionStatus
	// Live, when set, keeps only live sessions (true) or only finished ones (false).
	Live *bool
}

func (f SessionFilter) match(s *session) bool {
	return (f.AppID == "" || f.AppID == s.AppID) && (f.UserID == "" || f.UserID == s.UserID) &&
		(f.Status == "" || f.Status == s.Status) && (f.Live == nil || *f.Live == Live(s.Status))
}

// Page says which part of a list to return.
type Page struct {
	// After starts an oldest-first page after the item whose Seq is After (0: from the oldest).
	After uint64
	// Newest asks for newest first, starting before the item whose Seq is Before (0: from the
	// newest).
	Newest bool
	Before uint64
	// Limit is the most items returned (at least 1).
	Limit int
}

// MaxScan bounds how many sessions one SessionsPage call looks at, so that a filter that matches
// few sessions cannot make a call slow; the page then comes back short, with a cursor to go on.
const MaxScan = 10_000

// SessionsPage returns up to p.Limit sessions matching f, and next: the Seq to pass as After (or
// Before, newest first) for the following page, or 0 when nothing follows. It looks at no more
// than p.Limit+MaxScan sessions, through the narrowest index the filter allows.
func (s *Store) SessionsPage(f SessionFilter, p Page) (page []Session, next uint64) {
	s.readLock()
	defer s.readUnlock()
	page = []Session{}
	idx := s.sessionIndex(f)
	if idx == nil {
		return page, 0
	}
	limit, scanned, last := max(p.Limit, 1), 0, uint64(0)
	visit := func(seq uint64, sess *session) bool {
		if len(page) == limit || scanned == limit+MaxScan {
			next = last // more may follow: go on from the last session looked at
			return false
		}
		scanned++
		last = seq
		if f.match(sess) {
			page = append(page, copySession(&sess.Session))
		}
		return true
	}
	if p.Newest {
		idx.descend(p.Before, visit)
	} else {
		idx.ascend(p.After, visit)
	}
	return page, next
}

// sessionIndex picks the narrowest index of the sessions f can match, or nil when none can.
func (s *Store) sessionIndex(f SessionFilter) *seqIndex[session] {
	switch {
	case f.AppID != "" && f.UserID != "":
		u, err := s.user(f.AppID, f.UserID)
		if err != nil || u.sessions == nil {
			return nil
		}
		return &u.sessions.seqIndex
	case f.AppID != "":
		app, err := s.app(f.AppID)
		if err != nil {
			return nil
		}
		return &app.sessions
	case f.UserID != "":
		// Usually one application has the user: use its index; else scan them all.
		var found *user
		for _, app := range s.apps {
			if u, ok := app.users[f.UserID]; ok {
				if found != nil {
					return &s.sessions.bySeq
				}
				found = u
			}
		}
		if found == nil || found.sessions == nil {
			return nil
		}
		return &found.sessions.seqIndex
	}
	return &s.sessions.bySeq
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
	s.expireDue(now)
	sess, ok := s.sessions.byToken[token]
	if !ok {
		return Session{}, fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	if !CanTransition(sess.Status, to) {
		return copySession(&sess.Session), fmt.Errorf("session %s is %s, cannot become %s: %w", token, sess.Status, to, ErrBadTransition)
	}
	s.record(fact{Op: "transition", Token: token, Status: to, At: now, Cause: cause})
	s.transition(sess, to, now, cause)
	return copySession(&sess.Session), nil
}

// UserSessions sums up a user's sessions for a message: how many there are and the statuses of
// the newest, newest first.
type UserSessions struct {
	// Known is false when no application (or not the one named) has the user.
	Known  bool
	Count  int
	Newest []acapi.SessionStatus
}

// TransitionNewest makes the change, as Transition does, on the user's newest session that can
// make it: of application appID, or of any application when appID is "". When none can, the
// error is ErrBadTransition (the user has sessions), ErrSessionNotFound (it has none yet) or
// ErrUserNotFound, and the summary gives the number of the user's sessions and the statuses of
// its newest, at most listed of them. Its cost does not depend on how many sessions the user has.
func (s *Store) TransitionNewest(appID, userID string, to acapi.SessionStatus, now time.Time, cause string, listed int) (_ Session, sum UserSessions, err error) {
	defer s.write(&err)()
	s.expireDue(now)
	var users []*user
	if appID != "" {
		if u, err := s.user(appID, userID); err == nil {
			users = append(users, u)
		}
	} else {
		for _, id := range s.appIDs {
			if u, ok := s.apps[id].users[userID]; ok {
				users = append(users, u)
			}
		}
	}
	if len(users) == 0 {
		return Session{}, sum, fmt.Errorf("user %q: %w", userID, ErrUserNotFound)
	}
	sum.Known = true
	var best *session
	for _, u := range users {
		if u.sessions == nil {
			continue
		}
		if c := u.sessions.newestFor(to); c != nil && (best == nil || c.Seq > best.Seq) {
			best = c
		}
	}
	if best != nil {
		s.record(fact{Op: "transition", Token: best.Token, Status: to, At: now, Cause: cause})
		s.transition(best, to, now, cause)
		return copySession(&best.Session), sum, nil
	}
	// The newest listed of each application's, merged.
	var newest []*session
	for _, u := range users {
		if u.sessions == nil {
			continue
		}
		sum.Count += u.sessions.len()
		if listed <= 0 {
			continue
		}
		n := 0
		u.sessions.descend(0, func(_ uint64, sess *session) bool {
			newest = append(newest, sess)
			n++
			return n < listed
		})
	}
	slices.SortFunc(newest, func(a, b *session) int { return cmp.Compare(b.Seq, a.Seq) })
	for _, sess := range newest[:min(len(newest), listed)] {
		sum.Newest = append(sum.Newest, sess.Status)
	}
	if sum.Count == 0 {
		return Session{}, sum, fmt.Errorf("user %q has no session: %w", userID, ErrSessionNotFound)
	}
	return Session{}, sum, fmt.Errorf("no session of user %q can become %s: %w", userID, to, ErrBadTransition)
}

// transition records a change the caller has checked; a session that stops being live moves to the
// finished list. The caller holds the write lock. A history runs forward: callers read the time
// before they take the lock, so a change that comes second may carry a time a little earlier
// than the one before it, and then takes that one's time.
func (s *Store) transition(sess *session, to acapi.SessionStatus, now time.Time, cause string) {
	if last := sess.History[len(sess.History)-1].At; now.Before(last) {
		now = last
	}
	wasLive := Live(sess.Status)
	if wasLive {
		sess.user.sessions.removeLive(sess)
	}
	sess.Status = to
	if Live(to) {
		sess.user.sessions.addLive(sess)
	}
	if len(sess.History) >= MaxHistory {
		sess.History = slices.Delete(sess.History, 0, len(sess.History)-MaxHistory+1)
	}
	sess.History = append(sess.History, StatusChange{Status: to, At: now, Cause: cause})
	if wasLive && !Live(to) {
		s.sessions.live.remove(sess)
		sess.user.live.remove(sess)
		s.sessions.finished.pushBack(sess)
		if s.onDone != nil {
			s.onDone(sess.Token)
		}
	}
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
	sess, ok := s.sessions.byToken[token]
	if !ok {
		return fmt.Errorf("session %s: %w", token, ErrSessionNotFound)
	}
	s.record(fact{Op: "plan", Token: token, Steps: steps})
	sess.setSteps(steps)
	return nil
}

// FireStep marks the i-th planned step of a session done and makes its change at now when the
// session can still make it (a timeout only ends a pending or identifying session), in one change.
// It reports whether the status changed.
func (s *Store) FireStep(token string, i int, now time.Time) (changed bool, err error) {
	defer s.write(&err)()
	s.expireDue(now)
	sess, ok := s.sessions.byToken[token]
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
