package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/internal/cli"
)

// TestAuthenticateWaitExitCodes runs "acclient authenticate USER --wait" for every way a login can
// end and checks the exit code, what stdout shows and the one-line error.
func TestAuthenticateWaitExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scenario acmocktest.Option
		line     string
		env      []string
		code     int
		stdout   string // the last line of stdout
		stderr   string
	}{
		{"approved", nil, "authenticate alice --wait", nil, cli.ExitOK,
			"alice: active (authenticated)", ""},
		{"denied", nil, "authenticate bob --wait", nil, cli.ExitDenied,
			"bob: cancelled (declined on the phone)", "acclient: bob declined the login on the phone (cancelled)"},
		{"timed out", silentScenario(), "authenticate alice --wait", nil, cli.ExitTimedOut,
			"alice: timeout (nobody answered on the phone in time)", "nobody answered the login for alice on the phone in time (timeout); try again"},
		{"failed", failingScenario(), "authenticate alice --wait", nil, cli.ExitFailed,
			"alice: failed", "the login for alice ended without authenticating (failed)"},
		{"no phone", nil, "authenticate carol --wait", nil, cli.ExitNoPhone,
			"carol: failed", "carol has no registered phone; register one with: acclient device link carol"},
		{"unknown user", nil, "authenticate nobody --wait", nil, cli.ExitNotFound,
			"nobody: failed", "the application has no user nobody; add it with: acclient users add nobody"},
		{"bad credentials", nil, "authenticate alice --wait", []string{"ACTIVECONNECT_APP_SECRET", "WRONG"}, cli.ExitBadCredentials,
			"", `authenticate "alice": HTTP 401 signature_mismatch`},
		{"unknown application", nil, "authenticate alice --wait --app-id 0123456789abcdef0123456789abcdef --app-secret X", nil, cli.ExitNotFound,
			"", "HTTP 404 unknown_application: no application 0123456789abcdef0123456789abcdef (field application_id); check --app-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tt.scenario)
			r := w.run(args(tt.line), withEnv(tt.env...))
			r.expect(t, tt.code, tt.stdout, tt.stderr)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if last := lines[len(lines)-1]; last != tt.stdout {
				t.Errorf("last line of stdout %q, want %q", last, tt.stdout)
			}
			if tt.code == cli.ExitOK {
				if r.stderr != "" {
					t.Errorf("stderr on success: %q", r.stderr)
				}
				if lines[0] != "alice: pending (waiting for the phone)" {
					t.Errorf("the first status shown: %q", lines[0])
				}
				return
			}
			r.oneLineError(t)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, runConfig{env: map[string]string{"ACTIVECONNECT_BASE_URL": "http://" + closedPort(t)}, ctx: context.Background()},
			args("authenticate alice --wait"))
		r.expect(t, cli.ExitUnreachable, "", "connection refused; is the service running there? start acmock, or set --base-url (ACTIVECONNECT_BASE_URL)")
		r.oneLineError(t)
	})
}

// TestAuthenticateWaitTimeoutFlag checks --timeout, which ends the wait on acclient's side.
func TestAuthenticateWaitTimeoutFlag(t *testing.T) {
	t.Parallel()
	w := newWorld(t, silentScenario())
	blockUntilDone := func(ctx context.Context, _ time.Duration) error {
		<-ctx.Done()
		return ctx.Err()
	}
	dir := t.TempDir()
	r := w.run(args("authenticate alice --wait --timeout 20ms --session-file "+dir+"/s.json"), withSleep(blockUntilDone))
	r.expect(t, cli.ExitTimedOut, "alice: pending", "acclient: gave up waiting after 20ms; the session is still pending; check it later with: acclient session status --wait --session-file "+dir+"/s.json")
	r.oneLineError(t)
}

func TestAuthenticateWaitRidesOutFailingPolls(t *testing.T) {
	t.Parallel()
	var failures atomic.Int32
	w := newWorld(t, nil, unavailablePolls("1", func() bool { return failures.Add(1) <= 2 }))
	r := w.run(args("authenticate alice --wait"))
	r.expect(t, cli.ExitOK, "alice: poll failed, retrying in 1s: get session status: HTTP 503 injected_fault: service unavailable", "")
	if !strings.HasSuffix(r.stdout, "alice: active (authenticated)\n") {
		t.Fatalf("stdout: %q", r.stdout)
	}

	// Polls that keep failing end as unreachable.
	failures.Store(-100)
	r = w.run(args("authenticate alice --wait"))
	r.expect(t, cli.ExitUnreachable, "", "giving up after 11 failed polls in a row")
	r.oneLineError(t)
}

