package deadline_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/deadline"
)

// counted counts the deadlines given to the sockets beneath the wrapper.
type counted struct {
	net.Listener
	reads, writes, cut *atomic.Int64
}

func (l counted) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return countedConn{c, l.reads, l.writes, l.cut}, nil
}

type countedConn struct {
	net.Conn
	reads, writes, cut *atomic.Int64 // cut: reads the socket's deadline ended
}

func (c countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.cut.Add(1)
	}
	return n, err
}

func (c countedConn) SetReadDeadline(t time.Time) error {
	c.reads.Add(1)
	return c.Conn.SetReadDeadline(t)
}

func (c countedConn) SetWriteDeadline(t time.Time) error {
	c.writes.Add(1)
	return c.Conn.SetWriteDeadline(t)
}

type server struct {
	addr               string
	reads, writes, cut atomic.Int64
	errs               chan error // what handlers' reads and writes returned, when not nil
}

// serve starts an http.Server with the given timeouts on 127.0.0.1, its listener wrapped (or
// not, to compare), with handlers that answer, read the body, or write a large answer.
func serve(t *testing.T, wrap bool, s *http.Server) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &server{addr: ln.Addr().String(), errs: make(chan error, 16)}
	var l net.Listener = counted{ln, &srv.reads, &srv.writes, &srv.cut}
	if wrap {
		l = deadline.Listener(l, s.ReadHeaderTimeout)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		err := rc.SetWriteDeadline(time.Time{}) // as an event stream does
		for i := 0; i < 8 && err == nil; i++ {
			if _, err = io.WriteString(w, "tick\n"); err == nil {
				err = rc.Flush()
			}
			time.Sleep(100 * time.Millisecond)
		}
		srv.errs <- err
	})
	mux.HandleFunc("POST /body", func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		srv.errs <- err
	})
	mux.HandleFunc("GET /large", func(w http.ResponseWriter, _ *http.Request) {
		chunk := make([]byte, 1<<20)
		var err error
		for i := 0; i < 256 && err == nil; i++ {
			_, err = w.Write(chunk)
		}
		srv.errs <- err
	})
	s.Handler = mux
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return srv
}

func timeouts(header, read, write, idle time.Duration) *http.Server {
	return &http.Server{ReadHeaderTimeout: header, ReadTimeout: read, WriteTimeout: write, IdleTimeout: idle}
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, bufio.NewReader(c)
}

func get(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("answer %d %q", res.StatusCode, body)
	}
}

// closedWithin reports whether the server closes c (the client reads EOF or a reset) within limit.
func closedWithin(c net.Conn, br *bufio.Reader, limit time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.ReadAll(br)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("still open after %v", limit)
	}
	return nil
}

// TestHeaderTimeoutStillHolds: after many requests on one connection (so that its deadlines are
// the lazy ones), a request whose headers never end is still cut at the header timeout, as
// without the wrapper.
func TestHeaderTimeoutStillHolds(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		t.Run(fmt.Sprintf("wrapped=%v", wrap), func(t *testing.T) {
			srv := serve(t, wrap, timeouts(200*time.Millisecond, time.Minute, time.Minute, time.Minute))
			c, br := dial(t, srv.addr)
			for range 50 {
				get(t, c, br)
			}
			if _, err := io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: x\r\n"); err != nil {
				t.Fatal(err)
			}
			if err := closedWithin(c, br, 5*time.Second); err != nil {
				t.Fatalf("a request whose headers never end: %v", err)
			}
		})
	}
}

// TestIdleTimeoutStillHolds: an idle keep-alive connection is closed at the idle timeout.
func TestIdleTimeoutStillHolds(t *testing.T) {
	srv := serve(t, true, timeouts(time.Minute, time.Minute, time.Minute, 200*time.Millisecond))
	c, br := dial(t, srv.addr)
	get(t, c, br)
	if err := closedWithin(c, br, 5*time.Second); err != nil {
		t.Fatalf("an idle connection: %v", err)
	}
}

