package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/acmock/acmock/internal/store"
)

// limitFlags declares the flags that bound what the emulator keeps (see api/control.yaml, Bounds),
// each with its ACMOCK_* fallback; checkLimits checks them once parsed.
func limitFlags(fs *flag.FlagSet, l *store.Limits) error {
	d := store.DefaultLimits
	maxSessions, err := strconv.Atoi(envOr("ACMOCK_MAX_SESSIONS", strconv.Itoa(d.MaxSessions)))
	if err != nil {
		return fmt.Errorf("ACMOCK_MAX_SESSIONS: %w", err)
	}
	lifetime, err := time.ParseDuration(envOr("ACMOCK_SESSION_LIFETIME", d.SessionLifetime.String()))
	if err != nil {
		return fmt.Errorf("ACMOCK_SESSION_LIFETIME: %w", err)
	}
	maxUsers, err := strconv.Atoi(envOr("ACMOCK_MAX_USERS", strconv.Itoa(d.MaxUsers)))
	if err != nil {
		return fmt.Errorf("ACMOCK_MAX_USERS: %w", err)
	}
	fs.IntVar(&l.MaxSessions, "max-sessions", maxSessions, "sessions kept, live or finished; past it the one that finished longest ago (else the oldest live one) is forgotten [ACMOCK_MAX_SESSIONS]")
	fs.DurationVar(&l.SessionLifetime, "session-lifetime", lifetime, "a live session is closed this long after it started [ACMOCK_SESSION_LIFETIME]")
	fs.IntVar(&l.MaxUsers, "max-users", maxUsers, "users kept in all applications together; add_users past it answers 409 [ACMOCK_MAX_USERS]")
	return nil
}

func checkLimits(l store.Limits) error {
	switch {
	case l.MaxSessions < 1:
		return fmt.Errorf("--max-sessions must be at least 1, not %d", l.MaxSessions)
	case l.SessionLifetime < time.Second:
		return fmt.Errorf("--session-lifetime must be at least 1s, not %v", l.SessionLifetime)
	case l.MaxUsers < 1:
		return fmt.Errorf("--max-users must be at least 1, not %d", l.MaxUsers)
	}
	return nil
}
