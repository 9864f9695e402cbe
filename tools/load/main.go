// Command load measures the emulator the way the README's performance table reports it: time from
// process start to the first 200 from /_acmock/health, throughput and latency of signed
// has_registered_mobile_device requests at 32 connections and at 1, peak resident memory, and the
// same load against a plain net/http handler that returns the same JSON, for the ratio.
//
//	go build -o bin/acmock ./cmd/acmock && go run ./tools/load -acmock bin/acmock
//
// Every server runs on 127.0.0.1 and every attack is bounded in time. The load generator is
// vegeta, used as a library so that each request carries a fresh signature (a replayed nonce is
// refused, as by the real service).
//
// Two more measures compare acmock holding a lot of state with an empty one, and watch memory over a
// long run; both print the CPU the load generator itself used, to show it was not the bottleneck:
//
//	go run ./tools/load -acmock bin/acmock -users 1000000      # throughput at 1M users vs empty
//	go run ./tools/load -acmock bin/acmock -sessions 100000    # the same at 100k live sessions
//	go run ./tools/load -acmock bin/acmock -soak 30s           # RSS every second under signed load
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/scenario"
)

const body = `{"device_registered":true,"status":true}` + "\n"

func main() {
	acmock := flag.String("acmock", "bin/acmock", "the acmock binary to measure")
	duration := flag.Duration("duration", 10*time.Second, "length of each attack")
	starts := flag.Int("starts", 10, "how many cold starts to time")
	plain := flag.String("serve-plain", "", "internal: serve the plain handler on this address")
	users := flag.Int("users", 0, "compare an emulator holding this many users with an empty one")
	sessions := flag.Int("sessions", 0, "compare an emulator holding this many live sessions with an empty one")
	passStderr = flag.Bool("stderr", false, "pass acmock's standard error through (with GODEBUG=gctrace=1, say)")
	soak := flag.Duration("soak", 0, "run signed load this long, printing resident memory every second")
	var extra stringList
	flag.Var(&extra, "arg", "an extra acmock flag, such as -arg=--max-sessions=1000000 (repeatable)")
	flag.Parse()
	if *plain != "" {
		servePlain(*plain)
		return
	}
	var err error
	switch {
	case *users > 0 || *sessions > 0:
		err = compareState(*acmock, extra, *users, *sessions, *duration)
	case *soak > 0:
		err = runSoak(*acmock, extra, *soak)
	default:
		err = run(*acmock, *duration, *starts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// servePlain is the baseline: net/http answering the same JSON, nothing else.
func servePlain(addr string) {
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	})
	http.HandleFunc("/_acmock/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	if err := http.ListenAndServe(addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var passStderr = new(bool)

type result struct {
	rps      float64
	p50, p99 time.Duration
	success  float64
	errors   int
}

func run(acmock string, duration time.Duration, starts int) error {
	var startTimes []time.Duration
	for range starts {
		d, err := timeToFirst200(acmock)
		if err != nil {
			return err
		}
		startTimes = append(startTimes, d)
	}
	slices.Sort(startTimes)

	emu, err := startServer(acmock)
	if err != nil {
		return err
	}
	defer emu.stop()
	emu32, err := attack(emu.base, 32, duration)
	if err != nil {
		return err
	}
	emu1, err := attack(emu.base, 1, duration/2)
	if err != nil {
		return err
	}
	peak, err := peakRSS(emu.cmd.Process.Pid)
	if err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	base, err := startServer(self, "-serve-plain")
	if err != nil {
		return err
	}
	defer base.stop()
	plain32, err := attack(base.base, 32, duration)
	if err != nil {
		return err
	}
	plain1, err := attack(base.base, 1, duration/2)
	if err != nil {
		return err
	}

	fmt.Printf("| measure | acmock (signed, validated) | plain net/http |\n|---|---|---|\n")
	fmt.Printf("| requests/s at 32 connections | %.0f | %.0f |\n", emu32.rps, plain32.rps)
	fmt.Printf("| p50 / p99 at 32 connections | %s / %s | %s / %s |\n", ms(emu32.p50), ms(emu32.p99), ms(plain32.p50), ms(plain32.p99))
	fmt.Printf("| requests/s at 1 connection | %.0f | %.0f |\n", emu1.rps, plain1.rps)
	fmt.Printf("| p50 / p99 at 1 connection | %s / %s | %s / %s |\n", ms(emu1.p50), ms(emu1.p99), ms(plain1.p50), ms(plain1.p99))
	fmt.Printf("| success rate | %.2f%% | %.2f%% |\n", emu32.success*100, plain32.success*100)
	fmt.Printf("| throughput ratio at 32 connections | %.2f | 1 |\n", emu32.rps/plain32.rps)
	fmt.Printf("| start to first 200 (median of %d, min-max) | %s (%s-%s) | |\n", starts, ms(startTimes[len(startTimes)/2]), ms(startTimes[0]), ms(startTimes[len(startTimes)-1]))
	fmt.Printf("| peak resident memory | %.1f MiB | |\n", float64(peak)/(1<<20))
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

type server struct {
	cmd  *exec.Cmd
	base string
	gc   *gcTrace // set when started by startTracedServer
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer starts a binary on a free loopback port with its default settings and waits for it.
func startServer(bin string, args ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if len(args) > 0 && args[0] == "-serve-plain" {
		args = append(args, addr)
	} else {
		args = append([]string{"--addr", addr}, args...)
	}
	cmd := exec.Command(bin, args...)
	if *passStderr {
		cmd.Stderr = os.Stderr
	}
	var trace *gcTrace
	if tracing {
		trace = newGCTrace(cmd)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, gc: trace}
	if trace != nil {
		trace.start(time.Now())
	}
	if _, err := waitHealthy(s.base, 10*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// timeToFirst200 starts acmock and measures until /_acmock/health first answers 200.
func timeToFirst200(bin string) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cmd := exec.Command(bin, "--addr", addr)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", bin, err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
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
		time.Sleep(200 * time.Microsecond)
	}
	return time.Time{}, fmt.Errorf("%s was not healthy within %v", base, limit)
}

// attack sends signed requests as fast as the connections allow, for d.
func attack(base string, connections int, d time.Duration) (result, error) {
	target := base + "/management/has_registered_mobile_device/" + scenario.DemoApplicationID + "/alice"
	signer := acauth.NewSigner(scenario.DemoApplicationID, scenario.DemoApplicationSecret)
	targeter := func(t *vegeta.Target) error {
		req, err := http.NewRequest(http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		if err := signer.SignRequest(context.Background(), req); err != nil {
			return err
		}
		t.Method, t.URL, t.Header = http.MethodGet, target, req.Header
		return nil
	}
	attacker := vegeta.NewAttacker(vegeta.Workers(uint64(connections)), vegeta.MaxWorkers(uint64(connections)),
		vegeta.Connections(connections), vegeta.MaxConnections(connections), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	var m vegeta.Metrics
	for res := range attacker.Attack(targeter, vegeta.Rate{Freq: 0}, d, "load") {
		m.Add(res)
	}
	m.Close()
	if m.Success < 0.999 {
		return result{}, fmt.Errorf("%s: only %.2f%% succeeded: %v", base, m.Success*100, m.Errors)
	}
	failed := int(m.Requests) - int(float64(m.Requests)*m.Success+0.5)
	return result{rps: m.Throughput, p50: m.Latencies.P50, p99: m.Latencies.P99, success: m.Success, errors: failed}, nil
}

// peakRSS reads the high-water mark of a process's resident memory.
func peakRSS(pid int) (int64, error) {
	return procStatus(pid, "VmHWM:")
}

// procStatus reads one memory line of /proc/PID/status, in bytes.
func procStatus(pid int, key string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", key)
}
