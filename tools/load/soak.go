package main

import (
	"fmt"
	"strings"
	"time"
)

// soak runs signed has_registered_mobile_device requests (or whole login flows) on conns
// connections (32 in make load's runs), paced to rate if it is above zero, for d against one
// acmock with its default settings, printing its resident memory every second, then the errors
// and the spread of the samples: the emulator's memory must stay flat under load that runs on. It is also the load to hold while profiling one server, with the
// sessions of a scale row started first if asked.
func soak(c config, d time.Duration, flows bool, sessions, conns int, rate float64) error {
	if conns < 1 {
		return fmt.Errorf("-soak-conns %d: at least one connection is needed", conns)
	}
	srv, err := startServer("acmock", c.acmock, "--addr", "ADDR")
	if err != nil {
		return err
	}
	defer srv.stop()
	if err := startSessions(srv, sessions); err != nil {
		return err
	}
	mk, what := singleOn(c.presign), "requests"
	if flows {
		mk, what = flowOn(c.presign/8), "login flows"
	}
	work, p := mk(srv)
	done := make(chan struct{})
	var samples []int64
	go func() {
		defer close(done)
		start := time.Now()
		for tick := time.NewTicker(time.Second); time.Since(start) < d; {
			<-tick.C
			if r, err := rss(srv.cmd.Process.Pid); err == nil {
				samples = append(samples, r)
				fmt.Printf("%3.0fs  RSS %.1f MiB\n", time.Since(start).Seconds(), mib(r))
			}
		}
	}()
	m, err := measure(srv, conns, d, work, p, rate)
	<-done
	if err == nil {
		err = m.failed(srv.name)
	}
	if err != nil {
		return err
	}
	if len(samples) == 0 {
		return fmt.Errorf("no memory samples")
	}
	lo, hi := samples[0], samples[0]
	for _, s := range samples {
		lo, hi = min(lo, s), max(hi, s)
	}
	fmt.Printf("\n%v of signed load: %d %s, %.0f/s, %d errors\n", d, m.units, what, m.unitsPerS(), m.errors)
	fmt.Printf("RSS: first %.1f, middle %.1f, last %.1f, min %.1f, max %.1f MiB\n",
		mib(samples[0]), mib(samples[len(samples)/2]), mib(samples[len(samples)-1]), mib(lo), mib(hi))
	fmt.Printf("p50 / p99 per request on %d connections: %s / %s\n", conns, ms(m.percentile(0.50)), ms(m.percentile(0.99)))
	fmt.Printf("CPU per %s: acmock %s, load client %s\n", strings.TrimSuffix(what, "s"), us(m.cpuPerUnit(m.serverCPU)), us(m.cpuPerUnit(m.clientCPU)))
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
