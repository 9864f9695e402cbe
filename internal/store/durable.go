package store

// Durable state. A store made by Open keeps a data directory (package durable): the snapshot of
// State at some point, then a log of facts, one per change, each written after the change was
// checked and made in memory, and on disk (fsync) before the method that made it returns. Facts
// are what happened, with every identifier and time they produced (a user was added, a session
// started with this token, a status changed at this time), never the request that asked for it,
// and a restart applies them again through the same methods, which are deterministic given those
// identifiers and times. Schema of a fact: op names the method; the other fields are its
// arguments and what it made up (see the fact type).
//
// Every method that changes state does so between s.write (which takes the write lock) and the
// function it returns (which appends the method's facts to the log, releases the lock, and waits
// for the disk): that is the store's one commit hook. Concurrent writers share an fsync. A method
// that records nothing, and every read (readUnlock), waits for what was appended before it, so no
// answer tells of a change that is not on disk yet. After a failed write or fsync every later
// change returns ErrStorage (a 500): memory may then hold changes that were refused, but nothing
// is acknowledged that is not on disk, and a restart starts from what is.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/durable"
)

// ErrStorage is wrapped by the error of a change that could not be made durable.
var ErrStorage = errors.New("state could not be saved")

// CompactAfter is how many facts the log holds at least before the store writes a new snapshot and
// starts an empty log, which bounds both the log's size and the time a restart spends replaying
// it. A large state waits for as many facts as it has users and sessions: a snapshot costs what
// the state holds, so that spreads its cost over as many writes, and the log stays within a
// multiple of the state (itself bounded by Limits).
var CompactAfter uint64 = 50_000

// compactDue reports whether the log has grown enough to be folded into a snapshot.
func (s *Store) compactDue() bool {
	return s.dir.Records() >= max(s.compactAfter, uint64(s.users+len(s.sessions.byToken)))
}

// Settings are the emulator's own settings that the store keeps for it, so that they persist:
// the time of a virtual clock, the wall-clock shift and the skew allowed for signatures.
type Settings struct {
	ClockNow time.Time
	Shift    time.Duration
	MaxSkew  time.Duration
}

// Step is a planned timeline step of a session: it changes the status at Due, on the emulator's
// clock. Timeout marks the session's timeout; Done, a step that fired.
type Step struct {
	Status  acapi.SessionStatus `json:"status"`
	Due     time.Time           `json:"due"`
	Timeout bool                `json:"timeout,omitempty"`
	Done    bool                `json:"done,omitempty"`
}

// fact is one change, as the log keeps it.
type fact struct {
	Op      string                       `json:"op"`
	App     string                       `json:"app,omitempty"`
	Secret  string                       `json:"secret,omitempty"`
	User    string                       `json:"user,omitempty"`
	Users   []string                     `json:"users,omitempty"`
	Gone    []string                     `json:"gone,omitempty"`
	Token   string                       `json:"token,omitempty"`
	Code    string                       `json:"code,omitempty"`
	Name    string                       `json:"name,omitempty"`
	Phone   string                       `json:"phone,omitempty"`
	Message string                       `json:"message,omitempty"`
	Link    string                       `json:"link,omitempty"`
	Methods []acapi.AuthenticationMethod `json:"methods,omitempty"`
	Status  acapi.SessionStatus          `json:"status,omitempty"`
	Cause   string                       `json:"cause,omitempty"`
	Step    int                          `json:"step,omitempty"`
	Steps   []Step                       `json:"steps,omitempty"`
	At      time.Time                    `json:"at,omitzero"`
	Shift   *time.Duration               `json:"shift,omitempty"`
	Skew    *time.Duration               `json:"skew,omitempty"`
	Apps    []SeedApplication            `json:"apps,omitempty"`
}

