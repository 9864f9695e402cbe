package acauth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
)

const (
	appID      = "c9b5062204254e5bb972ae06e4bbb315"
	appSecret  = "SXB33FAUZUDCA6USWNZNES9YRUBKI6N1"
	sessionID  = "session-token-1"
	sessionSec = "session-secret-1"
	testTarget = "http://127.0.0.1:8080/management/has_registered_mobile_device/" + appID + "/MY+USER+1?x=a%2Fb"
)

var testNow = time.Unix(1_700_000_000, 0)

// testLookup mimics the emulator's rule: app credentials for everything
// except session routes; session credentials only for session routes.
var testLookup = acauth.SecretLookupFunc(func(r *http.Request, id string) (string, error) {
	switch id {
	case appID:
		return appSecret, nil
	case sessionID:
		if r.URL.Path != "/session/status" {
			return "", acauth.ErrWrongCredentialsForRoute
		}
		return sessionSec, nil
	case "broken-backend":
		return "", errors.New("database is down")
	case "empty-secret":
		return "", nil
	}
	return "", acauth.ErrUnknownClient
})

func newTestVerifier(opts ...acauth.VerifierOption) *acauth.Verifier {
	return acauth.NewVerifier(testLookup, append([]acauth.VerifierOption{
		acauth.WithClock(func() time.Time { return testNow }),
	}, opts...)...)
}

