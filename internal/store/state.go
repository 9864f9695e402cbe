package store

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
)

// StateFormat and StateVersion identify a snapshot. The version goes up when the format changes;
// a snapshot of a version this build does not know is refused.
const (
	StateFormat  = "acmock-state"
	StateVersion = 1
)

// ErrBadState is matched (errors.Is) by the errors of a snapshot that cannot be loaded, which are
// *StateError.
var ErrBadState = errors.New("bad state snapshot")

// StateError is what is wrong with a snapshot.
type StateError struct {
	// Field is the JSON path of the field at fault, e.g. sessions[3].status ("" for the document).
	Field string
	Msg   string
}

func (e *StateError) Error() string {
	if e.Field == "" {
		return ErrBadState.Error() + ": " + e.Msg
	}
	return ErrBadState.Error() + ": " + e.Field + ": " + e.Msg
}

// Is makes errors.Is(err, ErrBadState) true.
func (e *StateError) Is(target error) bool { return target == ErrBadState }

// State is a snapshot of everything the store holds, in the JSON of GET /_acmock/state (described
// in api/control.yaml), which is also the snapshot file of a data directory. Loading a snapshot
// rebuilds the store exactly, its orders included: users and sessions keep their sequence numbers
// (so the cursors of pages stay good), sessions are listed in the order they would be forgotten
// past the cap, and the counters go on from where they were.
type State struct {
	Format       string         `json:"format"`
	Version      int            `json:"version"`
	Clock        ClockState     `json:"clock"`
	WallClock    WallClockState `json:"wall_clock"`
	Sequences    *SeqState      `json:"sequences,omitempty"`
	Applications []AppState     `json:"applications"`
	Sessions     []SessionState `json:"sessions"`
	Outbox       []SMSState     `json:"outbox"`
}

// ClockState is the time timelines ran on when the snapshot was taken.
type ClockState struct {
	Now time.Time `json:"now"`
}

// WallClockState is the signature-check settings: the shift added to real time and the skew allowed.
type WallClockState struct {
	Shift   string `json:"shift"`
	MaxSkew string `json:"max_skew"`
}

// SeqState is the last sequence number handed out to a user and to a session; the next ones
// follow. Absent, they follow the largest in the snapshot.
type SeqState struct {
	Users    uint64 `json:"users"`
	Sessions uint64 `json:"sessions"`
}

// AppState is an application with its users, in the order they were added.
type AppState struct {
	ID     string      `json:"id"`
	Secret string      `json:"secret"`
	Users  []UserState `json:"users"`
	// Deleted are users deleted at run time that a scenario reload must not add back (see
	// Store.DeleteUsers), sorted.
	Deleted []string `json:"deleted,omitempty"`
}

// UserState is a user with their phone and links (oldest first).
type UserState struct {
	ID string `json:"id"`
	// Seq orders users by creation across applications; absent (0), it is given in the order of
	// the snapshot after the largest one.
	Seq    uint64      `json:"seq,omitempty"`
	Logins int         `json:"logins"`
	Phone  *PhoneState `json:"phone,omitempty"`
	Links  []LinkState `json:"links"`
}

// PhoneState is a registered phone.
type PhoneState struct {
	RegisteredAt time.Time                    `json:"registered_at"`
	Methods      []acapi.AuthenticationMethod `json:"methods,omitempty"`
	Lost         bool                         `json:"lost"`
}

