package emulator

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/scenario"
)

// connCapture keeps the connections its listener accepted.
type connCapture struct {
	net.Listener
	mu     sync.Mutex
	conns  []*rejectingConn
	closed chan struct{}
}

func (l *connCapture) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if rc, ok := c.(*rejectingConn); ok {
		l.mu.Lock()
		l.conns = append(l.conns, rc)
		l.mu.Unlock()
	}
	return c, err
}

// closedConn reports that the server closed a connection: its last handler has returned.
func (l *connCapture) closedConn(_ net.Conn, s http.ConnState) {
	if s == http.StateClosed {
		l.closed <- struct{}{}
	}
}

// held is how many background reads the listener's connections held off the socket.
func (l *connCapture) held() (n uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.mu.Lock()
		n += c.bg.held
		c.mu.Unlock()
	}
	return n
}

// serveAsTheBinary serves a new emulator on 127.0.0.1 the way acmock does: Listener's
// connections, ConnContext, ServerHandler and the server's timeouts.
func serveAsTheBinary(t *testing.T, opts Options) (*Emulator, string, *connCapture) {
	t.Helper()
	opts.ServerHandler = true
	emu, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: emu, ConnContext: emu.ConnContext, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	capture := &connCapture{Listener: emu.Listener(ln, 0), closed: make(chan struct{}, 64)}
	srv.ConnState = capture.closedConn
	go func() { _ = srv.Serve(capture) }()
	t.Cleanup(func() {
		_ = srv.Close()
		emu.Close()
	})
	return emu, ln.Addr().String(), capture
}

// dialTheBinary serves a new emulator as acmock does and opens a connection to it, with its
// reader; the connection closes when the test ends.
func dialTheBinary(t *testing.T) (string, *connCapture, net.Conn, *bufio.Reader) {
	t.Helper()
	_, addr, capture := serveAsTheBinary(t, Options{})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	return addr, capture, conn, bufio.NewReader(conn)
}

