package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
)

// syncBuffer is a bytes.Buffer safe to write from the server while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeAndShutDown starts the binary's run loop on a free loopback port, checks the banner,
// health and the request log, then stops it with SIGTERM and expects exit code 0.
func TestServeAndShutDown(t *testing.T) {
	var stdout, stderr syncBuffer
	ready := make(chan string, 1)
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"--addr", "127.0.0.1:0", "--log-format", "json"}, &stdout, &stderr, ready)
	}()
	var base string
	select {
	case base = <-ready:
	case c := <-code:
		t.Fatalf("run exited with %d: %s", c, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	// contracttests/run-against-binary.sh finds the address in the health line.
	for _, want := range []string{"health: " + base + "/_acmock/health\n", "console: " + base + "/_acmock/ui/\n", "ACTIVECONNECT_APP_ID=5ca1ab1e000000000000000000000001", "ACTIVECONNECT_APP_SECRET=ACMOCKDEMOSECRET0000000000000001", "alice        phone: active after 2s", "bob          phone: cancelled after 2s", "carol        no phone"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, stdout.String())
		}
	}
	res, err := http.Get(base + "/_acmock/health")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("health: %v %v", res, err)
	}
	res.Body.Close()

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d after SIGTERM: %s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	var sawRequest bool
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "request" && rec["path"] == "/_acmock/health" && rec["status"] == float64(200) {
			sawRequest = true
		}
	}
	if !sawRequest {
		t.Errorf("no request line for the health check in:\n%s", stderr.String())
	}
}

func TestFlagErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("nonsense: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"clock", []string{"--clock", "sundial"}, "--clock must be real, virtual or auto"},
		{"auth", []string{"--auth", "maybe"}, "--auth must be verify or off"},
		{"log format", []string{"--log-format", "xml"}, "--log-format must be text or json"},
		{"log level", []string{"--log-level", "loud"}, "--log-level"},
		{"argument", []string{"extra"}, `unexpected argument "extra"`},
		{"negative skew", []string{"--max-clock-skew", "-5s"}, "--max-clock-skew must be at least 1s"},
		{"missing scenario", []string{"--scenario", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"bad scenario", []string{"--scenario", bad}, "bad.yaml"},
		{"public URL without scheme", []string{"--public-url", "127.0.0.1:9000"}, "--public-url must start with http:// or https://"},
		{"public URL not a URL", []string{"--public-url", "not a url"}, "--public-url must start with http://"},
		{"public URL ftp", []string{"--public-url", "ftp://x"}, "--public-url must start with http://"},
		{"public URL port", []string{"--public-url", "http://h:99999"}, `--public-url has port "99999"`},
		{"public URL no host", []string{"--public-url", "http:///x"}, "--public-url must name a host"},
		{"public URL query", []string{"--public-url", "http://h:8080/?a=1"}, "--public-url must be a scheme, a host"},
		{"public URL unescaped", []string{"--public-url", "http://h:8080/x y"}, "--public-url must be written as a URL"},
		{"public URL bad host", []string{"--public-url", `http://a<b>&c"d:8080`}, `--public-url has host "a<b>&c\"d"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr syncBuffer
			if code := run(tt.args, &stdout, &stderr, nil); code != 2 {
				t.Fatalf("exit code %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestAuthOffSaysSoLoudly(t *testing.T) {
	var stdout, stderr syncBuffer
	ready := make(chan string, 1)
	code := make(chan int, 1)
	go func() { code <- run([]string{"--addr", "127.0.0.1:0", "--auth", "off"}, &stdout, &stderr, ready) }()
	base := <-ready
	res, err := http.Get(base + "/management/has_registered_mobile_device/5ca1ab1e000000000000000000000001/alice")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("unsigned request with --auth off: %v %v", res, err)
	}
	res.Body.Close()
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	<-code
	log := stderr.String()
	if !strings.Contains(log, "SIGNATURES ARE NOT CHECKED") || !strings.Contains(stdout.String(), "signatures are NOT checked") {
		t.Errorf("no start-up warning:\n%s\n%s", stdout.String(), log)
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	requests := 0
	for _, line := range lines {
		if strings.Count(line, "auth=\"OFF") != 1 {
			t.Errorf("log line without exactly one auth-off mark: %s", line)
		}
		if strings.Contains(line, "msg=request") {
			requests++
		}
	}
	if requests != 1 || len(lines) < 4 {
		t.Errorf("want the listening, request, shutting-down and stopped lines, got:\n%s", log)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(good, []byte("name: good\napplications:\n  - {id: a, secret: s}\n"), 0o600)
	_ = os.WriteFile(bad, []byte("name: bad\ntimeout: soon\n"), 0o600)

	var stdout, stderr syncBuffer
	if code := run([]string{"validate", good}, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("good file: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "good.yaml: ok") {
		t.Fatalf("stdout: %s", stdout.String())
	}
	stdout, stderr = syncBuffer{}, syncBuffer{}
	if code := run([]string{"validate", good, bad}, &stdout, &stderr, nil); code != 1 {
		t.Fatalf("bad file: exit %d", code)
	}
	want := bad + ":2:10: timeout must be a duration such as 500ms, 2s or 1m30s, not \"soon\""
	if !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "1 of 2 files has problems") {
		t.Fatalf("stderr %q lacks %q", stderr.String(), want)
	}
}

func TestShippedScenariosValidate(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	var stdout, stderr syncBuffer
	if code := run(append([]string{"validate"}, files...), &stdout, &stderr, nil); code != 0 || len(files) < 11 {
		t.Fatalf("exit %d for %d files: %s", code, len(files), stderr.String())
	}
}

// TestControlCommands drives a served emulator (virtual clock) from the terminal commands.
func TestControlCommands(t *testing.T) {
	base, ctl := serveForCommands(t, []string{"--clock", "virtual", "--control-token", "tok"}, "--control-token", "tok")
	// Start a login for bob through the API, signed like any client.
	login := signedPost(t, base+"/authentication/authenticate_user/5ca1ab1e000000000000000000000001/bob")
	if login != 202 {
		t.Fatalf("login: %d", login)
	}
	if c, out, errOut := ctl("approve", "bob"); c != 0 || !strings.Contains(out, "of bob is now active") {
		t.Fatalf("approve: %d %q %q", c, out, errOut)
	}
	if c, out, _ := ctl("sessions", "bob"); c != 0 || !strings.Contains(out, "pending@") || !strings.Contains(out, "active@") || !strings.Contains(out, "(control)") {
		t.Fatalf("sessions: %d %q", c, out)
	}
	// Under the virtual clock both logins start at the same instant: approve must pick the newer.
	signedPost(t, base+"/authentication/authenticate_user/5ca1ab1e000000000000000000000001/alice")
	signedPost(t, base+"/authentication/authenticate_user/5ca1ab1e000000000000000000000001/alice")
	if c, _, errOut := ctl("approve", "alice"); c != 0 {
		t.Fatalf("approve alice: %d %q", c, errOut)
	}
	if c, out, _ := ctl("sessions", "alice"); c != 0 || !strings.Contains(out, "login 1  pending@") || !strings.Contains(out, "login 2  pending@") ||
		strings.Contains(strings.Split(out, "\n")[0], "active@") || !strings.Contains(strings.Split(out, "\n")[1], "active@") {
		t.Fatalf("approve picked the wrong session:\n%s", out)
	}
	if c, out, _ := ctl("advance", "90s"); c != 0 || !strings.Contains(out, "steps fired") {
		t.Fatalf("advance: %d %q", c, out)
	}
	if c, out, _ := ctl("requests"); c != 0 || !strings.Contains(out, "authenticateUser") || !strings.Contains(out, "hmac=ok headers=X-Activeconnect-Authentication\n") {
		t.Fatalf("requests: %d %q", c, out)
	}
	if c, out, _ := ctl("sms"); c != 0 || !strings.Contains(out, "outbox is empty") {
		t.Fatalf("sms: %d %q", c, out)
	}
	if c, out, _ := ctl("load", "../../scenarios/deny.yaml"); c != 0 || !strings.Contains(out, "loaded scenario deny") {
		t.Fatalf("load: %d %q", c, out)
	}
	if c, out, _ := ctl("load", "walkaway"); c != 0 || !strings.Contains(out, "loaded scenario walkaway") {
		t.Fatalf("load a shipped scenario by name: %d %q", c, out)
	}
	if c, _, errOut := ctl("load", "walk-away"); c != 1 || !strings.Contains(errOut, "no such file") || !strings.Contains(errOut, "the shipped ones are approve-after-delay,") {
		t.Fatalf("load neither a file nor a name: %d %q", c, errOut)
	}
	if c, out, _ := ctl("reset"); c != 0 || !strings.Contains(out, "reset") {
		t.Fatalf("reset: %d %q", c, out)
	}
	if c, _, errOut := ctl("deny", "nobody"); c != 1 || !strings.Contains(errOut, "start a login first") {
		t.Fatalf("deny without a session: %d %q", c, errOut)
	}
	if c, _, errOut := ctl("advance"); c != 2 || !strings.Contains(errOut, "usage: acmock advance DURATION") {
		t.Fatalf("advance without a duration: %d %q", c, errOut)
	}
	var out, errOut syncBuffer
	want := "acmock reset: this emulator requires its control token: send Authorization: Bearer <token> (see --control-token)\n"
	if c := run([]string{"reset", "--url", base}, &out, &errOut, nil); c != 1 || errOut.String() != want {
		t.Fatalf("reset without the token: %d %q, want %q", c, errOut.String(), want)
	}
	var out2, errOut2 syncBuffer
	want = "acmock reset: the control token sent in Authorization: Bearer is not this emulator's (see --control-token)\n"
	if c := run([]string{"reset", "--url", base, "--control-token", "wrong"}, &out2, &errOut2, nil); c != 1 || errOut2.String() != want {
		t.Fatalf("reset with a wrong token: %d %q, want %q", c, errOut2.String(), want)
	}
}

// TestPhoneCommandsByUser: approve, deny and walkaway act on the user's newest session that can
// make the change, and every refusal is one sentence, not the emulator's JSON.
func TestPhoneCommandsByUser(t *testing.T) {
	base, ctl := serveForCommands(t, []string{"--clock", "auto"})
	refused := func(want string, args ...string) {
		t.Helper()
		c, out, errOut := ctl(args...)
		if c != 1 || out != "" || errOut != want+"\n" {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %q", args, c, out, errOut, want)
		}
	}
	refused(`acmock approve: user "alice" has no session yet; start a login first`, "approve", "alice")
	refused(`acmock deny: no session or user "zed": add the user and start a login first`, "deny", "zed")

	const alice = "/authentication/authenticate_user/5ca1ab1e000000000000000000000001/alice"
	signedPost(t, base+alice)
	signedPost(t, base+alice)
	for _, step := range [][]string{{"deny", "alice"}, {"approve", "alice"}, {"walkaway", "alice"}} {
		if c, out, errOut := ctl(step...); c != 0 || !strings.Contains(out, " of alice is now ") {
			t.Fatalf("%v: %d %q %q", step, c, out, errOut)
		}
	}
	// deny reached login 2, approve then login 1 (the newest that could), walkaway login 1 too.
	c, out, _ := ctl("sessions", "alice")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if c != 0 || len(lines) != 2 || !strings.Contains(lines[0], "active@") || !strings.Contains(lines[0], "walkaway@") ||
		!strings.Contains(lines[1], "cancelled@") || strings.Contains(lines[1], "active@") {
		t.Fatalf("sessions of alice:\n%s", out)
	}
	refused(`acmock walkaway: user "alice" has no session that can become walkaway: its 2 sessions are, newest first, cancelled, walkaway`, "walkaway", "alice")

	res, err := http.Get(base + "/_acmock/health")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var health struct{ Clock string }
	if err := json.NewDecoder(res.Body).Decode(&health); err != nil || health.Clock != "auto" {
		t.Fatalf("health under --clock auto: %+v %v", health, err)
	}
}

// TestListingCommandsPrintEverything: sessions and requests read every page, not only the first
// 1,000 items the control API answers at a time.
func TestListingCommandsPrintEverything(t *testing.T) {
	base, ctl := serveForCommands(t, []string{"--clock", "virtual", "--auth", "off"})
	const logins = 1_100
	client := &http.Client{}
	for range logins {
		res, err := client.Post(base+"/authentication/authenticate_user/5ca1ab1e000000000000000000000001/alice", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 202 {
			t.Fatalf("login: %d", res.StatusCode)
		}
	}
	for _, args := range [][]string{{"sessions"}, {"sessions", "alice"}, {"requests"}} {
		c, out, errOut := ctl(args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if c != 0 || len(lines) != logins {
			t.Fatalf("%v: exit %d, %d lines (stderr %q); want %d", args, c, len(lines), errOut, logins)
		}
		if args[0] == "sessions" && (!strings.Contains(lines[0], "login 1 ") || !strings.Contains(lines[logins-1], fmt.Sprintf("login %d ", logins))) {
			t.Fatalf("%v: not oldest first: %q ... %q", args, lines[0], lines[logins-1])
		}
	}
}

// serveForCommands serves the emulator with flags on a free loopback port until the test ends (by
// SIGTERM, so such tests cannot run in parallel) and returns its URL and a function that runs a
// control command against it, with extra flags, returning the exit code, stdout and stderr.
func serveForCommands(t *testing.T, flags []string, extra ...string) (string, func(args ...string) (int, string, string)) {
	t.Helper()
	var stdout, stderr syncBuffer
	ready := make(chan string, 1)
	code := make(chan int, 1)
	go func() {
		code <- run(append([]string{"--addr", "127.0.0.1:0"}, flags...), &stdout, &stderr, ready)
	}()
	var base string
	select {
	case base = <-ready:
	case c := <-code:
		t.Fatalf("acmock exited with %d: %s", c, stderr.String())
	}
	t.Cleanup(func() {
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		<-code
	})
	return base, func(args ...string) (int, string, string) {
		var out, errOut syncBuffer
		c := run(append(append(args, "--url", base), extra...), &out, &errOut, nil)
		return c, out.String(), errOut.String()
	}
}

// TestControlCommandsWithoutAnEmulator: every command says it cannot reach the emulator.
func TestControlCommandsWithoutAnEmulator(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	for _, args := range [][]string{{"approve", "alice"}, {"deny", "bob"}, {"advance", "1s"}, {"sms"}, {"requests"}, {"sessions"}, {"reset"}, {"load", "../../scenarios/deny.yaml"}} {
		var out, errOut syncBuffer
		if c := run(append(args, "--url", dead), &out, &errOut, nil); c != 1 || !strings.Contains(errOut.String(), "cannot reach the emulator") {
			t.Errorf("%v: exit %d, %q", args, c, errOut.String())
		}
	}
}

// signedPost sends a POST signed with the demo credentials and returns the status.
func signedPost(t *testing.T, target string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if err := acauth.NewSigner("5ca1ab1e000000000000000000000001", "ACMOCKDEMOSECRET0000000000000001").SignRequest(req.Context(), req); err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestShutdownDoesNotWaitForLongPolls: a journal read waiting for requests must not hold SIGTERM up.
func TestShutdownDoesNotWaitForLongPolls(t *testing.T) {
	var stdout, stderr syncBuffer
	ready := make(chan string, 1)
	code := make(chan int, 1)
	go func() { code <- run([]string{"--addr", "127.0.0.1:0"}, &stdout, &stderr, ready) }()
	base := <-ready
	polled := make(chan error, 1)
	go func() {
		res, err := http.Get(base + "/_acmock/requests?operation=logout&min_count=1&timeout=60s")
		if err == nil {
			res.Body.Close()
		}
		polled <- err
	}()
	// Give the read a moment to arrive and start waiting (nothing outside the emulator can see
	// that it waits); if the signal came first, the test still passes, it just proves less.
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit %d: %s", c, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown waited for the long poll")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("shutdown took %v", took)
	}
	<-polled
}

// TestEnvironmentFallbacks: every flag reads its ACMOCK_* variable, and a flag wins over it.
func TestEnvironmentFallbacks(t *testing.T) {
	t.Setenv("ACMOCK_ADDR", "127.0.0.1:9999")
	t.Setenv("ACMOCK_AUTH", "off")
	t.Setenv("ACMOCK_CLOCK", "virtual")
	t.Setenv("ACMOCK_LOG_FORMAT", "json")
	t.Setenv("ACMOCK_MAX_CLOCK_SKEW", "30s")
	t.Setenv("ACMOCK_JOURNAL_SIZE", "7")
	t.Setenv("ACMOCK_CONTROL_TOKEN", "tok")
	t.Setenv("ACMOCK_PUBLIC_URL", "http://example.test:8080")
	c, err := parseFlags([]string{"--addr", "127.0.0.1:1234"})
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:1234" || c.auth != "off" || c.clock != "virtual" || c.logFormat != "json" ||
		c.maxSkew != 30*time.Second || c.journalSize != 7 || c.controlToken != "tok" || c.publicURL != "http://example.test:8080" {
		t.Fatalf("config from the environment: %+v", c)
	}
	t.Setenv("ACMOCK_JOURNAL_SIZE", "many")
	if _, err := parseFlags(nil); err == nil || !strings.Contains(err.Error(), "ACMOCK_JOURNAL_SIZE") {
		t.Fatalf("a bad variable: %v", err)
	}
}
