package emulator

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapiserver"
	"github.com/acmock/acmock/generated/acspec"
	"github.com/acmock/acmock/internal/scenario"
)

// The benchmarks below measure one layer of the handler each, with its allocations, so that a
// regression in one shows in go test -bench even when the whole request's cost hides it:
//
//	go test -run '^$' -bench Layer -benchmem ./internal/emulator/

const (
	benchDevicePath = "/management/has_registered_mobile_device/" + scenario.DemoApplicationID + "/alice"
	benchAddPath    = "/management/add_users/" + scenario.DemoApplicationID
	benchAddBody    = `{"users": ["alice", "bob", "carol", "dave", "erin", "MY USER 1", "ünïcødé", "a+b", "x/y", "frank"]}`
)

func benchEmulator(b *testing.B) *Emulator {
	b.Helper()
	e, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	return e
}

// withInfo gives a request the requestInfo that observe would give it.
func withInfo(r *http.Request, info *requestInfo) *http.Request {
	info.path, info.host = r.URL.EscapedPath(), r.Host
	return r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
}

type discardResponse struct{ h http.Header }

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) WriteHeader(int)             {}
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }

func newDiscard() *discardResponse { return &discardResponse{h: http.Header{}} }

// BenchmarkLayerRouting: gorilla/mux finding the API operation among every route the emulator
// serves, with its path parameters, up to the operation's chain (here a handler that does nothing),
// through dispatch as the emulator serves it.
func BenchmarkLayerRouting(b *testing.B) {
	e := benchEmulator(b)
	root := mux.NewRouter().UseEncodedPath().SkipClean(true)
	routes := acapiserver.Handlers(acapiserver.NewStrictHandler(e, nil), acapiserver.GorillaServerOptions{})
	var matched *operation
	if err := addRoutes(root, &acspec.API, e.ops, routes, func(op *operation, _ http.Handler) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { matched = op })
	}); err != nil {
		b.Fatal(err)
	}
	h := e.dispatch(root)
	for _, path := range []string{benchDevicePath, "/authentication/session_status/0123456789abcdef", "/authentication/logout/0123456789abcdef"} {
		method := http.MethodGet
		if strings.Contains(path, "logout") {
			method = http.MethodPost
		}
		b.Run(path[1:strings.IndexByte(path[1:], '/')+1]+"/"+strings.Split(path, "/")[2], func(b *testing.B) {
			req := withInfo(httptest.NewRequest(method, path, nil), &requestInfo{})
			w := newDiscard()
			b.ReportAllocs()
			for b.Loop() {
				matched = nil
				h.ServeHTTP(w, req)
				if matched == nil {
					b.Fatal("no route")
				}
			}
		})
	}
}

// BenchmarkLayerValidation: checking a request against the spec, for a device check (its path
// parameters) and an add_users body (the body checks and its schema, in one walk).
func BenchmarkLayerValidation(b *testing.B) {
	e := benchEmulator(b)
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	h := e.validateRequest(next)
	b.Run("device", func(b *testing.B) {
		op := e.ops["GET /management/has_registered_mobile_device/{application_id}/{user_id}"]
		req := withInfo(httptest.NewRequest(http.MethodGet, benchDevicePath, nil),
			&requestInfo{op: op, app: scenario.DemoApplicationID, user: "alice"})
		req = mux.SetURLVars(req, map[string]string{"application_id": scenario.DemoApplicationID, "user_id": "alice"})
		w := newDiscard()
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
	})
	b.Run("add_users", func(b *testing.B) {
		op := e.ops["POST /management/add_users/{application_id}"]
		w := newDiscard()
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, benchAddPath, strings.NewReader(benchAddBody))
			req.Header.Set("Content-Type", "application/json")
			req = withInfo(req, &requestInfo{op: op, app: scenario.DemoApplicationID, body: []byte(benchAddBody)})
			req = mux.SetURLVars(req, map[string]string{"application_id": scenario.DemoApplicationID})
			h.ServeHTTP(w, req)
		}
	})
}

// BenchmarkLayerSignature: the authenticate layer on a signed device check: the application's
// lookup, the HMAC, the replay cache. Requests are signed in batches outside the timer.
func BenchmarkLayerSignature(b *testing.B) {
	e := benchEmulator(b)
	passed := 0
	h := e.authenticate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed++ }))
	op := e.ops["GET /management/has_registered_mobile_device/{application_id}/{user_id}"]
	signer := acauth.NewSigner(scenario.DemoApplicationID, scenario.DemoApplicationSecret)
	var batch []*http.Request
	w := newDiscard()
	b.ReportAllocs()
	for b.Loop() {
		if len(batch) == 0 {
			b.StopTimer()
			for range 4096 {
				req := httptest.NewRequest(http.MethodGet, benchDevicePath, nil)
				if err := signer.SignRequest(req.Context(), req); err != nil {
					b.Fatal(err)
				}
				batch = append(batch, withInfo(req, &requestInfo{op: op, app: scenario.DemoApplicationID, user: "alice"}))
			}
			b.StartTimer()
		}
		h.ServeHTTP(w, batch[len(batch)-1])
		batch = batch[:len(batch)-1]
	}
	if passed == 0 {
		b.Fatal("no request passed")
	}
}

