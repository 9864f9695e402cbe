package emulator_test

import (
	"net/http"
	"testing"

	"github.com/acmock/acmock/internal/emulator"
)

func TestForeignHostsAndOriginsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.PublicURL = "http://acmock.internal:8080" })
	self := e.srv.Listener.Addr().String()
	tests := []struct {
		name, method, path, host, origin string
		status                           int
		field                            string
	}{
		{"a name that rebinds to loopback", "GET", "/_acmock/sessions", "evil.example:8080", "", 403, "Host"},
		{"the same, on the console", "GET", "/_acmock/ui/", "evil.example", "", 403, "Host"},
		{"the same, on the event stream", "GET", "/_acmock/events", "evil.example", "", 403, "Host"},
		{"an address that is not the emulator's", "GET", "/_acmock/clock", "10.1.2.3:8080", "", 403, "Host"},
		{"the address it listens on", "GET", "/_acmock/clock", self, "", 200, ""},
		{"localhost", "GET", "/_acmock/clock", "localhost:1234", "", 200, ""},
		{"localhost with a final dot, in capitals", "GET", "/_acmock/clock", "LOCALHOST.:1", "", 200, ""},
		{"a name under .localhost", "GET", "/_acmock/clock", "console.localhost", "", 200, ""},
		{"another loopback address", "GET", "/_acmock/clock", "127.9.9.9", "", 200, ""},
		{"IPv6 loopback", "GET", "/_acmock/clock", "[::1]:8080", "", 200, ""},
		{"the --public-url host", "GET", "/_acmock/clock", "acmock.internal:8080", "", 200, ""},
		{"health stays open", "GET", "/_acmock/health", "evil.example", "", 200, ""},
		{"the Activeconnect API is signed, not host-bound", "GET", "/management/has_registered_mobile_device/" + demoApp + "/alice", "evil.example", "", 401, "Authentication"},
		{"a POST from another site", "POST", "/_acmock/reset", self, "http://evil.example", 403, "Origin"},
		{"a POST from another port of the same machine", "POST", "/_acmock/reset", self, "http://127.0.0.1:1", 403, "Origin"},
		{"a POST from an opaque origin", "POST", "/_acmock/reset", self, "null", 403, "Origin"},
		{"a POST from the page itself", "POST", "/_acmock/reset", self, "http://" + self, 200, ""},
		{"a POST from the public URL", "POST", "/_acmock/reset", self, "http://acmock.internal:8080", 200, ""},
		{"a POST without Origin (curl, tests, the CLI)", "POST", "/_acmock/reset", self, "", 200, ""},
		{"a read from another site (the browser keeps the answer from it)", "GET", "/_acmock/clock", self, "http://evil.example", 200, ""},
		{"a foreign Host is refused before the Origin is looked at", "POST", "/_acmock/reset", "evil.example", "http://evil.example", 403, "Host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "POST" {
				body = "{}"
			}
			r := e.do(tt.method, tt.path, "", "", body, func(r *http.Request) {
				r.Host = tt.host
				if tt.origin != "" {
					r.Header.Set("Origin", tt.origin)
				}
			})
			if r.status != tt.status || (tt.field != "" && r.str("field") != tt.field) {
				t.Fatalf("%s %s with Host %q, Origin %q: %d %s, want %d naming %s", tt.method, tt.path, tt.host, tt.origin, r.status, r.raw, tt.status, tt.field)
			}
			if tt.status == 403 {
				want := map[string]string{"Host": "foreign_host", "Origin": "foreign_origin"}[tt.field]
				expectError(t, r, 403, want, tt.field)
			}
		})
	}
}

func TestARegistrationLinkOpensWhateverHostItWasHandedWith(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	link := e.app(http.MethodGet, userPath("/management/device_registration_link", "carol"), nil).str("register_url")
	if link == "" {
		t.Fatal("no registration link")
	}
	r := e.do(http.MethodGet, link, "", "", nil, func(r *http.Request) {
		r.Host = "acmock:8080" // a container name the client used
		r.Header.Set("Accept", "application/json")
	})
	if r.status != 200 || r.str("user_id") != "carol" {
		t.Fatalf("opening the link: %d %s", r.status, r.raw)
	}
}
