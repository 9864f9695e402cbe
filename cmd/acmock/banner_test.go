package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/acmock/acmock/internal/scenario"
)

// TestHelpGoesToStdout: acmock --help | less shows the help, and exits 0.
func TestHelpGoesToStdout(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"validate", "--help"}, {"validate", "a.yaml", "--help"},
		{"approve", "--help"}, {"advance", "-h"}, {"requests", "--follow", "--help"}} {
		var stdout, stderr syncBuffer
		if code := run(args, &stdout, &stderr, nil); code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		if !strings.Contains(stdout.String(), "Usage:") || stderr.String() != "" {
			t.Errorf("%v: the help must go to stdout alone:\nstdout %q\nstderr %q", args, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr syncBuffer
	run([]string{"--help"}, &stdout, &stderr, nil)
	for _, want := range []string{"--addr", "acmock approve", "Exit codes:", "2  bad flags", "at most 1,000 applications", "README.md (Bounds) and api/control.yaml (Bounds)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the help lacks %q", want)
		}
	}
}

// TestUnknownFlagIsOneLine: a mistyped flag gets the error and a hint, not the whole help.
func TestUnknownFlagIsOneLine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--nope"}, {"--max-clock-skew", "soon"}, {"extra"}, {"approve", "--bogus"}, {"advance", "90s", "--nope"}} {
		var stdout, stderr syncBuffer
		if code := run(args, &stdout, &stderr, nil); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "acmock") || strings.Contains(lines[0], "--help") || lines[1] != "Run acmock --help for the flags and commands." || stdout.String() != "" {
			t.Errorf("%v: want one error line and the hint, got stdout %q stderr %q", args, stdout.String(), stderr.String())
		}
	}
}

// TestBinding: the URLs for each kind of listen address. No test listens beyond loopback, so
// the addresses are made up.
func TestBinding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, requested string
		addr            *net.TCPAddr
		publicURL       string
		want            binding
	}{
		{"loopback", "127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4711}, "",
			binding{local: "http://127.0.0.1:4711", publicURL: "http://127.0.0.1:4711"}},
		{"IPv6 loopback", "[::1]:8080", &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "",
			binding{local: "http://[::1]:8080", publicURL: "http://[::1]:8080"}},
		{"every interface", "0.0.0.0:8080", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "",
			binding{local: "http://127.0.0.1:8080", exposed: true}},
		{"every interface, no host", ":8080", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "",
			binding{local: "http://127.0.0.1:8080", exposed: true}},
		{"every IPv6 interface", "[::]:8080", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "",
			binding{local: "http://[::1]:8080", exposed: true}},
		{"every interface with a public URL", "0.0.0.0:8080", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://myhost:8080",
			binding{local: "http://127.0.0.1:8080", publicURL: "http://myhost:8080", exposed: true}},
		{"one LAN address", "192.168.1.5:8080", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 8080}, "",
			binding{local: "http://192.168.1.5:8080", publicURL: "http://192.168.1.5:8080", exposed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeBinding(tt.requested, tt.addr, tt.publicURL); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	var out strings.Builder
	b := describeBinding("0.0.0.0:8080", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "")
	printBanner(&out, b, scenario.Default(), config{addr: "0.0.0.0:8080", clock: "real"}, nil)
	banner := out.String()
	if strings.Contains(banner, "[::]") || !strings.Contains(banner, "WARNING: --addr 0.0.0.0:8080: other machines can reach acmock") ||
		!strings.Contains(banner, "follow each request's Host header") || !strings.Contains(banner, "health: http://127.0.0.1:8080/_acmock/health") ||
		!strings.Contains(banner, "export ACTIVECONNECT_BASE_URL=http://127.0.0.1:8080") {
		t.Errorf("banner for 0.0.0.0:\n%s", banner)
	}
}

// TestBannerSaysWhatToDoNext: next commands, the virtual clock, faults, later logins, and exports
// that do not overwrite each other.
func TestBannerSaysWhatToDoNext(t *testing.T) {
	t.Parallel()
	load := func(name string) *scenario.Scenario {
		sc, err := scenario.LoadFile(filepath.Join("../../scenarios", name))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	local := binding{local: "http://127.0.0.1:8080", publicURL: "http://127.0.0.1:8080"}
	tests := []struct {
		name  string
		sc    *scenario.Scenario
		clock string
		want  []string
		not   []string
		token string
	}{
		{"demo", scenario.Default(), "real", []string{
			"acclient authenticate alice --wait", "acmock approve alice", "acmock requests --follow",
			"control API: http://127.0.0.1:8080/_acmock/", "health: http://127.0.0.1:8080/_acmock/health",
		}, []string{"virtual", "Faults", "ACMOCK_CONTROL_TOKEN"}, ""},
		{"control token", scenario.Default(), "real", []string{
			"export ACMOCK_CONTROL_TOKEN=<the --control-token value>", "Authorization: Bearer <token>",
		}, []string{"s3cret"}, "s3cret"},
		{"virtual clock", scenario.Default(), "virtual", []string{"The clock is virtual: it moves only when told to", "acmock advance"}, nil, ""},
		{"later logins", load("deny-then-approve.yaml"), "real", []string{"grace        phone: login 1: cancelled after 2s; login 2 and later: active after 2s"}, nil, ""},
		{"faults", load("flaky-network.yaml"), "real", []string{
			"Faults the scenario injects:",
			"status-503: answers 503 on getSessionStatus for user dave (the first 2 times)",
			"third-poll-dropped: drops the connection on getSessionStatus for user heidi (call 3 only)",
			"garbled-device-check: cuts the JSON answer short on hasRegisteredMobileDevice (with probability 0.2)",
		}, nil, ""},
		{"several applications", load("multi-app.yaml"), "real", []string{
			"export ACTIVECONNECT_APP_ID=5ca1ab1e00000000000000000000a001\n",
			"export ACTIVECONNECT_APP_ID_2=5ca1ab1e00000000000000000000b001\n",
			"export ACTIVECONNECT_APP_SECRET_2=BANKSECRET0000000000000000000001\n",
		}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			printBanner(&out, local, tt.sc, config{addr: "127.0.0.1:8080", clock: tt.clock, controlToken: tt.token}, nil)
			for _, want := range tt.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("banner lacks %q:\n%s", want, out.String())
				}
			}
			for _, not := range tt.not {
				if strings.Contains(out.String(), not) {
					t.Errorf("banner has %q:\n%s", not, out.String())
				}
			}
			if strings.Count(out.String(), "export ACTIVECONNECT_APP_ID=") != 1 {
				t.Errorf("the exports overwrite each other:\n%s", out.String())
			}
		})
	}
}

