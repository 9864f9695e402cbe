package emulator_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/acmock/acmock/generated/acapispec"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
)

// TestSignatureIsCheckedBeforeTheBody: a caller that is not authenticated learns nothing about its
// body; an unknown application is still a 404.
func TestSignatureIsCheckedBeforeTheBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	add := "/management/add_users/" + demoApp
	unknown := "0123456789abcdef0123456789abcdef"
	for _, body := range []any{map[string]any{"users": []string{}}, `{"users": ["a"]} trailing`, map[string]any{"users": []string{"ok"}}} {
		expectError(t, e.do(http.MethodPost, add, demoApp, "WRONGSECRET", body), 401, "signature_mismatch", "Authentication")
		expectError(t, e.do(http.MethodPost, add, "", "", body), 401, "missing_header", "Authentication")
		expectError(t, e.do(http.MethodPost, "/management/add_users/"+unknown, unknown, "x", body), 404, "unknown_application", "application_id")
	}
	// Nor is a path parameter that does not decode: the wrong secret is a 401 whatever the path
	// holds, an application ID that cannot name an application is the 404 an unknown one gets.
	for _, user := range []string{"alice", "a%FF", "a+%C3"} {
		path := "/management/has_registered_mobile_device/" + demoApp + "/" + user
		expectError(t, e.do(http.MethodGet, path, demoApp, "WRONGSECRET", nil), 401, "signature_mismatch", "Authentication")
		expectError(t, e.do(http.MethodGet, path, "", "", nil), 401, "missing_header", "Authentication")
	}
	expectError(t, e.do(http.MethodGet, "/management/has_registered_mobile_device/%FE%FF/alice", demoApp, "WRONGSECRET", nil), 404, "unknown_application", "application_id")
	expectError(t, e.do(http.MethodGet, "/authentication/session_status/%FF", "", "", nil), 400, "invalid_request", "session_token")
	// A bad query parameter is not reported to an unsigned caller either.
	expectError(t, e.do(http.MethodPost, "/authentication/authenticate_user/"+demoApp+"/alice?methods=retina", "", "", map[string]any{}), 401, "missing_header", "Authentication")
	// Signed, the same bodies get the 400 that names the field.
	expectError(t, e.app(http.MethodPost, add, map[string]any{"users": []string{}}), 400, "invalid_request", "users")
	if users, _ := e.emu.Store().Users(demoApp); len(users) != 3 {
		t.Fatalf("rejected requests changed the users: %d", len(users))
	}
}

