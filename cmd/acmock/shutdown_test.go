package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serving is the built acmock binary serving on a free loopback port.
type serving struct {
	base   string
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan int
}

// serveBinary runs the built acmock (as make build builds it) with flags and a JSON log until
// the test stops it.
func serveBinary(t *testing.T, flags ...string) *serving {
	t.Helper()
	bin := buildBinaries(t)
	cmd := exec.Command(filepath.Join(bin, "acmock"), append([]string{"--addr", "127.0.0.1:0", "--log-format", "json"}, flags...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &serving{cmd: cmd, log: &syncBuffer{}, exited: make(chan int, 1)}
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		s.exited <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if s.base, err = readBase(stdout, 20*time.Second); err != nil {
		t.Fatalf("acmock %v: %v\n%s", flags, err, s.log.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return s
}

// stop sends SIGTERM and waits for acmock to exit, failing the test when it does not exit 0
// within limit (the shutdown cuts what is left after its grace of 5 s, so limit is well above
// what it needs and below the 30 s it used to wait).
func (s *serving) stop(t *testing.T, limit time.Duration) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-s.exited:
		if c != 0 {
			t.Fatalf("exit %d after SIGTERM:\n%s", c, s.log.String())
		}
	case <-time.After(limit):
		t.Fatalf("no exit %v after SIGTERM:\n%s", limit, s.log.String())
	}
}

// logRecord finds the JSON log line with msg, nil when there is none.
func logRecord(log, msg string) map[string]any {
	for _, line := range strings.Split(log, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			return rec
		}
	}
	return nil
}

// TestShutdownCutsAClientThatDoesNotRead: a client that asked for a large answer and stopped
// reading it holds its connection busy; SIGTERM cuts it after the grace, logs how many
// connections it cut, and exits 0.
func TestShutdownCutsAClientThatDoesNotRead(t *testing.T) {
	t.Parallel()
	acmock := serveBinary(t, "--max-body-bytes", "67108864")
	base := acmock.base
	// About 17 MB of state, put in with one import: more than the kernel buffers of both ends of
	// a loopback connection hold.
	var st strings.Builder
	st.WriteString(`{"format":"acmock-state","version":1,"clock":{"now":"2026-01-01T00:00:00Z"},"wall_clock":{"shift":"0s","max_skew":"5m0s"},"sequences":{"users":64000,"sessions":0},"applications":[{"id":"5ca1ab1e000000000000000000000001","secret":"ACMOCKDEMOSECRET0000000000000001","users":[`)
	for i := range 64000 {
		if i > 0 {
			st.WriteByte(',')
		}
		fmt.Fprintf(&st, `{"id":"u%06d%s","seq":%d,"logins":0,"links":[]}`, i, strings.Repeat("x", 240), i+1)
	}
	st.WriteString(`]}],"sessions":[],"outbox":[]}`)
	req, _ := http.NewRequest(http.MethodPut, base+"/_acmock/state", strings.NewReader(st.String()))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("import: %d %s", res.StatusCode, answer)
	}
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	conn, err := dialer.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /_acmock/state HTTP/1.1\r\nHost: "+conn.RemoteAddr().String()+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Let the answer start and fill the buffers (if the signal came first, the request would be
	// read and answered during the grace, and cut all the same).
	time.Sleep(time.Second)
	acmock.stop(t, 20*time.Second)
	rec := logRecord(acmock.log.String(), "stopped: cut the connections still busy after the grace")
	if rec == nil || rec["connections"] != float64(1) || rec["grace"] != "5s" {
		t.Fatalf("want a log line naming the 1 connection cut after 5s, got:\n%s", acmock.log.String())
	}
}

// TestShutdownCutsSlowUploads: a body arriving a byte at a time, to the control API or to the
// Activeconnect API, is cut when the shutdown starts and answered 503 shutting_down; the shutdown
// then has nothing left to wait for.
func TestShutdownCutsSlowUploads(t *testing.T) {
	t.Parallel()
	acmock := serveBinary(t, "--auth", "off")
	addr := strings.TrimPrefix(acmock.base, "http://")
	uploads := []string{
		"PUT /_acmock/scenario HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/yaml\r\nContent-Length: 1000\r\n\r\nname: slow\n",
		"POST /management/add_users/5ca1ab1e000000000000000000000001 HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"users\":[",
	}
	conns := make([]net.Conn, len(uploads))
	for i, u := range uploads {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, u); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	time.Sleep(300 * time.Millisecond) // the handlers are reading the bodies
	acmock.stop(t, 20*time.Second)
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("upload %d: no answer: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"shutting_down"`) {
			t.Errorf("upload %d: %d %s", i, res.StatusCode, body)
		}
	}
	if logRecord(acmock.log.String(), "stopped") == nil {
		t.Fatalf("the shutdown had to cut connections instead of finishing:\n%s", acmock.log.String())
	}
}