// signed returns a server-side request (as httptest.NewRequest builds it)
// signed like a client would at time at with nonce.
func signed(t testing.TB, target, id, secret string, nonce uint64, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	s := &acauth.Signer{
		ClientID: id, Secret: secret,
		Now:   func() time.Time { return at },
		Nonce: func() (uint64, error) { return nonce, nil },
	}
	if err := s.SignRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// signedWith is signed with an exact nonce text and header family.
func signedWith(t testing.TB, target, id, secret, nonce string, family acauth.HeaderFamily, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	s := &acauth.Signer{
		ClientID: id, Secret: secret, Headers: family,
		Now:         func() time.Time { return at },
		FormatNonce: func(uint64) string { return nonce },
	}
	if err := s.SignRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// errorBody mirrors the JSON error model with pointers, so the test can
// tell an absent member from an empty one.
type errorBody struct {
	Status       *bool   `json:"status"`
	Code         *string `json:"code"`
	Message      *string `json:"message"`
	Field        *string `json:"field"`
	StringToSign *string `json:"string_to_sign"`
}

func TestRejections(t *testing.T) {
	t.Parallel()
	stsFor := func(nonce, uri string) string { return nonce + uri + strconv.FormatInt(testNow.Unix(), 10) }
	tests := []struct {
		name      string
		request   func(t *testing.T, v *acauth.Verifier) *http.Request
		wantCode  string
		wantField string
		wantSTS   string // expected string_to_sign; "" means absent
	}{
		{
			name: "missing authentication",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Del(acauth.HeaderAuthentication)
				return r
			},
			wantCode: acauth.CodeMissingHeader, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "missing timestamp",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Del(acauth.HeaderTimestamp)
				return r
			},
			wantCode: acauth.CodeMissingHeader, wantField: acauth.HeaderTimestamp,
		},
		{
			name: "missing version",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Del(acauth.HeaderVersion)
				return r
			},
			wantCode: acauth.CodeMissingHeader, wantField: acauth.HeaderVersion,
		},
		{
			name:     "authorization bearer instead of hmac",
			request:  withAuth("Bearer abc"),
			wantCode: acauth.CodeBadScheme, wantField: acauth.HeaderAuthentication,
		},
		{
			name:     "scheme with suffix",
			request:  withAuth("hmacx " + appID + ":1:abc"),
			wantCode: acauth.CodeBadScheme, wantField: acauth.HeaderAuthentication,
		},
		{
			name:     "scheme only",
			request:  withAuth("hmac"),
			wantCode: acauth.CodeBadHeader, wantField: acauth.HeaderAuthentication,
		},
		{
			name:     "two parts",
			request:  withAuth("hmac " + appID + ":1"),
			wantCode: acauth.CodeBadHeader, wantField: acauth.HeaderAuthentication,
		},
		{
			name:     "four parts: a nonce holding ':'",
			request:  withAuth("hmac " + appID + ":1:abc:def"),
			wantCode: acauth.CodeBadNonce, wantField: acauth.HeaderAuthentication,
		},
		{
			name:     "empty client id",
			request:  withAuth("hmac :1:abc"),
			wantCode: acauth.CodeBadHeader, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "repeated authentication header",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Add(acauth.HeaderAuthentication, r.Header.Get(acauth.HeaderAuthentication))
				return r
			},
			wantCode: acauth.CodeBadHeader, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "timestamp not an integer",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Set(acauth.HeaderTimestamp, "1700000000.5")
				return r
			},
			wantCode: acauth.CodeBadHeader, wantField: acauth.HeaderTimestamp,
		},
		{
			name: "both timestamp spellings disagree",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Set(acauth.HeaderTimestampMisspelled, "1700000001")
				return r
			},
			// Of two, the field names the second in family order (see TestConflictNamesTheOddOneOut).
			wantCode: acauth.CodeBadHeader, wantField: acauth.HeaderTimestampMisspelled,
		},
		{
			name:     "empty nonce",
			request:  withAuth("hmac " + appID + "::LzhljO/bzFUGSTUMwyDHzw=="),
			wantCode: acauth.CodeBadNonce, wantField: acauth.HeaderAuthentication,
		},
		{
			name:     "nonce one byte over the limit",
			request:  withAuth("hmac " + appID + ":" + strings.Repeat("7", acauth.MaxNonceLen+1) + ":LzhljO/bzFUGSTUMwyDHzw=="),
			wantCode: acauth.CodeBadNonce, wantField: acauth.HeaderAuthentication,
		},
		{
			name:     "nonce with a tab",
			request:  withAuth("hmac " + appID + ":12\t34:LzhljO/bzFUGSTUMwyDHzw=="),
			wantCode: acauth.CodeBadNonce, wantField: acauth.HeaderAuthentication,
		},
		{
			name:     "nonce with a non-ASCII byte",
			request:  withAuth("hmac " + appID + ":n\u00f6nce:LzhljO/bzFUGSTUMwyDHzw=="),
			wantCode: acauth.CodeBadNonce, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "hex nonce replayed",
			request: func(t *testing.T, v *acauth.Verifier) *http.Request {
				first := signedWith(t, testTarget, appID, appSecret, "7FFFFFFFFFFFFFFF", acauth.FamilySonikpass, testNow)
				if _, rej := v.Verify(first); rej != nil {
					t.Fatalf("first request rejected: %v", rej)
				}
				return signedWith(t, testTarget, appID, appSecret, "7FFFFFFFFFFFFFFF", acauth.FamilySonikpass, testNow.Add(time.Second))
			},
			wantCode: acauth.CodeReplayedNonce, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "version 2",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Set(acauth.HeaderVersion, "2")
				return r
			},
			wantCode: acauth.CodeBadVersion, wantField: acauth.HeaderVersion,
		},
		{
			name: "misspelled version 2",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Del(acauth.HeaderVersion)
				r.Header.Set(acauth.HeaderVersionMisspelled, "2")
				return r
			},
			// The field names the header as the client spelled it.
			wantCode: acauth.CodeBadVersion, wantField: acauth.HeaderVersionMisspelled,
		},
		{
			name: "timestamp too old",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				return signed(t, testTarget, appID, appSecret, 1, testNow.Add(-301*time.Second))
			},
			wantCode: acauth.CodeStaleTimestamp, wantField: acauth.HeaderTimestamp,
		},
		{
			name: "timestamp in the future",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				return signed(t, testTarget, appID, appSecret, 1, testNow.Add(301*time.Second))
			},
			wantCode: acauth.CodeStaleTimestamp, wantField: acauth.HeaderTimestamp,
		},
		{
			name: "unknown client",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				return signed(t, testTarget, "nobody", appSecret, 1, testNow)
			},
			wantCode: acauth.CodeUnknownClient, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "lookup failure",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				return signed(t, testTarget, "broken-backend", appSecret, 1, testNow)
			},
			wantCode: acauth.CodeUnknownClient, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "lookup returns empty secret",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				return signed(t, testTarget, "empty-secret", appSecret, 1, testNow)
			},
			wantCode: acauth.CodeUnknownClient, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "session credentials on management route",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				return signed(t, testTarget, sessionID, sessionSec, 1, testNow)
			},
			wantCode: acauth.CodeWrongCredentialsForRoute, wantField: acauth.HeaderAuthentication,
		},
		{
			name: "wrong secret",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				return signed(t, testTarget, appID, "not-the-secret", 77, testNow)
			},
			wantCode: acauth.CodeSignatureMismatch, wantField: acauth.HeaderAuthentication,
			wantSTS: stsFor("77", "127.0.0.1:8080/management/has_registered_mobile_device/"+appID+"/MY+USER+1?x=a%2Fb"),
		},
		{
			name: "path changed after signing",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, "http://127.0.0.1:8080/management/users/"+appID+"/a%2Fb", appID, appSecret, 78, testNow)
				r.RequestURI = "http://127.0.0.1:8080/management/users/" + appID + "/a/b"
				return r
			},
			wantCode: acauth.CodeSignatureMismatch, wantField: acauth.HeaderAuthentication,
			wantSTS: stsFor("78", "127.0.0.1:8080/management/users/"+appID+"/a/b"),
		},
		{
			name: "signature not base64",
			request: func(t *testing.T, _ *acauth.Verifier) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 79, testNow)
				r.Header.Set(acauth.HeaderAuthentication, "hmac "+appID+":79:!!!!!!!!!!!!!!!!!!!!!!==")
				return r
			},
			wantCode: acauth.CodeSignatureMismatch, wantField: acauth.HeaderAuthentication,
			wantSTS: stsFor("79", "127.0.0.1:8080/management/has_registered_mobile_device/"+appID+"/MY+USER+1?x=a%2Fb"),
		},
		{
			name: "replayed nonce",
			request: func(t *testing.T, v *acauth.Verifier) *http.Request {
				first := signed(t, testTarget, appID, appSecret, 80, testNow)
				if _, rej := v.Verify(first); rej != nil {
					t.Fatalf("first request rejected: %v", rej)
				}
				// Same nonce, one second later: a new signature, still a replay.
				return signed(t, testTarget, appID, appSecret, 80, testNow.Add(time.Second))
			},
			wantCode: acauth.CodeReplayedNonce, wantField: acauth.HeaderAuthentication,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hookRej *acauth.Rejection
			var hookCalls int
			v := newTestVerifier(acauth.WithVerdictHook(func(_ *http.Request, id string, rej *acauth.Rejection) {
				hookCalls++
				hookRej = rej
				if id != "" {
					t.Errorf("hook got client ID %q with a rejection", id)
				}
			}))
			r := tt.request(t, v)
			called := false
			h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			if called {
				t.Fatal("next handler called for a rejected request")
			}
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var body errorBody
			dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			switch {
			case body.Status == nil || *body.Status:
				t.Errorf("status member missing or true: %s", w.Body)
			case body.Code == nil || *body.Code != tt.wantCode:
				t.Errorf("code: %s, want %q", w.Body, tt.wantCode)
			case body.Message == nil || *body.Message == "":
				t.Errorf("message missing: %s", w.Body)
			case body.Field == nil || *body.Field != tt.wantField:
				t.Errorf("field: %s, want %q", w.Body, tt.wantField)
			case tt.wantSTS == "" && body.StringToSign != nil:
				t.Errorf("unexpected string_to_sign: %s", w.Body)
			case tt.wantSTS != "" && (body.StringToSign == nil || *body.StringToSign != tt.wantSTS):
				t.Errorf("string_to_sign: %s, want %q", w.Body, tt.wantSTS)
			}
			if bytes.Contains(w.Body.Bytes(), []byte(appSecret)) || bytes.Contains(w.Body.Bytes(), []byte(sessionSec)) {
				t.Errorf("body leaks a secret: %s", w.Body)
			}
			if hookCalls != 1 || hookRej == nil || hookRej.Code != tt.wantCode {
				t.Errorf("hook calls = %d, rejection = %v", hookCalls, hookRej)
			}
		})
	}
}

