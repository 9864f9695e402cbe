package main

import (
	"net"
	"net/http"
	"testing"
)

// TestConnCounter: a connection counts from its first state until it closes or is hijacked,
// whatever its requests do in between.
func TestConnCounter(t *testing.T) {
	c := newConnCounter()
	a, b := &net.TCPConn{}, &net.TCPConn{}
	c.track(a, http.StateNew)
	c.track(b, http.StateNew)
	c.track(a, http.StateActive)
	c.track(a, http.StateIdle)
	c.track(b, http.StateActive)
	if n := c.open(); n != 2 {
		t.Fatalf("open %d, want 2", n)
	}
	c.track(a, http.StateClosed)
	c.track(b, http.StateHijacked)
	if n := c.open(); n != 0 {
		t.Fatalf("open %d after both ended, want 0", n)
	}
}

// BenchmarkConnCounterRequest measures what every keep-alive request costs the counter: two
// changes of state.
func BenchmarkConnCounterRequest(b *testing.B) {
	c := newConnCounter()
	conn := &net.TCPConn{}
	c.track(conn, http.StateNew)
	b.ReportAllocs()
	for b.Loop() {
		c.track(conn, http.StateActive)
		c.track(conn, http.StateIdle)
	}
}
