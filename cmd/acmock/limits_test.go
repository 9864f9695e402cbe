package main

import (
	"fmt"
	"os"
	"path/filepath"
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

// TestFlagErrorsNameOneFlagAndItsSource: a bad value names its flag and the value, and says when
// it came from the ACMOCK_* variable rather than the command line.
func TestFlagErrorsNameOneFlagAndItsSource(t *testing.T) {
	for args, want := range map[string]string{
		"--journal-size 0":     "--journal-size must be at least 1, not 0",
		"--max-body-bytes -5":  "--max-body-bytes must be at least 1, not -5",
		"--log-level loud":     `--log-level must be debug, info, warn or error, not "loud"`,
		"--max-clock-skew 1ms": "--max-clock-skew must be at least 1s, not 1ms",
	} {
		_, err := parseFlags(strings.Fields(args))
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
	t.Setenv("ACMOCK_MAX_USERS", "0")
	if _, err := parseFlags(nil); err == nil || err.Error() != "--max-users must be at least 1, not 0 (the value of ACMOCK_MAX_USERS)" {
		t.Errorf("from the environment: %v", err)
	}
	if _, err := parseFlags([]string{"--max-users", "-1"}); err == nil || err.Error() != "--max-users must be at least 1, not -1" {
		t.Errorf("the command line over the environment: %v", err)
	}
	t.Setenv("ACMOCK_MAX_USERS", "")
	t.Setenv("ACMOCK_JOURNAL_SIZE", "many")
	if _, err := parseFlags(nil); err == nil || err.Error() != `ACMOCK_JOURNAL_SIZE="many" (the environment variable for --journal-size) must be a whole number` {
		t.Errorf("a variable that is no number: %v", err)
	}
}

// TestValidateChecksTheBounds: acmock validate refuses what loading would: more users than
// --max-users (or ACMOCK_MAX_USERS), more than 1,000 applications; and notes a file larger than
// the body limit of PUT /_acmock/scenario.
func TestValidateChecksTheBounds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	six := write("six.yaml", "applications:\n  - {id: a, secret: s, users: [{id: u1}, {id: u2}, {id: u3}, {id: u4}, {id: u5}, {id: u6}]}\n")
	var apps strings.Builder
	apps.WriteString("applications:\n")
	for i := range 1001 {
		fmt.Fprintf(&apps, "  - {id: app%d, secret: s}\n", i)
	}
	many := write("many.yaml", apps.String())
	big := write("big.yaml", "description: "+strings.Repeat("x", 1<<20)+"\napplications: [{id: a, secret: s}]\n")
	validateOut := func(args ...string) (int, string, string) {
		var stdout, stderr syncBuffer
		code := run(append([]string{"validate"}, args...), &stdout, &stderr, nil)
		return code, stdout.String(), stderr.String()
	}
	if code, out, _ := validateOut(six); code != 0 || !strings.Contains(out, "six.yaml: ok") {
		t.Fatalf("six users under the default bound: exit %d: %s", code, out)
	}
	want := "the scenario lists 6 users and the emulator holds at most 5 (set by --max-users or ACMOCK_MAX_USERS)"
	if code, _, errOut := validateOut("--max-users", "5", six); code != 1 || !strings.Contains(errOut, "six.yaml:1:1: "+want) {
		t.Fatalf("--max-users 5: exit %d: %s", code, errOut)
	}
	t.Setenv("ACMOCK_MAX_USERS", "5")
	if code, _, errOut := validateOut(six); code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("ACMOCK_MAX_USERS=5: exit %d: %s", code, errOut)
	}
	if code, _, errOut := validateOut(many); code != 1 || !strings.Contains(errOut, "the scenario lists 1001 applications and the emulator holds at most 1000") {
		t.Fatalf("1,001 applications: exit %d: %s", code, errOut)
	}
	if code, out, _ := validateOut(big); code != 0 || !strings.Contains(out, "big.yaml: note:") || !strings.Contains(out, "--max-body-bytes") {
		t.Fatalf("a file over the body limit: exit %d: %s", code, out)
	}
	if code, _, errOut := validateOut("--max-users", "0", six); code != 2 || !strings.Contains(errOut, "--max-users must be at least 1, not 0") {
		t.Fatalf("--max-users 0: exit %d: %s", code, errOut)
	}
}
