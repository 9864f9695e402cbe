package main

import (
	"strings"
	"testing"
	"time"
)

func TestLimitFlags(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil || c.limits.MaxSessions != 100_000 || c.limits.SessionLifetime != 24*time.Hour || c.limits.MaxUsers != 2_000_000 {
		t.Fatalf("defaults: %+v %v", c.limits, err)
	}
	t.Setenv("ACMOCK_MAX_SESSIONS", "500")
	t.Setenv("ACMOCK_SESSION_LIFETIME", "2h")
	c, err = parseFlags([]string{"--max-users", "10"})
	if err != nil || c.limits.MaxSessions != 500 || c.limits.SessionLifetime != 2*time.Hour || c.limits.MaxUsers != 10 {
		t.Fatalf("from the environment and flags: %+v %v", c.limits, err)
	}
	for args, want := range map[string]string{
		"--max-sessions 0":         "--max-sessions must be at least 1",
		"--session-lifetime 10ms":  "--session-lifetime must be at least 1s",
		"--max-users -1":           "--max-users must be at least 1",
		"--session-lifetime never": "invalid value",
	} {
		if _, err := parseFlags(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
	t.Setenv("ACMOCK_MAX_SESSIONS", "lots")
	if _, err := parseFlags(nil); err == nil || !strings.Contains(err.Error(), "ACMOCK_MAX_SESSIONS") {
		t.Fatalf("a bad variable: %v", err)
	}
}