// TestValidateUsageWithoutFiles: no file is a usage error on stderr.
func TestValidateUsageWithoutFiles(t *testing.T) {
	t.Parallel()
	var stdout, stderr syncBuffer
	if code := run([]string{"validate"}, &stdout, &stderr, nil); code != 2 || !strings.Contains(stderr.String(), "Usage: acmock validate") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestValidateReportsWhatIsWritten: a timeout without a unit is one problem (not also the steps it
// would cut short), problems come in the order of the file, and counts read as English.
func TestValidateReportsWhatIsWritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	data := `name: t
timeout: 60
applications:
  - id: a
    secret: s
    users:
      - id: u
        phone: true
        login:
          - {after: 2s, status: sideways}
  - id: a
    secret: s
  - id: b
    secret: s
    colour: red
`
	if err := os.WriteFile(bad, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	if code := run([]string{"validate", bad}, &stdout, &stderr, nil); code != 1 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	want := []string{
		bad + `:2:10: timeout must be a duration with a unit, such as 60s or 60ms, not the bare number 60`,
		bad + `:10:33: unknown status "sideways"`,
		bad + `:11:5: application "a" is listed twice`,
		bad + `:15:5: `,
		"1 of 1 file has problems",
	}
	if len(lines) != len(want) {
		t.Fatalf("want %d lines, got:\n%s", len(want), stderr.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d: %q, want it to start with %q", i+1, lines[i], want[i])
		}
	}
	// A timeout that is a problem is not replaced by the default in later checks: a step at 90 s,
	// past the default 60 s, is not reported as timed out.
	for _, timeout := range []string{"120", "2 minutes", "0s", "-5s"} {
		file := filepath.Join(dir, "timeout.yaml")
		data := "name: t\ntimeout: " + timeout + "\napplications:\n  - id: a\n    secret: s\n    users:\n" +
			"      - id: u\n        phone: true\n        login:\n          - {after: 90s, status: active}\n"
		if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		stdout, stderr = syncBuffer{}, syncBuffer{}
		code := run([]string{"validate", file}, &stdout, &stderr, nil)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], file+":2:10: timeout must be") {
			t.Errorf("timeout: %s: exit %d, want one problem, on the timeout:\n%s", timeout, code, stderr.String())
		}
	}
	stdout, stderr = syncBuffer{}, syncBuffer{}
	if code := run([]string{"validate", "../../scenarios/deny.yaml"}, &stdout, &stderr, nil); code != 0 ||
		!strings.Contains(stdout.String(), "(scenario deny: 1 application, 0 faults, 1 expectation)") {
		t.Fatalf("exit %d, stdout %q", code, stdout.String())
	}
}

