package emulator

import (
	"net"
	"os"
	"time"
)

// net/http's server reads a byte of the connection in the background while each request is
// handled (connReader.backgroundRead, into a one-byte array of its own), to notice a client that
// goes away, and ends that read when the handler is done by setting a read deadline in the past
// (abortPendingRead), then waits for it. A handler that answers in a few microseconds leaves the
// read's new goroutine no time to run, and it then fails at once on the deadline, on the same
// thread. The emulator's handlers take longer: the read then runs on the other thread, which
// makes a read system call, parks in the network poller, and is woken by the deadline, with two
// changes of the socket's deadline. Under load that was about a twentieth of the emulator's CPU.
//
// When the emulator is the server's handler (Options.ServerHandler, with ConnContext), a
// connection of Listener therefore holds that read off the socket: the read waits on the
// connection, and the deadline in the past ends it there, without a system call, a poller
// wake-up or a change of the socket's deadline. What a held read would have noticed waits for the
// answer instead: a client gone away is seen when the answer is written, and the next request of
// a pipelining client is read after it, as net/http reads it anyway. API calls answer at once;
// every other request (the control API's waits, the event stream, the console), and an API call
// before a scenario's latency, lets the read go to the socket (watchClient), so that a client
// that leaves ends the wait.
//
// The background read is told apart by its buffer: the one-byte array net/http reads into, the
// same for every request of a connection. The connection learns it from the first one-byte read
// that a deadline in the past cuts, or that starts while that deadline is on: net/http sets it
// only to end its background read, and reads nothing else until it has ended and the deadline
// is lifted. Until then, and for every other read (a request's headers or body, even of one
// byte), reads go to the socket.

// backgroundRead is the state of net/http's background read of a connection.
type backgroundRead struct {
	buf      *byte   // the first byte of the array net/http reads into; nil until learnt
	reading  *byte   // the buffer of a one-byte read in the socket now, which a cut would show to be buf
	cutting  bool    // the socket has net/http's cut, and buf is not learnt
	deadline bool    // the socket has a read deadline that is not the cut: reads go there
	readers  int     // reads in the socket now, of any length: a cut must go to the socket
	state    bgState // what the background read does
	rest     bgState // the state each request starts in: bgHeld when the emulator holds reads
	held     uint64  // background reads that ended off the socket (for tests)
	wake     chan bgWake
}

type bgState uint8

const (
	bgFree   bgState = iota // the background read goes to the socket
	bgHeld                  // the background read waits off the socket for the cut
	bgParked                // it is waiting
	bgCut                   // the cut came before the background read: it ends at once
)

// bgWake says why a parked background read was woken.
type bgWake uint8

const (
	wakeCut   bgWake = iota // the read ends with a timeout, as on the socket
	wakeWatch               // the read goes to the socket
	wakeClose               // the connection closed
)

// processStart is when the process started: a deadline before it has passed. net/http's cut is
// time.Unix(1, 0).
var processStart = time.Now()

// holdReads makes the connection hold net/http's background reads off the socket once it knows
// them (ConnContext calls it before the first read): each request's read starts held from the
// first cut on.
func (c *rejectingConn) holdReads() {
	c.mu.Lock()
	c.bg.rest = bgHeld
	c.mu.Unlock()
}

// watchClient lets the background read of the request being served go to the socket, so that a
// client that goes away ends the request's context.
func (c *rejectingConn) watchClient() {
	c.mu.Lock()
	c.release(wakeWatch)
	c.mu.Unlock()
}

// release ends a hold: a parked read is woken for why. c.mu must be held.
func (c *rejectingConn) release(why bgWake) {
	switch c.bg.state {
	case bgHeld:
		c.bg.state = bgFree
	case bgParked:
		c.bg.state = bgFree
		if why == wakeCut {
			c.bg.state = c.bg.rest // the request is over
		}
		c.bg.wake <- why // the parked read alone receives; the channel holds one
	}
}