// signedDeviceCheck is a signed has_registered_mobile_device request for alice, as bytes.
func signedDeviceCheck(t *testing.T, host string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+host+"/management/has_registered_mobile_device/"+scenario.DemoApplicationID+"/alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := acauth.NewSigner(scenario.DemoApplicationID, scenario.DemoApplicationSecret).SignRequest(req.Context(), req); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestKeepAliveCallsHoldTheBackgroundRead: API calls on one keep-alive connection are answered,
// and after the first (which shows the connection net/http's background read) their background
// reads wait off the socket; pipelined calls, whose next request is in the socket while the
// first is served, are all answered in order.
func TestKeepAliveCallsHoldTheBackgroundRead(t *testing.T) {
	t.Parallel()
	addr, capture, conn, br := dialTheBinary(t)
	answer := func(what string) {
		t.Helper()
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"device_registered"`) {
			t.Fatalf("%s: %d %s", what, res.StatusCode, body)
		}
	}
	const calls = 40
	for i := range calls {
		if _, err := conn.Write(signedDeviceCheck(t, addr)); err != nil {
			t.Fatal(err)
		}
		answer("call " + string(rune('0'+i%10)))
	}
	if held := capture.held(); held < calls/2 {
		t.Fatalf("%d of %d background reads were held off the socket; want most", held, calls)
	}
	// Three calls in one write: while the first is served, the next two wait in the socket.
	before := capture.held()
	var piped []byte
	for range 3 {
		piped = append(piped, signedDeviceCheck(t, addr)...)
	}
	if _, err := conn.Write(piped); err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"first pipelined call", "second pipelined call", "third pipelined call"} {
		answer(what)
	}
	if capture.held() == before {
		t.Fatal("no background read of the pipelined calls was held")
	}
}

type result struct {
	n   int
	err error
}

// connPair is a connection of Listener on 127.0.0.1 and its peer, closed when the test ends.
func connPair(t *testing.T) (*rejectingConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialed := make(chan net.Conn, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			c = nil
		}
		dialed <- c
	}()
	accepted, err := (&Emulator{}).Listener(ln, 0).Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := accepted.(*rejectingConn)
	t.Cleanup(func() { _ = c.Close() })
	peer := <-dialed
	if peer == nil {
		t.Fatal("dial failed")
	}
	t.Cleanup(func() { _ = peer.Close() })
	return c, peer
}

// readAsync reads c into p on a goroutine of its own, as net/http's background read does.
func readAsync(c *rejectingConn, p []byte) chan result {
	ch := make(chan result, 1)
	go func() {
		n, err := c.Read(p)
		ch <- result{n, err}
	}()
	return ch
}

// waitRead waits for a read's result.
func waitRead(t *testing.T, ch chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the read did not end", what)
		return result{}
	}
}

// waitConn waits until c's background-read state satisfies ok.
func waitConn(t *testing.T, c *rejectingConn, what string, ok func(*backgroundRead) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		done, st := ok(&c.bg), c.bg.state
		c.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in 10s (state %d)", what, st)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitParked waits until c's background read waits off the socket.
func waitParked(t *testing.T, c *rejectingConn, what string) {
	t.Helper()
	waitConn(t, c, what+": the read waits off the socket", func(bg *backgroundRead) bool { return bg.state == bgParked })
}

// inSocket reports that a one-byte read whose buffer is not known yet is in the socket.
func inSocket(bg *backgroundRead) bool { return bg.reading != nil }

// TestHeldReadsAreOnlyTheBackgroundRead drives a connection as net/http does, and checks what a
// hold may and may not do: it learns the background read's buffer from a cut, holds only reads
// into that buffer (another one-byte read, as a request's headers or body can make, reads the
// socket), ends a held read on the cut without touching the socket, on close, on a later deadline
// (which then applies in the socket), and lets it read the socket when the client is watched.
func TestHeldReadsAreOnlyTheBackgroundRead(t *testing.T) {
	t.Parallel()
	// Before the buffer is known, the read is in the socket, and the cut ends it there and shows
	// the buffer (learntConn checks both).
	c, peer, bg := learntConn(t)
	bgBuf := bg[:]
	cut := time.Unix(1, 0)
	var other [1]byte

	// On another connection, a background read that starts after the cut (the handler was quick)
	// shows its buffer too.
	late, _ := connPair(t)
	late.holdReads()
	var lateBuf [1]byte
	_ = late.SetReadDeadline(cut)
	if _, err := late.Read(lateBuf[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a read after the cut got %v; want a timeout", err)
	}
	_ = late.SetReadDeadline(time.Time{})
	late.mu.Lock()
	learnt := late.bg.buf == &lateBuf[0]
	late.mu.Unlock()
	if !learnt {
		t.Fatal("a read that started after the cut did not show its buffer")
	}

	// Another one-byte read is not held: it reads the socket.
	if _, err := peer.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if r := waitRead(t, readAsync(c, other[:]), "other buffer"); r.n != 1 || other[0] != 'x' {
		t.Fatalf("a one-byte read into another buffer got %d, %v; want the byte the peer sent", r.n, r.err)
	}

	// The background read is held, and the cut ends it without a deadline on the socket.
	ch := readAsync(c, bgBuf[:])
	waitParked(t, c, "held read")
	if err := c.SetReadDeadline(cut); err != nil {
		t.Fatal(err)
	}
	if r := waitRead(t, ch, "held cut"); r.n != 0 || !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("held cut: %d, %v; want a timeout", r.n, r.err)
	}
	// No deadline of none follows, as net/http's would: a cut that reached the socket would fail
	// the next read.
	if _, err := peer.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if r := waitRead(t, readAsync(c, other[:]), "after the held cut"); r.n != 1 || other[0] != 'y' {
		t.Fatalf("after a held cut the socket read %d, %v; want the byte (the cut must not reach the socket)", r.n, r.err)
	}

	// A cut before the held read starts ends it as soon as it starts.
	_ = c.SetReadDeadline(cut)
	if r := waitRead(t, readAsync(c, bgBuf[:]), "early cut"); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("early cut: %d, %v; want a timeout", r.n, r.err)
	}
	_ = c.SetReadDeadline(time.Time{})

	// Watching the client sends the held read to the socket, where it gets the next byte.
	ch = readAsync(c, bgBuf[:])
	waitParked(t, c, "watched read")
	c.watchClient()
	if _, err := peer.Write([]byte("z")); err != nil {
		t.Fatal(err)
	}
	if r := waitRead(t, ch, "watched"); r.n != 1 || bgBuf[0] != 'z' {
		t.Fatalf("a watched read got %d, %v; want the byte the peer sent", r.n, r.err)
	}

	// A deadline that is not the cut goes to the socket with the read, and applies there.
	ch = readAsync(c, bgBuf[:])
	waitParked(t, c, "read given a deadline")
	start := time.Now()
	if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if r := waitRead(t, ch, "deadline"); !errors.Is(r.err, os.ErrDeadlineExceeded) || time.Since(start) < 40*time.Millisecond {
		t.Fatalf("a read given a deadline ended after %v with %d, %v; want a timeout at the deadline", time.Since(start), r.n, r.err)
	}
	_ = c.SetReadDeadline(time.Time{})

	// Closing the connection ends a held read.
	ch = readAsync(c, bgBuf[:])
	waitParked(t, c, "read of a closed connection")
	_ = c.Close()
	if r := waitRead(t, ch, "close"); !errors.Is(r.err, net.ErrClosed) {
		t.Fatalf("a held read of a closed connection got %d, %v; want net.ErrClosed", r.n, r.err)
	}
}

// TestControlWaitsEndWhenTheClientLeaves: a wait on the journal ends when its client closes the
// connection, as net/http's background read notices: the connection, which holds that read off
// the socket during API calls (it served one first), lets it watch during a control call.
func TestControlWaitsEndWhenTheClientLeaves(t *testing.T) {
	t.Parallel()
	addr, capture, conn, br := dialTheBinary(t)
	if _, err := conn.Write(signedDeviceCheck(t, addr)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("device check: %v %v", res, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	if capture.held() != 0 {
		t.Fatal("the first call was held; its connection could not know the background read yet")
	}
	if _, err := io.WriteString(conn, "GET /_acmock/requests?operation=logout&min_count=1&timeout=60s HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// The wait's request is in its handler, which let net/http's background read go to the socket.
	capture.mu.Lock()
	served := capture.conns[0]
	capture.mu.Unlock()
	waitConn(t, served, "the journal wait watches the client", func(bg *backgroundRead) bool {
		return bg.state == bgFree && bg.readers > 0
	})
	_ = conn.Close()
	select {
	case <-capture.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the journal wait still holds a connection whose client left 10s ago")
	}
}

// learntConn is a connection pair whose connection holds background reads and knows their
// buffer, returned: one read into it was cut, as net/http cuts its background read.
func learntConn(t *testing.T) (*rejectingConn, net.Conn, *[1]byte) {
	t.Helper()
	c, peer := connPair(t)
	c.holdReads()
	b := new([1]byte)
	ch := readAsync(c, b[:])
	waitConn(t, c, "the first read is in the socket", inSocket)
	if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if r := waitRead(t, ch, "first cut"); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("first cut: %d, %v; want a timeout", r.n, r.err)
	}
	_ = c.SetReadDeadline(time.Time{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bg.buf != &b[0] {
		t.Fatal("the cut did not show the background read's buffer")
	}
	return c, peer, b
}

// TestACutNoReadTookLeavesTheNextRequestAlone: when a watched background read ends in the socket
// with a byte (most often the next request of a client that had its answer early) just before
// net/http cuts it, net/http still
// sends the cut, which no held read takes; the next request's background read must be held,
// not ended by that old cut (which net/http would take for the client's error, and cancel the
// connection's context).
func TestACutNoReadTookLeavesTheNextRequestAlone(t *testing.T) {
	t.Parallel()
	c, peer, b := learntConn(t)
	cut := time.Unix(1, 0)

	ch := readAsync(c, b[:])
	waitParked(t, c, "watched read")
	c.watchClient()
	if _, err := peer.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	if r := waitRead(t, ch, "watched read"); r.n != 1 {
		t.Fatalf("the watched read got %d, %v; want the byte", r.n, r.err)
	}
	_ = c.SetReadDeadline(cut) // abortPendingRead, before the read told net/http it had ended
	_ = c.SetReadDeadline(time.Time{})

	ch = readAsync(c, b[:])
	select {
	case r := <-ch:
		t.Fatalf("the next request's background read ended at once with %d, %v; want it held", r.n, r.err)
	case <-time.After(50 * time.Millisecond):
	}
	waitParked(t, c, "next request's read")
	_ = c.SetReadDeadline(cut)
	if r := waitRead(t, ch, "next cut"); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("the next cut ended the read with %d, %v; want a timeout", r.n, r.err)
	}
}

// TestAKeptCutReachesAnotherRead: a cut kept for a held read that has not started (net/http's,
// or a hijacker's own after net/http let the connection go) reaches the socket before any other
// read, which then fails on it as on the socket instead of waiting for the client.
func TestAKeptCutReachesAnotherRead(t *testing.T) {
	t.Parallel()
	c, _, _ := learntConn(t)
	cut := time.Unix(1, 0)
	_ = c.SetReadDeadline(cut) // no read in flight: kept for the held read
	for _, p := range [][]byte{make([]byte, 16), make([]byte, 1)} {
		if r := waitRead(t, readAsync(c, p), "a read after a kept cut"); !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("a %d-byte read after a kept cut got %d, %v; want a timeout at once", len(p), r.n, r.err)
		}
	}
}