// TestPausesLongerThanTheTimeouts: a connection that waits between requests longer than the
// header timeout, or than the read and write timeouts (but less than the idle timeout), still
// serves the next request: the deadlines the socket was given for one request, which passed while
// it waited, are moved, not taken as the next request's timeout.
func TestPausesLongerThanTheTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		srv   *http.Server
		pause time.Duration
	}{
		{"header timeout", timeouts(100*time.Millisecond, 150*time.Millisecond, time.Minute, time.Minute), 400 * time.Millisecond},
		{"read and write timeouts", timeouts(100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, time.Minute), 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, true, tc.srv)
			c, br := dial(t, srv.addr)
			for range 3 {
				get(t, c, br)
				time.Sleep(tc.pause)
			}
			get(t, c, br)
		})
	}
}

// TestReadTimeoutCutsASlowBody: a body that stops coming is cut at the read timeout.
func TestReadTimeoutCutsASlowBody(t *testing.T) {
	srv := serve(t, true, timeouts(time.Minute, 300*time.Millisecond, time.Minute, time.Minute))
	c, br := dial(t, srv.addr)
	get(t, c, br)
	if _, err := io.WriteString(c, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.errs:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the handler's read of a stalled body: %v, want a deadline error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's read of a stalled body never ended")
	}
}

