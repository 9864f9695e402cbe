// Package deadline wraps a listener's connections so that the deadlines an http.Server sets cost
// it less, with the same timeouts.
//
// With its timeouts set (ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout), net/http's
// server sets eight deadlines per small keep-alive request (TestFewerDeadlinesPerRequest counts
// them): the header deadline, the whole request's, the write deadline, a deadline in the past and
// then none around the background read of each request without a body, the idle deadline, and
// none again. Each moves a timer in the Go runtime; for acmock's small requests they were about 4%
// of the server's CPU.
//
// A wrapped connection keeps the deadline asked for, and gives the socket a new one only when it
// is earlier than the one the socket has: an operation is then never allowed to run past the
// deadline asked for. The socket's deadline may come first; when it cuts a read or a write short,
// the connection gives the socket the deadline asked for (or an earlier one, see Listener) and
// tries again, unless that deadline has passed too, in which case the operation fails with
// os.ErrDeadlineExceeded as it would have. A keep-alive connection under load gives its socket
// two deadlines per request instead of eight.
package deadline

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// Listener wraps ln's connections. step is the shortest timeout the server sets (its
// ReadHeaderTimeout): when a deadline cuts an operation short before the one asked for, the socket
// is given the sooner of the deadline asked for and step from now, so that the next request's
// deadlines, which come later, need not move it.
func Listener(ln net.Listener, step time.Duration) net.Listener {
	return &listener{Listener: ln, step: step}
}

type listener struct {
	net.Listener
	step time.Duration
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	k := &conn{Conn: c}
	k.read = lazy{apply: c.SetReadDeadline, step: l.step}
	k.write = lazy{apply: c.SetWriteDeadline, step: l.step}
	return k, nil
}

type conn struct {
	net.Conn
	read, write lazy
}

func (c *conn) Read(p []byte) (int, error) {
	for {
		n, err := c.Conn.Read(p)
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && c.read.extend() {
			continue
		}
		return n, err
	}
}

func (c *conn) Write(p []byte) (int, error) {
	written := 0
	for {
		n, err := c.Conn.Write(p[written:])
		written += n
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.write.extend() {
			continue
		}
		return written, err
	}
}

func (c *conn) SetReadDeadline(t time.Time) error  { return c.read.set(t) }
func (c *conn) SetWriteDeadline(t time.Time) error { return c.write.set(t) }

func (c *conn) SetDeadline(t time.Time) error {
	return errors.Join(c.read.set(t), c.write.set(t))
}

// lazy is one direction's deadline.
type lazy struct {
	apply func(time.Time) error // sets the socket's deadline
	step  time.Duration

	mu    sync.Mutex
	want  time.Time // the deadline asked for (zero: none)
	armed time.Time // the socket's deadline (zero: none); never later than want
}

// set records the deadline asked for, and gives it to the socket if the socket's is later (or
// there is none): the socket's deadline must never let an operation run past t. A socket whose
// deadline has passed would fail the next operation at once, and extend would then move it.
// net/http cuts its background read of each request with a deadline in the distant past, and
// then asks for a later one: set moves that one at once, which spares a failed operation on every
// request. Otherwise set reads no clock: a deadline that passed with time is left to extend,
// which the next operation calls when it fails at once, without a system call. (Reading the clock
// on every call was 1.5% of acmock's CPU under the login flow load: six reads per request.)
func (d *lazy) set(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.want = t
	switch {
	case !t.IsZero() && (d.armed.IsZero() || t.Before(d.armed)):
		return d.arm(t)
	case !d.armed.IsZero() && d.armed.Before(started):
		return d.arm(d.next(time.Now()))
	}
	return nil // the socket's deadline comes first: extend moves it if it cuts an operation short
}

// started is when the process started: a deadline set before it has passed (net/http's cut is
// time.Unix(1, 0)), with no need to read the clock.
var started = time.Now()

func (d *lazy) arm(t time.Time) error {
	if err := d.apply(t); err != nil {
		return err
	}
	d.armed = t
	return nil
}

// next is the deadline to give the socket in place of one that passed: the one asked for, or
// step from now if that comes sooner (or none was asked for), so that the deadlines asked for
// next, which come later, leave it alone.
func (d *lazy) next(now time.Time) time.Time {
	if d.step > 0 && (d.want.IsZero() || now.Add(d.step).Before(d.want)) {
		return now.Add(d.step)
	}
	return d.want
}

// extend is called when the socket's deadline cut an operation short. It reports whether the
// operation should be tried again: the deadline asked for is later, or there is none. The socket
// is then given the deadline asked for (none, for a stream that turned its deadline off), or step
// from now if that comes sooner.
func (d *lazy) extend() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.want.IsZero():
		return d.arm(time.Time{}) == nil
	case d.want.Before(started):
		return false // net/http's cut of its background read, which ends every request: no clock read
	}
	now := time.Now()
	if !now.Before(d.want) {
		return false // the deadline asked for has passed: the operation times out
	}
	return d.arm(d.next(now)) == nil
}
