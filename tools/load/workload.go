package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acmock/acmock/acauth"
)

// nonces hands out unique nonces from a random start, so no request is refused as a replay.
type nonces struct{ next atomic.Uint64 }

func newNonces() *nonces {
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := &nonces{}
	n.next.Store(binary.LittleEndian.Uint64(b[:]) >> 1)
	return n
}

func (n *nonces) take() string { return strconv.FormatUint(n.next.Add(1), 10) }

// encode builds one signed HTTP/1.1 request as it goes on the wire.
func encode(dst []byte, method, host, uri, clientID, secret, nonce string, ts int64, body string) []byte {
	tsText := strconv.FormatInt(ts, 10)
	sig := acauth.Sign(secret, nonce, host+uri, tsText)
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, uri...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nAuthentication: "...)
	dst = append(dst, acauth.FormatAuthentication(clientID, nonce, sig)...)
	dst = append(dst, "\r\n"+acauth.HeaderTimestamp+": "...)
	dst = append(dst, tsText...)
	dst = append(dst, "\r\n"+acauth.HeaderVersion+": 1\r\n"...)
	if method == "POST" {
		dst = append(dst, "Content-Type: application/json\r\nContent-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}

// pool is a set of requests signed before the timed run, each used once. They live in one byte
// arena so that a large pool adds no pointers for the collector to scan.
type pool struct {
	arena []byte
	ends  []int
	next  atomic.Int64
	make  func(dst []byte) []byte // signs one more when the pool runs out
	extra atomic.Int64            // requests signed during the run
}

func newPool(n int, mk func(dst []byte) []byte) *pool {
	p := &pool{make: mk, ends: make([]int, 0, n)}
	for range n {
		p.arena = mk(p.arena)
		p.ends = append(p.ends, len(p.arena))
	}
	return p
}

// get returns the next pre-signed request, or one signed now into buf when all are used.
func (p *pool) get(buf []byte) []byte {
	i := int(p.next.Add(1) - 1)
	if i < len(p.ends) {
		start := 0
		if i > 0 {
			start = p.ends[i-1]
		}
		return p.arena[start:p.ends[i]]
	}
	p.extra.Add(1)
	return p.make(buf[:0])
}

// measurement is what one timed run against one server saw.
type measurement struct {
	requests  int64
	units     int64 // requests, or flows for the flow workload
	errors    int64
	firstErr  string
	elapsed   time.Duration
	latencies []time.Duration // sorted
	serverCPU time.Duration
	clientCPU time.Duration
	signedNow int64
}

// add adds another slice of the same run to m.
func (m *measurement) add(o measurement) {
	m.requests += o.requests
	m.units += o.units
	m.errors += o.errors
	if m.firstErr == "" {
		m.firstErr = o.firstErr
	}
	m.elapsed += o.elapsed
	m.latencies = append(m.latencies, o.latencies...)
	m.serverCPU += o.serverCPU
	m.clientCPU += o.clientCPU
	m.signedNow = o.signedNow // the pool counts across slices
}

func (m measurement) rps() float64       { return float64(m.requests) / m.elapsed.Seconds() }
func (m measurement) unitsPerS() float64 { return float64(m.units) / m.elapsed.Seconds() }
func (m measurement) cpuPerUnit(cpu time.Duration) time.Duration {
	if m.units == 0 {
		return 0
	}
	return cpu / time.Duration(m.units)
}

func (m measurement) percentile(p float64) time.Duration {
	if len(m.latencies) == 0 {
		return 0
	}
	return m.latencies[min(len(m.latencies)-1, int(float64(len(m.latencies))*p))]
}

// unit is one piece of work on a connection: one request, or one whole login flow. It records the
// latency of each request it makes and returns how many it made.
type unit func(k *conn, buf []byte, lat *[]time.Duration) (requests int, err error)

// measure runs work on connections to srv for d and reads both processes' CPU time around it.
// With a rate above zero the connections start that many units a second between them, evenly
// spaced, instead of one after another as fast as the server answers: two servers measured at
// the same rate do the same work per second, so their CPU per unit compares what each spends on
// a unit alone. (As fast as they go, the faster server gathers more requests per wake-up, which
// costs it less per request; the slower pays more, and its ratio says more than its handler does.)
func measure(srv *server, connections int, d time.Duration, work unit, signed *pool, rate float64) (measurement, error) {
	conns := make([]*conn, connections)
	for i := range conns {
		k, err := dial(srv.addr)
		if err != nil {
			return measurement{}, err
		}
		defer k.close()
		conns[i] = k
	}
	pid := strconv.Itoa(srv.cmd.Process.Pid)
	srvBefore, err := cpuTime(pid)
	if err != nil {
		return measurement{}, err
	}
	selfBefore, err := cpuTime("self")
	if err != nil {
		return measurement{}, err
	}
	var (
		m        measurement
		mu       sync.Mutex
		wg       sync.WaitGroup
		start    = time.Now()
		deadline = start.Add(d)
	)
	var every time.Duration // between the units of one connection; 0: no pacing
	if rate > 0 {
		every = time.Duration(float64(connections) / rate * float64(time.Second))
	}
	for i, k := range conns {
		wg.Go(func() {
			buf := make([]byte, 0, 1024)
			lat := make([]time.Duration, 0, 1<<16)
			var requests, units, errs int64
			var first string
			next := start.Add(every * time.Duration(i) / time.Duration(connections))
			for time.Now().Before(deadline) {
				if every > 0 {
					now := time.Now()
					if wait := next.Sub(now); wait > 0 {
						time.Sleep(wait)
					} else if -wait > every {
						next = now // behind: go on from now rather than catch up in a burst
					}
					next = next.Add(every)
				}
				n, err := work(k, buf, &lat)
				requests += int64(n)
				units++
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					if strings.Contains(err.Error(), "write request") || strings.Contains(err.Error(), "read ") {
						break // the connection is gone
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			m.requests += requests
			m.units += units
			m.errors += errs
			if m.firstErr == "" {
				m.firstErr = first
			}
			m.latencies = append(m.latencies, lat...)
		})
	}
	wg.Wait()
	m.elapsed = time.Since(start)
	srvAfter, err := cpuTime(pid)
	if err != nil {
		return measurement{}, err
	}
	selfAfter, err := cpuTime("self")
	if err != nil {
		return measurement{}, err
	}
	m.serverCPU, m.clientCPU = srvAfter-srvBefore, selfAfter-selfBefore
	slices.Sort(m.latencies)
	if signed != nil {
		m.signedNow = signed.extra.Load()
	}
	return m, nil
}

// failed is an error when more than one unit in 1,000 of m failed: checked on a whole measure
// (all its slices added up), so that one stray error in a short slice does not end a run.
func (m measurement) failed(name string) error {
	if m.errors*1000 > m.units {
		return fmt.Errorf("%s: %d of %d failed, the first: %s", name, m.errors, m.units, m.firstErr)
	}
	return nil
}

// call makes one request and checks its status.
func call(k *conn, req []byte, want int, lat *[]time.Duration) error {
	t := time.Now()
	status, err := k.do(req)
	*lat = append(*lat, time.Since(t))
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("status %d (want %d): %.200s", status, want, k.body)
	}
	return nil
}

// single is one signed has_registered_mobile_device request, taken from a pre-signed pool.
func single(p *pool) unit {
	return func(k *conn, buf []byte, lat *[]time.Duration) (int, error) {
		return 1, call(k, p.get(buf), 200, lat)
	}
}

// flow is a whole login: authenticate (pre-signed), ten status polls and a logout, the last
// eleven signed with the session's credentials as they arrive, as a client must.
func flow(p *pool, n *nonces) unit {
	return func(k *conn, buf []byte, lat *[]time.Duration) (int, error) {
		if err := call(k, p.get(buf), 202, lat); err != nil {
			return 1, err
		}
		var res struct {
			Status struct {
				Token     string `json:"session_token"`
				Secret    string `json:"session_secret"`
				StatusURL string `json:"status_url"`
				LogoutURL string `json:"logout_url"`
			} `json:"authentication_status"`
		}
		if err := json.Unmarshal(k.body, &res); err != nil {
			return 1, fmt.Errorf("decode authenticate answer: %w", err)
		}
		s := res.Status
		statusHost, statusURI, ok1 := splitURL(s.StatusURL)
		logoutHost, logoutURI, ok2 := splitURL(s.LogoutURL)
		if !ok1 || !ok2 {
			return 1, fmt.Errorf("authenticate answered unusable URLs %q and %q", s.StatusURL, s.LogoutURL)
		}
		requests := 1
		for range 10 {
			req := encode(buf[:0], "GET", statusHost, statusURI, s.Token, s.Secret, n.take(), time.Now().Unix(), "")
			requests++
			if err := call(k, req, 200, lat); err != nil {
				return requests, err
			}
		}
		req := encode(buf[:0], "POST", logoutHost, logoutURI, s.Token, s.Secret, n.take(), time.Now().Unix(), "")
		requests++
		return requests, call(k, req, 200, lat)
	}
}

// splitURL cuts "http://host:port/path" into the host and the request URI that are signed.
func splitURL(u string) (host, uri string, ok bool) {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return "", "", false
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return "", "", false
	}
	return rest[:i], rest[i:], true
}