// TestBodyIsExactlyWhatWasValidated sends bodies that encoding/json reads differently from the
// spec validation (keys differing in case, repeated keys, data after the value, invalid UTF-8):
// each is refused with a 400 that names the field, and nothing is stored.
func TestBodyIsExactlyWhatWasValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // responses are validated too: a mismatch would be a 500
	add := "/management/add_users/" + demoApp
	sms := userPath("/management/send_registration_sms", "carol")
	long := strings.Repeat("x", 100_000)
	tests := []struct {
		name  string
		path  string
		ctype string
		body  string
		field string
	}{
		{"a key differing in case after the real one", add, "", `{"users":["ok"],"Users":[""]}`, "Users"},
		{"a key in capitals only", add, "", `{"USERS":["` + long + `"]}`, "USERS"},
		{"a key that folds to users", add, "", `{"users":["ok"],"userſ":[""]}`, "userſ"},
		{"a case variant of phone_number", sms, "", `{"phone_number":"+15555550100","Phone_number":"not-a-phone"}`, "Phone_number"},
		{"a repeated key", add, "", `{"users":["ok"],"users":[""]}`, "users"},
		{"a key repeated after many others", add, "", `{"users":["ok"],` + manyKeys(40) + `,"k17":0}`, "k17"},
		{"a key repeated among the first ones", add, "", `{"users":["ok"],` + manyKeys(5) + `,"k3":0}`, "k3"},
		{"data after the value with a capitalised content type", add, "APPLICATION/JSON", `{"users":["trail"]} garbage`, "body"},
		{"data after the value with parameters", add, "Application/Json; charset=utf-8", `{"users":["trail"]} garbage`, "body"},
		{"invalid UTF-8 in a user ID", add, "", "{\"users\":[\"ok\",\"\xff\"]}", "users.1"},
		{"a lone surrogate in a user ID", add, "", `{"users":["\ud800"]}`, "users.0"},
		{"a low surrogate alone", add, "", `{"users":["a\udc00b"]}`, "users.0"},
		{"invalid UTF-8 in a key", add, "", "{\"users\":[\"ok\"],\"\xfe\":1}", "body"},
		{"invalid UTF-8 in a nested key", add, "", "{\"users\":[{\"\xfe\":1}]}", "users.0"},
		{"invalid UTF-8 in the SMS message", sms, "", "{\"phone_number\":\"+15555550100\",\"message\":\"caf\xe9\"}", "message"},
		{"no content type", add, "-", `{"users":["ok"]}`, "Content-Type"},
		{"curl's default form type on the API", add, "application/x-www-form-urlencoded", `{"users":["ok"]}`, "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(http.MethodPost, tt.path, demoApp, demoSecret, tt.body, func(req *http.Request) {
				switch tt.ctype {
				case "":
				case "-":
					req.Header.Del("Content-Type")
				default:
					req.Header.Set("Content-Type", tt.ctype)
				}
			})
			expectError(t, r, 400, "invalid_request", tt.field)
			if tt.field == "Content-Type" && tt.ctype != "-" && !strings.Contains(r.str("message"), "curl -d") {
				t.Errorf("the message should say what curl -d sends: %s", r.raw)
			}
		})
	}
	if users, _ := e.emu.Store().Users(demoApp); len(users) != 3 {
		t.Errorf("rejected bodies created users: %d", len(users))
	}
	if out := e.emu.Store().Outbox(); len(out) != 0 {
		t.Errorf("rejected bodies reached the outbox: %+v", out)
	}

	// What is valid stays valid: a surrogate pair, escapes, non-ASCII text and unknown keys that
	// match no property, even one holding a number no float holds (it is not decoded).
	r := e.app(http.MethodPost, add, `{"users":["\ud83d\ude00","caf\u00e9","ünï","a\"b\\c\/"],"note":"ignored","big":{"n":[1,-1e400]},`+manyKeys(40)+`}`)
	if r.status != http.StatusCreated {
		t.Fatalf("valid body: %d %s", r.status, r.raw)
	}
	for _, id := range []string{"😀", "café", "ünï", `a"b\c/`} {
		if _, err := e.emu.Store().User(demoApp, id); err != nil {
			t.Errorf("user %q was not created: %v", id, err)
		}
	}
}

// TestNumberOutOfRangeIsNamed: an authenticate body decodes every value it holds, so a number no
// 64-bit float holds is refused with the 400 naming its path, not with the decoder's text.
func TestNumberOutOfRangeIsNamed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for body, field := range map[string]string{
		`{"a":1e400}`: "a",
		`{"x":[1,{"y":2}], "a" : {"b":[1 , -1e400 ]}}`: "a.b.1",
		`{"a":[2e999,3e999]}`:                          "a.0",
	} {
		r := e.app(http.MethodPost, "/authentication/authenticate_user/"+demoApp+"/alice", body)
		expectError(t, r, 400, "invalid_request", field)
		if msg := r.str("message"); !strings.Contains(msg, "out of range") || !strings.Contains(msg, "64-bit float") {
			t.Errorf("%s: message %q", body, msg)
		}
	}
	if r := e.app(http.MethodPost, "/authentication/authenticate_user/"+demoApp+"/alice", `{"a":1e300}`); r.status != http.StatusAccepted {
		t.Errorf("a number a float holds: %d %s", r.status, r.raw)
	}
}

