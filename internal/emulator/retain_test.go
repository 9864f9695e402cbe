package emulator_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
)

// TestKeptStateHoldsNoRequestLine sends requests whose request line is padded to 60 KB and checks
// that what the emulator keeps of each (a journal entry, a link, an SMS, a session) costs about
// the same memory as without the padding: a kept string cut from the request line would keep
// the whole line alive, and the bounds on how many items are kept would not bound memory.
func TestKeptStateHoldsNoRequestLine(t *testing.T) {
	const n = 200
	pad := "&pad=" + strings.Repeat("y", 60_000)
	retainedLimit := uint64(n * 60_000 / 4) // a quarter of what keeping every line would cost
	cases := []struct {
		name string
		send func(e *env, i int)
	}{
		{"journal entry of a refused request", func(e *env, i int) {
			r := e.do(http.MethodGet, fmt.Sprintf("/management/has_registered_mobile_device/%s/u%d?q=1%s", demoApp, i, pad), "", "", nil)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("unsigned request: status %d, want 401", r.status)
			}
		}},
		{"registration link with a display name", func(e *env, i int) {
			r := e.app(http.MethodGet, fmt.Sprintf("/management/device_registration_link/%s/p%d?display_name=d%d%s", demoApp, i, i, pad), nil)
			if r.status != http.StatusOK {
				t.Fatalf("link: %d %s", r.status, r.raw)
			}
		}},
		{"registration SMS", func(e *env, i int) {
			r := e.app(http.MethodPost, fmt.Sprintf("/management/send_registration_sms/%s/p%d?x=1%s", demoApp, i, pad),
				map[string]any{"phone_number": "+15555550100"})
			if r.status != http.StatusOK || r.body["status"] != true {
				t.Fatalf("sms: %d %s", r.status, r.raw)
			}
		}},
		{"session with methods", func(e *env, i int) {
			r := e.app(http.MethodPost, fmt.Sprintf("/authentication/authenticate_user/%s/alice?methods=acceptance%s", demoApp, pad), nil)
			if r.status != http.StatusAccepted && r.status != http.StatusOK {
				t.Fatalf("authenticate: %d %s", r.status, r.raw)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(o *emulator.Options) { o.CheckResponse = nil })
			users := make([]string, n)
			for i := range users {
				users[i] = fmt.Sprintf("p%d", i)
			}
			if r := e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": users}); r.status != http.StatusCreated {
				t.Fatalf("add users: %d %s", r.status, r.raw)
			}
			before := liveHeap()
			for i := range n {
				c.send(e, i)
			}
			e.srv.CloseClientConnections()
			after := liveHeap()
			if after > before && after-before > retainedLimit {
				t.Errorf("%d requests with a 60 KB request line left %.1f MiB more live heap (limit %.1f MiB): kept strings hold the request line",
					n, float64(after-before)/(1<<20), float64(retainedLimit)/(1<<20))
			}
			runtime.KeepAlive(e)
		})
	}
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestFaultCountersKeepNoClientText: faults that pick the Nth call keep a counter per scope;
// requests that name an unknown user or application with 60 KB of text must not each leave one
// behind (holding the text, or the whole request line).
func TestFaultCountersKeepNoClientText(t *testing.T) {
	const n = 200
	long := strings.Repeat("u", 60_000)
	sc, err := scenario.Parse("faults.yaml", []byte(`name: counted
applications:
  - id: `+demoApp+`
    secret: `+demoSecret+`
    users: [{id: alice, phone: true}]
faults:
  - {operation: hasRegisteredMobileDevice, call: 2, respond: {status: 503}}
  - {operation: addUsers, call: 2, respond: {status: 503}}
`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *emulator.Options) { o.CheckResponse, o.Scenario, o.JournalSize = nil, sc, 1 })
	before := liveHeap()
	for i := range n {
		r := e.do(http.MethodGet, fmt.Sprintf("/management/has_registered_mobile_device/%s/%s%d", demoApp, long, i), "", "", nil)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("unsigned call for an unknown user: %d", r.status)
		}
		r = e.do(http.MethodPost, fmt.Sprintf("/management/add_users/%s%d", long, i), "", "", `{"users":["x"]}`)
		if r.status != http.StatusNotFound {
			t.Fatalf("add_users to an unknown application: %d", r.status)
		}
	}
	e.srv.CloseClientConnections()
	after := liveHeap()
	if limit := uint64(n * 60_000 / 4); after > before && after-before > limit {
		t.Errorf("%d calls naming unknown users and applications left %.1f MiB more live heap (limit %.1f MiB)",
			2*n, float64(after-before)/(1<<20), float64(limit)/(1<<20))
	}
	runtime.KeepAlive(e)
}
