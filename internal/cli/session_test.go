package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/cli"
)

// savedSession reads a session file the way another program would.
func savedSession(t *testing.T, file string) *activeconnect.Session {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := activeconnect.ParseSession(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return s
}

// TestSessionStatusWaitDoesNotTrustTheFile: a session saved as active whose phone has since
// walked away. session status --wait must ask the service, not repeat the file.
func TestSessionStatusWaitDoesNotTrustTheFile(t *testing.T) {
	t.Parallel()
	var armed atomic.Bool // fail the first status poll after armed is set
	var failures atomic.Int32
	w := newWorld(t, nil, unavailablePolls("", func() bool { return armed.Load() && failures.Add(1) <= 1 }))
	file := filepath.Join(t.TempDir(), "s.json")
	w.run(args("authenticate alice --wait --session-file "+file)).expect(t, cli.ExitOK, "alice: active", "")
	token := savedSession(t, file).Token
	if err := w.srv.WalkAway(token); err != nil {
		t.Fatal(err)
	}

	r := w.run(args("session status --wait --session-file " + file))
	r.expect(t, cli.ExitFailed, "session: walkaway (the phone is no longer near)\n",
		"acclient: the phone of the user is no longer near (walkaway); log in again\n")
	if strings.Contains(r.stdout, "active") {
		t.Errorf("the stale status was shown: %q", r.stdout)
	}
	if got := savedSession(t, file).Status; got != activeconnect.StatusWalkaway {
		t.Fatalf("the file says %s, want walkaway", got)
	}

	// A poll that fails transiently is ridden out; the stale status is still not believed.
	if err := w.srv.Approve(token); err != nil { // back
		t.Fatal(err)
	}
	w.run(args("session status --session-file "+file)).expect(t, cli.ExitOK, "session: active", "")
	if err := w.srv.CloseSession(token); err != nil { // closed on the phone
		t.Fatal(err)
	}
	armed.Store(true)
	r = w.run(args("session status --wait --session-file " + file))
	r.expect(t, cli.ExitFailed, "session: closed (logged out)\n", "ended without authenticating (closed)")
	if failures.Load() != 2 {
		t.Errorf("%d status polls, want a failed one and a good one", failures.Load())
	}
}

// TestSessionFileIsPythonJSON: the session file and --output json hold exactly what the Python
// client's Session.Schema().dumps writes (plus a newline).
func TestSessionFileIsPythonJSON(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	file := filepath.Join(t.TempDir(), "s.json")
	r := w.run(args("authenticate alice --output json --session-file " + file))
	r.expect(t, cli.ExitOK, `{"status_url": "`+w.srv.URL()+`/authentication/session_status/`, "")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := savedSession(t, file)
	want, _ := s.PythonJSON()
	want = append(want, '\n')
	if !bytes.Equal(data, want) {
		t.Fatalf("session file\n%s\nwant\n%s", data, want)
	}
	if r.stdout != string(want) {
		t.Fatalf("--output json\n%s\nwant\n%s", r.stdout, want)
	}
	if !strings.Contains(string(data), `"session_status": "pending", "session_secret": "`) ||
		!strings.Contains(string(data), `"failure_reason": null, "session_token": "`+s.Token+`", "logout_url": "`) {
		t.Fatalf("not the Python form: %s", data)
	}
	// The file written back by session status is the Python form too.
	w.srv.Advance(2 * time.Second)
	w.run(args("session status --session-file "+file)).expect(t, cli.ExitOK, "session: active", "")
	data, _ = os.ReadFile(file)
	s.Status = activeconnect.StatusActive
	want, _ = s.PythonJSON()
	if string(data) != string(want)+"\n" {
		t.Fatalf("session file after status\n%s\nwant\n%s", data, want)
	}
}

// TestLogoutKeepsAFinalStatus: logging out of a declined session leaves it cancelled, as the
// service does, also when the file still says pending.
func TestLogoutKeepsAFinalStatus(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	file := filepath.Join(t.TempDir(), "s.json")
	w.run(args("authenticate bob --wait --session-file "+file)).expect(t, cli.ExitDenied, "bob: cancelled", "")
	w.run(args("session logout --session-file "+file)).expect(t, cli.ExitOK, "session: cancelled (declined on the phone)\n", "")
	if got := savedSession(t, file).Status; got != activeconnect.StatusCancelled {
		t.Fatalf("the file says %s after logout, want cancelled", got)
	}

	// Saved while pending; bob declines before the logout.
	w.run(args("authenticate bob --session-file "+file)).expect(t, cli.ExitOK, "bob: pending", "")
	w.srv.Advance(10 * time.Second)
	w.run(args("session logout --session-file "+file)).expect(t, cli.ExitOK, "session: cancelled (declined on the phone)\n", "")
	token := savedSession(t, file).Token
	sessions := w.srv.Sessions("bob")
	if i := slices.IndexFunc(sessions, func(s acmocktest.Session) bool { return s.Token == token }); i < 0 || sessions[i].Status != activeconnect.StatusCancelled {
		t.Fatalf("the service says %+v (session %d)", sessions, i)
	}

	// A live session is closed.
	w.run(args("authenticate alice --session-file "+file)).expect(t, cli.ExitOK, "alice: pending", "")
	w.run(args("session logout --session-file "+file)).expect(t, cli.ExitOK, "session: closed (logged out)\n", "")
}

// TestSessionCommandsIgnoreApplicationSettings: a session carries its own URLs and credentials,
// so another application's ID without a secret, or a wrong base URL, does not matter.
func TestSessionCommandsIgnoreApplicationSettings(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	file := filepath.Join(t.TempDir(), "s.json")
	w.run(args("authenticate alice --session-file "+file)).expect(t, cli.ExitOK, "alice: pending", "")
	foreign := []string{"ACTIVECONNECT_APP_ID", "0123456789abcdef0123456789abcdef", "ACTIVECONNECT_BASE_URL", "not a URL"}
	w.run(args("session status --session-file "+file), withEnv(foreign...)).expect(t, cli.ExitOK, "session: pending", "")
	w.run(args("session status --session-file "+file+" --app-id 0123456789abcdef0123456789abcdef")).expect(t, cli.ExitOK, "session: pending", "")
	w.run(args("session logout --session-file "+file), withEnv(foreign...)).expect(t, cli.ExitOK, "session: closed", "")
	// Other commands still need the secret.
	w.run(args("device check alice"), withEnv(foreign[:2]...)).expect(t, cli.ExitUsage, "", "needs its secret")

	for _, c := range []string{"session status", "session logout"} {
		r := w.run(args(c + " --help"))
		r.expect(t, cli.ExitOK, "--output text|json", "")
		for _, row := range []string{"  --base-url URL", "  --app-id ID", "  --app-secret SECRET"} {
			if strings.Contains(r.stdout, row) {
				t.Errorf("%s --help lists %q", c, row)
			}
		}
		for _, want := range []string{"--http-timeout DURATION", "--base-url, --app-id and --app-secret and their variables are ignored"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s --help lacks %q", c, want)
			}
		}
	}
	r := w.run(args("device check --help"))
	if !strings.Contains(r.stdout, "  --app-id ID") {
		t.Errorf("device check --help lacks --app-id:\n%s", r.stdout)
	}
}