// TestPathAndQueryMustBeUTF8: a path ID or query value that is not UTF-8 once decoded would
// become the same user or name as other inputs; it is refused, naming the parameter.
func TestPathAndQueryMustBeUTF8(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, method, path, field string
	}{
		{"user ID", http.MethodGet, "/management/has_registered_mobile_device/" + demoApp + "/%FF", "user_id"},
		{"user ID with a plus", http.MethodGet, "/management/has_registered_mobile_device/" + demoApp + "/a+%C3", "user_id"},
		{"display name", http.MethodGet, userPath("/management/device_registration_link", "alice") + "?display_name=%FF", "display_name"},
		{"display name badly escaped", http.MethodGet, userPath("/management/device_registration_link", "alice") + "?display_name=%zz", "display_name"},
		{"a semicolon in the query", http.MethodGet, userPath("/management/device_registration_link", "alice") + "?display_name=a;b", "display_name"},
		{"a semicolon before the parameter", http.MethodGet, userPath("/management/device_registration_link", "alice") + "?x=1;display_name=b", "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, e.app(tt.method, tt.path, nil), 400, "invalid_request", tt.field)
		})
	}
	u, _ := e.emu.Store().User(demoApp, "alice")
	if len(u.Links) != 0 {
		t.Errorf("rejected requests made links: %+v", u.Links)
	}
	// The control API refuses them too.
	expectError(t, e.do(http.MethodPost, "/_acmock/applications/%FF/reset", "", "", nil), 400, "invalid_request", "application_id")
	expectError(t, e.do(http.MethodGet, "/_acmock/sessions?user=%FF", "", "", nil), 400, "invalid_request", "user")
}

// TestControlBodies: the control API holds its bodies to the same rules, and takes a JSON body
// that curl -d sent with its default form content type.
func TestControlBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("x", 5000)
	expectError(t, e.do(http.MethodPost, "/_acmock/applications", "", "", `{"id":"short","ID":"`+long+`"}`), 400, "invalid_request", "ID")
	expectError(t, e.do(http.MethodPost, "/_acmock/applications", "", "", `{"id":"a"} {"id":"b"}`,
		func(r *http.Request) { r.Header.Set("Content-Type", "Application/JSON") }), 400, "invalid_request", "body")
	if apps := e.emu.Store().Applications(); len(apps) != 1 {
		t.Fatalf("rejected bodies created applications: %+v", apps)
	}

	form := func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }
	r := e.do(http.MethodPost, "/_acmock/clock/advance", "", "", `{"duration":"90s"}`, form)
	if r.status != 200 || r.field("fired") == nil {
		t.Fatalf("curl -d with a JSON body: %d %s", r.status, r.raw)
	}
	r = e.do(http.MethodPost, "/_acmock/clock/advance", "", "", `duration=90s`, form)
	expectError(t, r, 400, "invalid_request", "Content-Type")
	if !strings.Contains(r.str("message"), "Content-Type: application/json") {
		t.Errorf("the hint should name the header to send: %s", r.raw)
	}
}

// TestAuthOffStillValidates: with signatures off, the checks on the body still apply.
func TestAuthOffStillValidates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.AuthOff = true })
	expectError(t, e.do(http.MethodPost, "/management/add_users/"+demoApp, "", "", `{"users":["ok"],"Users":[""]}`), 400, "invalid_request", "Users")
}

