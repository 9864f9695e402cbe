package main

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestMain lets the tests start this binary as the bare server, as the load binary starts itself.
func TestMain(m *testing.M) {
	if addr := os.Getenv("LOAD_TEST_SERVE_BARE"); addr != "" {
		serveBare(addr)
		return
	}
	os.Exit(m.Run())
}

// TestBareServerStopsWhenStartedInTheBackground: a shell starts a command put in the background
// (make load &) with SIGINT ignored; the bare server must still stop at the interrupt that ends
// each of its runs, or the run waits for it forever.
func TestBareServerStopsWhenStartedInTheBackground(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `trap "" INT; exec "$0"`, self)
	cmd.Env = append(os.Environ(), "LOAD_TEST_SERVE_BARE="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := waitHealthy("http://"+addr, 10*time.Second); err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	start := time.Now()
	interrupt(cmd)
	if !cmd.ProcessState.Success() || time.Since(start) >= stopTimeout {
		t.Fatalf("the bare server did not stop at the interrupt: %v after %v", cmd.ProcessState, time.Since(start))
	}
}