// TestStartupShowsChangedLimits: the banner and the listening log line name the bounds set to
// other values than their defaults, so a session forgotten early is not a mystery.
func TestStartupShowsChangedLimits(t *testing.T) {
	var out strings.Builder
	local := binding{local: "http://127.0.0.1:8080", publicURL: "http://127.0.0.1:8080"}
	printBanner(&out, local, scenario.Default(), config{addr: "127.0.0.1:8080", clock: "real"}, nil)
	if strings.Contains(out.String(), "Limits changed") {
		t.Fatalf("default limits are named:\n%s", out.String())
	}
	var stdout, log syncBuffer
	ready := make(chan string, 1)
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"--addr", "127.0.0.1:0", "--log-format", "json", "--max-sessions", "20", "--journal-size", "7"}, &stdout, &log, ready)
	}()
	select {
	case <-ready:
	case c := <-code:
		t.Fatalf("exit %d: %s", c, log.String())
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	<-code
	banner := stdout.String()
	want := "--max-sessions 20 --journal-size 7"
	if !strings.Contains(banner, "Limits changed from their defaults: "+want) {
		t.Errorf("the banner does not name the changed limits:\n%s", banner)
	}
	if rec := logRecord(log.String(), "listening"); rec == nil || rec["limits"] != want {
		t.Errorf("the listening line does not name the changed limits: %v", rec)
	}
}

// TestNextCommandsCanBeRun: the commands the banner suggests name acclient and acmock as the user
// can run them: by name when they are on PATH, else by their path beside the running acmock (make
// run builds both into bin/), relative to the working directory.
func TestNextCommandsCanBeRun(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(bin, "acmock")
	for _, f := range []string{self, filepath.Join(bin, "acclient")} {
		if err := os.WriteFile(f, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	never := func(string) bool { return false }
	always := func(string) bool { return true }
	for _, tt := range []struct {
		name, cmd, wd string
		onPath        func(string) bool
		want          string
	}{
		{"on PATH", "acclient", dir, always, "acclient"},
		{"beside acmock, below the working directory", "acclient", dir, never, filepath.Join("bin", "acclient")},
		{"beside acmock, in the working directory", "acclient", bin, never, "." + string(filepath.Separator) + "acclient"},
		{"beside acmock, elsewhere", "acclient", t.TempDir(), never, filepath.Join(bin, "acclient")},
		{"acmock itself", "acmock", dir, never, filepath.Join("bin", "acmock")},
		{"nowhere", "acctl", dir, never, "acctl"},
	} {
		if got := commandPathFrom(tt.cmd, self, tt.wd, tt.onPath); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestShellQuoteReadsBack: what the banner exports reads back, through a POSIX shell, as the value
// it was made from, whatever the value holds (a public URL's path may hold ';' or '$', a
// scenario's secret anything); plain values stay as they were.
func TestShellQuoteReadsBack(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"http://127.0.0.1:8080", "5ca1ab1e000000000000000000000001", "http://h:9000/a;b", "http://h/$HOME/x",
		"it's", "=abc", "x:=ls", "a=b", "a b\tc", `"q"`, "back\\slash", "`date`", "$(id)", "*", "~", "!", "#x", "", "é", "line\nbreak"} {
		out, err := exec.Command("sh", "-c", "export V="+shellQuote(s)+`; printf %s "$V"`).CombinedOutput()
		if err != nil || string(out) != s {
			t.Errorf("%q written as %s read back as %q (%v)", s, shellQuote(s), out, err)
		}
	}
	for _, s := range []string{"=abc", "x:=ls", "a=b"} { // zsh expands an unquoted = in a value
		if w := shellQuote(s); !strings.HasPrefix(w, "'") {
			t.Errorf("%q is written %s, unquoted", s, w)
		}
	}
	if w := shellQuote("http://127.0.0.1:8080"); w != "http://127.0.0.1:8080" {
		t.Errorf("a plain URL is written %s", w)
	}
}
