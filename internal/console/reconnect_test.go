package console_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
)

// serveOn serves a fresh emulator on addr ("127.0.0.1:0" for any port) until stop is called.
func serveOn(t *testing.T, addr string) (base string, stop func()) {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for try := 0; ; try++ { // the old server's port may take a moment to be free again
		if ln, err = net.Listen("tcp", addr); err == nil || try == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: emu}
	go srv.Serve(ln)
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			srv.Close()
			emu.Close()
		}
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

// TestTheConsoleReconnectsAfterARestart: when the emulator goes away the page says so, and when
// one is back on the same address it follows that one, without a reload.
func TestTheConsoleReconnectsAfterARestart(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	base, stop := serveOn(t, "127.0.0.1:0")
	api, err := activeconnect.NewAuthenticationAPI(scenario.DemoApplicationID, scenario.DemoApplicationSecret, activeconnect.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	login(t, api, "bob")
	tb := openConsole(t, base, "#phone")
	bobsLogin := find("region", "Login request for bob", in("article", "Phone of bob"))
	tb.waitFor(find("button", "Approve", bobsLogin))
	eval[bool](tb, `window.loadedOnce = true`)
	tb.allowErrors("net::ERR_CONNECTION_REFUSED", "net::ERR_INCOMPLETE_CHUNKED_ENCODING")
	stop()
	tb.waitText(find("status", "Connection"), "Reconnecting")
	// While the emulator is away its buttons wait for it.
	if !eval[bool](tb, `[...document.querySelectorAll('#phones button')].every((b) => b.matches(':disabled'))`) {
		t.Error("while reconnecting the phone's buttons still work")
	}

	serveOn(t, base[len("http://"):])
	tb.waitText(find("status", "Connection"), "Live")
	login(t, api, "alice")
	tb.waitFor(find("region", "Login request for alice", alicePhone))
	tb.gone(bobsLogin) // the new emulator knows nothing of it
	if !eval[bool](tb, `[...document.querySelectorAll('#phones button')].every((b) => !b.matches(':disabled'))`) {
		t.Error("after reconnecting the phone's buttons are still off")
	}
	if !eval[bool](tb, `window.loadedOnce === true`) {
		t.Fatal("the page reloaded")
	}
}