// TestMissingSignatureSaysWhatToDo: an unsigned request learns where signing is described and
// that --auth off accepts it; one that sent Authorization learns the header's real name.
func TestMissingSignatureSaysWhatToDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := userPath("/management/has_registered_mobile_device", "alice")
	r := e.do(http.MethodGet, path, "", "", nil)
	expectError(t, r, 401, "missing_header", "Authentication")
	for _, want := range []string{"api/openapi.yaml", "Signing requests", "--auth off"} {
		if !strings.Contains(r.str("message"), want) {
			t.Errorf("message lacks %q: %s", want, r.raw)
		}
	}
	if strings.Contains(r.str("message"), "Authorization") {
		t.Errorf("no Authorization header was sent, yet the message names it: %s", r.raw)
	}
	r = e.do(http.MethodGet, path, "", "", nil, func(req *http.Request) { req.Header.Set("Authorization", "hmac x:1:y") })
	expectError(t, r, 401, "missing_header", "Authentication")
	if !strings.Contains(r.str("message"), "header is called Authentication") {
		t.Errorf("the message should say the header is called Authentication: %s", r.raw)
	}
}

// TestRejectionsBeforeTheRouter sends requests that net/http refuses before any handler runs:
// they get the JSON error body every other rejection has, naming what was wrong, and appear in
// the journal.
func TestRejectionsBeforeTheRouter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("a", 70<<10)
	tests := []struct {
		name, request string
		status        int
		code, field   string
		message       string
	}{
		{"invalid percent escape in the path", "GET /management/has_registered_mobile_device/" + demoApp + "/bad%zz HTTP/1.1\r\nHost: x\r\n\r\n",
			400, "invalid_request", "path", `"/management/has_registered_mobile_device/` + demoApp + `/bad%zz" is not validly percent-encoded`},
		{"a lone percent sign", "GET /management/has_registered_mobile_device/" + demoApp + "/100% HTTP/1.1\r\nHost: x\r\n\r\n",
			400, "invalid_request", "path", "sent as %25"},
		{"a URL over 64 KiB", "GET /management/has_registered_mobile_device/" + demoApp + "/" + long + " HTTP/1.1\r\nHost: x\r\n\r\n",
			414, "uri_too_long", "url", "64 KiB"},
		{"headers over 64 KiB", "GET /_acmock/health HTTP/1.1\r\nHost: x\r\nX-Big: " + long + "\r\n\r\n",
			431, "header_too_large", "", "64 KiB"},
		{"no Host header", "GET /_acmock/health HTTP/1.1\r\n\r\n", 400, "invalid_request", "Host", "missing required Host header"},
		{"not HTTP at all", "HELLO\r\n\r\n", 400, "invalid_request", "url", "must be METHOD TARGET VERSION"},
		{"a space in the target", "GET /_acmock/health now HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_request", "url", "is sent as %20"},
		{"an unknown HTTP version", "GET /_acmock/health HTTP/9.9\r\nHost: x\r\n\r\n", 505, "invalid_request", "", "asks for HTTP/9.9"},
		{"two Content-Length headers that disagree", "POST /management/add_users/" + demoApp + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
			400, "invalid_request", "Content-Length", "2 Content-Length headers that disagree (1 and 2)"},
		{"a Content-Length that is no number", "POST /management/add_users/" + demoApp + " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
			400, "invalid_request", "Content-Length", `not "abc"`},
		{"two Host headers", "GET /_acmock/health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, "invalid_request", "Host", "2 Host headers"},
		{"a NUL in a header value", "GET /_acmock/health HTTP/1.1\r\nHost: x\r\nX-Trace: a\x00b\r\n\r\n", 400, "invalid_request", "X-Trace", `control character '\x00' at byte 2`},
		{"a header line without a colon", "GET /_acmock/health HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400, "invalid_request", "", `"NoColon" has no colon`},
		{"an unknown transfer encoding", "POST /management/add_users/" + demoApp + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
			501, "invalid_request", "Transfer-Encoding", "not supported"},
	}
	spec, err := acapispec.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The spec's Errors section lists every status these answers can have.
			if !strings.Contains(spec.Info.Description, "`"+strconv.Itoa(tt.status)+"`") {
				t.Errorf("api/openapi.yaml's Errors section does not list %d", tt.status)
			}
			raw := e.raw(tt.request)
			res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
			if err != nil {
				t.Fatalf("not an HTTP answer: %v: %q", err, raw)
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			r := reply{status: res.StatusCode, header: res.Header, raw: string(data)}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q, want application/json: %q", ct, raw)
			}
			if err := json.Unmarshal(data, &r.body); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, data)
			}
			expectError(t, r, tt.status, tt.code, tt.field)
			if !strings.Contains(r.str("message"), tt.message) {
				t.Errorf("message %q lacks %q", r.str("message"), tt.message)
			}
		})
	}
	// A pipelined request after a good one is read as precisely as a first one.
	raw := e.raw("GET /_acmock/health HTTP/1.1\r\nHost: x\r\n\r\nGET /management/piped%zz HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.Contains(raw, `\"/management/piped%zz\" is not validly percent-encoded`) {
		t.Errorf("the pipelined request's answer does not name its path: %q", raw)
	}
	entries := e.emu.Journal().List(journal.Filter{})
	found := map[string]bool{}
	for _, en := range entries {
		if en.Message == "" {
			t.Errorf("journal entry %d (%d %s) has no message", en.Seq, en.Status, en.Error)
		}
		switch {
		case en.Status == 400 && en.Error == "invalid_request" && strings.HasSuffix(en.Path, "/bad%zz") && en.Method == "GET":
			found["bad%zz"] = true
		case en.Status == 414 && en.Method == "GET" && strings.HasPrefix(en.Path, "/management/has_registered_mobile_device/"+demoApp+"/aaa"):
			found["414"] = true
		case en.Status == 400 && en.Method == "GET" && en.Path == "/management/piped%zz":
			found["piped"] = true
		}
	}
	if len(found) != 3 {
		t.Errorf("the journal lacks refused requests (found %v): %+v", found, entries)
	}
	// Answers from handlers go through untouched, on the same kind of connection.
	if r := e.do(http.MethodGet, "/_acmock/health", "", "", nil); r.status != 200 || r.header.Get("Date") == "" {
		t.Fatalf("health through the wrapped listener: %d %v %s", r.status, r.header, r.raw)
	}
}

