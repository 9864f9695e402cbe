// Command load measures acmock against a bare net/http handler that answers the same JSON, side
// by side in one run, the way the README's performance table reports it:
//
//   - each server's own CPU time per request, read from /proc/PID/stat around each timed run,
//     throughput and p50/p99 latency, for signed has_registered_mobile_device requests at 32
//     connections and at 1, and for a whole login (authenticate, ten status polls, logout);
//
//   - start to the first 200 from /_acmock/health, by the same timer for both;
//
//   - acmock's peak resident memory under the device checks, and after the login flows;
//
//   - the login flow against acmock holding 1k and 1M users, and 1k and 100k sessions, each against
//     an empty acmock measured in alternating slices with it.
//
//     go build -o bin/acmock ./cmd/acmock && go run ./tools/load -acmock bin/acmock
//     go run ./tools/load -acmock bin/acmock -baseline /tmp/acmock-old -scale=false   # two builds, one run
//     go run ./tools/load -acmock bin/acmock -soak 30s   # resident memory each second under load
//     go run ./tools/load -acmock bin/acmock -soak 30s -soak-flows   # the same under login flows
//     go run ./tools/load -acmock bin/acmock -soak 30s -soak-flows -soak-sessions 100000   # holding sessions
//
// Each timed run is cut into slices (-slices) that alternate between the two servers, so that the
// drift of a shared machine falls on both alike.
//
// The load client writes requests signed before the timed run (fresh nonces, so every one is
// verified and none is a replay) on keep-alive connections and parses answers with a minimal
// reader, so it costs the machine less than the servers it measures; its own CPU per request is in
// the table to show it. acmock runs with its default settings, its log going to a file. Every
// server listens on 127.0.0.1 and every run is bounded in time.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/acmock/acmock/internal/scenario"
)

const (
	appID     = scenario.DemoApplicationID
	appSecret = scenario.DemoApplicationSecret
)

type config struct {
	acmock   string
	duration time.Duration
	starts   int
	slices   int
	presign  int
	scale    bool
	baseline string // another acmock binary to measure in the bare server's place
}