// write takes the write lock and returns the function that commits: deferred as
// `defer s.write(&err)()`, it logs the facts the method recorded, releases the lock and waits
// until they are on disk, turning a failure into *err. A method that recorded nothing waits for
// everything appended before it, which costs nothing when that is on disk already. Methods record a fact once its change is
// checked, just before they make it, so a method that fails has recorded only what it changed
// before failing (sessions it expired on the way), and that is logged too.
func (s *Store) write(err *error) func() {
	s.mu.Lock()
	d, failed := s.dir, s.failed
	if d != nil && failed != nil {
		// The method still runs (it cannot be stopped from here) but is refused: nothing is
		// acknowledged that is not on disk.
		return func() {
			s.pending = s.pending[:0]
			s.mu.Unlock()
			*err = failed
		}
	}
	return func() {
		if d == nil {
			s.mu.Unlock()
			return
		}
		var n uint64
		for _, f := range s.pending {
			n = d.Append(f)
		}
		if n == 0 {
			// Nothing of its own to save, but what the method saw (and may answer) can include
			// another writer's change still on its way to the disk: wait for that too.
			n = d.Appended()
		}
		if s.compactNext || s.compactDue() {
			s.compactNext = false
			if cerr := s.compactLocked(); cerr != nil {
				s.failed = fmt.Errorf("%w: %v", ErrStorage, cerr)
			}
		}
		s.pending = s.pending[:0]
		failed := s.failed
		s.mu.Unlock()
		if n > 0 {
			if werr := d.Wait(n); werr != nil {
				s.mu.Lock()
				if s.failed == nil {
					s.failed = fmt.Errorf("%w: %v", ErrStorage, werr)
				}
				failed = s.failed
				s.mu.Unlock()
			}
		}
		if *err == nil && failed != nil {
			*err = failed
		}
	}
}

// record notes a fact of the change being made; the caller holds the write lock.
func (s *Store) record(f fact) {
	if s.dir == nil || s.replaying {
		return
	}
	data, err := json.Marshal(f)
	if err != nil { // a fact is plain data: this cannot happen
		panic(fmt.Sprintf("encode fact %s: %v", f.Op, err))
	}
	s.pending = append(s.pending, data)
}

func (s *Store) compactLocked() error {
	data, err := json.Marshal(dirSnapshot{Limits: limitsStateOf(s.limits), State: *s.exportLocked()})
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	return s.dir.Compact(data)
}

// Open returns a store kept in the data directory dir, creating it when needed, and whether it
// was empty (no state saved yet). A directory in use by another process is refused with an error
// wrapping durable.ErrLocked; a damaged one with an error naming the file and what is wrong
// (durable.ErrCorrupt, ErrBadState), and nothing in it is changed (see durable.Dir.Load for what
// is refused). warn receives what Open repaired or accepted itself: the torn last record of a
// crash, which was never acknowledged (its bytes kept beside the log), or a snapshot written
// before snapshots had a checksum.
//
// opts are those of New (limits, clock, OnSessionDone). The directory is read back under the
// limits it was written with, so that it comes back exactly as it was; when opts give other
// limits, they then apply as they do at run time (the oldest sessions, links and messages past
// them are forgotten), except that a directory holding more users than the new limit is refused.
func Open(dir string, ids IDs, warn func(string), opts ...Option) (s *Store, fresh bool, err error) {
	d, err := durable.Open(dir)
	if err != nil {
		return nil, false, err
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	loaded, err := d.Load()
	if err != nil {
		return nil, false, fmt.Errorf("load %s: %w", dir, err)
	}
	if warn != nil {
		for _, w := range loaded.Warnings {
			warn(w)
		}
	}
	snap, records := loaded.Snapshot, loaded.Records
	s = New(ids, opts...)
	limits := s.limits
	if snap != nil {
		ds, err := decodeSnapshot(snap)
		if err == nil {
			if ds.Limits != nil {
				s.limits = ds.Limits.limits()
			}
			err = ds.State.check(s.limits, true)
		}
		if err != nil {
			return nil, false, fmt.Errorf("load %s/snapshot.json: %w", dir, err)
		}
		s.loadLocked(&ds.State)
	}
	s.replaying = true
	for i, rec := range records {
		if err := s.apply(rec); err != nil {
			return nil, false, fmt.Errorf("load %s: %w: record %d of the log (%.80s): %v", dir, durable.ErrCorrupt, i+1, rec, err)
		}
	}
	s.replaying = false
	changed := s.limits != limits
	if changed {
		if err := s.applyLimits(limits); err != nil {
			return nil, false, fmt.Errorf("open %s: %w", dir, err)
		}
	}
	s.ids = ids
	s.dir = d
	s.compactAfter = CompactAfter
	fresh = snap == nil && len(records) == 0
	if len(records) > 0 || snap == nil || changed || loaded.Rewrite {
		// Start from a snapshot of what was replayed, so the next start is a read of one file.
		s.mu.Lock()
		err = s.compactLocked()
		s.mu.Unlock()
		if err != nil {
			return nil, false, fmt.Errorf("open %s: %w", dir, err)
		}
	}
	return s, fresh, nil
}

// applyLimits puts new limits in force on what was loaded under others, as they would have
// been at run time: past the session cap the finished sessions go first, oldest first, then the
// oldest live ones; a user keeps its newest links; the outbox its newest messages. More users
// than the new limit is an error: users are never forgotten to make room.
func (s *Store) applyLimits(l Limits) error {
	if s.users > l.MaxUsers {
		return fmt.Errorf("the directory holds %d users, more than the limit of %d: start with a limit of at least %d, or delete users first: %w",
			s.users, l.MaxUsers, s.users, ErrLimitReached)
	}
	old := s.limits
	s.limits = l
	s.forgetPastCap()
	if l.MaxLinksPerUser < old.MaxLinksPerUser {
		for _, app := range s.apps {
			for _, u := range app.users {
				if drop := len(u.links) - l.MaxLinksPerUser; drop > 0 {
					for _, link := range u.links[:drop] {
						delete(s.links, link.Code)
					}
					u.links = slices.Delete(u.links, 0, drop)
				}
			}
		}
	}
	if len(s.outbox) > l.MaxOutbox {
		all := s.oldestFirst()
		s.outbox, s.outStart = slices.Clone(all[len(all)-l.MaxOutbox:]), 0
	}
	return nil
}

// Close writes what is pending and releases the data directory; a store without one does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	d := s.dir
	s.dir = nil
	s.mu.Unlock()
	if d == nil {
		return nil
	}
	return d.Close()
}

