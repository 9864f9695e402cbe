package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/acmock/acmock/internal/store"
)

// limitFlags declares the flags that bound what the emulator keeps (see api/control.yaml, Bounds),
// each with its ACMOCK_* fallback; checkLimits checks them once parsed.
func limitFlags(fs *flag.FlagSet, l *store.Limits) error {
	d := store.DefaultLimits
	maxSessions, err := envInt("max-sessions", d.MaxSessions)
	if err != nil {
		return err
	}
	lifetime, err := envDuration("session-lifetime", d.SessionLifetime)
	if err != nil {
		return err
	}
	maxUsers, err := envInt("max-users", d.MaxUsers)
	if err != nil {
		return err
	}
	fs.IntVar(&l.MaxSessions, "max-sessions", maxSessions, "sessions kept, live or finished; past it the one that finished longest ago (else the oldest live one) is forgotten [ACMOCK_MAX_SESSIONS]")
	fs.DurationVar(&l.SessionLifetime, "session-lifetime", lifetime, "a live session is closed this long after it started [ACMOCK_SESSION_LIFETIME]")
	fs.IntVar(&l.MaxUsers, "max-users", maxUsers, "users kept in all applications together; add_users past it answers 409 [ACMOCK_MAX_USERS]")
	return nil
}

// envInt, envDuration and envBool read the default of a flag from its ACMOCK_* variable, with an
// error naming the variable, its value and the flag when the value is not one.
func envInt(flagName string, def int) (int, error) {
	return envValue(flagName, def, strconv.Atoi, "a whole number")
}

func envDuration(flagName string, def time.Duration) (time.Duration, error) {
	return envValue(flagName, def, time.ParseDuration, "a duration such as 30s or 24h")
}

func envBool(flagName string, def bool) (bool, error) {
	return envValue(flagName, def, strconv.ParseBool, "true or false")
}

func envValue[T any](flagName string, def T, parse func(string) (T, error), want string) (T, error) {
	v, ok := os.LookupEnv(envName(flagName))
	if !ok {
		return def, nil
	}
	x, err := parse(v)
	if err != nil {
		return x, envError(flagName, v, want)
	}
	return x, nil
}

func envError(flagName, value, want string) error {
	return fmt.Errorf("%s=%q (the environment variable for --%s) must be %s", envName(flagName), value, flagName, want)
}

func checkLimits(fs *flag.FlagSet, l store.Limits) error {
	switch {
	case l.MaxSessions < 1:
		return flagError(fs, "max-sessions", "must be at least 1, not %d", l.MaxSessions)
	case l.SessionLifetime < time.Second:
		return flagError(fs, "session-lifetime", "must be at least 1s, not %v", l.SessionLifetime)
	case l.MaxUsers < 1:
		return flagError(fs, "max-users", "must be at least 1, not %d", l.MaxUsers)
	}
	return nil
}

// flagError says what is wrong with one flag's value, and, when the value came from the flag's
// ACMOCK_* environment variable rather than the command line, says so: "--max-users must be at
// least 1, not 0 (the value of ACMOCK_MAX_USERS)".
func flagError(fs *flag.FlagSet, name, format string, args ...any) error {
	msg := "--" + name + " " + fmt.Sprintf(format, args...)
	onCommandLine := false
	fs.Visit(func(f *flag.Flag) { onCommandLine = onCommandLine || f.Name == name })
	env := envName(name)
	if _, ok := os.LookupEnv(env); ok && !onCommandLine {
		msg += " (the value of " + env + ")"
	}
	return errors.New(msg)
}

// envName is the environment variable a flag falls back to: --max-users reads ACMOCK_MAX_USERS.
func envName(flagName string) string {
	return "ACMOCK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