// TestWriteTimeoutCutsAClientThatDoesNotRead: an answer the client never reads is cut at the
// write timeout, also after the connection served requests before it.
func TestWriteTimeoutCutsAClientThatDoesNotRead(t *testing.T) {
	srv := serve(t, true, timeouts(time.Minute, time.Minute, 300*time.Millisecond, time.Minute))
	c, br := dial(t, srv.addr)
	for range 20 {
		get(t, c, br)
	}
	if _, err := io.WriteString(c, "GET /large HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.errs:
		if err == nil {
			t.Fatal("256 MiB were written to a client that reads nothing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write to a client that reads nothing never ended")
	}
}

// TestFewerDeadlinesPerRequest: on a keep-alive connection the sockets get far fewer deadlines
// per request than net/http sets, which is what the wrapper is for.
func TestFewerDeadlinesPerRequest(t *testing.T) {
	const n = 200
	per, cuts := map[bool]float64{}, map[bool]float64{}
	for _, wrap := range []bool{false, true} {
		srv := serve(t, wrap, timeouts(10*time.Second, 30*time.Second, 90*time.Second, 120*time.Second))
		c, br := dial(t, srv.addr)
		for range n {
			get(t, c, br)
		}
		per[wrap] = float64(srv.reads.Load()+srv.writes.Load()) / n
		cuts[wrap] = float64(srv.cut.Load()) / n
	}
	// net/http cuts the background read of each request with a deadline in the past and then
	// lifts it: the wrapper must move the socket's at once, or the next request's first read
	// fails too before extend moves it, one more cut read per request. How many background reads
	// are in progress when the cut comes depends on scheduling (0.7 to 1 per request on a busy
	// machine, with or without the wrapper), so the margin is half a read.
	if cuts[true] > cuts[false]+0.5 {
		t.Errorf("reads cut by a deadline per request: %.2f with the wrapper, %.2f without", cuts[true], cuts[false])
	}
	t.Logf("deadlines per request: %.1f without the wrapper, %.1f with it", per[false], per[true])
	if per[true] > 2.5 || per[false] < 5 {
		t.Fatalf("deadlines per request: %.1f without the wrapper, %.1f with it; want at least 5 and at most 2.5", per[false], per[true])
	}
}

// TestClientReadsSeeTheServerClose: nothing in the wrapper keeps a connection the server closes.
func TestClientReadsSeeTheServerClose(t *testing.T) {
	srv := serve(t, true, timeouts(time.Minute, time.Minute, time.Minute, time.Minute))
	c, br := dial(t, srv.addr)
	if _, err := io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if string(body) != "ok" {
		t.Fatalf("answer %q", body)
	}
	if err := closedWithin(c, br, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestAnswerPastAnEarlierRequestsWriteDeadline: a request's answer, written after the write
// deadline of the request before it on the same connection but within its own, reaches the
// client: the socket still had the earlier deadline, and the write is tried again with the later.
func TestAnswerPastAnEarlierRequestsWriteDeadline(t *testing.T) {
	srv := serve(t, true, timeouts(time.Minute, time.Minute, 400*time.Millisecond, time.Minute))
	c, br := dial(t, srv.addr)
	get(t, c, br)
	time.Sleep(200 * time.Millisecond)
	if _, err := io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the answer written 500 ms after the first request's write deadline was set: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("answer %d %q", res.StatusCode, body)
	}
}

// TestStreamWithoutWriteDeadline: an answer that turned its write deadline off (an event stream)
// keeps writing past the server's write timeout, which the socket still had from the request.
func TestStreamWithoutWriteDeadline(t *testing.T) {
	srv := serve(t, true, timeouts(time.Minute, time.Minute, 300*time.Millisecond, time.Minute))
	c, br := dial(t, srv.addr)
	get(t, c, br)
	if _, err := io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.errs:
		if err != nil {
			t.Fatalf("a stream with no write deadline, 800 ms long: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream never ended")
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if n := strings.Count(string(body), "tick"); n != 8 {
		t.Fatalf("the client read %d ticks of 8: %q", n, body)
	}
}

// TestSteadyRequestsPastTheTimeouts: requests sent one after the other for several times every
// timeout all get their answers: each deadline the socket was given passes while the connection
// is busy, and the failed operation moves it (set reads no clock).
func TestSteadyRequestsPastTheTimeouts(t *testing.T) {
	const timeout = 150 * time.Millisecond
	srv := serve(t, true, timeouts(timeout, timeout, timeout, timeout))
	c, br := dial(t, srv.addr)
	n := 0
	for start := time.Now(); time.Since(start) < 8*timeout; n++ {
		get(t, c, br)
		time.Sleep(time.Millisecond)
	}
	if per := float64(srv.reads.Load()+srv.writes.Load()) / float64(n); per > 2.5 {
		t.Fatalf("%d requests: %.1f deadlines per request, want at most 2.5", n, per)
	}
}

// nopConn is a connection whose deadlines cost nothing, to measure the wrapper's own cost.
type nopConn struct{ net.Conn }

func (nopConn) SetReadDeadline(time.Time) error  { return nil }
func (nopConn) SetWriteDeadline(time.Time) error { return nil }

// oneConn is a listener whose every Accept returns its connection.
type oneConn struct {
	net.Listener
	conn net.Conn
}

func (l oneConn) Accept() (net.Conn, error) { return l.conn, nil }

// BenchmarkLaterDeadline measures what a keep-alive request's deadlines mostly are: one later
// than the socket's, which the wrapper only records.
func BenchmarkLaterDeadline(b *testing.B) {
	c, err := deadline.Listener(oneConn{conn: nopConn{}}, time.Second).Accept()
	if err != nil {
		b.Fatal(err)
	}
	t := time.Now().Add(time.Hour)
	_ = c.SetReadDeadline(t)
	b.ReportAllocs()
	for b.Loop() {
		t = t.Add(time.Nanosecond)
		_ = c.SetReadDeadline(t)
	}
}

// cutConn is a connection whose reads all end as a read cut by its deadline does.
type cutConn struct{ nopConn }

func (cutConn) Read([]byte) (int, error) {
	return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
}

// BenchmarkCutRead measures the end of every request's background read: net/http sets a
// deadline in the distant past, and the read it cuts comes back from the wrapper, which reads no
// clock to know that deadline has passed.
func BenchmarkCutRead(b *testing.B) {
	c, err := deadline.Listener(oneConn{conn: cutConn{}}, time.Second).Accept()
	if err != nil {
		b.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Unix(1, 0))
	var p [1]byte
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Read(p[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
			b.Fatalf("read: %v", err)
		}
	}
}
