package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/scenario"
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// compareState measures throughput at 32 connections against an empty emulator, then against one
// filled with users or live sessions, and prints the ratio with each one's resident memory.
func compareState(bin string, args []string, users, sessions int, d time.Duration) error {
	empty, err := measure(bin, args, d, nil)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d users", users)
	fill := func(base string) error { return addUsers(base, users) }
	if sessions > 0 {
		what = fmt.Sprintf("%d live sessions", sessions)
		fill = func(base string) error { return startSessions(base, sessions) }
	}
	full, err := measure(bin, args, d, fill)
	if err != nil {
		return err
	}
	fmt.Printf("| acmock | requests/s at 32 connections | RSS after the run | acmock CPU | collector's share of it (cycles) | load client CPU |\n|---|---|---|---|---|---|\n")
	for _, m := range []struct {
		name string
		r    stateRun
	}{{"empty", empty}, {"holding " + what, full}} {
		fmt.Printf("| %s | %.0f | %.1f MiB | %.0f%% | %.1f%% (%d) | %.0f%% |\n", m.name, m.r.rps, m.r.rssMiB, m.r.serverCPU*100, m.r.gcShare*100, m.r.gcCycles, m.r.clientCPU*100)
	}
	fmt.Printf("\nthroughput ratio (holding %s / empty): %.2f\n", what, full.rps/empty.rps)
	return nil
}

type stateRun struct {
	rps, rssMiB          float64
	serverCPU, clientCPU float64 // share of one core over the attack
	gcShare              float64 // of acmock's CPU over the attack
	gcCycles             int
}

func measure(bin string, args []string, d time.Duration, fill func(base string) error) (stateRun, error) {
	tracing = true
	defer func() { tracing = false }()
	srv, err := startServer(bin, args...)
	if err != nil {
		return stateRun{}, err
	}
	defer srv.stop()
	if fill != nil {
		start := time.Now()
		if err := fill(srv.base); err != nil {
			return stateRun{}, err
		}
		fmt.Fprintf(os.Stderr, "filled in %v\n", time.Since(start).Round(time.Millisecond))
	}
	serverBefore, err := cpuTime(srv.cmd.Process.Pid)
	if err != nil {
		return stateRun{}, err
	}
	clientBefore, start := selfCPU(), time.Now()
	res, err := attack(srv.base, 32, d)
	if err != nil {
		return stateRun{}, err
	}
	wall := time.Since(start)
	serverAfter, _ := cpuTime(srv.cmd.Process.Pid)
	rss, err := currentRSS(srv.cmd.Process.Pid)
	if err != nil {
		return stateRun{}, err
	}
	time.Sleep(100 * time.Millisecond) // let the last trace lines arrive
	run := stateRun{rps: res.rps, rssMiB: float64(rss) / (1 << 20),
		serverCPU: float64(serverAfter-serverBefore) / float64(wall),
		clientCPU: float64(selfCPU()-clientBefore) / float64(wall)}
	if srv.gc != nil {
		gcCPU, cycles := srv.gc.between(start, start.Add(wall))
		run.gcShare, run.gcCycles = float64(gcCPU)/float64(serverAfter-serverBefore), cycles
	}
	return run, nil
}

// runSoak runs signed load for d, printing resident memory each second, then the spread.
func runSoak(bin string, args []string, d time.Duration) error {
	srv, err := startServer(bin, args...)
	if err != nil {
		return err
	}
	defer srv.stop()
	done := make(chan struct{})
	var samples []int64
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for t0 := time.Now(); time.Since(t0) < d; {
			<-tick.C
			if rss, err := currentRSS(srv.cmd.Process.Pid); err == nil {
				samples = append(samples, rss)
				fmt.Printf("%3.0fs  RSS %.1f MiB\n", time.Since(t0).Seconds(), float64(rss)/(1<<20))
			}
		}
	}()
	serverBefore, _ := cpuTime(srv.cmd.Process.Pid)
	clientBefore, start := selfCPU(), time.Now()
	res, err := attack(srv.base, 32, d)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	serverAfter, _ := cpuTime(srv.cmd.Process.Pid)
	<-done
	lo, hi := samples[0], samples[0]
	for _, s := range samples {
		lo, hi = min(lo, s), max(hi, s)
	}
	half := samples[len(samples)/2]
	fmt.Printf("\n%v of signed load: %.0f requests/s, %.2f%% succeeded (%d errors)\n", d, res.rps, res.success*100, res.errors)
	fmt.Printf("RSS: first %.1f, middle %.1f, last %.1f, min %.1f, max %.1f MiB\n",
		float64(samples[0])/(1<<20), float64(half)/(1<<20), float64(samples[len(samples)-1])/(1<<20), float64(lo)/(1<<20), float64(hi)/(1<<20))
	fmt.Printf("CPU: acmock %.0f%%, load client %.0f%% of one core (2 cores in all)\n",
		float64(serverAfter-serverBefore)/float64(wall)*100, float64(selfCPU()-clientBefore)/float64(wall)*100)
	return nil
}

// signedDo sends one request signed with the demo application's credentials.
func signedDo(client *http.Client, method, url string, body []byte) (int, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	signer := acauth.NewSigner(scenario.DemoApplicationID, scenario.DemoApplicationSecret)
	if err := signer.SignRequest(context.Background(), req); err != nil {
		return 0, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var sink bytes.Buffer
	_, _ = sink.ReadFrom(res.Body)
	return res.StatusCode, nil
}

// parallel runs n calls of f over 8 workers and returns the first error.
func parallel(n int, f func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var first error
	for i := 0; i < n && first == nil; i++ {
		select {
		case next <- i:
		case first = <-errs:
		}
	}
	close(next)
	wg.Wait()
	if first == nil && len(errs) > 0 {
		first = <-errs
	}
	return first
}

func addUsers(base string, n int) error {
	client := &http.Client{Timeout: 30 * time.Second}
	url := base + "/management/add_users/" + scenario.DemoApplicationID
	const batch = 1000
	return parallel((n+batch-1)/batch, func(b int) error {
		ids := make([]string, 0, batch)
		for i := b * batch; i < min(n, (b+1)*batch); i++ {
			ids = append(ids, "load-user-"+strconv.Itoa(i))
		}
		body, _ := json.Marshal(map[string][]string{"users": ids})
		status, err := signedDo(client, http.MethodPost, url, body)
		if err == nil && status != http.StatusCreated {
			err = fmt.Errorf("add users: status %d", status)
		}
		return err
	})
}

// startSessions logs alice in n times; the demo scenario approves each after 2 s, and nobody
// closes them, so they stay live.
func startSessions(base string, n int) error {
	client := &http.Client{Timeout: 30 * time.Second}
	url := base + "/authentication/authenticate_user/" + scenario.DemoApplicationID + "/alice"
	return parallel(n, func(int) error {
		status, err := signedDo(client, http.MethodPost, url, []byte("{}"))
		if err == nil && status != http.StatusAccepted {
			err = fmt.Errorf("authenticate: status %d", status)
		}
		return err
	})
}

// cpuTime reads a process's user and system time from /proc.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name (which is in parentheses) start with the state.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// currentRSS reads a process's resident memory now.
func currentRSS(pid int) (int64, error) {
	return procStatus(pid, "VmRSS:")
}
