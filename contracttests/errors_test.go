package contracttests

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/acmock/acmock/generated/acapi"
)

// operationCall describes how to call one operation of the spec in the error tests.
type operationCall struct {
	id     string
	method string
	// path gives the URL path for an application, user and session.
	path func(app, user, token string) string
	body string // a valid body, "" for none
}

func operationCalls() []operationCall {
	userPath := func(prefix string) func(app, user, _ string) string {
		return func(app, user, _ string) string {
			return prefix + "/" + url.PathEscape(app) + "/" + url.QueryEscape(user)
		}
	}
	return []operationCall{
		{"addUsers", http.MethodPost, func(app, _, _ string) string { return "/management/add_users/" + url.PathEscape(app) }, `{"users": ["ct-nobody"]}`},
		{"deleteUsers", http.MethodPost, func(app, _, _ string) string { return "/management/delete_users/" + url.PathEscape(app) }, `{"users": ["ct-nobody"]}`},
		{"getDeviceRegistrationLink", http.MethodGet, userPath("/management/device_registration_link"), ""},
		{"sendRegistrationSms", http.MethodPost, userPath("/management/send_registration_sms"), `{"phone_number": "+15555550100"}`},
		{"hasRegisteredMobileDevice", http.MethodGet, userPath("/management/has_registered_mobile_device"), ""},
		{"lostUserMobileDevice", http.MethodGet, userPath("/management/lost_user_mobile_device"), ""},
		{"authenticateUser", http.MethodPost, userPath("/authentication/authenticate_user"), `{}`},
		{"getSessionStatus", http.MethodGet, func(_, _, token string) string { return "/authentication/session_status/" + url.PathEscape(token) }, ""},
		{"logout", http.MethodPost, func(_, _, token string) string { return "/authentication/logout/" + url.PathEscape(token) }, ""},
	}
}

func (o operationCall) sessionScoped() bool {
	return o.id == "getSessionStatus" || o.id == "logout"
}

// TestEveryOperationIsCovered keeps operationCalls in step with the spec.
func TestEveryOperationIsCovered(t *testing.T) {
	t.Parallel()
	ops, err := Operations()
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]bool{}
	for _, c := range operationCalls() {
		calls[c.id] = true
		if ops[c.id] == nil {
			t.Errorf("operationCalls has %s, which api/openapi.yaml does not", c.id)
		}
	}
	for op := range ops {
		if !calls[op] {
			t.Errorf("api/openapi.yaml has %s, which operationCalls does not call", op)
		}
	}
}

// TestBadRequests sends requests that break the spec, one way each, and expects a 400
// invalid_request naming the field at fault.
func TestBadRequests(t *testing.T) {
	tg := newTarget(t)
	user := tg.user("bad")
	tg.addUsers(t, user)
	add := tg.appURL("/management/add_users")
	sms := tg.userURL("/management/send_registration_sms", user)
	auth := tg.userURL("/authentication/authenticate_user", user)
	long := strings.Repeat("x", 257)
	many := `{"users": [` + strings.TrimSuffix(strings.Repeat(`"u",`, 1001), ",") + `]}`
	tests := []struct {
		name        string
		method      string
		url         string
		body        string
		noBody      bool
		contentType string
		field       string // the error's field: exact, or a prefix when it ends with "."
	}{
		{name: "addUsers without users", method: http.MethodPost, url: add, body: `{}`, field: "users"},
		{name: "addUsers with no user", method: http.MethodPost, url: add, body: `{"users": []}`, field: "users"},
		{name: "addUsers with users not a list", method: http.MethodPost, url: add, body: `{"users": "alice"}`, field: "users"},
		{name: "addUsers with an empty user ID", method: http.MethodPost, url: add, body: `{"users": [""]}`, field: "users."},
		{name: "addUsers with a user ID of 257 characters", method: http.MethodPost, url: add, body: `{"users": ["` + long + `"]}`, field: "users."},
		{name: "addUsers with 1001 users", method: http.MethodPost, url: add, body: many, field: "users"},
		{name: "addUsers with a user ID that is a number", method: http.MethodPost, url: add, body: `{"users": [42]}`, field: "users."},
		{name: "addUsers with broken JSON", method: http.MethodPost, url: add, body: `{"users": [`, field: "body"},
		{name: "addUsers without a body", method: http.MethodPost, url: add, noBody: true, contentType: "application/json"},
		{name: "addUsers with a form body", method: http.MethodPost, url: add, body: `users=alice`, contentType: "application/x-www-form-urlencoded"},
		{name: "deleteUsers without users", method: http.MethodPost, url: tg.appURL("/management/delete_users"), body: `{"user": ["alice"]}`, field: "users"},
		{name: "sendRegistrationSms without a phone number", method: http.MethodPost, url: sms, body: `{"message": "hi"}`, field: "phone_number"},
		{name: "sendRegistrationSms with a number that is not a string", method: http.MethodPost, url: sms, body: `{"phone_number": 15555550100}`, field: "phone_number"},
		{name: "sendRegistrationSms with a message of 1001 characters", method: http.MethodPost, url: sms, body: `{"phone_number": "+15555550100", "message": "` + strings.Repeat("m", 1001) + `"}`, field: "message"},
		{name: "sendRegistrationSms with a display name of 257 characters", method: http.MethodPost, url: sms, body: `{"phone_number": "+15555550100", "display_name": "` + long + `"}`, field: "display_name"},
		{name: "getDeviceRegistrationLink with a display name of 257 characters", method: http.MethodGet, url: tg.userURL("/management/device_registration_link", user) + "?display_name=" + long, noBody: true, field: "display_name"},
		{name: "authenticateUser with an unknown method", method: http.MethodPost, url: auth + "?methods=telepathy", body: `{}`, field: "methods"},
		{name: "authenticateUser with an empty method in the list", method: http.MethodPost, url: auth + "?methods=acceptance,,facial", body: `{}`, field: "methods"},
		{name: "authenticateUser with methods in capitals", method: http.MethodPost, url: auth + "?methods=ACCEPTANCE", body: `{}`, field: "methods"},
		{name: "authenticateUser with a body that is not an object", method: http.MethodPost, url: auth, body: `["acceptance"]`, field: "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			c := call{method: tc.method, url: tc.url, signer: tg.signer(), contentType: tc.contentType, breaks: tc.name}
			if !tc.noBody {
				c.body = []byte(tc.body)
			}
			r := tg.do(t, c)
			field := tc.field
			if strings.HasSuffix(field, ".") {
				field = ""
			}
			expectError(t, r, http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, field)
			if tc.field != "" && field == "" && (r.err.Field == nil || !strings.HasPrefix(*r.err.Field, tc.field)) {
				t.Errorf("want the field to start with %q, got %v: %s", tc.field, r.err.Field, r)
			}
		})
	}
}

// TestBodiesReadOneWay sends requests that a JSON Schema validator such as kin-openapi takes as
// valid but that a decoder would read otherwise (a key differing only in case, a repeated key, data
// after the value under a content type in capitals, text that is not UTF-8): the spec's rules
// (Errors, in api/openapi.yaml) refuse each with a 400 naming the field, so that the body a server
// acts on is the one it validated. Nothing is created.
func TestBodiesReadOneWay(t *testing.T) {
	tg := newTarget(t)
	user := tg.user("oneway")
	tg.addUsers(t, user)
	add := tg.appURL("/management/add_users")
	sms := tg.userURL("/management/send_registration_sms", user)
	tests := []struct {
		name, method, url, body, contentType, field string
		noBody                                      bool
	}{
		{name: "addUsers with a key that differs from users in case", method: http.MethodPost, url: add, body: `{"users": ["ct-ok"], "Users": [""]}`, field: "Users"},
		{name: "addUsers with users given twice", method: http.MethodPost, url: add, body: `{"users": ["ct-first"], "users": ["ct-ok"]}`, field: "users"},
		{name: "addUsers with data after the body and the content type in capitals", method: http.MethodPost, url: add, body: `{"users": ["ct-trail"]} garbage`, contentType: "APPLICATION/JSON", field: "body"},
		{name: "addUsers with a user ID that is not UTF-8", method: http.MethodPost, url: add, body: "{\"users\": [\"ct-\xff\"]}", field: "users.0"},
		{name: "addUsers with a user ID holding half a surrogate pair", method: http.MethodPost, url: add, body: `{"users": ["ct-\ud800"]}`, field: "users.0"},
		{name: "sendRegistrationSms with a key that differs from phone_number in case", method: http.MethodPost, url: sms, body: `{"phone_number": "+15555550100", "Phone_Number": "x"}`, field: "Phone_Number"},
		{name: "hasRegisteredMobileDevice for a user ID that is not UTF-8", method: http.MethodGet, url: tg.appURL("/management/has_registered_mobile_device") + "/%FF", noBody: true, field: "user_id"},
		{name: "lostUserMobileDevice for a user ID that is not UTF-8", method: http.MethodGet, url: tg.appURL("/management/lost_user_mobile_device") + "/%C3%28", noBody: true, field: "user_id"},
		{name: "getSessionStatus for a token that is not UTF-8", method: http.MethodGet, url: tg.baseURL + "/authentication/session_status/%FF", noBody: true, field: "session_token"},
		{name: "logout for a token that is not UTF-8", method: http.MethodPost, url: tg.baseURL + "/authentication/logout/%FF", noBody: true, contentType: "application/json", field: "session_token"},
		{name: "getDeviceRegistrationLink with a display name that is not UTF-8", method: http.MethodGet, url: tg.userURL("/management/device_registration_link", user) + "?display_name=%FF", noBody: true, field: "display_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			c := call{method: tc.method, url: tc.url, signer: tg.signer(), contentType: tc.contentType}
			if !tc.noBody {
				c.body = []byte(tc.body)
			}
			expectError(t, tg.do(t, c), http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, tc.field)
		})
	}
	for _, id := range []string{"ct-ok", "ct-trail"} {
		res, err := tg.api.HasRegisteredMobileDeviceWithResponse(context.Background(), tg.appID, id)
		if err != nil || res.StatusCode() != http.StatusNotFound {
			t.Errorf("user %s exists after refused requests: %v %s", id, err, res.Body)
		}
	}
}

