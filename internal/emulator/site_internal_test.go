package emulator

import (
	"context"
	"net"
	"net/http"
	"testing"
)

// TestTheAddressTheConnectionArrivedOnIsOwn: with --addr 0.0.0.0, a client on the network uses
// the machine's address as Host; that is the emulator's own.
func TestTheAddressTheConnectionArrivedOnIsOwn(t *testing.T) {
	t.Parallel()
	e := &Emulator{}
	for _, tt := range []struct {
		host  string
		local net.Addr
		want  bool
	}{
		{"192.168.1.5:8080", &net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 8080}, true},
		{"192.168.1.6:8080", &net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 8080}, false},
		{"[fd00::5]:8080", &net.TCPAddr{IP: net.ParseIP("fd00::5"), Port: 8080}, true},
		{"192.168.1.5:8080", nil, false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://x/_acmock/clock", nil)
		r.Host = tt.host
		if tt.local != nil {
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tt.local))
		}
		if got := e.ownHost(r, ""); got != tt.want {
			t.Errorf("Host %s on a connection to %v: own %v, want %v", tt.host, tt.local, got, tt.want)
		}
	}
}
