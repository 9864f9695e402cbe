package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// The raw client must read both framings net/http's server uses, on one keep-alive connection.
func TestConnReadsContentLengthAndChunked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			_, _ = io.WriteString(w, "first,")
			w.(http.Flusher).Flush() // a flush before the end forces chunked framing
			_, _ = io.WriteString(w, "second")
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":true}`)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	k, err := dial(host)
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	for range 3 {
		var lat []time.Duration
		if err := call(k, []byte("GET /plain HTTP/1.1\r\nHost: "+host+"\r\n\r\n"), 202, &lat); err != nil {
			t.Fatal(err)
		}
		if string(k.body) != `{"status":true}` || len(lat) != 1 {
			t.Fatalf("body %q, %d latencies", k.body, len(lat))
		}
		if err := call(k, []byte("GET /chunked HTTP/1.1\r\nHost: "+host+"\r\n\r\n"), 200, &lat); err != nil {
			t.Fatal(err)
		}
		if string(k.body) != "first,second" {
			t.Fatalf("chunked body %q", k.body)
		}
	}
	var lat []time.Duration
	if err := call(k, []byte("GET /plain HTTP/1.1\r\nHost: "+host+"\r\n\r\n"), 200, &lat); err == nil || !strings.Contains(err.Error(), "status 202") {
		t.Fatalf("a wrong status should be reported, got %v", err)
	}
}

// A pool hands out each pre-signed request once, then signs more on demand and counts them.
func TestPoolUsesEachRequestOnce(t *testing.T) {
	n := 0
	p := newPool(3, func(dst []byte) []byte { n++; return append(dst, byte('a'+n-1)) })
	var got []string
	for range 5 {
		got = append(got, string(p.get(nil)))
	}
	if strings.Join(got, "") != "abcde" || p.extra.Load() != 2 {
		t.Fatalf("got %v, %d signed during the run", got, p.extra.Load())
	}
}

func TestCPUTimeOfThisProcess(t *testing.T) {
	before, err := cpuTime("self")
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	after, err := cpuTime("self")
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Fatalf("CPU time did not grow while spinning: %v then %v", before, after)
	}
}

func TestMemoryOfThisProcess(t *testing.T) {
	pid := os.Getpid()
	now, err := rss(pid)
	if err != nil {
		t.Fatal(err)
	}
	peak, err := peakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if now <= 0 || peak < now {
		t.Fatalf("resident memory %d, peak %d", now, peak)
	}
}

// TestSlicesAddUp: the slices of one measure add up to what one run of their total length would
// report: requests, flows, errors, time and both processes' CPU summed, every latency kept (so the
// percentiles are those of all of them), the pool's count of requests signed during the run
// taken from the last slice (it counts across slices).
func TestSlicesAddUp(t *testing.T) {
	var m measurement
	m.add(measurement{requests: 10, units: 5, errors: 1, firstErr: "first", elapsed: time.Second,
		latencies: []time.Duration{3, 1}, serverCPU: 100, clientCPU: 40, signedNow: 2})
	m.add(measurement{requests: 30, units: 15, errors: 2, firstErr: "second", elapsed: 3 * time.Second,
		latencies: []time.Duration{2, 4}, serverCPU: 300, clientCPU: 60, signedNow: 7})
	if m.requests != 40 || m.units != 20 || m.errors != 3 || m.firstErr != "first" || m.elapsed != 4*time.Second ||
		m.serverCPU != 400 || m.clientCPU != 100 || m.signedNow != 7 || len(m.latencies) != 4 {
		t.Fatalf("added up: %+v", m)
	}
	if m.rps() != 10 || m.cpuPerUnit(m.serverCPU) != 20 {
		t.Fatalf("rate %v/s, CPU per unit %v; want 10/s and 20ns", m.rps(), m.cpuPerUnit(m.serverCPU))
	}
}
