package main

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tracing makes startServer run acmock with GODEBUG=gctrace=1 and read the collector's CPU time
// from its trace lines, for the state comparisons.
var tracing bool

// gcTrace sums the CPU time acmock's collector spent, from its gctrace lines.
type gcTrace struct {
	mu     sync.Mutex
	begin  time.Time
	cycles []gcCycle
	lines  *bufio.Scanner
}

type gcCycle struct {
	at  time.Time
	cpu time.Duration // assists, background and stop-the-world marking; not marking in idle time
}

// "gc 12 @3.456s 4%: 0.01+2.3+0.02 ms clock, 0.03+0.5/1.2/0.8+0.05 ms cpu, ..."
var gcLine = regexp.MustCompile(`^gc \d+ @([0-9.]+)s \d+%: [^,]+ ms clock, ([0-9.]+)\+([0-9.]+)/([0-9.]+)/([0-9.]+)\+([0-9.]+) ms cpu`)

func newGCTrace(cmd *exec.Cmd) *gcTrace {
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil
	}
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return &gcTrace{lines: sc}
}

func (g *gcTrace) start(begin time.Time) {
	g.begin = begin
	go func() {
		for g.lines.Scan() {
			line := g.lines.Text()
			if !strings.HasPrefix(line, "gc ") {
				continue // a request log line
			}
			m := gcLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			at, _ := strconv.ParseFloat(m[1], 64)
			var ms float64
			for _, i := range []int{2, 3, 4, 6} { // skip m[5]: marking in time the CPU was idle anyway
				v, _ := strconv.ParseFloat(m[i], 64)
				ms += v
			}
			g.mu.Lock()
			g.cycles = append(g.cycles, gcCycle{at: g.begin.Add(time.Duration(at * float64(time.Second))), cpu: time.Duration(ms * float64(time.Millisecond))})
			g.mu.Unlock()
		}
	}()
}

// between returns the collector's CPU time and number of cycles between two moments.
func (g *gcTrace) between(from, to time.Time) (time.Duration, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var sum time.Duration
	n := 0
	for _, c := range g.cycles {
		if !c.at.Before(from) && c.at.Before(to) {
			sum += c.cpu
			n++
		}
	}
	return sum, n
}
