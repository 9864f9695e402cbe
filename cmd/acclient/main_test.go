package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
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
