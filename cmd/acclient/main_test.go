package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for acclient: run with ACCLIENT_RUN_MAIN=1, it is main.
func TestMain(m *testing.M) {
	if os.Getenv("ACCLIENT_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// acclient runs main in a child process and returns its output and exit code.
func acclient(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append([]string{"ACCLIENT_RUN_MAIN=1"}, env...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run acclient: %v", err)
	}
	return out.String(), errOut.String(), code
}

func TestMainExitCodes(t *testing.T) {
	t.Parallel()
	stdout, _, code := acclient(t, nil, "--help")
	if code != 0 || !strings.Contains(stdout, "Exit codes:") {
		t.Fatalf("--help: exit %d, %q", code, stdout)
	}
	_, stderr, code := acclient(t, nil, "frobnicate")
	if code != 2 || !strings.HasPrefix(stderr, "acclient: unknown command") {
		t.Fatalf("unknown command: exit %d, %q", code, stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, stderr, code = acclient(t, []string{"ACTIVECONNECT_BASE_URL=http://" + addr}, "authenticate", "alice", "--wait")
	if code != 8 || !strings.Contains(stderr, "connection refused") {
		t.Fatalf("unreachable: exit %d, %q", code, stderr)
	}
}

// hangingListener accepts connections and never answers; accepted gets a value per connection.
func hangingListener(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 10)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String(), ch
}

// TestMainRequestTimeout: a service that never answers does not hang acclient.
func TestMainRequestTimeout(t *testing.T) {
	t.Parallel()
	addr, _ := hangingListener(t)
	start := time.Now()
	_, stderr, code := acclient(t, []string{"ACTIVECONNECT_BASE_URL=http://" + addr, "ACTIVECONNECT_HTTP_TIMEOUT=200ms"}, "device", "check", "alice")
	if code != 8 || !strings.Contains(stderr, "Client.Timeout exceeded") || !strings.Contains(stderr, "raise --http-timeout") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
}

// TestMainInterrupted sends SIGINT while a request hangs: exit 130 with "interrupted" alone, no
// advice about an unreachable service.
func TestMainInterrupted(t *testing.T) {
	t.Parallel()
	addr, accepted := hangingListener(t)
	cmd := exec.Command(os.Args[0], "device", "check", "alice")
	cmd.Env = append(os.Environ(), "ACCLIENT_RUN_MAIN=1", "ACTIVECONNECT_BASE_URL=http://"+addr)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-accepted:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("acclient never connected")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 || errOut.String() != "acclient: interrupted\n" {
		t.Fatalf("after SIGINT: %v, stderr %q; want exit 130 and %q", err, errOut.String(), "acclient: interrupted\n")
	}
}
