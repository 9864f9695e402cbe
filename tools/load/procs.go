package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; Linux fixes it at 100 on
// every architecture this runs on.
const clockTicks = 100

// server is a process under measurement, listening on a loopback port.
type server struct {
	name string
	cmd  *exec.Cmd
	addr string // host:port
	log  *os.File
}

func (s *server) base() string { return "http://" + s.addr }

func (s *server) stop() {
	interrupt(s.cmd)
	if s.log != nil {
		_ = s.log.Close()
		_ = os.Remove(s.log.Name())
	}
}

// interrupt stops a server as Ctrl-C would and waits for it to exit; one still running after
// stopTimeout (acmock's own shutdown takes at most 5 s) is killed, so that a run never hangs on a
// server that did not stop.
func interrupt(cmd *exec.Cmd) {
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-exited
	}
}

const stopTimeout = 10 * time.Second

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer starts bin with args (the string "ADDR" in args is replaced by a free loopback
// address), sends its output to a temporary file, as a terminal-less run would, and waits until
// /_acmock/health answers 200.
func startServer(name, bin string, args ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.CreateTemp("", "acmock-load-*.log")
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	cmd := exec.Command(bin, withAddr(args, addr)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{name: name, cmd: cmd, addr: addr, log: log}
	if _, err := waitHealthy(s.base(), 10*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

func withAddr(args []string, addr string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "ADDR", addr)
	}
	return out
}

// timeToFirst200 starts a server and measures from just before the exec to the first 200 from
// /_acmock/health, polling every 100 µs. The same timer measures every server.
func timeToFirst200(bin string, args ...string) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(bin, withAddr(args, addr)...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", bin, err)
	}
	defer interrupt(cmd)
	ready, err := waitHealthy("http://"+addr, 10*time.Second)
	return ready.Sub(start), err
}

func waitHealthy(base string, limit time.Duration) (time.Time, error) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		res, err := client.Get(base + "/_acmock/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	return time.Time{}, fmt.Errorf("%s was not healthy within %v", base, limit)
}

// cpuTime reads the user plus system CPU time a process has used so far ("self" for this one).
func cpuTime(pid string) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces: count fields after it.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat format")
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// peakRSS reads the high-water mark of a process's resident memory.
func peakRSS(pid int) (int64, error) { return statusBytes(pid, "VmHWM:") }

// rss reads a process's resident memory now.
func rss(pid int) (int64, error) { return statusBytes(pid, "VmRSS:") }

// statusBytes reads one "NAME: N kB" line of /proc/PID/status.
func statusBytes(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}
