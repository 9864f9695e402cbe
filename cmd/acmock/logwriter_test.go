package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// blockingWriter holds every write until release is closed, like a terminal that is not read.
type blockingWriter struct {
	release chan struct{}
	syncBuffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return w.syncBuffer.Write(p)
}

// TestLogWriterOffTheRequestPath: a line is accepted while the output cannot take it (the request
// that logs does not wait for the terminal or disk), and Close writes it.
func TestLogWriterOffTheRequestPath(t *testing.T) {
	t.Parallel()
	out := &blockingWriter{release: make(chan struct{})}
	w := newLogWriter(out)
	if n, err := w.Write([]byte("one\n")); n != 4 || err != nil {
		t.Fatalf("write: %d %v", n, err)
	}
	if _, err := w.Write([]byte("two\n")); err != nil {
		t.Fatal(err)
	}
	close(out.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "one\ntwo\n" {
		t.Fatalf("after Close the output holds %q", got)
	}
	if _, err := w.Write([]byte("three\n")); err != nil || out.String() != "one\ntwo\nthree\n" {
		t.Fatalf("a write after Close goes straight through: %v %q", err, out.String())
	}
}

// waitFor polls until cond holds, failing after a generous bound (the promise is 100 ms; the
// bound only keeps a broken flusher from hanging the test).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLogWriterFlushesWithoutClose: lines reach the output while the server keeps running.
func TestLogWriterFlushesWithoutClose(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	w := newLogWriter(&out)
	defer w.Close()
	for i := range 3 {
		line := strings.Repeat("x", i+1) + "\n"
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "line "+line, func() bool { return strings.HasSuffix(out.String(), line) })
	}
}

// TestLogWriterBound: a writer that cannot keep up holds the lines back, not memory without end.
func TestLogWriterBound(t *testing.T) {
	t.Parallel()
	out := &blockingWriter{release: make(chan struct{})}
	w := newLogWriter(out)
	line := bytes.Repeat([]byte("y"), 64<<10)
	wrote := make(chan int, 1)
	go func() {
		n := 0
		for range 3 * maxPendingLog / len(line) {
			if _, err := w.Write(line); err != nil {
				break
			}
			n++
		}
		wrote <- n
	}()
	// The flusher holds one batch (blocked in out.Write), memory one more: the writer must wait.
	select {
	case n := <-wrote:
		t.Fatalf("%d lines of 64 KiB were accepted while the output took none", n)
	case <-time.After(200 * time.Millisecond):
	}
	close(out.release)
	if n := <-wrote; n != 3*maxPendingLog/len(line) {
		t.Fatalf("wrote %d lines", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(out.String()); got != 3*maxPendingLog {
		t.Fatalf("output holds %d bytes, want %d", got, 3*maxPendingLog)
	}
}

// TestRequestLogReachesTheFile: with the log going to a file, a request's line is in the file while
// acmock is still serving, and the shutdown lines are there once SIGTERM has stopped it.
func TestRequestLogReachesTheFile(t *testing.T) {
	logFile, err := os.Create(filepath.Join(t.TempDir(), "acmock.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	read := func() string {
		b, _ := os.ReadFile(logFile.Name())
		return string(b)
	}
	var stdout syncBuffer
	ready := make(chan string, 1)
	code := make(chan int, 1)
	go func() { code <- run([]string{"--addr", "127.0.0.1:0"}, &stdout, logFile, ready) }()
	var base string
	select {
	case base = <-ready:
	case c := <-code:
		t.Fatalf("run exited with %d: %s", c, read())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	res, err := http.Get(base + "/_acmock/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	waitFor(t, "the health request's line in the log file", func() bool {
		return strings.Contains(read(), "msg=request method=GET path=/_acmock/health")
	})
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d after SIGTERM: %s", c, read())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if log := read(); !strings.Contains(log, "msg=\"shutting down: finishing requests in flight\" signal=terminated") || !strings.HasSuffix(log, "msg=stopped\n") {
		t.Fatalf("the shutdown lines are not in the file when run returns:\n%s", log)
	}
}
