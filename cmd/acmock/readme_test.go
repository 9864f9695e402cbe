package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The README's runnable examples are the ```sh blocks that follow a comment
//
//	<!-- checked: FLAGS; expect: TEXT, TEXT -->
//
// TestREADMEExamples starts the built acmock with FLAGS for each block (on a free loopback port),
// runs the block with bash as a user would, with acmock and acclient on the PATH, and expects it to
// succeed and to print every TEXT. The block's http://127.0.0.1:8080 is the port acmock got;
// ACTIVECONNECT_BASE_URL and ACMOCK_URL point acclient and acmock's commands there.
//
// The tools the blocks use (bash, curl, openssl) are installed by .ci/run, which sets
// ACMOCK_REQUIRE_TOOLS so that a missing one fails the test there; elsewhere it skips.

var checkedBlock = regexp.MustCompile("(?s)<!-- checked: ([^;]*); expect: (.*?) -->\n```sh\n(.*?)```")

func TestREADMEExamples(t *testing.T) {
	requireTools(t, "bash", "curl", "openssl", "od", "base64")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := checkedBlock.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 3 {
		t.Fatalf("README.md has %d checked examples; the curl examples should be checked", len(blocks))
	}
	bin := buildBinaries(t)
	for i, b := range blocks {
		flags, expect, script := strings.Fields(b[1]), strings.Split(b[2], ", "), b[3]
		t.Run(fmt.Sprintf("block %d %v", i+1, flags), func(t *testing.T) {
			base := startBinary(t, bin, flags...)
			script = strings.ReplaceAll(script, "http://127.0.0.1:8080", base)
			cmd := exec.Command("bash", "-c", "set -euo pipefail\n"+script)
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
				"ACTIVECONNECT_BASE_URL="+base, "ACMOCK_URL="+base,
				"ACTIVECONNECT_APP_ID=", "ACTIVECONNECT_APP_SECRET=", "ACMOCK_CONTROL_TOKEN=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the README's example fails: %v\n--- script\n%s--- output\n%s", err, script, out)
			}
			for _, want := range expect {
				if !strings.Contains(string(out), want) {
					t.Errorf("the output lacks %s\n--- script\n%s--- output\n%s", want, script, out)
				}
			}
		})
	}
}

// TestMakeRunStopsWithMake: `make run` execs the binary, so SIGTERM to make stops acmock and
// frees the port (with `go run`, acmock kept serving and the next `make run` found the address
// in use).
func TestMakeRunStopsWithMake(t *testing.T) {
	requireTools(t, "make")
	for round := 1; round <= 2; round++ {
		cmd := exec.Command("make", "--no-print-directory", "-C", "../..", "run", "ARGS=--addr 127.0.0.1:0 --log-level warn")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		// make and whatever it starts form their own process group, which the test kills when it
		// ends, so that a failure (acmock outliving make) leaves nothing running.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pgid := cmd.Process.Pid
		t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		base, err := readBase(stdout, 3*time.Minute) // the first round builds
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		if err := syscall.Kill(cmd.Process.Pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: make did not end after SIGTERM", round)
		}
		client := http.Client{Timeout: 2 * time.Second}
		if res, err := client.Get(base + "/_acmock/health"); err == nil {
			res.Body.Close()
			t.Fatalf("round %d: acmock still answers at %s after make was killed", round, base)
		}
	}
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("ACMOCK_REQUIRE_TOOLS") != "" {
				t.Fatalf("%s is not installed (.ci/run installs it)", tool)
			}
			t.Skipf("%s is not installed; .ci/run installs it and runs this test", tool)
		}
	}
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// buildBinaries builds acmock and acclient once for the test binary, as make build does.
func buildBinaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "acmock-readme-")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", buildDir+string(os.PathSeparator), "../../cmd/acmock", "../../cmd/acclient").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// startBinary runs the built acmock on a free loopback port until the test ends and returns its
// base URL.
func startBinary(t *testing.T, bin string, flags ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "acmock"), append([]string{"--addr", "127.0.0.1:0", "--log-level", "warn"}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	base, err := readBase(stdout, 20*time.Second)
	if err != nil {
		t.Fatalf("acmock %v: %v\n%s", flags, err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return base
}

var healthLine = regexp.MustCompile(`^health: (http://127\.0\.0\.1:\d+)/_acmock/health$`)

// readBase reads a banner until its health line and returns the base URL there.
func readBase(r io.Reader, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := healthLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				return
			}
		}
		close(found)
	}()
	select {
	case base, ok := <-found:
		if !ok {
			return "", errors.New("the banner ended without a health line")
		}
		return base, nil
	case <-ctx.Done():
		return "", fmt.Errorf("no health line within %v", timeout)
	}
}
