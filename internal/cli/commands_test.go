package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/cli"
)

func TestUsersCommands(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)

	r := w.run([]string{"users", "add", "dave", "MY USER 1", "alice"})
	r.expect(t, cli.ExitOK, "added dave\nadded \"MY USER 1\"\nalice already exists\n", "")
	r = w.run(args("users add --output json erin alice"))
	r.expect(t, cli.ExitOK, `{"created":["erin"],"existing":["alice"]}`+"\n", "")
	if _, err := w.srv.Management().HasRegisteredMobileDevice(context.Background(), "MY USER 1"); err != nil {
		t.Fatalf("MY USER 1 was not created: %v", err)
	}

	r = w.run([]string{"users", "delete", "dave", "MY USER 1"})
	r.expect(t, cli.ExitOK, "deleted (if they existed): dave, \"MY USER 1\"\n", "")
	r = w.run(args("users delete erin --output json"))
	r.expect(t, cli.ExitOK, `{"deleted":["erin"]}`+"\n", "")
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := w.srv.Management().HasRegisteredMobileDevice(context.Background(), u); err != nil {
			t.Fatalf("%s: %v; want alice, bob and carol left", u, err)
		}
	}
	for _, u := range []string{"dave", "MY USER 1", "erin"} {
		if _, err := w.srv.Management().HasRegisteredMobileDevice(context.Background(), u); !activeconnect.IsNotFound(err) {
			t.Fatalf("%s was not deleted: %v", u, err)
		}
	}
	// A user ID that starts with "-" goes after "--".
	r = w.run(args("users add -- -dash"))
	r.expect(t, cli.ExitOK, "added -dash\n", "")
}

func TestDeviceCommands(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.run(args("users add dave")).expect(t, cli.ExitOK, "added dave", "")

	r := w.run(args("device check dave"))
	r.expect(t, cli.ExitNoPhone, "dave has no registered phone; register one with: acclient device link dave\n", "")
	if r.stderr != "" {
		t.Errorf("device check repeats its answer on stderr: %q", r.stderr)
	}
	w.run(args("device check dave --output json")).expect(t, cli.ExitNoPhone, `{"device_registered":false,"user":"dave"}`, "")

	r = w.run(args("device link dave --display-name dave@myapp"))
	r.expect(t, cli.ExitOK, w.srv.URL()+"/_acmock/register/", "")
	link := strings.TrimSpace(r.stdout)
	if strings.Contains(link, "\n") {
		t.Fatalf("device link prints more than the link: %q", r.stdout)
	}
	res, err := http.Get(link)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("open link: %v %v", res, err)
	}
	res.Body.Close()
	w.run(args("device check dave")).expect(t, cli.ExitOK, "dave has a registered phone\n", "")
	w.run(args("device check dave --output json")).expect(t, cli.ExitOK, `{"device_registered":true,"user":"dave"}`, "")
	w.run(args("device link carol --output json")).expect(t, cli.ExitOK, `{"register_url":"`+w.srv.URL()+"/_acmock/register/", "")

	r = w.run(args("device sms carol --phone +15555550100 --message Hello"))
	r.expect(t, cli.ExitOK, "texted a registration link for carol to +15555550100\n", "")
	if out := w.srv.Outbox(); len(out) != 1 || !strings.HasPrefix(out[0].Body, "Hello ") {
		t.Fatalf("outbox: %+v", out)
	}
	w.run(args("device sms carol --phone +15555550100 --output json")).expect(t, cli.ExitOK, `{"phone_number":"+15555550100","sent":true,"user":"carol"}`, "")
	r = w.run(args("device sms alice --phone +15555550100"))
	r.expect(t, cli.ExitError, "", "HTTP 409 device_already_registered")
	if !strings.HasSuffix(r.stderr, `already has a registered phone (field user_id); report the phone lost first with: acclient device lost alice`+"\n") {
		t.Errorf("no advice: %q", r.stderr)
	}
	r.oneLineError(t)
	r = w.run(args("device sms carol --phone 555"))
	r.expect(t, cli.ExitError, "", `HTTP 200: phone_number "555" does not start with +`)
	r.oneLineError(t)

	r = w.run(args("device lost alice"))
	r.expect(t, cli.ExitOK, "disabled the phone of alice; a new phone registers with:\n"+w.srv.URL()+"/_acmock/register/", "")
	w.run(args("device check alice")).expect(t, cli.ExitNoPhone, "alice has no registered phone", "")
	w.run(args("authenticate alice --wait")).expect(t, cli.ExitNoPhone, "alice: failed", "alice has no registered phone")
	w.run(args("device lost bob --output json")).expect(t, cli.ExitOK, `{"register_url":"`, "")

	r = w.run(args("device check nobody"))
	r.expect(t, cli.ExitNotFound, "", `HTTP 404 unknown_user: application `+demoApp+` has no user "nobody"`)
	r.oneLineError(t)
}