// readByte is a read of one byte: net/http's background read, or a read that must go to the socket.
func (c *rejectingConn) readByte(p []byte) (int, error) {
	c.mu.Lock()
	cutting := c.bg.cutting // the socket has the cut: the read ends there at once
	if cutting {
		c.learn(&p[0])
	}
	background := c.bg.buf == &p[0]
	if background && !cutting {
		switch c.bg.state {
		case bgCut:
			c.bg.state = c.bg.rest
			c.bg.held++
			c.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		case bgHeld:
			if c.bg.deadline {
				break // a deadline was set since net/http lifted its own: it applies in the socket
			}
			c.bg.state = bgParked
			c.bg.held++
			c.mu.Unlock()
			switch <-c.bg.wake {
			case wakeCut:
				return 0, os.ErrDeadlineExceeded
			case wakeClose:
				return 0, net.ErrClosed
			}
			c.mu.Lock() // watched: read the socket
		}
	}
	if !background {
		c.cutToSocket()
		c.bg.reading = &p[0]
	}
	return c.readSocket(p)
}

// readSocket reads the socket, counted among its readers; c.mu is held on entry, and released.
func (c *rejectingConn) readSocket(p []byte) (int, error) {
	c.bg.readers++
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bg.readers--
	c.bg.reading = nil
	if c.bg.buf == &p[0] && c.bg.state == bgFree {
		// A background read (or one a cut just showed to be) ended in the socket: the next is
		// held. If this request's cut is still to come, no read takes it (see readDeadline).
		c.bg.state = c.bg.rest
	}
	if n > 0 {
		c.observe(p[:n])
	}
	return n, err
}

// SetReadDeadline ends a held background read when the deadline is net/http's cut, without
// giving it to the socket, whose reader is the held read. Any other deadline lets the read go to
// the socket, where the deadline applies to it (net/http lifts its deadlines before it starts
// the read).
func (c *rejectingConn) SetReadDeadline(t time.Time) error {
	if c.readDeadline(t) {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline is SetReadDeadline and SetWriteDeadline at once.
func (c *rejectingConn) SetDeadline(t time.Time) error {
	if c.readDeadline(t) {
		return c.Conn.SetWriteDeadline(t)
	}
	return c.Conn.SetDeadline(t)
}

// readDeadline applies a deadline to a held background read, and reports whether that was all
// there was to do (the socket has no other reader, and the held read ended).
func (c *rejectingConn) readDeadline(t time.Time) bool {
	cut := !t.IsZero() && t.Before(processStart)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !cut {
		c.bg.cutting = false
		c.bg.deadline = !t.IsZero()
		switch {
		case c.bg.state == bgCut:
			// net/http lifts its cut once the read it was for has ended; a cut no held read
			// took was for a read that had ended in the socket (with a byte: most often the
			// next request of a client that had its answer early), and must not end the next
			// request's.
			c.bg.state = c.bg.rest
		case c.bg.deadline && c.bg.state == bgParked:
			c.release(wakeWatch) // the deadline applies to the read, in the socket
		}
		return false
	}
	if c.bg.reading != nil && c.bg.buf == nil {
		c.learn(c.bg.reading) // only net/http's background read is cut
	}
	// net/http cuts only its background read, and reads nothing else until that read has ended
	// and the cut is lifted: with no read in the socket, the cut is the held read's alone.
	if c.bg.readers == 0 {
		switch c.bg.state {
		case bgHeld:
			c.bg.state = bgCut
			return true
		case bgParked:
			c.release(wakeCut)
			return true
		}
	}
	c.bg.cutting = c.bg.buf == nil
	return false
}

// cutToSocket gives the socket a cut that was kept for a held read that has not started, before
// another read starts (a hijacker's, say): net/http reads nothing else while its cut is on, but
// a read that does must fail on it as on the socket. c.mu must be held.
func (c *rejectingConn) cutToSocket() {
	if c.bg.state == bgCut {
		c.bg.state = bgFree
		_ = c.Conn.SetReadDeadline(time.Unix(1, 0))
	}
}

// learn records the buffer of net/http's background read. c.mu must be held.
func (c *rejectingConn) learn(buf *byte) {
	c.bg.buf = buf
	c.bg.cutting = false
}

// Close ends a held background read, as closing the socket would end one in the socket.
func (c *rejectingConn) Close() error {
	c.mu.Lock()
	c.release(wakeClose)
	c.mu.Unlock()
	return c.Conn.Close()
}
