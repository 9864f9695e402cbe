package cli_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/internal/cli"
)

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	tests := []struct {
		line   string
		env    []string
		stderr string
	}{
		{"", nil, "acclient: no command given; run acclient --help for the list"},
		{"frobnicate alice", nil, `acclient: unknown command "frobnicate"; run acclient --help for the list`},
		{"users list", nil, `acclient: users: unknown subcommand "list"; use add, delete (run acclient users --help)`},
		{"users", nil, "acclient: users needs a subcommand: add, delete (run acclient users --help)"},
		{"device", nil, "acclient: device needs a subcommand: link, sms, check, lost (run acclient device --help)"},
		{"users add", nil, "acclient: users add: give at least one user ID, as in: acclient users add dave"},
		{"users delete", nil, "acclient: users delete: give at least one user ID"},
		{"device check", nil, "acclient: device check: give a user ID, as in: acclient device check dave"},
		{"device link alice bob", nil, "acclient: device link: give one user ID, not 2 (quote an ID that holds spaces)"},
		{"device sms carol", nil, "acclient: device sms: --phone is required, as in: acclient device sms carol --phone +15555550100"},
		{"authenticate", nil, "acclient: authenticate: give a user ID"},
		{"authenticate alice --bogus", nil, "acclient: authenticate: unknown flag --bogus (run acclient authenticate --help)"},
		{"authenticate alice --interval", nil, "acclient: authenticate: --interval needs a value"},
		{"authenticate alice --interval soon", nil, `acclient: authenticate: invalid value "soon" for --interval`},
		{"authenticate alice --interval 0s", nil, "acclient: authenticate: --interval must be positive, not 0s"},
		{"authenticate alice --methods retina", nil, `invalid value "retina" for --methods: unknown method "retina": use acceptance, device or facial`},
		{"authenticate alice --session-file -", nil, "--session-file needs a file name"},
		{"authenticate alice --output yaml", nil, `acclient: --output must be text or json, not "yaml"`},
		{"authenticate alice --base-url 127.0.0.1:8080", nil, `acclient: --base-url "127.0.0.1:8080" is not an http or https URL such as http://127.0.0.1:8080`},
		{"authenticate alice --app-id 0123456789abcdef0123456789abcdef", nil, "acclient: application 0123456789abcdef0123456789abcdef needs its secret: pass --app-secret or set ACTIVECONNECT_APP_SECRET"},
		{"authenticate alice", []string{"ACTIVECONNECT_APP_ID", "a:b", "ACTIVECONNECT_APP_SECRET", "s"}, `acclient: new authentication API: application ID "a:b" must not contain ':' or whitespace`},
		{"users add alice --wait", nil, "acclient: users add: unknown flag --wait"},
		{"session status", nil, "acclient: session status: --session-file is required (save one with: acclient authenticate alice --session-file session.json)"},
		{"session status extra --session-file x", nil, `acclient: session status: unexpected argument "extra"`},
		{"session logout", nil, "acclient: session logout: --session-file is required"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			r := w.run(args(tt.line), withEnv(tt.env...))
			r.expect(t, cli.ExitUsage, "", tt.stderr)
			r.oneLineError(t)
			if r.stdout != "" {
				t.Errorf("stdout on a usage error: %q", r.stdout)
			}
		})
	}
	if n := len(w.srv.Requests(acmocktest.Filter{})); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	for _, line := range []string{"--help", "-h", "help", "help --output json"} {
		r := w.run(args(line))
		r.expect(t, cli.ExitOK, "Commands:\n", "")
		for _, want := range []string{"Examples:", "acclient authenticate alice --wait", "Exit codes:", "ACTIVECONNECT_BASE_URL", "ACTIVECONNECT_APP_ID", "ACTIVECONNECT_APP_SECRET", "--output text|json"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: help lacks %q", line, want)
			}
		}
	}
	for _, group := range []string{"users", "device", "session"} {
		r := w.run(args(group + " --help"))
		r.expect(t, cli.ExitOK, "Subcommands:\n  "+group+" ", "")
	}
	commands := []string{"users add", "users delete", "device link", "device sms", "device check", "device lost", "authenticate", "session status", "session logout"}
	for _, c := range commands {
		for _, line := range []string{c + " --help", "help " + c, c + " alice -h"} {
			r := w.run(args(line))
			r.expect(t, cli.ExitOK, "Usage:\n  acclient "+c, "")
			if !strings.Contains(r.stdout, "Examples:\n  acclient "+c) || !strings.Contains(r.stdout, "Global flags") {
				t.Errorf("%s: no examples or global flags:\n%s", line, r.stdout)
			}
		}
	}
	r := w.run(args("authenticate --help"))
	for _, want := range []string{"--wait", "--interval DURATION", "(default 2s)", "--timeout DURATION", "--session-file FILE", "--methods LIST", "3    denied", "8    unreachable"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("authenticate --help lacks %q", want)
		}
	}
	if n := len(w.srv.Requests(acmocktest.Filter{})); n != 0 {
		t.Errorf("help sent %d requests", n)
	}
}

// TestFlagsAnywhere checks that flags may come before the command, between its words and after
// its arguments, with "=" or a separate value.
func TestFlagsAnywhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	for _, line := range []string{
		"--output json device check alice",
		"device --output json check alice",
		"device check --output json alice",
		"device check alice --output json",
		"device check alice --output=json",
		"-output json device check alice",
	} {
		t.Run(line, func(t *testing.T) {
			w.run(args(line)).expect(t, cli.ExitOK, `{"device_registered":true,"user":"alice"}`, "")
		})
	}
	// --base-url wins over ACTIVECONNECT_BASE_URL, which here names a closed port.
	w.run(args("device check --base-url "+w.srv.URL()+" alice --output json"), withEnv("ACTIVECONNECT_BASE_URL", "http://"+closedPort(t))).
		expect(t, cli.ExitOK, `{"device_registered":true,"user":"alice"}`, "")
	// The environment is overridden by flags, and fills in what they leave out.
	r := w.run(args("device check alice --app-secret WRONG"))
	r.expect(t, cli.ExitBadCredentials, "", "check --app-id and --app-secret (or ACTIVECONNECT_APP_ID and ACTIVECONNECT_APP_SECRET)")
	r = w.run(args("device check alice"), withEnv("ACTIVECONNECT_APP_SECRET", "WRONG"))
	r.expect(t, cli.ExitBadCredentials, "", "HTTP 401 signature_mismatch")
	r = w.run(args("device check alice --app-secret "+demoSecret), withEnv("ACTIVECONNECT_APP_SECRET", "WRONG"))
	r.expect(t, cli.ExitOK, "alice has a registered phone", "")
}

func TestUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	r := runCLI(t, runConfig{env: map[string]string{"ACTIVECONNECT_BASE_URL": srv.URL}, ctx: context.Background()}, args("device check alice"))
	r.expect(t, cli.ExitUnreachable, "", "certificate signed by unknown authority; the server's certificate does not verify: check --base-url (ACTIVECONNECT_BASE_URL)")
	r.oneLineError(t)
}