// TestSessionFileAcrossInvocations follows one session through separate acclient runs.
func TestSessionFileAcrossInvocations(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	file := filepath.Join(t.TempDir(), "session.json")

	r := w.run(args("authenticate alice --session-file " + file))
	r.expect(t, cli.ExitOK, "alice: pending (waiting for the phone)\nsaved to "+file+"; follow it with: acclient session status --wait --session-file "+file, "")
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v, mode %v; want 0600", err, info.Mode())
	}
	saved := readJSON(t, file)
	if len(saved) != 6 || saved["session_status"] != "pending" || saved["failure_reason"] != nil {
		t.Fatalf("saved session: %v", saved)
	}

	w.run(args("session status --session-file "+file)).expect(t, cli.ExitOK, "session: pending (waiting for the phone)\n", "")
	w.srv.Advance(2 * time.Second)
	w.run(args("session status --session-file "+file)).expect(t, cli.ExitOK, "session: active (authenticated)\n", "")
	if got := readJSON(t, file)["session_status"]; got != "active" {
		t.Fatalf("the file was not updated: %v", got)
	}
	w.run(args("session status --wait --session-file "+file)).expect(t, cli.ExitOK, "session: active (authenticated)\n", "")

	// The same session read from stdin, as a pipe would pass it.
	data, _ := os.ReadFile(file)
	w.run(args("session status --session-file - --output json"), withStdin(string(data))).expect(t, cli.ExitOK, `"session_status": "active"`, "")

	w.run(args("session logout --session-file "+file)).expect(t, cli.ExitOK, "session: closed (logged out)\n", "")
	if got := readJSON(t, file)["session_status"]; got != "closed" {
		t.Fatalf("after logout the file says %v", got)
	}
	w.run(args("session status --output json --session-file "+file)).expect(t, cli.ExitOK, `"session_status": "closed"`, "")
	w.run(args("session logout --session-file "+file)).expect(t, cli.ExitOK, "closed", "")
	r = w.run(args("session status --wait --session-file " + file))
	r.expect(t, cli.ExitFailed, "session: closed", "the login for the user ended without authenticating (closed)")

	// A session waited for from its file, across runs: bob declines.
	r = w.run(args("authenticate bob --session-file " + file))
	r.expect(t, cli.ExitOK, "bob: pending", "")
	r = w.run(args("session status --session-file " + file + " --wait"))
	r.expect(t, cli.ExitDenied, "session: cancelled", "acclient: the user declined the login on the phone (cancelled)")
	if got := readJSON(t, file)["session_status"]; got != "cancelled" {
		t.Fatalf("file after the wait: %v", got)
	}

	// A session that did not start is saved too, and cannot be followed or ended.
	w.run(args("authenticate carol --session-file "+file)).expect(t, cli.ExitNoPhone, "carol: failed", "carol has no registered phone")
	if got := readJSON(t, file); got["failure_reason"] != "NO_MOBILE_DEVICE" || got["status_url"] != nil {
		t.Fatalf("not-started session file: %v", got)
	}
	w.run(args("session status --session-file "+file)).expect(t, cli.ExitOK, "session: failed", "")
	w.run(args("session status --wait --session-file "+file)).expect(t, cli.ExitNoPhone, "session: failed", "the user has no registered phone")
	r = w.run(args("session logout --session-file " + file))
	r.expect(t, cli.ExitError, "", "log out: the session did not start (NO_MOBILE_DEVICE), so it has no logout_url")
	r.oneLineError(t)

	// Bad session files.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"token": "x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = w.run(args("session status --session-file " + bad))
	r.expect(t, cli.ExitUsage, "", `session file `+bad+`: parse session: decode session JSON: json: unknown field "token"`)
	r.oneLineError(t)
	r = w.run(args("session status --session-file " + filepath.Join(t.TempDir(), "missing.json")))
	r.expect(t, cli.ExitError, "", "read session file: open ")
	r.oneLineError(t)
}

func readJSON(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}