// withAuth returns a request builder with a correctly signed request whose
// Authentication header is then replaced by value.
func withAuth(value string) func(*testing.T, *acauth.Verifier) *http.Request {
	return func(t *testing.T, _ *acauth.Verifier) *http.Request {
		r := signed(t, testTarget, appID, appSecret, 1, testNow)
		r.Header.Set(acauth.HeaderAuthentication, value)
		return r
	}
}

func TestRejectionWrapsLookupError(t *testing.T) {
	t.Parallel()
	v := newTestVerifier()
	_, rej := v.Verify(signed(t, testTarget, sessionID, sessionSec, 1, testNow))
	if !errors.Is(rej, acauth.ErrWrongCredentialsForRoute) {
		t.Errorf("rejection %v does not wrap ErrWrongCredentialsForRoute", rej)
	}
	if rej.ClientID != sessionID {
		t.Errorf("claimed client ID = %q", rej.ClientID)
	}
	_, rej = v.Verify(signed(t, testTarget, "nobody", "x", 1, testNow))
	if !errors.Is(rej, acauth.ErrUnknownClient) {
		t.Errorf("rejection %v does not wrap ErrUnknownClient", rej)
	}
}

func TestMiddlewareAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		request func(t *testing.T) *http.Request
		want    string
	}{
		{
			name:    "app credentials",
			request: func(t *testing.T) *http.Request { return signed(t, testTarget, appID, appSecret, 1, testNow) },
			want:    appID,
		},
		{
			name: "session credentials on session route",
			request: func(t *testing.T) *http.Request {
				return signed(t, "/session/status", sessionID, sessionSec, 1, testNow)
			},
			want: sessionID,
		},
		{
			name: "misspelled headers from the documentation",
			request: func(t *testing.T) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				for good, bad := range map[string]string{
					acauth.HeaderTimestamp: acauth.HeaderTimestampMisspelled,
					acauth.HeaderVersion:   acauth.HeaderVersionMisspelled,
				} {
					r.Header[bad] = r.Header[good]
					delete(r.Header, good)
				}
				return r
			},
			want: appID,
		},
		{
			name: "both spellings agree",
			request: func(t *testing.T) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header[acauth.HeaderTimestampMisspelled] = r.Header[acauth.HeaderTimestamp]
				return r
			},
			want: appID,
		},
		{
			name: "upper-case scheme and extra whitespace",
			request: func(t *testing.T) *http.Request {
				r := signed(t, testTarget, appID, appSecret, 1, testNow)
				r.Header.Set(acauth.HeaderAuthentication, "  HMAC\t"+r.Header.Get(acauth.HeaderAuthentication)[len("hmac "):]+" ")
				return r
			},
			want: appID,
		},
		{
			name: "oldest allowed timestamp",
			request: func(t *testing.T) *http.Request {
				return signed(t, testTarget, appID, appSecret, 1, testNow.Add(-300*time.Second))
			},
			want: appID,
		},
		{
			name: "newest allowed timestamp",
			request: func(t *testing.T) *http.Request {
				return signed(t, testTarget, appID, appSecret, 1, testNow.Add(300*time.Second))
			},
			want: appID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hookID string
			v := newTestVerifier(acauth.WithVerdictHook(func(_ *http.Request, id string, rej *acauth.Rejection) {
				if rej != nil {
					t.Errorf("hook got rejection %v", rej)
				}
				hookID = id
			}))
			var got string
			h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = acauth.ClientIDFromContext(r.Context())
				w.WriteHeader(http.StatusNoContent)
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.request(t))
			if w.Code != http.StatusNoContent {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if got != tt.want || hookID != tt.want {
				t.Errorf("context client ID = %q, hook = %q, want %q", got, hookID, tt.want)
			}
		})
	}
}