// TestSessionFileMustBeASession: a file that parses but holds no session ({}, or a started one
// without its credentials) is refused, naming what is missing, before any request.
func TestSessionFileMustBeASession(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"empty object", `{}`, "lacks session_status, session_token, session_secret, status_url and logout_url (or failure_reason, for a login that did not start)"},
		{"all null", `{"status_url": null, "session_status": null, "session_secret": null, "failure_reason": null, "session_token": null, "logout_url": null}`,
			"lacks session_status, session_token, session_secret, status_url and logout_url"},
		{"no secret", `{"status_url": "http://x/st", "session_status": "pending", "session_token": "t", "logout_url": "http://x/lo"}`, "lacks session_secret;"},
		{"not started without a status", `{"failure_reason": "NO_MOBILE_DEVICE"}`, "lacks session_status;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if err := os.WriteFile(file, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"session status --session-file ", "session logout --session-file "} {
				r := w.run(args(cmd + file))
				if r.code != cli.ExitUsage || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "acclient authenticate --session-file") || r.stdout != "" {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 (usage: no request was sent) and %q", cmd, r.code, r.stdout, r.stderr, tt.want)
				}
			}
		})
	}
	if n := len(w.srv.Requests(acmocktest.Filter{})); n != 0 {
		t.Errorf("%d requests were sent for sessions that are not there", n)
	}
	// A login that did not start is a complete session: its file is accepted.
	file := filepath.Join(dir, "not-started.json")
	_ = os.WriteFile(file, []byte(`{"status_url": null, "session_status": "failed", "session_secret": null, "failure_reason": "NO_MOBILE_DEVICE", "session_token": null, "logout_url": null}`), 0o600)
	w.run(args("session status --session-file "+file)).expect(t, cli.ExitOK, "session: failed", "")
	// The help says which exit code such a file gets.
	w.run(args("--help")).expect(t, cli.ExitOK, "2    usage: bad flags or arguments, or a --session-file that is not a session", "")
}
