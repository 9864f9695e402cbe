package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/internal/cli"
)

// TestEmptyUserIDsAreUsageErrors: every command rejects an empty user ID before sending anything,
// with exit 2.
func TestEmptyUserIDsAreUsageErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"users", "add", ""}, "acclient: users add: the user ID is empty\n"},
		{[]string{"users", "add", "a", ""}, "acclient: users add: user ID 2 of 2 is empty\n"},
		{[]string{"users", "delete", ""}, "acclient: users delete: the user ID is empty\n"},
		{[]string{"users", "delete", "", "a"}, "acclient: users delete: user ID 1 of 2 is empty\n"},
		{[]string{"device", "check", ""}, "acclient: device check: the user ID is empty\n"},
		{[]string{"device", "link", ""}, "acclient: device link: the user ID is empty\n"},
		{[]string{"device", "lost", ""}, "acclient: device lost: the user ID is empty\n"},
		{[]string{"device", "sms", "", "--phone", "+15555550100"}, "acclient: device sms: the user ID is empty\n"},
		{[]string{"authenticate", ""}, "acclient: authenticate: the user ID is empty\n"},
	}
	for _, tt := range tests {
		r := w.run(tt.args)
		if r.code != cli.ExitUsage || r.stderr != tt.stderr || r.stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit 2, %q", tt.args, r.code, r.stderr, r.stdout, tt.stderr)
		}
	}
	if n := len(w.srv.Requests(acmocktest.Filter{})); n != 0 {
		t.Errorf("empty IDs sent %d requests", n)
	}
}

// TestHintsNameTheUser: suggested commands carry the actual user ID, quoted for the shell, and
// the service's own advice is not repeated.
func TestHintsNameTheUser(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string // the whole of it
	}{
		{"unknown user", []string{"device", "check", "nobody"}, cli.ExitNotFound, "",
			`acclient: has registered mobile device "nobody": HTTP 404 unknown_user: application ` + demoApp + ` has no user "nobody" (field user_id); add it with: acclient users add nobody` + "\n"},
		{"unknown user with shell characters", []string{"device", "lost", "a b$c"}, cli.ExitNotFound, "",
			`acclient: lost mobile device of "a b$c": HTTP 404 unknown_user: application ` + demoApp + ` has no user "a b$c" (field user_id); add it with: acclient users add 'a b$c'` + "\n"},
		{"unknown user with a quote", []string{"device", "link", "it's"}, cli.ExitNotFound, "",
			`add it with: acclient users add 'it'\''s'` + "\n"},
		{"unknown user starting with a dash", []string{"device", "check", "--", "-x"}, cli.ExitNotFound, "",
			`add it with: acclient users add -- -x` + "\n"},
		{"unknown user with a semicolon", []string{"device", "check", "a; b"}, cli.ExitNotFound, "",
			`has no user "a; b" (field user_id); add it with: acclient users add 'a; b'` + "\n"},
		{"phone already registered", []string{"device", "sms", "alice", "--phone", "+15555550100"}, cli.ExitError, "",
			`acclient: send registration SMS to "alice": HTTP 409 device_already_registered: user "alice" already has a registered phone (field user_id); report the phone lost first with: acclient device lost alice` + "\n"},
		{"bad phone number", []string{"device", "sms", "carol", "--phone", "555"}, cli.ExitError, "",
			`acclient: send registration SMS to "carol": HTTP 200: phone_number "555" does not start with +; give the number in E.164 form, such as +15555550100` + "\n"},
		{"no phone", []string{"device", "check", "carol"}, cli.ExitNoPhone,
			"carol has no registered phone; register one with: acclient device link carol\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.run(tt.args)
			if r.code != tt.code || !strings.HasSuffix(r.stderr, tt.stderr) || (tt.stderr == "" && r.stderr != "") || !strings.Contains(r.stdout, tt.stdout) {
				t.Fatalf("exit %d (want %d)\nstderr %q\nwant   %q\nstdout %q", r.code, tt.code, r.stderr, tt.stderr, r.stdout)
			}
			for _, advice := range []string{"add_users first", "report it lost first", "regular expression", " USER"} {
				if strings.Contains(r.stderr, advice) {
					t.Errorf("stderr repeats or leaks %q: %q", advice, r.stderr)
				}
			}
		})
	}

	// A user without a phone, with a space in the ID: the command to paste is quoted.
	w.run([]string{"users", "add", "new user"}).expect(t, cli.ExitOK, `added "new user"`, "")
	w.run([]string{"device", "check", "new user"}).expect(t, cli.ExitNoPhone, `"new user" has no registered phone; register one with: acclient device link 'new user'`, "")
	w.run([]string{"authenticate", "new user"}).expect(t, cli.ExitNoPhone, "", `"new user" has no registered phone; register one with: acclient device link 'new user'`)

	// A session file does not name its user: the hint says USER, not "the user".
	file := filepath.Join(t.TempDir(), "s.json")
	w.run(args("authenticate carol --session-file "+file)).expect(t, cli.ExitNoPhone, "", "")
	w.run(args("session status --wait --session-file "+file)).expect(t, cli.ExitNoPhone, "",
		"acclient: the user has no registered phone; register one with: acclient device link USER\n")
}