func TestClientIDFromContextEmpty(t *testing.T) {
	t.Parallel()
	if id, ok := acauth.ClientIDFromContext(t.Context()); ok || id != "" {
		t.Errorf("ClientIDFromContext = %q, %v", id, ok)
	}
}

func TestCustomErrorWriter(t *testing.T) {
	t.Parallel()
	var logged []string
	v := newTestVerifier(acauth.WithErrorWriter(func(w http.ResponseWriter, r *http.Request, rej *acauth.Rejection) {
		logged = append(logged, rej.Code)
		acauth.WriteRejection(w, r, rej)
	}))
	w := httptest.NewRecorder()
	v.Middleware(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
	if w.Code != http.StatusUnauthorized || len(logged) != 1 || logged[0] != acauth.CodeMissingHeader {
		t.Errorf("status %d, logged %v", w.Code, logged)
	}
}

// TestSetMaxSkew changes the window while requests are being verified;
// run with -race to check it is safe.
func TestSetMaxSkew(t *testing.T) {
	t.Parallel()
	v := newTestVerifier()
	if v.MaxSkew() != acauth.DefaultMaxSkew {
		t.Fatalf("default skew = %v", v.MaxSkew())
	}
	old := testNow.Add(-time.Hour)
	if _, rej := v.Verify(signed(t, testTarget, appID, appSecret, 1, old)); rej == nil || rej.Code != acauth.CodeStaleTimestamp {
		t.Fatalf("hour-old request: %v", rej)
	}
	v.SetMaxSkew(2 * time.Hour)
	if _, rej := v.Verify(signed(t, testTarget, appID, appSecret, 2, old)); rej != nil {
		t.Fatalf("hour-old request with 2h skew: %v", rej)
	}
	if got := newTestVerifier(acauth.WithMaxSkew(time.Minute)).MaxSkew(); got != time.Minute {
		t.Errorf("WithMaxSkew(1m) gave %v", got)
	}
	v.SetMaxSkew(-time.Second)
	if v.MaxSkew() != 0 {
		t.Errorf("negative skew stored as %v", v.MaxSkew())
	}

	var wg sync.WaitGroup
	var nonce atomic.Uint64
	nonce.Store(1000)
	for range 4 {
		wg.Go(func() {
			for range 200 {
				_, rej := v.Verify(signed(t, testTarget, appID, appSecret, nonce.Add(1), testNow))
				if rej != nil && rej.Code != acauth.CodeStaleTimestamp {
					t.Errorf("unexpected rejection %v", rej)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			v.SetMaxSkew(time.Duration(i%3) * time.Minute)
		}
	})
	wg.Wait()
}

// TestShiftedClock shows the emulator can move the verifier's notion of
// wall time at run time through the injected clock.
func TestShiftedClock(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	v := acauth.NewVerifier(testLookup, acauth.WithClock(func() time.Time {
		return testNow.Add(time.Duration(offset.Load()))
	}))
	r := signed(t, testTarget, appID, appSecret, 1, testNow)
	offset.Store(int64(10 * time.Minute))
	if _, rej := v.Verify(r); rej == nil || rej.Code != acauth.CodeStaleTimestamp {
		t.Fatalf("verify with clock +10m: %v", rej)
	}
	offset.Store(0)
	if _, rej := v.Verify(r); rej != nil {
		t.Fatalf("verify with clock back: %v", rej)
	}
}

// TestReplayCacheBounded inserts far more verified nonces than the cap and
// checks memory stays bounded while recent nonces are still caught.
func TestReplayCacheBounded(t *testing.T) {
	t.Parallel()
	const limit, total = 1000, 25_000
	v := newTestVerifier(acauth.WithReplayCacheSize(limit))
	for i := range uint64(total) {
		if _, rej := v.Verify(signed(t, testTarget, appID, appSecret, i, testNow)); rej != nil {
			t.Fatalf("nonce %d: %v", i, rej)
		}
		if n := v.ReplayCacheLen(); n > limit {
			t.Fatalf("after %d inserts cache holds %d > %d", i+1, n, limit)
		}
	}
	if n := v.ReplayCacheLen(); n != limit {
		t.Errorf("cache holds %d, want exactly %d when saturated", n, limit)
	}
	if _, rej := v.Verify(signed(t, testTarget, appID, appSecret, total-1, testNow)); rej == nil || rej.Code != acauth.CodeReplayedNonce {
		t.Errorf("recent nonce replay: %v", rej)
	}
}

// TestReplayPerClient: the same nonce from two clients is not a replay.
func TestReplayPerClient(t *testing.T) {
	t.Parallel()
	v := newTestVerifier()
	if _, rej := v.Verify(signed(t, testTarget, appID, appSecret, 5, testNow)); rej != nil {
		t.Fatal(rej)
	}
	if _, rej := v.Verify(signed(t, "/session/status", sessionID, sessionSec, 5, testNow)); rej != nil {
		t.Fatal(rej)
	}
}

// TestGarbageDoesNotFillReplayCache: nonces are recorded only after the
// signature verifies.
func TestGarbageDoesNotFillReplayCache(t *testing.T) {
	t.Parallel()
	v := newTestVerifier()
	for i := range uint64(100) {
		v.Verify(signed(t, testTarget, appID, "wrong", i, testNow))
	}
	if n := v.ReplayCacheLen(); n != 0 {
		t.Errorf("cache holds %d entries from unauthenticated requests", n)
	}
}

func TestRejectionError(t *testing.T) {
	t.Parallel()
	var err error = &acauth.Rejection{Code: acauth.CodeBadNonce, Message: "nonce must be decimal"}
	if got, want := err.Error(), "acauth: bad_nonce: nonce must be decimal"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