func TestAuthenticateOutput(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)

	t.Run("json", func(t *testing.T) {
		r := w.run(args("authenticate alice --wait --output json"))
		r.expect(t, cli.ExitOK, `"session_status": "active"`, "alice: active")
		if strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("stdout holds more than the session: %q", r.stdout)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"status_url", "session_status", "session_secret", "failure_reason", "session_token", "logout_url"} {
			if _, ok := m[k]; !ok {
				t.Errorf("key %s missing from %s", k, r.stdout)
			}
		}
		if len(m) != 6 || m["failure_reason"] != nil {
			t.Errorf("session JSON: %s", r.stdout)
		}
	})
	t.Run("json denied", func(t *testing.T) {
		r := w.run(args("--output json authenticate bob --wait"))
		r.expect(t, cli.ExitDenied, `"session_status": "cancelled"`, "acclient: bob declined the login on the phone (cancelled)")
	})
	t.Run("terminal", func(t *testing.T) {
		r := w.run(args("authenticate alice --wait"), onTerminal())
		r.expect(t, cli.ExitOK, "\r\033[K", "")
		if !strings.HasSuffix(r.stdout, "\r\033[Kalice: active (authenticated)\n") || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("a terminal gets one redrawn line: %q", r.stdout)
		}
	})
	t.Run("no wait", func(t *testing.T) {
		r := w.run(args("authenticate alice"))
		r.expect(t, cli.ExitOK, "alice: pending (waiting for the phone)\nnot saved: pass --wait", "")
		r = w.run(args("authenticate alice --output json"))
		r.expect(t, cli.ExitOK, `"session_status": "pending"`, "")
	})
	t.Run("methods", func(t *testing.T) {
		r := w.run(args("authenticate alice --methods acceptance,facial --methods device --output json"))
		r.expect(t, cli.ExitOK, `"session_status": "pending"`, "")
		var m map[string]any
		_ = json.Unmarshal([]byte(r.stdout), &m)
		sessions := w.srv.Sessions("alice")
		i := slices.IndexFunc(sessions, func(s acmocktest.Session) bool { return s.Token == m["session_token"] })
		if i < 0 || len(sessions[i].Methods) != 3 || sessions[i].Methods[2] != "device" {
			t.Fatalf("methods sent: %+v (session %d)", sessions, i)
		}
	})
}

func TestInterrupted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, silentScenario())
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	r := w.run(args("authenticate alice --wait"), withContext(ctx), withSleep(func(ctx context.Context, d time.Duration) error {
		if polls++; polls == 2 {
			cancel()
		}
		return ctx.Err()
	}))
	r.expect(t, cli.ExitInterrupted, "alice: pending", "acclient: interrupted\n")
}

// TestAuthHeadersFlag: --auth-headers (or ACTIVECONNECT_AUTH_HEADERS) names the timestamp and
// version headers of every request, a saved session's status and logout included; the flag wins
// over the variable, and an unknown family is a usage error naming the choices.
func TestAuthHeadersFlag(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sent []string
	record := acmocktest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			sent = append(sent, strings.Join(acauth.HeadersUsed(r.Header), ","))
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	w := newWorld(t, nil, record)
	file := filepath.Join(t.TempDir(), "s.json")
	w.run(args("device check alice --auth-headers iampass")).expect(t, cli.ExitOK, "alice", "")
	w.run(args("authenticate alice --auth-headers X-IAMPASS-Authentication --session-file "+file)).expect(t, cli.ExitOK, "alice: pending", "")
	w.run(args("session status --session-file "+file), withEnv("ACTIVECONNECT_AUTH_HEADERS", "sonikpass")).expect(t, cli.ExitOK, "pending", "")
	w.run(args("session logout --auth-headers activeconnect --session-file "+file), withEnv("ACTIVECONNECT_AUTH_HEADERS", "sonikpass")).expect(t, cli.ExitOK, "", "")
	mu.Lock()
	got := slices.Clone(sent)
	mu.Unlock()
	want := []string{
		"X-IAMPASS-Authentiaction-Timestamp,X-IAMPASS-Authentiaction-Version",
		"X-IAMPASS-Authentication-Timestamp,X-IAMPASS-Authentication-Version",
		"X-Sonikpass-Authentication-Timestamp,X-Sonikpass-Authentication-Version",
		// session logout calls the logout URL, then the status URL
		"X-Activeconnect-Authentication-Timestamp,X-Activeconnect-Authentication-Version",
		"X-Activeconnect-Authentication-Timestamp,X-Activeconnect-Authentication-Version",
	}
	if !slices.Equal(got, want) {
		t.Errorf("headers sent:\n%q\nwant\n%q", got, want)
	}

	r := w.run(args("device check alice --auth-headers iam"))
	r.expect(t, cli.ExitUsage, "", `invalid value "iam" for --auth-headers: use activeconnect, iampass, sonikpass or one of X-Activeconnect-Authentication,`)
	r.oneLineError(t)
	r = w.run(args("device check alice"), withEnv("ACTIVECONNECT_AUTH_HEADERS", "X-IAMPASS"))
	r.expect(t, cli.ExitUsage, "", `acclient: ACTIVECONNECT_AUTH_HEADERS="X-IAMPASS": unknown header family`)
	r.oneLineError(t)
	w.run(args("device check --help")).expect(t, cli.ExitOK, "--auth-headers FAMILY", "")
}