// Durable reports whether the store keeps a data directory, and its path.
func (s *Store) Durable() (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.dir == nil {
		return "", false
	}
	return s.dir.Path(), true
}

// replayIDs hands out the identifiers a fact recorded, so that applying it again makes the same.
type replayIDs struct{ token, secret, code string }

func (r *replayIDs) SessionToken() string  { return r.token }
func (r *replayIDs) SessionSecret() string { return r.secret }
func (r *replayIDs) LinkCode() string      { return r.code }

// apply makes the change a fact records, through the method that recorded it.
func (s *Store) apply(rec []byte) error {
	var f fact
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	s.ids = &replayIDs{token: f.Token, secret: f.Secret, code: f.Code}
	var err error
	switch f.Op {
	case "reset":
		s.Reset()
	case "add_application":
		err = s.AddApplication(f.App, f.Secret)
	case "add_users":
		_, _, err = s.AddUsers(f.App, f.Users)
	case "add_missing":
		_, _, err = s.AddMissing(f.Apps, f.At)
	case "delete_users":
		err = s.DeleteUsers(f.App, f.Users, f.Gone...)
	case "forget_deleted":
		err = s.ForgetDeleted(f.App, f.Users)
	case "new_link":
		_, err = s.NewLink(f.App, f.User, f.Name, f.At)
	case "register_phone":
		err = s.RegisterPhone(f.App, f.User, f.Methods, f.At)
	case "use_link":
		_, err = s.UseLink(f.Code, f.At)
	case "lose_device":
		_, err = s.LoseDevice(f.App, f.User, f.At)
	case "send_sms":
		_, err = s.SendSMS(f.App, f.User, f.Phone, f.Name, f.Message, func(string) string { return f.Link }, f.At)
	case "start_session":
		_, err = s.StartSession(f.App, f.User, f.Methods, f.At)
	case "plan":
		err = s.Plan(f.Token, f.Steps)
	case "fire_step":
		_, err = s.FireStep(f.Token, f.Step, f.At)
	case "expire":
		err = s.expireAt(f.At)
	case "transition":
		_, err = s.Transition(f.Token, f.Status, f.At, f.Cause)
	case "reset_application":
		err = s.ResetApplication(f.App)
	case "clock":
		err = s.SetClockTime(f.At)
	case "wall_clock":
		err = s.SetWallClock(f.Shift, f.Skew)
	default:
		err = fmt.Errorf("unknown op %q", f.Op)
	}
	return err
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
