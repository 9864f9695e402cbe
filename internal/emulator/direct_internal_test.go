package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapiserver"
	"github.com/acmock/acmock/generated/acspec"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/reqspec"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// TestStrictDirectHandlersAnswerAsTheGeneratedWrappers: the operations served by
// StrictDirectHandlers (all of the API's) answer every request, hostile path values, query
// parameters and bodies, and bad signatures included, exactly as the generated wrappers behind the
// strict handler do, and leave the same journal.
func TestStrictDirectHandlersAnswerAsTheGeneratedWrappers(t *testing.T) {
	newEmu := func(generated bool) *Emulator {
		t.Helper()
		clk := clock.NewVirtual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		e, err := New(Options{Clock: clk, IDs: store.SeededIDs(7), generatedWrappers: generated})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		return e
	}
	direct, generated := newEmu(false), newEmu(true)
	for _, op := range acspec.API.Operations {
		if key := op.Method + " " + op.Path; !direct.ops[key].direct {
			t.Errorf("%s is not served by StrictDirectHandlers", key)
		}
	}
	if n := countDirect(generated); n != 0 {
		t.Fatalf("%d operations served by StrictDirectHandlers with generatedWrappers set", n)
	}

	app := acauth.NewSigner(scenario.DemoApplicationID, scenario.DemoApplicationSecret)
	forged := acauth.NewSigner(scenario.DemoApplicationID, "not-the-secret")
	// Both emulators hand out the same tokens (seeded IDs): start a login on each.
	var token, secret string
	for _, e := range []*Emulator{direct, generated} {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/authentication/authenticate_user/"+scenario.DemoApplicationID+"/alice", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if err := app.SignRequest(req.Context(), req); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var started struct {
			Status struct {
				Token  string `json:"session_token"`
				Secret string `json:"session_secret"`
			} `json:"authentication_status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &started); err != nil || rec.Code != http.StatusAccepted {
			t.Fatalf("authenticate: %d %s", rec.Code, rec.Body)
		}
		if token != "" && started.Status.Token != token {
			t.Fatalf("tokens differ: %s and %s", token, started.Status.Token)
		}
		token, secret = started.Status.Token, started.Status.Secret
	}
	sess := acauth.NewSigner(token, secret)

	const jsonType = "application/json"
	type call struct {
		method, path string
		signer       *acauth.Signer
		body, ctype  string
	}
	var calls []call
	users := []string{"alice", "bob", "nobody", "al%2Bice", "a+b", "%FF", "a%2Fb", "caf%C3%A9"}
	apps := []string{scenario.DemoApplicationID, "no-such-app", "%FF"}
	for _, a := range apps {
		for _, u := range users {
			for _, op := range []string{"has_registered_mobile_device", "lost_user_mobile_device"} {
				calls = append(calls, call{method: http.MethodGet, path: "/management/" + op + "/" + a + "/" + u, signer: app})
				calls = append(calls, call{method: http.MethodGet, path: "/management/" + op + "/" + a + "/" + u})
			}
		}
	}

	// Authenticate: the query, the body and its type, the signature.
	authPath := "/authentication/authenticate_user/" + scenario.DemoApplicationID + "/"
	for _, q := range []string{"", "?methods=", "?methods=acceptance,facial", "?methods=bogus", "?methods=acceptance&methods=facial",
		"?methods", "?methods=acceptance,", "?methods=%zz", "?other=1", "?methods=facial&display_name=x"} {
		for _, u := range []string{"alice", "carol", "nobody"} {
			calls = append(calls, call{method: http.MethodPost, path: authPath + u + q, signer: app, body: "{}", ctype: jsonType})
		}
	}
	authBodies := []string{"{}", "", " ", " \n\t\r ", "null", "[]", "{} x", "{}{}", "{", "nope", `{"a": 1}`, `{"a": 1, "a": 2}`,
		`"text"`, "1", "{}\n", "\xff", `{"a": "\xff"}`}
	for _, body := range authBodies {
		for _, ctype := range []string{jsonType, "", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8"} {
			calls = append(calls, call{method: http.MethodPost, path: authPath + "alice?methods=", signer: app, body: body, ctype: ctype})
		}
	}
	for _, s := range []*acauth.Signer{nil, forged, sess} {
		calls = append(calls, call{method: http.MethodPost, path: authPath + "alice?methods=", signer: s, body: "{}", ctype: jsonType},
			call{method: http.MethodPost, path: authPath + "alice?methods=bogus", signer: s, body: "{", ctype: jsonType})
	}

	// add_users and delete_users: a required body.
	for _, op := range []string{"add_users", "delete_users"} {
		for _, a := range []string{scenario.DemoApplicationID, "no-such-app"} {
			for _, body := range []string{`{"users": ["dave", "erin"]}`, `{"users": []}`, "{}", "", " ", "null", "[]", `{"users": "x"}`,
				`{"users": [1]}`, `{"users": ["a"]} x`, `{"Users": ["a"]}`, `{"users": ["a"], "users": ["b"]}`, "{", "nope",
				`{"users": ["dave"], "extra": 1}`, `{"users": ["` + strings.Repeat("x", 300) + `"]}`} {
				for _, ctype := range []string{jsonType, "text/plain"} {
					calls = append(calls, call{method: http.MethodPost, path: "/management/" + op + "/" + a, signer: app, body: body, ctype: ctype})
				}
			}
		}
		calls = append(calls, call{method: http.MethodPost, path: "/management/" + op + "/" + scenario.DemoApplicationID, body: `{"users": ["x"]}`, ctype: jsonType},
			call{method: http.MethodPost, path: "/management/" + op + "/" + scenario.DemoApplicationID, signer: forged, body: `{"users": ["x"]}`, ctype: jsonType},
			call{method: http.MethodPost, path: "/management/" + op + "/%FF", signer: app, body: `{"users": ["x"]}`, ctype: jsonType})
	}

	// device_registration_link: its optional display_name; send_registration_sms: its body.
	for _, u := range []string{"alice", "carol", "dave", "nobody", "%FF"} {
		for _, q := range []string{"", "?display_name=Dave", "?display_name=", "?display_name", "?display_name=a&display_name=b",
			"?display_name=" + strings.Repeat("x", 300), "?display_name=%FF", "?display_name=%zz", "?methods=x"} {
			calls = append(calls, call{method: http.MethodGet, path: "/management/device_registration_link/" + scenario.DemoApplicationID + "/" + u + q, signer: app})
		}
		for _, body := range []string{`{"phone_number": "+15555550100"}`, `{"phone_number": "+15555550100", "display_name": "D", "message": "hi"}`,
			`{"phone_number": "555"}`, `{}`, "", "null", `{"phone_number": 1}`, `{"phone_number": "+15555550100"} x`, "{"} {
			calls = append(calls, call{method: http.MethodPost, path: "/management/send_registration_sms/" + scenario.DemoApplicationID + "/" + u, signer: app, body: body, ctype: jsonType})
		}
	}
	calls = append(calls, call{method: http.MethodGet, path: "/management/device_registration_link/" + scenario.DemoApplicationID + "/alice?display_name=x"},
		call{method: http.MethodPost, path: "/management/send_registration_sms/" + scenario.DemoApplicationID + "/carol", signer: forged, body: "{", ctype: jsonType})

	for _, tok := range []string{token, "0123", "%FF"} {
		for _, s := range []*acauth.Signer{sess, app, nil} {
			calls = append(calls, call{method: http.MethodGet, path: "/authentication/session_status/" + tok, signer: s})
		}
	}
	calls = append(calls, call{method: http.MethodPost, path: "/authentication/logout/" + token, signer: app},
		call{method: http.MethodPost, path: "/authentication/logout/" + token, signer: sess},
		call{method: http.MethodGet, path: "/authentication/session_status/" + token, signer: sess},
		call{method: http.MethodPost, path: "/authentication/logout/%FF", signer: sess})

	for _, c := range calls {
		// One signature for both emulators (each has its own replay cache); the body is not signed.
		signed := httptest.NewRequest(c.method, "http://127.0.0.1:8080"+c.path, nil)
		if c.ctype != "" {
			signed.Header.Set("Content-Type", c.ctype)
		}
		if c.signer != nil {
			if err := c.signer.SignRequest(signed.Context(), signed); err != nil {
				t.Fatal(err)
			}
		}
		var got [2]*httptest.ResponseRecorder
		for i, e := range []*Emulator{direct, generated} {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req := httptest.NewRequest(c.method, "http://127.0.0.1:8080"+c.path, body)
			req.Header = signed.Header.Clone()
			got[i] = httptest.NewRecorder()
			e.ServeHTTP(got[i], req)
		}
		d, g := got[0], got[1]
		if d.Code != g.Code || !bytes.Equal(d.Body.Bytes(), g.Body.Bytes()) ||
			d.Header().Get("Content-Type") != g.Header().Get("Content-Type") ||
			d.Header().Get("WWW-Authenticate") != g.Header().Get("WWW-Authenticate") {
			t.Errorf("%s %s (signed %v, body %q, type %q):\n direct    %d %s\n generated %d %s",
				c.method, c.path, c.signer != nil, c.body, c.ctype, d.Code, d.Body, g.Code, g.Body)
		}
	}
	dj, gj := direct.journal.List(journal.Filter{}), generated.journal.List(journal.Filter{})
	if len(dj) != len(gj) || len(dj) != len(calls)+1 {
		t.Fatalf("journal: %d and %d entries, want %d", len(dj), len(gj), len(calls)+1)
	}
	for i := range dj {
		a, b := dj[i], gj[i]
		a.Latency, b.Latency = 0, 0
		aj, _ := json.Marshal(a)
		bj, _ := json.Marshal(b)
		if !bytes.Equal(aj, bj) {
			t.Errorf("journal entry %d:\n direct    %s\n generated %s", i, aj, bj)
		}
	}
}

// TestStrictDirectHandlersBindAsTheGeneratedWrappers: with nothing in front of them (no
// signature, no validation, which refuse most of these requests before a handler sees them), the
// direct handlers hand the strict server the same request object as the generated wrapper and
// strict handler, or the same error to the same error handler, for every operation, query and
// body below: what runtime.BindQueryParameterWithOptions and runtime.BindJSONBody do is
// reproduced, not approximated.
func TestStrictDirectHandlersBindAsTheGeneratedWrappers(t *testing.T) {
	pathValues := map[string]string{"application_id": "app 1", "user_id": "a+b/c", "session_token": "tok"}
	queries := []string{"", "methods=", "methods=acceptance,facial", "methods=bogus", "methods=a&methods=b", "methods",
		"methods=a,,b", "methods=%zz", "methods=a;b", "display_name=Dave", "display_name=", "display_name",
		"display_name=a&display_name=b", "display_name=a,b", "display_name=%FF", "methods=x&display_name=y", "other=1"}
	bodies := []string{"", " ", " \n\t\r ", "\v", "{}", "{}\n", " {} ", "null", "[]", "{} x", "{}{}", "{} {", "{", "}", "nope", `"text"`, "1",
		`{"a": 1}`, `{"a": 1, "a": 2}`, "\xff", `{"a": "\xff"}`, `{"users": ["a", "b"]}`, `{"Users": ["a"]}`, `{"users": "x"}`,
		`{"users": [1, "b"]}`, `{"users": ["a"]} x`, `{"users": ["a"]}]`, `{"users": ["a"], "users": ["b"]}`, `{"users": null}`,
		`{"phone_number": "+15555550100", "display_name": "D", "message": "hi"}`, `{"phone_number": 1}`, `{"phone_number": "1"} {`}

	var rec recordingServer
	var errs []string
	errorHook := func(which string) func(http.ResponseWriter, *http.Request, error) {
		return func(w http.ResponseWriter, _ *http.Request, err error) {
			errs = append(errs, fmt.Sprintf("%s: %T %v", which, err, err))
			w.WriteHeader(http.StatusTeapot)
		}
	}
	options := acapiserver.StrictHTTPServerOptions{RequestErrorHandlerFunc: errorHook("request"), ResponseErrorHandlerFunc: errorHook("response")}
	var body []byte
	direct := acapiserver.StrictDirectHandlers(&rec, acapiserver.DirectHooks{
		PathValue:  func(_ *http.Request, name string) string { return pathValues[name] },
		Body:       func(*http.Request) []byte { return body },
		ParamError: errorHook("param"),
	}, options)
	generated := acapiserver.Handlers(acapiserver.NewStrictHandlerWithOptions(&rec, nil, options), acapiserver.GorillaServerOptions{ErrorHandlerFunc: errorHook("param")})
	if len(direct) != len(acspec.API.Operations) {
		t.Fatalf("%d direct handlers for %d operations", len(direct), len(acspec.API.Operations))
	}
	outcomes := map[string]bool{}
	for key, h := range direct {
		method, path, _ := strings.Cut(key, " ")
		for _, q := range queries {
			for _, b := range bodies {
				body = []byte(b)
				serve := func(h http.Handler, generated bool) (any, []string, int) {
					rec.got, errs = nil, nil
					var r io.Reader = http.NoBody
					if b != "" {
						r = strings.NewReader(b)
					}
					req := httptest.NewRequest(method, "http://127.0.0.1:8080/x?"+q, r)
					if generated {
						req = mux.SetURLVars(req, pathValues)
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					return rec.got, errs, w.Code
				}
				dGot, dErrs, dCode := serve(h, false)
				gGot, gErrs, gCode := serve(generated[key], true)
				if !reflect.DeepEqual(dGot, gGot) || !slices.Equal(dErrs, gErrs) || dCode != gCode {
					t.Errorf("%s ?%s body %q:\n direct    %d %#v %q\n generated %d %#v %q", path, q, b, dCode, dGot, dErrs, gCode, gGot, gErrs)
				}
				outcome := "served"
				if len(dErrs) > 0 {
					outcome, _, _ = strings.Cut(dErrs[0], ":")
				}
				outcomes[key+" "+outcome] = true
			}
		}
	}
	// The cases reach the strict server and each error handler an operation has.
	for _, op := range acspec.API.Operations {
		key := op.Method + " " + op.Path
		want := []string{"served"}
		if slices.ContainsFunc(op.Params, func(p reqspec.Param) bool { return p.In == "query" }) {
			want = append(want, "param")
		}
		if op.Body != nil {
			want = append(want, "request")
		}
		for _, o := range want {
			if !outcomes[key+" "+o] {
				t.Errorf("%s: no case ends %s", key, o)
			}
		}
	}
}

// recordingServer is a strict server that keeps the request object of the last call and answers
// nothing.
type recordingServer struct{ got any }

func (s *recordingServer) AuthenticateUser(_ context.Context, r acapiserver.AuthenticateUserRequestObject) (acapiserver.AuthenticateUserResponseObject, error) {
	s.got = r
	return nil, nil
}

func (s *recordingServer) Logout(_ context.Context, r acapiserver.LogoutRequestObject) (acapiserver.LogoutResponseObject, error) {
	s.got = r
	return nil, nil
}

func (s *recordingServer) GetSessionStatus(_ context.Context, r acapiserver.GetSessionStatusRequestObject) (acapiserver.GetSessionStatusResponseObject, error) {
	s.got = r
	return nil, nil
}

func (s *recordingServer) AddUsers(_ context.Context, r acapiserver.AddUsersRequestObject) (acapiserver.AddUsersResponseObject, error) {
	s.got = r
	return nil, nil
}

func (s *recordingServer) DeleteUsers(_ context.Context, r acapiserver.DeleteUsersRequestObject) (acapiserver.DeleteUsersResponseObject, error) {
	s.got = r
	return nil, nil
}

func (s *recordingServer) GetDeviceRegistrationLink(_ context.Context, r acapiserver.GetDeviceRegistrationLinkRequestObject) (acapiserver.GetDeviceRegistrationLinkResponseObject, error) {
	s.got = r
	return nil, nil
}

func (s *recordingServer) HasRegisteredMobileDevice(_ context.Context, r acapiserver.HasRegisteredMobileDeviceRequestObject) (acapiserver.HasRegisteredMobileDeviceResponseObject, error) {
	s.got = r
	return nil, nil
}

func (s *recordingServer) LostUserMobileDevice(_ context.Context, r acapiserver.LostUserMobileDeviceRequestObject) (acapiserver.LostUserMobileDeviceResponseObject, error) {
	s.got = r
	return nil, nil
}

func (s *recordingServer) SendRegistrationSms(_ context.Context, r acapiserver.SendRegistrationSmsRequestObject) (acapiserver.SendRegistrationSmsResponseObject, error) {
	s.got = r
	return nil, nil
}

func countDirect(e *Emulator) int {
	n := 0
	for _, op := range e.ops {
		if op.direct {
			n++
		}
	}
	return n
}