// BenchmarkLayerHandler: the emulator's HasRegisteredMobileDevice with its store lookup, writing
// the answer, behind the handler StrictDirectHandlers generates for it (direct: what the emulator
// serves it with) and behind the generated wrapper and strict handler (generated); then the same
// for an authenticate with ?methods= and a {} body, as the official client sends it, for a user
// the application does not have (so that no session piles up): the query's binding and the
// body's decoding, direct and generated.
func BenchmarkLayerHandler(b *testing.B) {
	e := benchEmulator(b)
	key := "GET /management/has_registered_mobile_device/{application_id}/{user_id}"
	info := &requestInfo{app: scenario.DemoApplicationID, user: "alice"}
	req := withInfo(httptest.NewRequest(http.MethodGet, benchDevicePath, nil), info)
	b.Run("direct", func(b *testing.B) {
		h := acapiserver.StrictDirectHandlers(e, acapiserver.DirectHooks{PathValue: decodedParam}, acapiserver.StrictHTTPServerOptions{})[key]
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(newDiscard(), req)
		}
	})
	b.Run("generated", func(b *testing.B) {
		h := acapiserver.Handlers(acapiserver.NewStrictHandler(e, nil), acapiserver.GorillaServerOptions{})[key]
		req := mux.SetURLVars(req, map[string]string{"application_id": scenario.DemoApplicationID, "user_id": "alice"})
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(newDiscard(), req)
		}
	})

	authKey := "POST /authentication/authenticate_user/{application_id}/{user_id}"
	authBody := []byte("{}")
	authReq := func() (*http.Request, *rewindBody) {
		body := &rewindBody{bytes.NewReader(authBody)}
		r := httptest.NewRequest(http.MethodPost, "/authentication/authenticate_user/"+scenario.DemoApplicationID+"/nobody?methods=", nil)
		r.Header.Set("Content-Type", "application/json")
		r.Body = body
		return withInfo(r, &requestInfo{app: scenario.DemoApplicationID, user: "nobody", body: authBody}), body
	}
	// Both rewind the body each time, as limitBody gives every request a reader over the bytes
	// it read; the direct handler decodes those bytes instead.
	b.Run("authenticate/direct", func(b *testing.B) {
		hooks := acapiserver.DirectHooks{PathValue: decodedParam, Body: requestBody}
		h := acapiserver.StrictDirectHandlers(e, hooks, acapiserver.StrictHTTPServerOptions{})[authKey]
		req, body := authReq()
		b.ReportAllocs()
		for b.Loop() {
			body.Reset(authBody)
			h.ServeHTTP(newDiscard(), req)
		}
	})
	b.Run("authenticate/generated", func(b *testing.B) {
		h := acapiserver.Handlers(acapiserver.NewStrictHandler(e, nil), acapiserver.GorillaServerOptions{})[authKey]
		req, body := authReq()
		req = mux.SetURLVars(req, map[string]string{"application_id": scenario.DemoApplicationID, "user_id": "nobody"})
		b.ReportAllocs()
		for b.Loop() {
			body.Reset(authBody)
			h.ServeHTTP(newDiscard(), req)
		}
	})
}

// rewindBody is a request body that Reset starts again, without an allocation.
type rewindBody struct{ *bytes.Reader }

func (rewindBody) Close() error { return nil }

// BenchmarkLayerEncoding: writing an answer: a fixed one encoded at start-up, the generated
// encoder for the same value, and an error body.
func BenchmarkLayerEncoding(b *testing.B) {
	b.Run("fixed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = deviceAnswers[1].VisitHasRegisteredMobileDeviceResponse(newDiscard())
		}
	})
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = acapiserver.HasRegisteredMobileDevice200JSONResponse{Status: true, DeviceRegistered: true}.VisitHasRegisteredMobileDeviceResponse(newDiscard())
		}
	})
	b.Run("error", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, benchDevicePath, nil)
		b.ReportAllocs()
		for b.Loop() {
			writeError(newDiscard(), req, unknownUserError("alice"))
		}
	})
}

func unknownUserError(user string) *apiError {
	return errorf(http.StatusNotFound, "unknown_user", "user_id", "application %s has no user %q; add it with add_users first", scenario.DemoApplicationID, user)
}

// BenchmarkNew: building an emulator, most of the start-up: indexing the operations of both
// specs' generated tables, preparing the routes, loading the default scenario.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		e, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
