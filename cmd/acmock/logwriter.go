package main

import (
	"io"
	"sync"
	"time"
)

// logFlushInterval bounds how long a log line waits in memory before it is written.
const logFlushInterval = 50 * time.Millisecond

// maxPendingLog bounds the bytes of log lines waiting to be written: a writer that cannot keep up
// (a terminal scrolled back, a full disk) slows the requests that log instead of growing memory.
const maxPendingLog = 1 << 20

// logWriter takes the request log off the request path: Write copies the line into memory, and a
// goroutine writes what has gathered at most logFlushInterval later (well within the 100 ms the
// log promises), or at once when maxPendingLog is reached. Close writes the rest; acmock calls it
// on every way out of run, SIGTERM and SIGINT included, so no line is lost on exit.
type logWriter struct {
	out io.Writer

	mu      sync.Mutex
	cond    *sync.Cond // signalled when pending has been taken, for writers held by the bound
	pending []byte
	closed  bool
	err     error // the first error from out, returned by Close

	kick chan struct{} // a line arrived while nothing was pending
	full chan struct{} // pending reached maxPendingLog
	done chan struct{} // the flusher has stopped
}

func newLogWriter(out io.Writer) *logWriter {
	w := &logWriter{out: out, kick: make(chan struct{}, 1), full: make(chan struct{}, 1), done: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go w.flusher()
	return w
}

// Write keeps a copy of p for the flusher. After Close it writes through.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.out.Write(p)
	}
	for len(w.pending) >= maxPendingLog && !w.closed {
		w.cond.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		return w.out.Write(p)
	}
	wasEmpty := len(w.pending) == 0
	w.pending = append(w.pending, p...)
	isFull := len(w.pending) >= maxPendingLog
	w.mu.Unlock()
	if wasEmpty {
		notify(w.kick)
	}
	if isFull {
		notify(w.full)
	}
	return len(p), nil
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// flusher waits for a first line, lets others gather for logFlushInterval, then writes them in
// one call, outside the lock, while new lines gather in the other buffer.
func (w *logWriter) flusher() {
	defer close(w.done)
	var spare []byte
	timer := time.NewTimer(logFlushInterval)
	timer.Stop()
	for {
		<-w.kick
		timer.Reset(logFlushInterval)
		select {
		case <-timer.C:
		case <-w.full:
			timer.Stop()
		}
		w.mu.Lock()
		batch := w.pending
		w.pending = spare[:0]
		closed := w.closed
		w.cond.Broadcast()
		w.mu.Unlock()
		if len(batch) > 0 {
			if _, err := w.out.Write(batch); err != nil {
				w.mu.Lock()
				if w.err == nil {
					w.err = err
				}
				w.mu.Unlock()
			}
		}
		spare = batch
		if cap(spare) > maxPendingLog { // do not keep a buffer grown by a burst
			spare = nil
		}
		if closed {
			return
		}
	}
}

// Close writes every line still in memory and makes later writes go straight through.
func (w *logWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
	notify(w.kick)
	notify(w.full)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) > 0 { // written between the flusher's last take and closed
		if _, err := w.out.Write(w.pending); err != nil && w.err == nil {
			w.err = err
		}
		w.pending = nil
	}
	return w.err
}
