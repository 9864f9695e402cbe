package store

import (
	"sync"

	"github.com/acmock/acmock/generated/acapi"
)

// Signal is a version counter with a broadcast: every Bump adds one to the version and wakes
// everyone waiting on the channel Changed handed out. The zero value is ready to use. Watchers
// (the console's event stream) read the version, compare it with the last one they reported and
// wait on the channel, so storage never calls the web layer and a burst of changes wakes a watcher
// once.
type Signal struct {
	mu      sync.Mutex
	version uint64
	ch      chan struct{}
}

// Bump records a change and wakes the watchers.
func (s *Signal) Bump() {
	s.mu.Lock()
	s.version++
	ch := s.ch
	s.ch = nil
	s.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// Changed returns the current version and a channel that is closed at the next Bump.
func (s *Signal) Changed() (uint64, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.version, s.ch
}

// changeLock is the store's lock. Releasing the write lock is the store's one commit point: it
// bumps the store's Signal, so every method that changes state (and any added later) is seen by
// watchers without remembering to tell them.
type changeLock struct {
	sync.RWMutex
	changes Signal
}

// Unlock releases the write lock, then signals the change.
func (l *changeLock) Unlock() {
	l.RWMutex.Unlock()
	l.changes.Bump()
}

// Changes returns the store's version and a channel closed at its next change. Any write counts,
// including one that failed and changed nothing; watchers only re-read.
func (s *Store) Changes() (uint64, <-chan struct{}) { return s.mu.changes.Changed() }

// Transitions lists the statuses a session in status from can move to, in the order of the
// transition table (none for a final status).
func Transitions(from acapi.SessionStatus) []acapi.SessionStatus {
	return append([]acapi.SessionStatus(nil), transitions[from]...)
}