// TestUnknownApplication calls every application-scoped operation for an application that does not
// exist: 404 unknown_application, before any signature check.
func TestUnknownApplication(t *testing.T) {
	tg := newTarget(t)
	const unknownApp = "0123456789abcdef0123456789abcdef"
	for _, op := range operationCalls() {
		if op.sessionScoped() {
			continue
		}
		t.Run(op.id, func(t *testing.T) {
			tg.parallel(t)
			c := call{method: op.method, url: tg.baseURL + op.path(unknownApp, "alice", ""), signer: newSigner(unknownApp, tg.appSecret)}
			if op.body != "" {
				c.body = []byte(op.body)
			}
			expectError(t, tg.do(t, c), http.StatusNotFound, acapi.ErrorCodeUnknownApplication, "application_id")
		})
	}
}

// TestUnknownUser calls every user-scoped operation for a user the application never added: 404
// unknown_user, except authenticate, which answers 200 with reason UNKNOWN_USER (acmock's choice).
func TestUnknownUser(t *testing.T) {
	tg := newTarget(t)
	nobody := tg.user("nobody")
	for _, op := range operationCalls() {
		if !strings.Contains(op.path("app", "USER", "TOKEN"), "USER") {
			continue
		}
		t.Run(op.id, func(t *testing.T) {
			tg.parallel(t)
			c := call{method: op.method, url: tg.baseURL + op.path(tg.appID, nobody, ""), signer: tg.signer()}
			if op.body != "" {
				c.body = []byte(op.body)
			}
			r := tg.do(t, c)
			if op.id == "authenticateUser" {
				if r.status != http.StatusOK || !strings.Contains(string(r.raw), `"UNKNOWN_USER"`) || !strings.Contains(string(r.raw), `"authenticated":false`) {
					t.Fatalf("want 200 authenticated false with reason UNKNOWN_USER, got %s", r)
				}
				return
			}
			expectError(t, r, http.StatusNotFound, acapi.ErrorCodeUnknownUser, "user_id")
		})
	}
}

// TestUnknownSession polls and closes a session that does not exist: 404 unknown_session.
func TestUnknownSession(t *testing.T) {
	tg := newTarget(t)
	const token, secret = "00000000000000000000000000000000", "SESSIONSECRET0000000000000000000"
	for _, op := range operationCalls() {
		if !op.sessionScoped() {
			continue
		}
		t.Run(op.id, func(t *testing.T) {
			tg.parallel(t)
			r := tg.do(t, call{method: op.method, url: tg.baseURL + op.path("", "", token), signer: newSigner(token, secret), contentType: "application/json"})
			expectError(t, r, http.StatusNotFound, acapi.ErrorCodeUnknownSession, "session_token")
		})
	}
}

// TestUnknownEndpoint asks for paths the spec does not have: 404 not_found, still as the spec's
// Error.
func TestUnknownEndpoint(t *testing.T) {
	tg := newTarget(t)
	tests := []struct{ name, method, path string }{
		{"unknown operation", http.MethodGet, "/management/list_users/" + tg.appID},
		{"user segment missing", http.MethodGet, "/management/has_registered_mobile_device/" + tg.appID},
		{"extra segment", http.MethodGet, "/management/has_registered_mobile_device/" + tg.appID + "/alice/phone"},
		{"root", http.MethodGet, "/management"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			r := tg.do(t, call{method: tc.method, url: tg.baseURL + tc.path, signer: tg.signer(), breaks: "the spec has no such path"})
			expectError(t, r, http.StatusNotFound, acapi.ErrorCodeNotFound, "")
		})
	}
}

// TestMethodNotAllowed calls every operation's path with a method it does not have: 405
// method_not_allowed, with an Allow header naming the right one.
func TestMethodNotAllowed(t *testing.T) {
	tg := newTarget(t)
	for _, op := range operationCalls() {
		wrong := []string{http.MethodGet, http.MethodPut, http.MethodDelete}
		if op.method == http.MethodGet {
			wrong = []string{http.MethodPost, http.MethodPatch}
		}
		for _, method := range wrong {
			t.Run(op.id+" "+method, func(t *testing.T) {
				tg.parallel(t)
				r := tg.do(t, call{method: method, url: tg.baseURL + op.path(tg.appID, "alice", "tok"), signer: tg.signer(),
					breaks: op.id + " has no " + method})
				expectError(t, r, http.StatusMethodNotAllowed, acapi.ErrorCodeMethodNotAllowed, "")
				if allow := r.header.Get("Allow"); allow != op.method {
					t.Errorf("Allow: %q, want %q", allow, op.method)
				}
			})
		}
	}
}

// TestDeviceAlreadyRegistered texts a registration link to a user who already has a phone: 409.
func TestDeviceAlreadyRegistered(t *testing.T) {
	tg := newTarget(t, acmockTo("register a phone by opening its link, and keep SMS in an outbox"))
	user := tg.user("has-phone")
	tg.addUsers(t, user)
	tg.registerPhone(t, user)
	res, err := tg.api.SendRegistrationSmsWithResponse(context.Background(), tg.appID, user, acapi.SendRegistrationSmsRequest{PhoneNumber: "+15555550100"})
	if err != nil || res.JSON409 == nil {
		t.Fatalf("want 409: %v %v", err, res)
	}
	if res.JSON409.Code != acapi.ErrorCodeDeviceAlreadyRegistered || res.JSON409.Field == nil || *res.JSON409.Field != "user_id" {
		t.Fatalf("want code device_already_registered on user_id: %s", res.Body)
	}
}

// TestBodyTooLarge sends every operation a body over 1 MiB, the emulator's default limit, which
// it applies on every endpoint: 413 body_too_large, before anything else is looked at. The bodies
// would change nothing if a server accepted them (an empty user list, no phone number, an unknown
// user or session).
func TestBodyTooLarge(t *testing.T) {
	tg := newTarget(t)
	pad := strings.Repeat("p", 1<<20)
	nobody := tg.user("nobody")
	const token, secret = "00000000000000000000000000000000", "SESSIONSECRET0000000000000000000"
	for _, op := range operationCalls() {
		t.Run(op.id, func(t *testing.T) {
			tg.parallel(t)
			c := call{method: op.method, url: tg.baseURL + op.path(tg.appID, nobody, token), signer: tg.signer(),
				body: []byte(`{"pad": "` + pad + `"}`)}
			switch op.id {
			case "addUsers", "deleteUsers":
				c.body, c.breaks = []byte(`{"users": [], "pad": "`+pad+`"}`), "an empty user list"
			case "sendRegistrationSms":
				c.breaks = "no phone number"
			case "getSessionStatus", "logout":
				c.signer = newSigner(token, secret)
			}
			expectError(t, tg.do(t, c), http.StatusRequestEntityTooLarge, acapi.ErrorCodeBodyTooLarge, "")
		})
	}
}

// faultScenario injects, per operation, a 429 with Retry-After on the first call and a 5xx on the
// second (for addUsers also the real service's 200 failure shape on the third); the calls after
// those are served. Filters keep the faults off the calls that set the test up.
const faultScenario = `users:
      - id: fault-user
      - id: fault-auth
        phone: true
        login: []
      - id: fault-session
        phone: true
        login: []
faults:
  - {operation: addUsers, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: addUsers, call: 2, respond: {status: 503}}
  - {operation: addUsers, call: 3, respond: {status: 200, body: '{"status": false, "reason": "user limit reached"}'}}
  - {operation: deleteUsers, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: deleteUsers, call: 2, respond: {status: 500}}
  - {operation: getDeviceRegistrationLink, user: fault-user, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: getDeviceRegistrationLink, user: fault-user, call: 2, respond: {status: 502}}
  - {operation: sendRegistrationSms, user: fault-user, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: sendRegistrationSms, user: fault-user, call: 2, respond: {status: 504}}
  - {operation: hasRegisteredMobileDevice, user: fault-user, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: hasRegisteredMobileDevice, user: fault-user, call: 2, respond: {status: 500}}
  - {operation: lostUserMobileDevice, user: fault-user, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: lostUserMobileDevice, user: fault-user, call: 2, respond: {status: 503}}
  - {operation: authenticateUser, user: fault-auth, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: authenticateUser, user: fault-auth, call: 2, respond: {status: 503}}
  - {operation: getSessionStatus, user: fault-session, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: getSessionStatus, user: fault-session, call: 2, respond: {status: 500}}
  - {operation: logout, user: fault-session, call: 1, respond: {status: 429, headers: {Retry-After: "7"}}}
  - {operation: logout, user: fault-session, call: 2, respond: {status: 502}}
`

// TestInjectedFaults loads faultScenario through the control API (PUT /_acmock/scenario) and
// checks that every operation's injected 429 and 5xx answers are the ones the spec documents,
// Retry-After included, and that the generated client reads them.
func TestInjectedFaults(t *testing.T) {
	tg := newTarget(t, exclusiveTo("load a scenario with faults"))
	tg.loadScenario(t, tg.appScenario("contract-faults", "    "+faultScenario, ""))
	// The generated client first, on its own: the table below runs in parallel afterwards.
	t.Run("generated client reads the injected answers", func(t *testing.T) {
		ctx := context.Background()
		first, err := tg.api.AddUsersWithResponse(ctx, tg.appID, acapi.UsersRequest{Users: []string{"x"}})
		if err != nil || first.JSON429 == nil || first.Headers429 == nil || first.Headers429.RetryAfter == nil || *first.Headers429.RetryAfter != 7 {
			t.Fatalf("want 429 with Retry-After 7 parsed: %v %+v", err, first)
		}
		second, err := tg.api.AddUsersWithResponse(ctx, tg.appID, acapi.UsersRequest{Users: []string{"x"}})
		if err != nil || second.JSON5XX == nil || second.JSON5XX.Code != acapi.ErrorCodeInjectedFault {
			t.Fatalf("want a 5xx injected_fault: %v %+v", err, second)
		}
		third, err := tg.api.AddUsersWithResponse(ctx, tg.appID, acapi.UsersRequest{Users: []string{"x"}})
		if err != nil || third.JSON200 == nil || third.JSON200.Status || third.JSON200.Reason != "user limit reached" {
			t.Fatalf("want the real service's 200 failure shape: %v %+v", err, third)
		}
		fourth, err := tg.api.AddUsersWithResponse(ctx, tg.appID, acapi.UsersRequest{Users: []string{"x"}})
		if err != nil || fourth.JSON201 == nil {
			t.Fatalf("after its faults addUsers is served: %v %+v", err, fourth)
		}
	})
	if err := tg.reset(); err != nil { // restarts the fault counters
		t.Fatal(err)
	}
	sess := tg.authenticate(t, "fault-session")
	for _, op := range operationCalls() {
		t.Run(op.id, func(t *testing.T) {
			tg.parallel(t)
			user := "fault-user"
			if op.id == "authenticateUser" {
				user = "fault-auth"
			}
			c := call{method: op.method, url: tg.baseURL + op.path(tg.appID, user, sess.token), signer: tg.signer()}
			if op.sessionScoped() {
				c.url, c.signer, c.contentType = sess.statusURL, sess.signer(), "application/json"
				if op.id == "logout" {
					c.url = sess.logoutURL
				}
			}
			want := []int{429, 0, 200} // 0: the injected 5xx
			switch op.id {
			case "addUsers":
				want = []int{429, 0, 200, 201}
			case "authenticateUser":
				want = []int{429, 0, 202}
			}
			for i, status := range want {
				if op.body != "" {
					c.body = []byte(op.body)
				}
				r := tg.do(t, c)
				switch {
				case status == 429:
					expectError(t, r, 429, acapi.ErrorCodeRateLimited, "")
					if r.header.Get("Retry-After") != "7" {
						t.Errorf("call %d: Retry-After %q, want 7", i+1, r.header.Get("Retry-After"))
					}
				case status == 0:
					if r.status < 500 || r.status > 599 {
						t.Fatalf("call %d: want an injected 5xx, got %s", i+1, r)
					}
					expectError(t, r, r.status, acapi.ErrorCodeInjectedFault, "")
				case r.status != status:
					t.Fatalf("call %d: want %d, got %s", i+1, status, r)
				}
			}
		})
	}
}