// manyKeys is "k0":0,"k1":0,... for n keys.
func manyKeys(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = `"k` + strconv.Itoa(i) + `":0`
	}
	return strings.Join(keys, ",")
}

// TestQuotedInputIsBounded: what an answer, its journal entry and the log quote of a client's
// input is bounded, however large the input: a 1 MB phone number is answered in well under 1 KB.
func TestQuotedInputIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	huge := "+" + strings.Repeat("1", 1_000_000)
	sms := userPath("/management/send_registration_sms", "carol")
	r := e.app(http.MethodPost, sms, map[string]any{"phone_number": huge})
	if r.status != http.StatusOK || r.field("status") != false || len(r.raw) > 1024 ||
		!strings.Contains(r.str("reason"), "…(1000001 bytes)") || !strings.Contains(r.str("reason"), "has 1000000 digits") {
		t.Fatalf("1 MB phone number: %d, %d bytes: %.300s", r.status, len(r.raw), r.raw)
	}
	key := strings.Repeat("k", 400_000)
	r = e.do(http.MethodPost, "/management/add_users/"+demoApp, demoApp, demoSecret, `{"users":["ok"],"`+key+`":1,"`+key+`":2}`)
	if r.status != http.StatusBadRequest || len(r.raw) > 1024 || !strings.Contains(r.str("message"), "…(400000 bytes)") {
		t.Fatalf("400 KB repeated key: %d, %d bytes: %.300s", r.status, len(r.raw), r.raw)
	}
	entries, err := e.emu.Requests(journal.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if b, _ := json.Marshal(en); len(b) > 2*journal.MaxText {
			t.Errorf("journal entry %d of %s is %d bytes", en.Seq, en.Operation, len(b))
		}
	}
}