func TestMissingSessionFileSaysWhatToDo(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, c := range []string{"session status", "session logout"} {
		r := w.run(args(c + " --session-file " + missing))
		r.expect(t, cli.ExitError, "", "read session file: open "+missing+": no such file or directory; save one with: acclient authenticate USER --session-file "+missing+"\n")
		r.oneLineError(t)
	}
}

func TestUsersDeleteDoesNotClaimTheUsersExisted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	r := w.run(args("users delete nobody"))
	r.expect(t, cli.ExitOK, "deleted (if they existed): nobody\n", "")
	if r.stdout != "deleted (if they existed): nobody\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	r = w.run(args("users delete --help"))
	r.expect(t, cli.ExitOK, "does not say which IDs existed", "")
}

func TestDeviceCheckHelpListsNoPhoneExit(t *testing.T) {
	t.Parallel()
	r := runCLI(t, runConfig{ctx: context.Background()}, args("device check --help"))
	r.expect(t, cli.ExitOK, "Exit codes: 0 the user has a phone, 6 no phone, 2 usage,", "")
}

// TestHTTPTimeout: a service that accepts and never answers makes acclient give up after
// --http-timeout (or ACTIVECONNECT_HTTP_TIMEOUT), with exit 8.
func TestHTTPTimeout(t *testing.T) {
	t.Parallel()
	url, _ := hangingServer(t)
	run := func(line string, env ...string) result {
		cfg := runConfig{env: map[string]string{"ACTIVECONNECT_BASE_URL": url}, ctx: context.Background()}
		for i := 0; i+1 < len(env); i += 2 {
			cfg.env[env[i]] = env[i+1]
		}
		return runCLI(t, cfg, args(line))
	}
	const hint = "the service did not answer in time: is it running there? check --base-url (ACTIVECONNECT_BASE_URL), or raise --http-timeout (ACTIVECONNECT_HTTP_TIMEOUT)\n"
	start := time.Now()
	r := run("device check alice --http-timeout 50ms")
	r.expect(t, cli.ExitUnreachable, "", "(Client.Timeout exceeded while awaiting headers); "+hint)
	r.oneLineError(t)
	r = run("device check alice", "ACTIVECONNECT_HTTP_TIMEOUT", "50ms")
	r.expect(t, cli.ExitUnreachable, "", hint)
	// The flag wins over the variable.
	r = run("device check alice --http-timeout 50ms", "ACTIVECONNECT_HTTP_TIMEOUT", "1h")
	r.expect(t, cli.ExitUnreachable, "", hint)
	if time.Since(start) > 20*time.Second {
		t.Fatalf("the timeouts took %s", time.Since(start))
	}

	// A session's own URLs get the timeout too; the hint does not point at --base-url.
	file := filepath.Join(t.TempDir(), "s.json")
	w := newWorld(t, nil)
	w.run(args("authenticate alice --session-file "+file)).expect(t, cli.ExitOK, "alice: pending", "")
	rewriteSessionHost(t, file, w.srv.URL(), url)
	r = run("session status --session-file " + file + " --http-timeout 50ms")
	r.expect(t, cli.ExitUnreachable, "", "the service did not answer in time: is it running there? (the session file names it) or raise --http-timeout (ACTIVECONNECT_HTTP_TIMEOUT)\n")

	for _, tt := range []struct{ line, env, stderr string }{
		{"device check alice --http-timeout -1s", "", "acclient: --http-timeout must not be negative (0 waits forever), not -1s\n"},
		{"device check alice --http-timeout soon", "", `acclient: device check: invalid value "soon" for --http-timeout: parse error (run acclient device check --help)` + "\n"},
		{"device check alice", "soon", `acclient: ACTIVECONNECT_HTTP_TIMEOUT="soon" is not a duration such as 30s or 2m` + "\n"},
	} {
		r := run(tt.line, "ACTIVECONNECT_HTTP_TIMEOUT", tt.env)
		if r.code != cli.ExitUsage || r.stderr != tt.stderr {
			t.Errorf("%s: exit %d, stderr %q; want 2, %q", tt.line, r.code, r.stderr, tt.stderr)
		}
	}
	r = run("device check --help")
	r.expect(t, cli.ExitOK, "--http-timeout DURATION", "")
	if !strings.Contains(r.stdout, "[ACTIVECONNECT_HTTP_TIMEOUT] (default 30s)") {
		t.Errorf("help lacks the default timeout:\n%s", r.stdout)
	}
}

// TestInterruptedRequest: a signal during a request that gets no answer reports "interrupted",
// not advice about an unreachable service.
func TestInterruptedRequest(t *testing.T) {
	t.Parallel()
	url, accepted := hangingServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-accepted
		cancel()
	}()
	r := runCLI(t, runConfig{env: map[string]string{"ACTIVECONNECT_BASE_URL": url}, ctx: ctx}, args("device check alice"))
	if r.code != cli.ExitInterrupted || r.stderr != "acclient: interrupted\n" {
		t.Fatalf("exit %d, stderr %q; want 130, %q", r.code, r.stderr, "acclient: interrupted\n")
	}
}