func main() {
	var c config
	flag.StringVar(&c.acmock, "acmock", "bin/acmock", "the acmock binary to measure")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each server's share of a run at 32 connections, scale rows included (runs at 1 connection, and the paced runs, take half)")
	flag.IntVar(&c.starts, "starts", 10, "how many cold starts of each server to time")
	flag.IntVar(&c.slices, "slices", 10, "how many slices each server's share of a run is cut into; the slices of the two servers alternate (an even number balances their order)")
	flag.IntVar(&c.presign, "presign", 600_000, "how many requests to sign before each run")
	flag.BoolVar(&c.scale, "scale", true, "also measure acmock holding many users and sessions")
	flag.StringVar(&c.baseline, "baseline", "", "measure this other acmock binary in the bare server's place (to compare two builds in one run; the goals then do not apply)")
	bare := flag.String("serve-bare", "", "internal: serve the bare handler on this address")
	soakFor := flag.Duration("soak", 0, "instead: run signed load this long against acmock alone, printing its resident memory every second")
	soakFlows := flag.Bool("soak-flows", false, "with -soak: run whole login flows instead of device checks")
	soakSessions := flag.Int("soak-sessions", 0, "with -soak: start this many sessions first, as the scale rows do")
	soakConns := flag.Int("soak-conns", 32, "with -soak: how many connections the load keeps busy (1 to study latency)")
	soakRate := flag.Float64("soak-rate", 0, "with -soak: start this many requests (or flows) a second, evenly spaced, instead of as many as the server answers")
	flag.Parse()
	c.slices = max(c.slices, 1)
	if *bare != "" {
		serveBare(*bare)
		return
	}
	run := run
	if *soakFor > 0 {
		run = func(c config) error { return soak(c, *soakFor, *soakFlows, *soakSessions, *soakConns, *soakRate) }
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// pair is one measure taken of both servers.
type pair struct{ bare, acmock measurement }

// alternate measures the work mk makes for each of two servers, for d in all on each, in cuts
// that alternate between them (first, second, second, first, first, ...), so that the shared
// machine's drift, which is as large as the differences measured, falls on both alike; each
// server's slices are added up. An even number of cuts gives each server the first place of a
// pair as often as the second. A rate above zero paces both servers' load to it (see measure).
func alternate(cuts int, srv [2]*server, conns int, d time.Duration, mk func(s *server) (unit, *pool), rate float64) ([2]measurement, error) {
	var out [2]measurement
	var work [2]unit
	var signed [2]*pool
	for i, s := range srv {
		work[i], signed[i] = mk(s)
	}
	for round := range cuts {
		order := [2]int{0, 1}
		if round%2 == 1 {
			order = [2]int{1, 0}
		}
		for _, i := range order {
			m, err := measure(srv[i], conns, d/time.Duration(cuts), work[i], signed[i], rate)
			if err != nil {
				return out, fmt.Errorf("%s: %w", srv[i].name, err)
			}
			out[i].add(m)
		}
	}
	for i := range out {
		slices.Sort(out[i].latencies)
		if err := out[i].failed(srv[i].name); err != nil {
			return out, err
		}
	}
	return out, nil
}

func run(c config) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	bareArgs := []string{"-serve-bare", "ADDR"}
	acmockArgs := []string{"--addr", "ADDR"}
	bareName, bareBin := "bare net/http", self
	if c.baseline != "" {
		bareName, bareBin, bareArgs = "baseline "+c.baseline, c.baseline, acmockArgs
	}

	// Start times alternate between the two servers so that noise falls on both alike.
	var bareStarts, acmockStarts []time.Duration
	for range c.starts {
		d, err := timeToFirst200(bareBin, bareArgs...)
		if err != nil {
			return err
		}
		bareStarts = append(bareStarts, d)
		if d, err = timeToFirst200(c.acmock, acmockArgs...); err != nil {
			return err
		}
		acmockStarts = append(acmockStarts, d)
	}
	slices.Sort(bareStarts)
	slices.Sort(acmockStarts)

	bareSrv, err := startServer(bareName, bareBin, bareArgs...)
	if err != nil {
		return err
	}
	defer bareSrv.stop()
	acmockSrv, err := startServer("acmock", c.acmock, acmockArgs...)
	if err != nil {
		return err
	}
	defer acmockSrv.stop()

	both := func(conns int, d time.Duration, mk func(s *server) (unit, *pool)) (pair, error) {
		m, err := alternate(c.slices, [2]*server{bareSrv, acmockSrv}, conns, d, mk, 0)
		return pair{bare: m[0], acmock: m[1]}, err
	}
	// paced measures both servers again at half the pace the slower of them kept up in p: the
	// same work per second for both, so that neither gathers more requests per wake-up than the
	// other (see measure).
	paced := func(p pair, d time.Duration, mk func(s *server) (unit, *pool)) (pair, float64, error) {
		rate := min(p.bare.unitsPerS(), p.acmock.unitsPerS()) / 2
		m, err := alternate(c.slices, [2]*server{bareSrv, acmockSrv}, 32, d, mk, rate)
		return pair{bare: m[0], acmock: m[1]}, rate, err
	}
	half := c.duration / 2
	single32, err := both(32, c.duration, singleOn(c.presign))
	if err != nil {
		return err
	}
	singlePaced, singleRate, err := paced(single32, half, singleOn(c.presign/4))
	if err != nil {
		return err
	}
	single1, err := both(1, half, singleOn(c.presign/4))
	if err != nil {
		return err
	}
	// The goal's memory is under the device-check load; the login flows then add sessions, which
	// acmock keeps (for 24 h, up to its session cap), so the peak after them is shown apart.
	devicePeak, err := peakRSS(acmockSrv.cmd.Process.Pid)
	if err != nil {
		return err
	}
	flow32, err := both(32, c.duration, flowOn(c.presign/8))
	if err != nil {
		return err
	}
	flowPaced, flowRate, err := paced(flow32, half, flowOn(c.presign/16))
	if err != nil {
		return err
	}
	flow1, err := both(1, half, flowOn(c.presign/32))
	if err != nil {
		return err
	}
	peak, err := peakRSS(acmockSrv.cmd.Process.Pid)
	if err != nil {
		return err
	}

	var scaleRows []scaleRow
	if c.scale {
		if scaleRows, err = measureScale(c); err != nil {
			return err
		}
	}

	t := &table{}
	if c.baseline != "" {
		t.row("measure", bareName, "acmock "+c.acmock, "acmock / baseline", "goal (for bare net/http)")
	} else {
		t.row("measure", "bare net/http", "acmock", "acmock / bare", "goal")
	}
	t.row("---", "---", "---", "---", "---")
	t.cpuRow("server CPU per request, 32 connections", single32, "at most 1.4x")
	t.rateRow("requests/s, 32 connections", single32, "at least 0.75x")
	t.pacedRow(fmt.Sprintf("server CPU per request, both held to %.0f requests/s (half the slower one's)", singleRate), singlePaced)
	t.latencyRow("p50 / p99, 32 connections", single32, "")
	t.rateRow("requests/s, 1 connection", single1, "")
	t.latencyRow("p50 / p99, 1 connection", single1, "p50 at most 1.2x")
	t.cpuRow("login flow (12 requests): server CPU per flow, 32 connections", flow32, "at most 1.4x")
	t.flowRateRow("login flows/s, 32 connections", flow32, "at least 0.75x")
	t.pacedRow(fmt.Sprintf("login flow: server CPU per flow, both held to %.0f flows/s (half the slower one's)", flowRate), flowPaced)
	t.latencyRow("login flow p50 / p99 per request, 1 connection", flow1, "p50 at most 1.2x")
	t.row(fmt.Sprintf("start to first 200 (median of %d; min-max)", c.starts),
		startText(bareStarts), startText(acmockStarts),
		ratio(float64(median(acmockStarts)), float64(median(bareStarts))), "at most 1.5x")
	t.row("peak resident memory, device checks", "", fmt.Sprintf("%.1f MiB", float64(devicePeak)/(1<<20)), "", "at most 50 MiB")
	t.row("peak resident memory, after the login flows", "", fmt.Sprintf("%.1f MiB", float64(peak)/(1<<20)), "", "")
	t.row("load client CPU per request (32 connections; its share of the machine)",
		clientText(single32.bare), clientText(single32.acmock), "", "below the server's")
	for _, r := range scaleRows {
		if r.err != nil {
			t.row(r.name, "", "failed: "+r.err.Error(), "", r.goal)
			continue
		}
		t.row(r.name, "", fmt.Sprintf("%.0f flows/s, %s per flow (empty: %.0f flows/s, %s)", r.m.unitsPerS(), us(r.m.cpuPerUnit(r.m.serverCPU)),
			r.empty.unitsPerS(), us(r.empty.cpuPerUnit(r.empty.serverCPU))),
			ratio(r.m.unitsPerS(), r.empty.unitsPerS())+" of empty", r.goal)
	}
	fmt.Print(t.String())
	fmt.Printf("\nacmock %s, %s per run at 32 connections; %s\n", c.acmock, c.duration, time.Now().UTC().Format("2006-01-02"))
	if n := single32.acmock.signedNow + flow32.acmock.signedNow; n > 0 {
		fmt.Printf("note: %d requests had to be signed during the run; raise -presign\n", n)
	}
	return nil
}

// singleOn and flowOn make the work of a measure for a server: device checks or login flows,
// from n requests signed before the run.
func singleOn(n int) func(s *server) (unit, *pool) {
	return func(s *server) (unit, *pool) {
		p := devicePool(s.addr, n)
		return single(p), p
	}
}

func flowOn(n int) func(s *server) (unit, *pool) {
	return func(s *server) (unit, *pool) {
		p := authPool(s.addr, "alice", n)
		return flow(p, newNonces()), p
	}
}

func devicePool(addr string, n int) *pool {
	nonce := newNonces()
	uri := "/management/has_registered_mobile_device/" + appID + "/alice"
	ts := time.Now().Unix()
	return newPool(n, func(dst []byte) []byte {
		return encode(dst, "GET", addr, uri, appID, appSecret, nonce.take(), ts, "")
	})
}

func authPool(addr, user string, n int) *pool {
	nonce := newNonces()
	uri := "/authentication/authenticate_user/" + appID + "/" + user + "?methods="
	ts := time.Now().Unix()
	return newPool(n, func(dst []byte) []byte {
		return encode(dst, "POST", addr, uri, appID, appSecret, nonce.take(), ts, "{}")
	})
}

type table struct{ b strings.Builder }

func (t *table) row(cells ...string) {
	t.b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

func (t *table) String() string { return t.b.String() }

func (t *table) cpuRow(name string, p pair, goal string) {
	b, a := p.bare.cpuPerUnit(p.bare.serverCPU), p.acmock.cpuPerUnit(p.acmock.serverCPU)
	t.row(name, us(b), us(a), ratio(float64(a), float64(b)), goal)
}

// pacedRow is cpuRow for a paced measure, with the pace each server kept: one that fell behind
// was not held to the pace, and its CPU per unit is not the same work's.
func (t *table) pacedRow(name string, p pair) {
	b, a := p.bare.cpuPerUnit(p.bare.serverCPU), p.acmock.cpuPerUnit(p.acmock.serverCPU)
	t.row(name, fmt.Sprintf("%s (at %.0f/s)", us(b), p.bare.unitsPerS()), fmt.Sprintf("%s (at %.0f/s)", us(a), p.acmock.unitsPerS()),
		ratio(float64(a), float64(b)), "")
}

func (t *table) rateRow(name string, p pair, goal string) {
	t.row(name, fmt.Sprintf("%.0f", p.bare.rps()), fmt.Sprintf("%.0f", p.acmock.rps()), ratio(p.acmock.rps(), p.bare.rps()), goal)
}

func (t *table) flowRateRow(name string, p pair, goal string) {
	t.row(name, fmt.Sprintf("%.0f", p.bare.unitsPerS()), fmt.Sprintf("%.0f", p.acmock.unitsPerS()),
		ratio(p.acmock.unitsPerS(), p.bare.unitsPerS()), goal)
}

func (t *table) latencyRow(name string, p pair, goal string) {
	text := func(m measurement) string { return ms(m.percentile(0.5)) + " / " + ms(m.percentile(0.99)) }
	t.row(name, text(p.bare), text(p.acmock), ratio(float64(p.acmock.percentile(0.5)), float64(p.bare.percentile(0.5)))+" (p50)", goal)
}

func clientText(m measurement) string {
	share := float64(m.clientCPU) / float64(m.clientCPU+m.serverCPU) * 100
	return fmt.Sprintf("%s (%.0f%%)", us(m.cpuPerUnit(m.clientCPU)), share)
}

func startText(ds []time.Duration) string {
	return fmt.Sprintf("%s (%s-%s)", ms(median(ds)), ms(ds[0]), ms(ds[len(ds)-1]))
}

func median(ds []time.Duration) time.Duration { return ds[len(ds)/2] }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }
