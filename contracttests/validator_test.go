package contracttests

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeServer answers every request with the given status, content type and body, the way a
// server drifting from the spec would.
func fakeServer(t *testing.T, status int, contentType, body string, header ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// collect returns a validating client whose violations are collected instead of failing the test.
// The client has a transport of its own: every parallel test's httptest.Server.Close closes the
// idle connections of http.DefaultTransport, and a connection that has just gone idle after an
// answer without a body (the redirect case) can be closed before its answer reaches the caller,
// who then gets "CloseIdleConnections called" instead of the answer.
func collect(t *testing.T) (*http.Client, func() []Violation) {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	var mu sync.Mutex
	var got []Violation
	v := &Validator{Base: base, Report: func(vi Violation) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, vi)
	}}
	client := &http.Client{Transport: v, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return client, func() []Violation {
		mu.Lock()
		defer mu.Unlock()
		return append([]Violation(nil), got...)
	}
}

// TestValidatorCatchesSpecViolations proves the validating transport is live: a server that
// answers a wrong field type, leaves out a required field, uses an undocumented status or content
// type, or an unknown enum value is reported with the operation, the status and the field; a
// correct answer is not.
func TestValidatorCatchesSpecViolations(t *testing.T) {
	t.Parallel()
	const device = "/management/has_registered_mobile_device/" + demoAppID + "/alice"
	const auth = "/authentication/authenticate_user/" + demoAppID + "/alice"
	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		body        string
		want        []string // substrings of the one violation; none when the answer is right
		header      []string // name, value, ...
	}{
		{name: "correct answer", method: http.MethodGet, path: device, status: 200, contentType: "application/json",
			body: `{"status": true, "device_registered": false}`},
		{name: "wrong field type", method: http.MethodGet, path: device, status: 200, contentType: "application/json",
			body: `{"status": true, "device_registered": "yes"}`,
			want: []string{"hasRegisteredMobileDevice", "response 200", "device_registered", "boolean"}},
		{name: "required field missing", method: http.MethodGet, path: device, status: 200, contentType: "application/json",
			body: `{"device_registered": true}`,
			want: []string{"hasRegisteredMobileDevice", "response 200", `"status"`}},
		{name: "undocumented status", method: http.MethodGet, path: device, status: 418, contentType: "application/json",
			body: `{"status": false, "code": "not_found", "message": "teapot"}`,
			want: []string{"hasRegisteredMobileDevice", "response 418", "status is not supported"}},
		{name: "wrong content type", method: http.MethodGet, path: device, status: 200, contentType: "text/plain",
			body: `status=true`,
			want: []string{"hasRegisteredMobileDevice", "response 200", "text/plain"}},
		{name: "unknown error code", method: http.MethodGet, path: device, status: 404, contentType: "application/json",
			body: `{"status": false, "code": "no_such_user", "message": "who?"}`,
			want: []string{"hasRegisteredMobileDevice", "response 404", "code"}},
		{name: "unknown session status", method: http.MethodPost, path: auth, status: 202, contentType: "application/json",
			body: `{"authentication_status": {"authenticated": true, "session_status": "approved"}}`,
			want: []string{"authenticateUser", "response 202", "session_status"}},
		{name: "429 without Retry-After", method: http.MethodGet, path: device, status: 429, contentType: "application/json",
			body: `{"status": false, "code": "rate_limited", "message": "slow down"}`}, // Retry-After is optional
		{name: "Retry-After not an integer", method: http.MethodGet, path: device, status: 429, contentType: "application/json",
			body: `{"status": false, "code": "rate_limited", "message": "slow down"}`, header: []string{"Retry-After", "soon"},
			want: []string{"hasRegisteredMobileDevice", "response 429", "Retry-After"}},
		{name: "undocumented redirect", method: http.MethodGet, path: device, status: 301, header: []string{"Location", "/elsewhere"},
			want: []string{"hasRegisteredMobileDevice", "response 301", "not documented", "/elsewhere"}},
		{name: "unknown path answered with a success", method: http.MethodGet, path: "/management/no_such_operation", status: 200,
			contentType: "application/json", body: `{}`,
			want: []string{"no operation", "response 200"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeServer(t, tc.status, tc.contentType, tc.body, tc.header...)
			client, violations := collect(t)
			var body io.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader("{}")
			}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if err := newSigner(demoAppID, demoAppSecret).SignRequest(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(data) != tc.body || res.StatusCode != tc.status {
				t.Errorf("the validator changed the answer: %d %s", res.StatusCode, data)
			}
			all := violations()
			var got []Violation // of the response: the unknown path's request is reported too
			for _, v := range all {
				if v.Status != 0 {
					got = append(got, v)
				}
			}
			switch {
			case tc.want == nil && len(all) > 0:
				t.Fatalf("a correct exchange was reported: %v", all)
			case tc.want == nil:
				return
			case len(got) != 1:
				t.Fatalf("want one response violation naming %q, got %v", tc.want, all)
			}
			msg := got[0].Error()
			t.Log(msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("violation %q does not name %q", msg, w)
				}
			}
		})
	}
}

// TestValidatorCatchesBadRequests proves the request side is live too: requests that break the
// spec are reported, and a request a test marks as breaking the spec is reported when it does not.
func TestValidatorCatchesBadRequests(t *testing.T) {
	t.Parallel()
	const add = "/management/add_users/" + demoAppID
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		unsigned    bool
		breaks      string
		wantRequest []string // substrings of the request violation; nil when there must be none
	}{
		{"valid", http.MethodPost, add, `{"users": ["alice"]}`, false, "", nil},
		{"body field of the wrong type", http.MethodPost, add, `{"users": "alice"}`, false, "",
			[]string{"addUsers", "request breaks openapi.yaml", "users"}},
		{"required body missing", http.MethodPost, add, ``, false, "",
			[]string{"addUsers", "request body"}},
		{"query parameter out of its pattern", http.MethodPost, "/authentication/authenticate_user/" + demoAppID + "/alice?methods=telepathy", `{}`, false, "",
			[]string{"authenticateUser", "query parameter methods"}},
		{"no Authentication header", http.MethodPost, add, `{"users": ["alice"]}`, true, "",
			[]string{"addUsers", "security", "Authentication"}},
		{"method the path does not have", http.MethodPut, add, `{"users": ["alice"]}`, false, "",
			[]string{"PUT", "not allowed", "POST"}},
		{"marked as breaking the spec, and it does", http.MethodPost, add, `{"users": []}`, false, "an empty list", nil},
		{"marked as breaking the spec, but it does not", http.MethodPost, add, `{"users": ["alice"]}`, false, "a valid list",
			[]string{"addUsers", "meant this request to break the spec (a valid list)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeServer(t, http.StatusCreated, "application/json", `{"status": true, "users": {"created": ["alice"], "existing": []}}`)
			client, violations := collect(t)
			ctx := context.Background()
			if tc.breaks != "" {
				ctx = BreaksSpec(ctx, tc.breaks)
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(ctx, tc.method, srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if !tc.unsigned {
				if err := newSigner(demoAppID, demoAppSecret).SignRequest(ctx, req); err != nil {
					t.Fatal(err)
				}
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			var requestViolations []Violation
			for _, v := range violations() {
				if v.Status == 0 {
					requestViolations = append(requestViolations, v)
				}
			}
			if tc.wantRequest == nil {
				if len(requestViolations) > 0 {
					t.Fatalf("unexpected request violations: %v", requestViolations)
				}
				return
			}
			if len(requestViolations) != 1 {
				t.Fatalf("want one request violation naming %q, got %v", tc.wantRequest, violations())
			}
			msg := requestViolations[0].Error()
			for _, w := range tc.wantRequest {
				if !strings.Contains(msg, w) {
					t.Errorf("violation %q does not name %q", msg, w)
				}
			}
		})
	}
}

// TestValidatorChecksTheControlAPI shows that /_acmock/ calls are checked against
// api/control.yaml, not against openapi.yaml.
func TestValidatorChecksTheControlAPI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string
	}{
		{"health as documented", `{"status": "ok", "scenario": "default", "clock": "virtual", "storage": "memory"}`, ""},
		{"health with an unknown clock", `{"status": "ok", "scenario": "default", "clock": "sundial", "storage": "memory"}`, "clock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeServer(t, http.StatusOK, "application/json", tc.body)
			client, violations := collect(t)
			res, err := client.Get(srv.URL + "/_acmock/health")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := violations()
			if tc.want == "" {
				if len(got) > 0 {
					t.Fatalf("unexpected violations: %v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Spec != "control.yaml" || got[0].Operation != "getHealth" || !strings.Contains(got[0].Message, tc.want) {
				t.Fatalf("want one control.yaml violation of getHealth naming %q, got %v", tc.want, got)
			}
		})
	}
}

// TestRouterKeepsEncodedSlash checks how operations are found for user IDs that hold "%2F" and
// "+": kin-openapi's gorilla/mux router matches on the escaped path (UseEncodedPath), so such an
// ID stays one segment, and the validator decodes it the way the official client encoded it.
func TestRouterKeepsEncodedSlash(t *testing.T) {
	t.Parallel()
	s, err := loadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		wantUser string
	}{
		{"slash", "/management/has_registered_mobile_device/app/a%2Fb", "a/b"},
		{"plus is a space", "/management/has_registered_mobile_device/app/MY+USER+1", "MY USER 1"},
		{"encoded plus", "/management/has_registered_mobile_device/app/a%2Bb", "a+b"},
		{"percent", "/management/has_registered_mobile_device/app/100%25", "100%"},
		{"non-ASCII", "/management/has_registered_mobile_device/app/%C3%A9l%C3%A8ve", "élève"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+tc.path, nil)
			route, vars, err := s.api.router.FindRoute(req)
			if err != nil {
				t.Fatalf("the gorilla/mux router did not find %s: %v", tc.path, err)
			}
			if route.Operation.OperationID != "HasRegisteredMobileDevice" || strings.Contains(vars["user_id"], "/") {
				t.Fatalf("router found %s with vars %v", route.Operation.OperationID, vars)
			}
			op, params, _, err := s.api.find(req)
			if err != nil || op.id != "hasRegisteredMobileDevice" || params["user_id"] != tc.wantUser || params["application_id"] != "app" {
				t.Fatalf("find: %v %v %v; want user %q", op, params, err, tc.wantUser)
			}
		})
	}
}