// LinkState is a registration link.
type LinkState struct {
	Code        string     `json:"code"`
	DisplayName string     `json:"display_name,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UsedAt      *time.Time `json:"used_at,omitempty"`
}

// SessionState is a session with its history and planned steps.
type SessionState struct {
	// Seq orders sessions by creation; absent (0), it is given in the order of the snapshot after
	// the largest one.
	Seq    uint64 `json:"seq,omitempty"`
	Token  string `json:"token"`
	Secret string `json:"secret"`
	AppID  string `json:"application"`
	UserID string `json:"user"`
	// Started is when the session started, which its lifetime counts from; absent, the time of
	// the first change of its history.
	Started *time.Time                   `json:"started,omitempty"`
	Methods []acapi.AuthenticationMethod `json:"methods,omitempty"`
	Attempt int                          `json:"attempt"`
	Status  acapi.SessionStatus          `json:"status"`
	History []ChangeState                `json:"history"`
	Steps   []Step                       `json:"steps,omitempty"`
}

// ChangeState is one entry of a session's history.
type ChangeState struct {
	Status acapi.SessionStatus `json:"status"`
	At     time.Time           `json:"at"`
	Cause  string              `json:"cause"`
}

// SMSState is a message of the outbox.
type SMSState struct {
	AppID       string    `json:"application"`
	UserID      string    `json:"user"`
	PhoneNumber string    `json:"phone_number"`
	Body        string    `json:"body"`
	Link        string    `json:"link"`
	SentAt      time.Time `json:"sent_at"`
}

// ParseState reads a snapshot and checks it whole against the limits: a snapshot that ParseState
// accepts loads. The fields only a data directory's snapshot file has are ignored.
func ParseState(data []byte, l Limits) (*State, error) {
	ds, err := decodeSnapshot(data)
	if err != nil {
		return nil, err
	}
	if err := ds.State.check(l.withDefaults(), false); err != nil {
		return nil, err
	}
	return &ds.State, nil
}

// dirSnapshot is the snapshot file of a data directory: a State, the checksum and the generation
// of the log that follows it (package durable adds them) and the limits the store kept when it was written, which
// its log was written under too.
type dirSnapshot struct {
	Checksum   string       `json:"crc32c,omitempty"` // package durable checks and removes it; a copied file may have it
	Generation uint64       `json:"log_generation,omitempty"`
	Limits     *limitsState `json:"limits,omitempty"`
	State
}

type limitsState struct {
	MaxSessions     int    `json:"max_sessions"`
	SessionLifetime string `json:"session_lifetime"`
	MaxUsers        int    `json:"max_users"`
	MaxApplications int    `json:"max_applications"`
	MaxLinksPerUser int    `json:"max_links_per_user"`
	MaxOutbox       int    `json:"max_outbox"`
}

func limitsStateOf(l Limits) *limitsState {
	return &limitsState{MaxSessions: l.MaxSessions, SessionLifetime: l.SessionLifetime.String(), MaxUsers: l.MaxUsers,
		MaxApplications: l.MaxApplications, MaxLinksPerUser: l.MaxLinksPerUser, MaxOutbox: l.MaxOutbox}
}

// limits returns the limits; a field that is missing or not understood is the default.
func (ls *limitsState) limits() Limits {
	d, _ := time.ParseDuration(ls.SessionLifetime)
	return Limits{MaxSessions: ls.MaxSessions, SessionLifetime: d, MaxUsers: ls.MaxUsers,
		MaxApplications: ls.MaxApplications, MaxLinksPerUser: ls.MaxLinksPerUser, MaxOutbox: ls.MaxOutbox}.withDefaults()
}

func decodeSnapshot(data []byte) (*dirSnapshot, error) {
	var ds dirSnapshot
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ds); err != nil {
		return nil, &StateError{Msg: "not a snapshot: " + err.Error()}
	}
	return &ds, nil
}

// The lengths, in characters, the APIs allow for what a snapshot holds: an application's ID and
// secret (POST /_acmock/applications), a user ID (the API's UserId) and a link's display name
// (device_registration_link). Session tokens, session secrets and link codes are acmock's own
// (32 or 24 characters); a snapshot may hold others of up to IDLength characters.
const (
	AppIDLength       = 128
	SecretLength      = 128
	UserIDLength      = 256
	DisplayNameLength = 256
	IDLength          = 128
)

// Times a snapshot holds must lie between EarliestTime and LatestTime: from the Unix epoch (the
// HMAC timestamps count from it) to the last second JSON's RFC 3339 times can write. A time
// outside (year 1, the zero time) is a mistake, and would move a virtual clock there.
var (
	EarliestTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	LatestTime   = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// textProblem says what is wrong with an ID or text of min (0 or 1) to max characters ("" when
// nothing).
func textProblem(v string, min, max int) string {
	n := utf8.RuneCountInString(v)
	switch {
	case n < min:
		return "is empty"
	case n > max:
		return fmt.Sprintf("holds %d characters, more than the %d the API allows", n, max)
	}
	return ""
}

// clientIDProblem adds to textProblem what a session token cannot hold: it is the client ID that
// signs status and logout calls, and the Authentication header (hmac ID:nonce:signature) cannot
// carry one with a colon, a space or a control character.
func clientIDProblem(v string) string {
	if p := textProblem(v, 1, IDLength); p != "" {
		return p
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		return fmt.Sprintf("holds %q, which a client ID cannot (it signs requests as hmac ID:nonce:signature)", r)
	}
	return ""
}

// timeProblem says what is wrong with a time of a snapshot ("" when nothing).
func timeProblem(t time.Time) string {
	if t.Before(EarliestTime) || t.After(LatestTime) {
		return fmt.Sprintf("%s is not between %s and %s", t.Format(time.RFC3339), EarliestTime.Format(time.RFC3339), LatestTime.Format(time.RFC3339))
	}
	return ""
}

// Check reports the first thing wrong with the snapshot, naming the field, including anything
// past the limits (zero fields of l are the defaults). It applies the checks the APIs apply to the
// same data (see AppIDLength and the others, EarliestTime), and accepts only histories the
// session state machine can make: they start pending (unless they are full, MaxHistory changes,
// and lost their first ones), every change is one CanTransition allows, made no earlier than the
// one before it, and a step marked done made its change.
func (st *State) Check(l Limits) error {
	return st.check(l.withDefaults(), false)
}

func (st *State) check(l Limits, own bool) error {
	bad := func(field, format string, args ...any) error {
		for i, a := range args { // what the snapshot says is quoted in part, like all client input
			if s, ok := a.(string); ok {
				args[i] = clip.Input(s)
			}
		}
		return &StateError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if st.Format != StateFormat {
		return bad("format", "must be %q, not %q", StateFormat, st.Format)
	}
	if st.Version != StateVersion {
		return bad("version", "this acmock reads version %d, not %d", StateVersion, st.Version)
	}
	for _, f := range []struct{ name, v string }{{"wall_clock.shift", st.WallClock.Shift}, {"wall_clock.max_skew", st.WallClock.MaxSkew}} {
		if _, err := time.ParseDuration(f.v); err != nil {
			return bad(f.name, "must be a Go duration such as 0s or 5m0s, not %q", f.v)
		}
	}
	if d, _ := time.ParseDuration(st.WallClock.MaxSkew); d < time.Second {
		return bad("wall_clock.max_skew", "must be at least 1s, not %s", st.WallClock.MaxSkew)
	}
	// The zero time is no time: a store whose clock time was never saved (a real clock) has none,
	// and a virtual clock keeps its own time on import.
	if p := timeProblem(st.Clock.Now); p != "" && !st.Clock.Now.IsZero() {
		return bad("clock.now", "%s", p)
	}
	if !own && len(st.Applications) > l.MaxApplications {
		return bad("applications", "holds %d applications, more than the limit of %d", len(st.Applications), l.MaxApplications)
	}
	var maxUserSeq, maxSessionSeq uint64
	userSeqs := map[uint64]bool{}
	users := map[[2]string]bool{}
	apps := map[string]bool{}
	links := map[string]bool{}
	logins := map[[2]string]int{}
	nUsers, nDeleted := 0, 0
	for i, a := range st.Applications {
		at := fmt.Sprintf("applications[%d]", i)
		if p := textProblem(a.ID, 1, AppIDLength); p != "" {
			return bad(at+".id", "%s", p)
		}
		if p := textProblem(a.Secret, 1, SecretLength); p != "" {
			return bad(at+".secret", "%s", p)
		}
		switch {
		case apps[a.ID]:
			return bad(at+".id", "application %s appears twice", a.ID)
		}
		apps[a.ID] = true
		var prev uint64
		for j, u := range a.Users {
			ut := fmt.Sprintf("%s.users[%d]", at, j)
			if nUsers++; nUsers > l.MaxUsers {
				return bad(ut, "is past the limit of %d users, all applications together", l.MaxUsers)
			}
			if p := textProblem(u.ID, 1, UserIDLength); p != "" {
				return bad(ut+".id", "%s", p)
			}
			switch {
			case users[[2]string{a.ID, u.ID}]:
				return bad(ut+".id", "user %q appears twice in application %s", u.ID, a.ID)
			case u.Logins < 0:
				return bad(ut+".logins", "is negative")
			case u.Seq != 0 && userSeqs[u.Seq]:
				return bad(ut+".seq", "%d is another user's", u.Seq)
			case u.Seq != 0 && u.Seq <= prev:
				return bad(ut+".seq", "%d comes after %d: an application's users are listed in the order they were added", u.Seq, prev)
			case len(u.Links) > l.MaxLinksPerUser:
				return bad(ut+".links", "holds %d links, more than the limit of %d a user keeps", len(u.Links), l.MaxLinksPerUser)
			}
			if u.Seq != 0 {
				userSeqs[u.Seq], prev, maxUserSeq = true, u.Seq, max(maxUserSeq, u.Seq)
			}
			users[[2]string{a.ID, u.ID}] = true
			logins[[2]string{a.ID, u.ID}] = u.Logins
			if u.Phone != nil {
				if p := timeProblem(u.Phone.RegisteredAt); p != "" {
					return bad(ut+".phone.registered_at", "%s", p)
				}
				for k, m := range u.Phone.Methods {
					if !m.Valid() {
						return bad(fmt.Sprintf("%s.phone.methods[%d]", ut, k), "unknown method %q", string(m))
					}
				}
			}
			for k, l := range u.Links {
				lt := fmt.Sprintf("%s.links[%d]", ut, k)
				if p := textProblem(l.Code, 1, IDLength); p != "" {
					return bad(lt+".code", "%s", p)
				}
				if p := textProblem(l.DisplayName, 0, DisplayNameLength); p != "" {
					return bad(lt+".display_name", "%s", p)
				}
				if p := timeProblem(l.CreatedAt); p != "" {
					return bad(lt+".created_at", "%s", p)
				}
				if l.UsedAt != nil {
					if p := timeProblem(*l.UsedAt); p != "" {
						return bad(lt+".used_at", "%s", p)
					}
				}
				if links[l.Code] {
					return bad(lt+".code", "link %s appears twice", l.Code)
				}
				links[l.Code] = true
			}
		}
		for j, id := range a.Deleted {
			dt := fmt.Sprintf("%s.deleted[%d]", at, j)
			if nDeleted++; nDeleted > l.MaxUsers {
				return bad(dt, "is past the limit of %d deleted users remembered, all applications together", l.MaxUsers)
			}
			if p := textProblem(id, 1, UserIDLength); p != "" {
				return bad(dt, "%s", p)
			}
			switch {
			case users[[2]string{a.ID, id}]:
				return bad(dt, "user %q is in the application's users: a user is there or deleted, not both", id)
			case j > 0 && id <= a.Deleted[j-1]:
				return bad(dt, "%q comes after %q: deleted users are sorted, each once", id, a.Deleted[j-1])
			}
		}
	}
	if len(st.Sessions) > l.MaxSessions {
		return bad("sessions", "holds %d sessions, more than the limit of %d", len(st.Sessions), l.MaxSessions)
	}
	tokens := map[string]bool{}
	sessionSeqs := map[uint64]bool{}
	for i, s := range st.Sessions {
		at := fmt.Sprintf("sessions[%d]", i)
		if p := clientIDProblem(s.Token); p != "" {
			return bad(at+".token", "%s", p)
		}
		if p := textProblem(s.Secret, 1, IDLength); p != "" {
			return bad(at+".secret", "%s", p)
		}
		switch {
		case tokens[s.Token]:
			return bad(at+".token", "session %s appears twice", s.Token)
		case s.Seq != 0 && sessionSeqs[s.Seq]:
			return bad(at+".seq", "%d is another session's", s.Seq)
		case !users[[2]string{s.AppID, s.UserID}]:
			return bad(at+".user", "application %q has no user %q in the snapshot", s.AppID, s.UserID)
		case !s.Status.Valid():
			return bad(at+".status", "unknown status %q", s.Status)
		case len(s.History) == 0:
			return bad(at+".history", "is empty: a session starts pending")
		case len(s.History) > MaxHistory:
			return bad(at+".history", "holds %d changes, more than the %d a session keeps", len(s.History), MaxHistory)
		case s.History[len(s.History)-1].Status != s.Status:
			return bad(at+".history", "ends with %s but the session is %s", s.History[len(s.History)-1].Status, s.Status)
		case s.Attempt < 0:
			return bad(at+".attempt", "is negative")
		case s.Attempt >= logins[[2]string{s.AppID, s.UserID}]:
			return bad(at+".attempt", "is %d, but user %q has %d logins: a session's attempt counts the user's logins before it",
				s.Attempt, s.UserID, logins[[2]string{s.AppID, s.UserID}])
		}
		if err := checkHistory(at, &s, own); err != nil {
			return err
		}
		tokens[s.Token] = true
		if s.Seq != 0 {
			sessionSeqs[s.Seq], maxSessionSeq = true, max(maxSessionSeq, s.Seq)
		}
		for k, m := range s.Methods {
			if !m.Valid() {
				return bad(fmt.Sprintf("%s.methods[%d]", at, k), "unknown method %q", string(m))
			}
		}
	}
	if len(st.Outbox) > l.MaxOutbox {
		return bad("outbox", "holds %d messages, more than the limit of %d", len(st.Outbox), l.MaxOutbox)
	}
	for i, m := range st.Outbox {
		if !users[[2]string{m.AppID, m.UserID}] && !apps[m.AppID] {
			return bad(fmt.Sprintf("outbox[%d].application", i), "no application %q in the snapshot", m.AppID)
		}
		if p := timeProblem(m.SentAt); p != "" {
			return bad(fmt.Sprintf("outbox[%d].sent_at", i), "%s", p)
		}
	}
	if q := st.Sequences; q != nil {
		if q.Users < maxUserSeq {
			return bad("sequences.users", "%d is below a user's seq, %d", q.Users, maxUserSeq)
		}
		if q.Sessions < maxSessionSeq {
			return bad("sequences.sessions", "%d is below a session's seq, %d", q.Sessions, maxSessionSeq)
		}
	}
	return nil
}

// checkHistory checks a session's history and steps against what the state machine can make (see
// Check). at names the session. A data directory's own snapshot (own) may hold changes a few
// microseconds out of order, which stores written before changes were kept in order could make.
func checkHistory(at string, s *SessionState, own bool) error {
	bad := func(field, format string, args ...any) error {
		return &StateError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if s.Started != nil {
		if p := timeProblem(*s.Started); p != "" {
			return bad(at+".started", "%s", p)
		}
		if s.History[0].At.Before(*s.Started) {
			return bad(at+".history[0].at", "%s is before the session started (%s)", s.History[0].At.Format(time.RFC3339Nano), s.Started.Format(time.RFC3339Nano))
		}
	}
	if len(s.History) < MaxHistory && s.History[0].Status != acapi.SessionStatusPending {
		return bad(at+".history[0].status", "is %s: a session starts pending (only a full history, %d changes, has lost its first ones)", s.History[0].Status, MaxHistory)
	}
	for k, h := range s.History {
		ht := fmt.Sprintf("%s.history[%d]", at, k)
		if !h.Status.Valid() {
			return bad(ht+".status", "unknown status %q", h.Status)
		}
		if p := timeProblem(h.At); p != "" {
			return bad(ht+".at", "%s", p)
		}
		if k == 0 {
			continue
		}
		prev := s.History[k-1]
		if !CanTransition(prev.Status, h.Status) {
			return bad(ht+".status", "a session that is %s cannot become %s", prev.Status, h.Status)
		}
		if !own && h.At.Before(prev.At) {
			return bad(ht+".at", "%s is before the change before it (%s): a history runs forward", h.At.Format(time.RFC3339Nano), prev.At.Format(time.RFC3339Nano))
		}
	}
	timeouts := 0
	for k, step := range s.Steps {
		st := fmt.Sprintf("%s.steps[%d]", at, k)
		switch {
		case !step.Status.Valid():
			return bad(st+".status", "unknown status %q", step.Status)
		case step.Status == acapi.SessionStatusPending:
			return bad(st+".status", "is pending: a step cannot go back to pending")
		}
		if p := timeProblem(step.Due); p != "" {
			return bad(st+".due", "%s", p)
		}
		if step.Timeout {
			if timeouts++; timeouts > 1 {
				return bad(st+".timeout", "a session has one timeout, and this is its second")
			}
		}
		if !step.Done {
			continue
		}
		switch {
		case step.Timeout && (s.Status == acapi.SessionStatusPending || s.Status == acapi.SessionStatusIdentifying):
			return bad(st+".done", "the timeout fired, so the session timed out, but it is %s", s.Status)
		case !step.Timeout && s.Status == acapi.SessionStatusPending:
			return bad(st+".done", "a step to %s fired, so the session left pending, but it is still pending", step.Status)
		}
	}
	return nil
}

// Summary counts what a snapshot holds.
func (st *State) Summary() (apps, users, sessions, messages int) {
	for _, a := range st.Applications {
		users += len(a.Users)
	}
	return len(st.Applications), users, len(st.Sessions), len(st.Outbox)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromPtr(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// exportLocked builds the snapshot; the caller holds a lock. Its cost is that of the state.
func (s *Store) exportLocked() *State {
	st := &State{Format: StateFormat, Version: StateVersion, Clock: ClockState{Now: s.settings.ClockNow},
		WallClock:    WallClockState{Shift: s.settings.Shift.String(), MaxSkew: s.settings.MaxSkew.String()},
		Sequences:    &SeqState{Users: s.userSeq, Sessions: s.sessions.seq},
		Applications: make([]AppState, 0, len(s.appIDs)), Sessions: make([]SessionState, 0, len(s.sessions.byToken)),
		Outbox: []SMSState{}}
	for _, id := range s.appIDs {
		app := s.apps[id]
		as := AppState{ID: app.ID, Secret: app.Secret, Users: make([]UserState, 0, app.order.len())}
		if len(app.deleted) > 0 {
			as.Deleted = slices.Sorted(maps.Keys(app.deleted))
		}
		app.order.ascend(0, func(_ uint64, u *user) bool {
			us := UserState{ID: u.id, Seq: u.seq, Logins: u.logins, Links: make([]LinkState, 0, len(u.links))}
			if u.phone != nil {
				us.Phone = &PhoneState{RegisteredAt: u.phone.RegisteredAt, Methods: slices.Clone(u.phone.Methods), Lost: u.phone.Lost}
			}
			for _, l := range u.links {
				us.Links = append(us.Links, LinkState{Code: l.Code, DisplayName: l.DisplayName, CreatedAt: l.CreatedAt, UsedAt: timePtr(l.UsedAt)})
			}
			as.Users = append(as.Users, us)
			return true
		})
		st.Applications = append(st.Applications, as)
	}
	// In the order they would be forgotten: the finished ones by the time they finished, then the
	// live ones by start.
	for _, list := range []*sessionList{&s.sessions.finished, &s.sessions.live} {
		for sess := list.head; sess != nil; sess = sess.order.next {
			started := sess.started
			ss := SessionState{Seq: sess.Seq, Token: sess.Token, Secret: sess.Secret, AppID: sess.AppID, UserID: sess.UserID,
				Started: &started, Methods: slices.Clone(sess.Methods), Attempt: sess.Attempt, Status: sess.Status,
				History: make([]ChangeState, len(sess.History)), Steps: slices.Clone(sess.Steps)}
			for i, h := range sess.History {
				ss.History[i] = ChangeState(h)
			}
			st.Sessions = append(st.Sessions, ss)
		}
	}
	for _, m := range s.oldestFirst() {
		st.Outbox = append(st.Outbox, SMSState(m))
	}
	return st
}

// Export returns a snapshot of the whole state.
func (s *Store) Export() *State {
	s.readLock()
	defer s.readUnlock()
	return s.exportLocked()
}

// loadLocked replaces the state with a checked snapshot; the caller holds the write lock.
func (s *Store) loadLocked(st *State) {
	s.resetLocked()
	shift, _ := time.ParseDuration(st.WallClock.Shift)
	skew, _ := time.ParseDuration(st.WallClock.MaxSkew)
	s.settings = Settings{ClockNow: st.Clock.Now, Shift: shift, MaxSkew: skew}
	s.userSeq, s.sessions.seq = 0, 0
	if st.Sequences != nil {
		s.userSeq, s.sessions.seq = st.Sequences.Users, st.Sequences.Sessions
	}
	// Users and sessions without a sequence number get one after the largest given.
	for _, a := range st.Applications {
		for _, us := range a.Users {
			s.userSeq = max(s.userSeq, us.Seq)
		}
	}
	for _, ss := range st.Sessions {
		s.sessions.seq = max(s.sessions.seq, ss.Seq)
	}
	for _, a := range st.Applications {
		app := s.putApplication(a.ID, a.Secret) // checked: no duplicates
		for _, id := range a.Deleted {
			if app.deleted == nil {
				app.deleted = make(map[string]struct{}, len(a.Deleted))
			}
			app.deleted[id] = struct{}{}
		}
		added := make([]*user, 0, len(a.Users))
		for _, us := range a.Users {
			seq := us.Seq
			if seq == 0 {
				s.userSeq++
				seq = s.userSeq
			}
			u := s.slab.alloc()
			*u = user{id: us.ID, seq: seq, app: app, logins: us.Logins, live: sessionList{at: byUser}}
			if us.Phone != nil {
				u.phone = &Phone{RegisteredAt: us.Phone.RegisteredAt, Methods: slices.Clone(us.Phone.Methods), Lost: us.Phone.Lost}
			}
			for _, ls := range us.Links {
				l := &Link{Code: ls.Code, AppID: a.ID, UserID: us.ID, DisplayName: ls.DisplayName, CreatedAt: ls.CreatedAt, UsedAt: fromPtr(ls.UsedAt)}
				u.links = append(u.links, l)
				s.links[l.Code] = l
			}
			app.users[us.ID] = u
			app.byID.ReplaceOrInsert(u)
			added = append(added, u)
		}
		// Listed in order (checked), but those given a number here come last.
		slices.SortFunc(added, func(a, b *user) int { return cmp.Compare(a.seq, b.seq) })
		for _, u := range added {
			app.order.add(u.seq, u)
		}
		s.users += len(a.Users)
	}
	sessions := make([]*session, 0, len(st.Sessions))
	var live []*session
	for _, ss := range st.Sessions {
		u := s.apps[ss.AppID].users[ss.UserID]
		seq := ss.Seq
		if seq == 0 {
			s.sessions.seq++
			seq = s.sessions.seq
		}
		creds := ss.Token + ss.Secret
		sess := s.sessions.slab.alloc()
		*sess = session{Session: Session{Seq: seq, Token: creds[:len(ss.Token)], Secret: creds[len(ss.Token):],
			AppID: u.app.ID, UserID: u.id, Methods: slices.Clone(ss.Methods), Attempt: ss.Attempt, Status: ss.Status},
			user: u}
		sess.setSteps(ss.Steps)
		if ss.Started != nil {
			sess.started = *ss.Started
		} else {
			sess.started = ss.History[0].At
		}
		if len(ss.History) <= len(sess.hist) {
			sess.History = sess.hist[:len(ss.History)]
		} else {
			sess.History = make([]StatusChange, len(ss.History))
		}
		for i, h := range ss.History {
			sess.History[i] = StatusChange(h)
		}
		s.sessions.byToken[sess.Token] = sess
		sessions = append(sessions, sess)
		if Live(sess.Status) {
			live = append(live, sess)
		} else {
			s.sessions.finished.pushBack(sess)
		}
	}
	// The indexes take sessions in the order they started; so do the live lists.
	bySeq := func(a, b *session) int { return cmp.Compare(a.Seq, b.Seq) }
	slices.SortFunc(sessions, bySeq)
	for _, sess := range sessions {
		u := sess.user
		s.sessions.bySeq.add(sess.Seq, sess)
		u.app.sessions.add(sess.Seq, sess)
		if u.sessions == nil {
			u.sessions = &userSessions{}
		}
		u.sessions.add(sess.Seq, sess)
	}
	slices.SortFunc(live, bySeq)
	for _, sess := range live {
		s.sessions.live.pushBack(sess)
		sess.user.live.pushBack(sess)
		sess.user.sessions.addLive(sess)
	}
	for _, m := range st.Outbox {
		s.outbox = append(s.outbox, SMS(m))
	}
}

// Import replaces the whole state with a snapshot, after checking all of it against the store's
// limits: a snapshot with a problem changes nothing. With a data directory the new state is on
// disk before it replaces the one in memory: when it cannot be written (an error wrapping
// ErrStorage, after which the store refuses every change, as after any failed write) nothing
// changes either.
func (s *Store) Import(st *State) (err error) {
	if err := st.Check(s.limits); err != nil {
		return err
	}
	defer s.write(&err)()
	if s.failed != nil {
		return nil // write answers the failure; nothing is loaded
	}
	if s.dir != nil {
		// The snapshot the directory gets is the one the store would export once loaded: build
		// that aside, write it, and only then load it here.
		next := New(s.ids, WithLimits(s.limits))
		next.loadLocked(st)
		data, err := json.Marshal(dirSnapshot{Limits: limitsStateOf(s.limits), State: *next.exportLocked()})
		if err != nil {
			return fmt.Errorf("encode snapshot: %w", err)
		}
		if err := s.dir.Compact(data); err != nil {
			s.failed = fmt.Errorf("%w: %v", ErrStorage, err)
			return nil // write answers the failure
		}
	}
	s.loadLocked(st)
	return nil
}
