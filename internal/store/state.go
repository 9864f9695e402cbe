package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/acmock/acmock/generated/acapi"
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
// in api/control.yaml), which is also the snapshot file of a data directory.
type State struct {
	Format       string         `json:"format"`
	Version      int            `json:"version"`
	Clock        ClockState     `json:"clock"`
	WallClock    WallClockState `json:"wall_clock"`
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

// AppState is an application with its users.
type AppState struct {
	ID     string      `json:"id"`
	Secret string      `json:"secret"`
	Users  []UserState `json:"users"`
}

// UserState is a user with their phone and links.
type UserState struct {
	ID     string      `json:"id"`
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
	Token   string                       `json:"token"`
	Secret  string                       `json:"secret"`
	AppID   string                       `json:"application"`
	UserID  string                       `json:"user"`
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

// ParseState reads a snapshot and checks it whole: a snapshot that ParseState accepts loads.
func ParseState(data []byte) (*State, error) {
	var st State
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, &StateError{Msg: "not a snapshot: " + err.Error()}
	}
	if err := st.Check(); err != nil {
		return nil, err
	}
	return &st, nil
}

// Check reports the first thing wrong with the snapshot, naming the field.
func (st *State) Check() error {
	bad := func(field, format string, args ...any) error {
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
	users := map[[2]string]bool{}
	apps := map[string]bool{}
	links := map[string]bool{}
	for i, a := range st.Applications {
		at := fmt.Sprintf("applications[%d]", i)
		switch {
		case a.ID == "":
			return bad(at+".id", "is empty")
		case a.Secret == "":
			return bad(at+".secret", "is empty")
		case apps[a.ID]:
			return bad(at+".id", "application %s appears twice", a.ID)
		}
		apps[a.ID] = true
		for j, u := range a.Users {
			ut := fmt.Sprintf("%s.users[%d]", at, j)
			switch {
			case u.ID == "":
				return bad(ut+".id", "is empty")
			case users[[2]string{a.ID, u.ID}]:
				return bad(ut+".id", "user %q appears twice in application %s", u.ID, a.ID)
			case u.Logins < 0:
				return bad(ut+".logins", "is negative")
			}
			users[[2]string{a.ID, u.ID}] = true
			if u.Phone != nil {
				for k, m := range u.Phone.Methods {
					if !m.Valid() {
						return bad(fmt.Sprintf("%s.phone.methods[%d]", ut, k), "unknown method %q", m)
					}
				}
			}
			for k, l := range u.Links {
				switch {
				case l.Code == "":
					return bad(fmt.Sprintf("%s.links[%d].code", ut, k), "is empty")
				case links[l.Code]:
					return bad(fmt.Sprintf("%s.links[%d].code", ut, k), "link %s appears twice", l.Code)
				}
				links[l.Code] = true
			}
		}
	}
	tokens := map[string]bool{}
	for i, s := range st.Sessions {
		at := fmt.Sprintf("sessions[%d]", i)
		switch {
		case s.Token == "":
			return bad(at+".token", "is empty")
		case s.Secret == "":
			return bad(at+".secret", "is empty")
		case tokens[s.Token]:
			return bad(at+".token", "session %s appears twice", s.Token)
		case !users[[2]string{s.AppID, s.UserID}]:
			return bad(at+".user", "application %q has no user %q in the snapshot", s.AppID, s.UserID)
		case !s.Status.Valid():
			return bad(at+".status", "unknown status %q", s.Status)
		case len(s.History) == 0:
			return bad(at+".history", "is empty: a session starts pending")
		case s.History[len(s.History)-1].Status != s.Status:
			return bad(at+".history", "ends with %s but the session is %s", s.History[len(s.History)-1].Status, s.Status)
		case s.Attempt < 0:
			return bad(at+".attempt", "is negative")
		}
		tokens[s.Token] = true
		for k, m := range s.Methods {
			if !m.Valid() {
				return bad(fmt.Sprintf("%s.methods[%d]", at, k), "unknown method %q", m)
			}
		}
		for k, h := range s.History {
			if !h.Status.Valid() {
				return bad(fmt.Sprintf("%s.history[%d].status", at, k), "unknown status %q", h.Status)
			}
		}
		for k, step := range s.Steps {
			if !step.Status.Valid() {
				return bad(fmt.Sprintf("%s.steps[%d].status", at, k), "unknown status %q", step.Status)
			}
		}
	}
	for i, m := range st.Outbox {
		if !users[[2]string{m.AppID, m.UserID}] && !apps[m.AppID] {
			return bad(fmt.Sprintf("outbox[%d].application", i), "no application %q in the snapshot", m.AppID)
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

// exportLocked builds the snapshot; the caller holds a lock.
func (s *Store) exportLocked() *State {
	st := &State{Format: StateFormat, Version: StateVersion, Clock: ClockState{Now: s.settings.ClockNow},
		WallClock:    WallClockState{Shift: s.settings.Shift.String(), MaxSkew: s.settings.MaxSkew.String()},
		Applications: []AppState{}, Sessions: []SessionState{}, Outbox: []SMSState{}}
	appIDs := make([]string, 0, len(s.apps))
	for id := range s.apps {
		appIDs = append(appIDs, id)
	}
	slices.Sort(appIDs)
	for _, id := range appIDs {
		app := s.apps[id]
		as := AppState{ID: app.ID, Secret: app.Secret, Users: []UserState{}}
		userIDs := make([]string, 0, len(app.users))
		for uid := range app.users {
			userIDs = append(userIDs, uid)
		}
		slices.Sort(userIDs)
		for _, uid := range userIDs {
			u := app.users[uid]
			us := UserState{ID: u.ID, Logins: u.Logins, Links: []LinkState{}}
			if u.Phone != nil {
				us.Phone = &PhoneState{RegisteredAt: u.Phone.RegisteredAt, Methods: slices.Clone(u.Phone.Methods), Lost: u.Phone.Lost}
			}
			for _, l := range u.Links {
				us.Links = append(us.Links, LinkState{Code: l.Code, DisplayName: l.DisplayName, CreatedAt: l.CreatedAt, UsedAt: timePtr(l.UsedAt)})
			}
			as.Users = append(as.Users, us)
		}
		st.Applications = append(st.Applications, as)
	}
	sessions := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	slices.SortFunc(sessions, func(a, b *Session) int { return int(a.Seq) - int(b.Seq) })
	for _, sess := range sessions {
		ss := SessionState{Token: sess.Token, Secret: sess.Secret, AppID: sess.AppID, UserID: sess.UserID,
			Methods: slices.Clone(sess.Methods), Attempt: sess.Attempt, Status: sess.Status, Steps: slices.Clone(sess.Steps)}
		for _, h := range sess.History {
			ss.History = append(ss.History, ChangeState(h))
		}
		st.Sessions = append(st.Sessions, ss)
	}
	for _, m := range s.outbox {
		st.Outbox = append(st.Outbox, SMSState(m))
	}
	return st
}

// Export returns a snapshot of the whole state.
func (s *Store) Export() *State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.exportLocked()
}

// loadLocked replaces the state with a checked snapshot; the caller holds the write lock.
func (s *Store) loadLocked(st *State) {
	s.apps = map[string]*application{}
	s.sessions = map[string]*Session{}
	s.links = map[string]*Link{}
	s.outbox = nil
	shift, _ := time.ParseDuration(st.WallClock.Shift)
	skew, _ := time.ParseDuration(st.WallClock.MaxSkew)
	s.settings = Settings{ClockNow: st.Clock.Now, Shift: shift, MaxSkew: skew}
	for _, a := range st.Applications {
		app := &application{Application: Application{ID: a.ID, Secret: a.Secret}, users: map[string]*User{}}
		for _, us := range a.Users {
			u := &User{AppID: a.ID, ID: us.ID, Logins: us.Logins}
			if us.Phone != nil {
				u.Phone = &Phone{RegisteredAt: us.Phone.RegisteredAt, Methods: slices.Clone(us.Phone.Methods), Lost: us.Phone.Lost}
			}
			for _, ls := range us.Links {
				l := Link{Code: ls.Code, AppID: a.ID, UserID: us.ID, DisplayName: ls.DisplayName, CreatedAt: ls.CreatedAt, UsedAt: fromPtr(ls.UsedAt)}
				u.Links = append(u.Links, l)
				s.links[l.Code] = &l
			}
			app.users[us.ID] = u
		}
		s.apps[a.ID] = app
	}
	for _, ss := range st.Sessions {
		s.seq++
		sess := &Session{Seq: s.seq, Token: ss.Token, Secret: ss.Secret, AppID: ss.AppID, UserID: ss.UserID,
			Methods: slices.Clone(ss.Methods), Attempt: ss.Attempt, Status: ss.Status, Steps: slices.Clone(ss.Steps)}
		for _, h := range ss.History {
			sess.History = append(sess.History, StatusChange(h))
		}
		s.sessions[sess.Token] = sess
	}
	for _, m := range st.Outbox {
		s.outbox = append(s.outbox, SMS(m))
	}
}

// Import replaces the whole state with a snapshot, after checking all of it: a snapshot with a
// problem changes nothing. With a data directory the new state is on disk before Import returns.
func (s *Store) Import(st *State) (err error) {
	if err := st.Check(); err != nil {
		return err
	}
	defer s.write(&err)()
	s.loadLocked(st)
	s.compactNext = true
	return nil
}
