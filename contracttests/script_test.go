package contracttests

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunAgainstBinaryWaitsForTheLog runs the address wait of run-against-binary.sh on a banner
// that appears only after the wait started: the shell creates acmock's log in the background
// process, which may not have run yet (the script used to fail then with "sed: can't read").
func TestRunAgainstBinaryWaitsForTheLog(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	log := filepath.Join(t.TempDir(), "stdout")
	script := `set -euo pipefail
source ./run-against-binary.sh
sleep 30 & pid=$!
trap 'kill $pid' EXIT
( sleep 0.3; printf 'acmock is serving\nhealth: http://127.0.0.1:4711/_acmock/health\n' >"$1" ) &
wait_for_address "$1" "$pid" 10
`
	out, err := exec.Command("bash", "-c", script, "test", log).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "http://127.0.0.1:4711" {
		t.Fatalf("wait_for_address: %v\n%s", err, out)
	}

	// A process that dies before it prints its address is reported, not waited for.
	script = `set -euo pipefail
source ./run-against-binary.sh
true & pid=$!
wait $pid
wait_for_address "$1" "$pid" 10
`
	out, err = exec.Command("bash", "-c", script, "test", log+".none").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "acmock exited before it printed its address") {
		t.Fatalf("a dead acmock: %v\n%s", err, out)
	}
}
