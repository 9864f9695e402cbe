package emulator_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
)

// longRun finds more than 128 bytes of the padding in a row: what api/openapi.yaml (Errors)
// promises no message or field quotes.
var longRun = regexp.MustCompile(`Q{129,}`)

// cutMark is what clip.Input puts after a cut quote: the length of the whole input.
var cutMark = regexp.MustCompile(`Q…\(6\d{4} bytes\)`)

// TestEveryErrorQuotesAtMost128Bytes sends 60 KB of text as every kind of client input the
// emulator names in an error (path parameters, query values, body fields, methods) to both APIs,
// and checks that each answer stays small, quotes at most 128 bytes of the input and says it was
// cut ("…(60000 bytes)", or the length of the whole path that held it).
func TestEveryErrorQuotesAtMost128Bytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.AuthOff = true })
	long := strings.Repeat("Q", 60_000)
	q := url.QueryEscape(long)
	token, _, _, _ := e.login("alice")
	cases := []struct {
		method, path string
		body         any
		status       int
		// cut is false for answers that do not quote the input at all.
		cut bool
	}{
		{"GET", "/authentication/session_status/" + long, nil, 404, true},
		{"POST", "/authentication/logout/" + long, nil, 404, true},
		{"GET", "/management/has_registered_mobile_device/" + long + "/alice", nil, 404, true},
		{"GET", "/management/has_registered_mobile_device/" + demoApp + "/" + long, nil, 404, true},
		{"POST", "/management/add_users/" + long, map[string]any{"users": []string{"x"}}, 404, true},
		{"POST", "/management/add_users/" + demoApp, map[string]any{"users": []string{long}}, 400, false},
		{"POST", "/authentication/authenticate_user/" + demoApp + "/alice?methods=" + q, map[string]any{}, 400, false},
		{"GET", "/management/device_registration_link/" + demoApp + "/carol?display_name=" + q, nil, 400, false},
		{"GET", "/no/such/endpoint/" + long, nil, 404, true},
		{"DELETE", "/management/add_users/" + demoApp + long, nil, 405, true},
		{long, "/management/add_users/" + demoApp, nil, 405, true},
		{"GET", "/_acmock/applications/" + long + "/credentials", nil, 404, true},
		{"POST", "/_acmock/applications/" + long + "/reset", nil, 404, true},
		{"POST", "/_acmock/applications/" + long + "/users/alice/lose-phone", nil, 404, true},
		{"POST", "/_acmock/applications/" + demoApp + "/users/" + long + "/lose-phone", nil, 404, true},
		{"GET", "/_acmock/users?application=" + q, nil, 404, true},
		{"GET", "/_acmock/users?limit=" + q, nil, 400, true},
		{"GET", "/_acmock/sessions?status=" + q, nil, 400, false},
		{"GET", "/_acmock/sessions?order=" + q, nil, 400, false},
		{"GET", "/_acmock/requests?operation=" + q, nil, 400, true},
		{"GET", "/_acmock/requests?min_count=1&timeout=" + q, nil, 400, true},
		{"GET", "/_acmock/register/" + long, nil, 404, true},
		{"POST", "/_acmock/sessions/" + long + "/status", map[string]any{"status": "active"}, 404, true},
		{"POST", "/_acmock/sessions/" + token + "/status", map[string]any{"status": long}, 400, false},
		{"POST", "/_acmock/users/" + long + "/status", map[string]any{"status": "active"}, 404, true},
		{"POST", "/_acmock/users/alice/status?application=" + q, map[string]any{"status": "active"}, 404, true},
		{"POST", "/_acmock/clock/advance", map[string]any{"duration": long}, 400, true},
		{"PUT", "/_acmock/wallclock", map[string]any{"shift": long}, 400, true},
		{"PUT", "/_acmock/wallclock", map[string]any{"max_skew": long}, 400, true},
		{"PUT", "/_acmock/scenario", "name: x\n" + long + ": 1\n", 400, true},
		{"POST", "/_acmock/scenario/validate", "name: x\napplications:\n  - {id: a, secret: s, users: [{id: u, phone: {methods: [" + long + "]}}]}\n", 400, true},
	}
	for _, c := range cases {
		name := c.method + " " + strings.ReplaceAll(c.path, long, "<60 KB>")
		name = strings.ReplaceAll(name, q, "<60 KB>")
		r := e.do(c.method, c.path, "", "", c.body, func(req *http.Request) {
			if s, ok := c.body.(string); ok && s != "" {
				req.Header.Set("Content-Type", "application/yaml")
			}
		})
		switch {
		case r.status != c.status:
			t.Errorf("%s: status %d, want %d: %.300s", name, r.status, c.status, r.raw)
		case len(r.raw) > 1500:
			t.Errorf("%s: a %d-byte answer: %.300s", name, len(r.raw), r.raw)
		case longRun.MatchString(r.raw):
			t.Errorf("%s: the answer quotes more than 128 bytes of the input: %.300s", name, r.raw)
		case c.cut && !cutMark.MatchString(r.raw):
			t.Errorf("%s: the answer does not say the input was cut: %.400s", name, r.raw)
		}
	}
}

// TestLogLinesQuoteAtMost2KiB: the request log line of a request with a 60 KB path (and user ID)
// holds at most 2,048 bytes of each, like the journal, instead of the whole path.
func TestLogLinesQuoteAtMost2KiB(t *testing.T) {
	t.Parallel()
	var log syncWriter
	e := newEnv(t, func(o *emulator.Options) { o.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	long := strings.Repeat("Q", 60_000)
	e.do(http.MethodGet, "/management/has_registered_mobile_device/"+demoApp+"/"+long, "", "", nil)
	e.do(http.MethodGet, "/no/such/"+long, "", "", nil)
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if len(line) > 8<<10 || strings.Contains(line, strings.Repeat("Q", journal.MaxText+1)) {
			t.Errorf("a %d-byte log line: %.300s", len(line), line)
		}
	}
}
