package contracttests

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acctl"
)

const hdrAuth = acauth.HeaderAuthentication

// replaceCredentials rewrites the "client_id:nonce:signature" part of the Authentication header.
func replaceCredentials(r *http.Request, f func(client, nonce, sig string) string) {
	scheme, creds, _ := strings.Cut(r.Header.Get(hdrAuth), " ")
	parts := strings.SplitN(creds, ":", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	r.Header.Set(hdrAuth, scheme+" "+f(parts[0], parts[1], parts[2]))
}

// stringToSign is what the server must sign for the request as sent.
func stringToSign(r *http.Request) string {
	_, creds, _ := strings.Cut(r.Header.Get(hdrAuth), " ")
	parts := strings.SplitN(creds, ":", 3)
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	return acauth.StringToSign(parts[1], host+r.URL.RequestURI(), r.Header.Get(hdrTimestamp))
}

// secondFamily returns whichever of two timestamp header names comes second in
// acauth.HeaderFamilies: when two headers disagree, neither value has a
// majority, so the first one's is taken as agreed and the field names the
// other (the spec's rule for the odd one out).
func secondFamily(a, b string) string {
	for _, f := range acauth.HeaderFamilies() {
		if f.Timestamp() == a {
			return b
		}
		if f.Timestamp() == b {
			return a
		}
	}
	return b
}

// withNonce makes s write its nonces with format.
func withNonce(s *acauth.Signer, format func(uint64) string) *acauth.Signer {
	s.FormatNonce = format
	return s
}

// TestSignatureRejections sends a signed call with one thing wrong with its signature each, and
// expects the 401 code and header the spec names. Rows that are right must pass, so a verifier
// that refuses everything fails too.
func TestSignatureRejections(t *testing.T) {
	tg := newTarget(t)
	user := tg.user("hmac")
	tg.addUsers(t, user)
	target := tg.userURL("/management/has_registered_mobile_device", user)
	shifted := func(d time.Duration) *acauth.Signer {
		s := tg.signer()
		s.Now = func() time.Time { return time.Now().Add(d) }
		return s
	}
	tests := []struct {
		name   string
		signer *acauth.Signer // default: the application's
		edit   func(r *http.Request)
		breaks string
		status int
		code   acapi.ErrorCode
		field  string
		// stringToSign: the 401 must carry the string the server signed for the request as sent.
		stringToSign bool
	}{
		{name: "correctly signed", status: http.StatusOK},
		{name: "scheme in capitals", status: http.StatusOK,
			edit: func(r *http.Request) { r.Header.Set(hdrAuth, "HMAC"+strings.TrimPrefix(r.Header.Get(hdrAuth), "hmac")) }},
		{name: "timestamp and version headers in the other spelling", status: http.StatusOK, edit: func(r *http.Request) {
			r.Header.Set(hdrTimestampOther, r.Header.Get(hdrTimestamp))
			r.Header.Set(hdrVersionOther, r.Header.Get(hdrVersion))
			r.Header.Del(hdrTimestamp)
			r.Header.Del(hdrVersion)
		}},
		{name: "no Authentication header", status: 401, code: acapi.ErrorCodeMissingHeader, field: hdrAuth,
			breaks: "the security schemes require the Authentication header",
			edit:   func(r *http.Request) { r.Header.Del(hdrAuth) }},
		{name: "Authorization instead of Authentication", status: 401, code: acapi.ErrorCodeMissingHeader, field: hdrAuth,
			breaks: "the security schemes require the Authentication header",
			edit: func(r *http.Request) {
				r.Header.Set("Authorization", r.Header.Get(hdrAuth))
				r.Header.Del(hdrAuth)
			}},
		{name: "no timestamp header", status: 401, code: acapi.ErrorCodeMissingHeader, field: hdrTimestamp,
			edit: func(r *http.Request) { r.Header.Del(hdrTimestamp) }},
		{name: "no version header", status: 401, code: acapi.ErrorCodeMissingHeader, field: hdrVersion,
			edit: func(r *http.Request) { r.Header.Del(hdrVersion) }},
		{name: "Basic scheme", status: 401, code: acapi.ErrorCodeBadScheme, field: hdrAuth,
			edit: func(r *http.Request) {
				r.Header.Set(hdrAuth, "Basic "+strings.TrimPrefix(r.Header.Get(hdrAuth), "hmac "))
			}},
		{name: "credentials in two parts", status: 401, code: acapi.ErrorCodeBadHeader, field: hdrAuth,
			edit: func(r *http.Request) {
				replaceCredentials(r, func(c, n, _ string) string { return c + ":" + n })
			}},
		{name: "empty signature", status: 401, code: acapi.ErrorCodeBadHeader, field: hdrAuth,
			edit: func(r *http.Request) {
				replaceCredentials(r, func(c, n, _ string) string { return c + ":" + n + ":" })
			}},
		{name: "Authentication header sent twice", status: 401, code: acapi.ErrorCodeBadHeader, field: hdrAuth,
			edit: func(r *http.Request) { r.Header.Add(hdrAuth, r.Header.Get(hdrAuth)) }},
		{name: "timestamp not a number", status: 401, code: acapi.ErrorCodeBadHeader, field: hdrTimestamp,
			edit: func(r *http.Request) { r.Header.Set(hdrTimestamp, "yesterday") }},
		{name: "timestamp spellings disagree", status: 401, code: acapi.ErrorCodeBadHeader, field: secondFamily(hdrTimestamp, hdrTimestampOther),
			edit: func(r *http.Request) {
				ts, _ := strconv.ParseInt(r.Header.Get(hdrTimestamp), 10, 64)
				r.Header.Set(hdrTimestampOther, strconv.FormatInt(ts-1, 10))
			}},
		{name: "mobile SDK hex nonce", signer: withNonce(tg.signer(), acauth.FormatNonceHex), status: http.StatusOK},
		{name: "zero-padded decimal nonce", status: http.StatusOK,
			signer: withNonce(tg.signer(), func(n uint64) string { return "000" + strconv.FormatUint(n, 10) })},
		{name: "empty nonce", status: 401, code: acapi.ErrorCodeBadNonce, field: hdrAuth,
			edit: func(r *http.Request) {
				replaceCredentials(r, func(c, _, s string) string { return c + "::" + s })
			}},
		{name: "nonce of 65 characters", status: 401, code: acapi.ErrorCodeBadNonce, field: hdrAuth,
			edit: func(r *http.Request) {
				replaceCredentials(r, func(c, _, s string) string { return c + ":" + strings.Repeat("7", acauth.MaxNonceLen+1) + ":" + s })
			}},
		{name: "nonce with a non-ASCII character", status: 401, code: acapi.ErrorCodeBadNonce, field: hdrAuth,
			edit: func(r *http.Request) {
				replaceCredentials(r, func(c, n, s string) string { return c + ":" + n + "\u00e9:" + s })
			}},
		{name: "version 2", status: 401, code: acapi.ErrorCodeBadVersion, field: hdrVersion,
			edit: func(r *http.Request) { r.Header.Set(hdrVersion, "2") }},
		{name: "version header in the other spelling says 2", status: 401, code: acapi.ErrorCodeBadVersion, field: hdrVersionOther,
			edit: func(r *http.Request) {
				r.Header.Del(hdrVersion)
				r.Header.Set(hdrVersionOther, "2")
			}},
		{name: "timestamp ten minutes old", signer: shifted(-10 * time.Minute), status: 401, code: acapi.ErrorCodeStaleTimestamp, field: hdrTimestamp},
		{name: "timestamp ten minutes ahead", signer: shifted(10 * time.Minute), status: 401, code: acapi.ErrorCodeStaleTimestamp, field: hdrTimestamp},
		{name: "timestamp four minutes off is within the window", signer: shifted(-4 * time.Minute), status: http.StatusOK},
		{name: "unknown client", signer: newSigner("ffffffffffffffffffffffffffffffff", tg.appSecret), status: 401, code: acapi.ErrorCodeUnknownClient, field: hdrAuth},
		{name: "wrong secret", signer: newSigner(tg.appID, "WRONGSECRET000000000000000000000"), status: 401, code: acapi.ErrorCodeSignatureMismatch, field: hdrAuth, stringToSign: true},
		{name: "query added after signing", status: 401, code: acapi.ErrorCodeSignatureMismatch, field: hdrAuth, stringToSign: true,
			edit: func(r *http.Request) { r.URL.RawQuery = "x=1" }},
		{name: "signed for another host", status: 401, code: acapi.ErrorCodeSignatureMismatch, field: hdrAuth, stringToSign: true,
			edit: func(r *http.Request) {
				other := r.Clone(r.Context())
				other.Host = "activeapi.ninja"
				_ = tg.signer().SignRequest(r.Context(), other)
				r.Header = other.Header
			}},
		{name: "signature of another nonce", status: 401, code: acapi.ErrorCodeSignatureMismatch, field: hdrAuth, stringToSign: true,
			edit: func(r *http.Request) {
				replaceCredentials(r, func(c, n, s string) string {
					other := byte('0')
					if n[len(n)-1] == other {
						other = '1'
					}
					return c + ":" + n[:len(n)-1] + string(other) + ":" + s
				})
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			var sent *http.Request
			c := call{method: http.MethodGet, url: target, signer: tc.signer, breaks: tc.breaks, edit: func(r *http.Request) {
				if tc.edit != nil {
					tc.edit(r)
				}
				sent = r
			}}
			if c.signer == nil {
				c.signer = tg.signer()
			}
			r := tg.do(t, c)
			if tc.status == http.StatusOK {
				if r.status != http.StatusOK {
					t.Fatalf("want 200, got %s", r)
				}
				return
			}
			expectError(t, r, tc.status, tc.code, tc.field)
			if got := r.header.Get("WWW-Authenticate"); got != "hmac" {
				t.Errorf("a 401 names the scheme to sign with: WWW-Authenticate %q", got)
			}
			switch {
			case tc.stringToSign && (r.err.StringToSign == nil || *r.err.StringToSign != stringToSign(sent)):
				t.Errorf("string_to_sign %v, want %q (nonce + host + request URI + timestamp as sent)", r.err.StringToSign, stringToSign(sent))
			case !tc.stringToSign && r.err.StringToSign != nil:
				t.Errorf("string_to_sign belongs to signature_mismatch only, got %q", *r.err.StringToSign)
			}
			if strings.Contains(string(r.raw), tg.appSecret) {
				t.Errorf("a 401 must never carry the secret: %s", r.raw)
			}
		})
	}
}

// TestReplayedNonce reuses a nonce: the first request passes, every later one with that nonce is
// refused as replayed_nonce, whatever its URL, and a fresh nonce passes again.
func TestReplayedNonce(t *testing.T) {
	tg := newTarget(t)
	user := tg.user("replay")
	tg.addUsers(t, user)
	var nonce atomic.Uint64
	nonce.Store(uint64(time.Now().UnixNano()))
	s := tg.signer()
	s.Nonce = func() (uint64, error) { return nonce.Load(), nil }
	device := tg.userURL("/management/has_registered_mobile_device", user)
	link := tg.userURL("/management/device_registration_link", user)
	steps := []struct {
		name   string
		url    string
		next   bool // use a fresh nonce
		status int
	}{
		{"first use", device, false, http.StatusOK},
		{"same request again", device, false, http.StatusUnauthorized},
		{"same nonce on another URL", link, false, http.StatusUnauthorized},
		{"fresh nonce", device, true, http.StatusOK},
	}
	for _, st := range steps {
		if st.next {
			nonce.Add(1)
		}
		r := tg.do(t, call{method: http.MethodGet, url: st.url, signer: s})
		if st.status == http.StatusOK {
			if r.status != http.StatusOK {
				t.Fatalf("%s: want 200, got %s", st.name, r)
			}
			continue
		}
		expectError(t, r, st.status, acapi.ErrorCodeReplayedNonce, hdrAuth)
	}
}

// TestEveryOperationChecksSignatures signs a call of every operation with the wrong secret:
// 401 signature_mismatch each time, with the string the server signed.
func TestEveryOperationChecksSignatures(t *testing.T) {
	tg := newTarget(t)
	user := tg.user("signed")
	tg.addUsers(t, user)
	var s *session
	if tg.cfg.control {
		tg.registerPhone(t, user)
		started := tg.authenticate(t, user)
		s = &started
	}
	for _, op := range operationCalls() {
		t.Run(op.id, func(t *testing.T) {
			tg.parallel(t)
			c := call{method: op.method, url: tg.baseURL + op.path(tg.appID, user, ""), signer: newSigner(tg.appID, "WRONGSECRET000000000000000000000")}
			if op.sessionScoped() {
				if s == nil {
					t.Skipf("skipped against %s: a session needs a phone, which only acmock registers by opening a link", tg.cfg.where())
				}
				c.url, c.signer, c.contentType = s.statusURL, newSigner(s.token, "WRONGSECRET000000000000000000000"), "application/json"
				if op.id == "logout" {
					c.url = s.logoutURL
				}
			}
			if op.body != "" {
				c.body = []byte(op.body)
			}
			var sent *http.Request
			c.edit = func(r *http.Request) { sent = r }
			r := tg.do(t, c)
			expectError(t, r, http.StatusUnauthorized, acapi.ErrorCodeSignatureMismatch, hdrAuth)
			if r.err.StringToSign == nil || *r.err.StringToSign != stringToSign(sent) {
				t.Errorf("string_to_sign %v, want %q", r.err.StringToSign, stringToSign(sent))
			}
		})
	}
}

// TestSignatureBeforeContent sends requests that break the spec in their body or query with a
// wrong secret, and without a signature: 401 each time, never the 400 that would tell a caller who
// is not authenticated something about its request. An unknown application stays a 404.
func TestSignatureBeforeContent(t *testing.T) {
	tg := newTarget(t)
	user := tg.user("unsigned")
	tg.addUsers(t, user)
	wrong := acauth.NewSigner(tg.appID, "WRONGSECRET000000000000000000000")
	const unknownApp = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, method, url, body string
	}{
		{"addUsers with no user", http.MethodPost, tg.appURL("/management/add_users"), `{"users": []}`},
		{"addUsers with broken JSON", http.MethodPost, tg.appURL("/management/add_users"), `{"users": [`},
		{"sendRegistrationSms without a phone number", http.MethodPost, tg.userURL("/management/send_registration_sms", user), `{}`},
		{"authenticateUser with an unknown method", http.MethodPost, tg.userURL("/authentication/authenticate_user", user) + "?methods=telepathy", `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			for _, signer := range []*acauth.Signer{wrong, nil} {
				r := tg.do(t, call{method: tc.method, url: tc.url, body: []byte(tc.body), signer: signer, breaks: tc.name})
				code := acapi.ErrorCodeSignatureMismatch
				if signer == nil {
					code = acapi.ErrorCodeMissingHeader
				}
				expectError(t, r, http.StatusUnauthorized, code, hdrAuth)
			}
			unknown := strings.Replace(tc.url, "/"+url.PathEscape(tg.appID), "/"+unknownApp, 1)
			r := tg.do(t, call{method: tc.method, url: unknown, body: []byte(tc.body), signer: acauth.NewSigner(unknownApp, "x"), breaks: tc.name})
			expectError(t, r, http.StatusNotFound, acapi.ErrorCodeUnknownApplication, "application_id")
		})
	}
}

// TestWallClockShift moves the wall time the emulator checks signatures against (PUT
// /_acmock/wallclock), as a test of a client whose clock is wrong would: a correctly timed request
// becomes stale, one timed like the shifted clock passes.
func TestWallClockShift(t *testing.T) {
	tg := newTarget(t, exclusiveTo("shift the wall time the server checks signatures against"))
	ctx := t.Context()
	user := tg.user("skewed")
	tg.addUsers(t, user)
	shift := "-10m"
	res, err := tg.ctl.PutWallClockWithResponse(ctx, acctl.WallClockUpdate{Shift: &shift})
	if err != nil || res.JSON200 == nil {
		t.Fatalf("shift the wall clock: %v %v", err, res)
	}
	t.Cleanup(func() {
		zero := "0s"
		if res, err := tg.ctl.PutWallClockWithResponse(context.Background(), acctl.WallClockUpdate{Shift: &zero}); err != nil || res.StatusCode() != http.StatusOK {
			t.Errorf("restore the wall clock: %v %v", err, res)
		}
	})
	target := tg.userURL("/management/has_registered_mobile_device", user)
	behind := tg.signer()
	behind.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	tests := []struct {
		name   string
		signer *acauth.Signer
		status int
	}{
		{"a correct clock is now ten minutes ahead", tg.signer(), http.StatusUnauthorized},
		{"a clock ten minutes behind matches", behind, http.StatusOK},
	}
	for _, tc := range tests {
		r := tg.do(t, call{method: http.MethodGet, url: target, signer: tc.signer})
		if tc.status == http.StatusOK {
			if r.status != http.StatusOK {
				t.Errorf("%s: want 200, got %s", tc.name, r)
			}
			continue
		}
		expectError(t, r, tc.status, acapi.ErrorCodeStaleTimestamp, hdrTimestamp)
	}
}

// TestEveryHeaderFamily signs a call with each of the six header families: each is accepted,
// and the journal names the headers the call used, as the family spells them.
func TestEveryHeaderFamily(t *testing.T) {
	tg := newTarget(t, acmockTo("read in its journal which header names each call used"))
	user := tg.user("families")
	tg.addUsers(t, user)
	target := tg.userURL("/management/has_registered_mobile_device", user)
	for _, fam := range acauth.HeaderFamilies() {
		s := tg.signer()
		s.Headers = fam
		if r := tg.do(t, call{method: http.MethodGet, url: target, signer: s}); r.status != http.StatusOK {
			t.Fatalf("%s: want 200, got %s", fam, r)
		}
	}
	op := "hasRegisteredMobileDevice"
	res, err := tg.ctl.ListRequestsWithResponse(context.Background(), &acctl.ListRequestsParams{User: &user, Operation: &op})
	if err != nil || res.JSON200 == nil {
		t.Fatalf("journal: %v %v", err, res)
	}
	var got []string
	for _, e := range res.JSON200.Entries {
		if e.AuthHeaders == nil {
			t.Fatalf("journal entry %d names no headers", e.Seq)
		}
		got = append(got, strings.Join(*e.AuthHeaders, ","))
	}
	var want []string
	for _, fam := range acauth.HeaderFamilies() {
		want = append(want, fam.Timestamp()+","+fam.Version())
	}
	if !slices.Equal(got, want) {
		t.Errorf("the journal names\n%q\nwant\n%q", got, want)
	}
}

// TestSuiteSigning checks that the suite signs as configured (ACMOCK_CONTRACT_HEADERS): the
// generated client, the suite's own calls, a session's calls and the Go library all send the
// family's names, as the server's journal shows, so that a run with another family tests it end
// to end.
func TestSuiteSigning(t *testing.T) {
	tg := newTarget(t, stillTo("register a phone and read in the journal which header names the calls used"))
	user := tg.user("signing")
	tg.addUsers(t, user)
	if res, err := tg.api.HasRegisteredMobileDeviceWithResponse(context.Background(), tg.appID, user); err != nil || res.StatusCode() != http.StatusOK {
		t.Fatalf("the generated client: %v %v", err, res)
	}
	tg.registerPhone(t, user)     // the suite's own calls
	s := tg.authenticate(t, user) //
	tg.status(t, s)               // signed with the session's credentials
	mgmt, err := activeconnect.NewManagementAPI(tg.appID, tg.appSecret, activeconnect.WithBaseURL(tg.baseURL),
		activeconnect.WithHTTPClient(tg.client), activeconnect.WithHeaderFamily(signing.family))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgmt.HasRegisteredMobileDevice(context.Background(), user); err != nil {
		t.Fatalf("the Go library: %v", err)
	}
	res, err := tg.ctl.ListRequestsWithResponse(context.Background(), &acctl.ListRequestsParams{User: &user})
	if err != nil || res.JSON200 == nil {
		t.Fatalf("journal: %v %v", err, res)
	}
	want := hdrTimestamp + "," + hdrVersion
	ops := map[string]int{}
	for _, e := range res.JSON200.Entries {
		if e.Operation == nil || e.Hmac == "" { // opening a registration link is not signed
			continue
		}
		ops[*e.Operation]++
		if e.AuthHeaders == nil || strings.Join(*e.AuthHeaders, ",") != want {
			t.Errorf("%s was signed with %v, want %s", *e.Operation, e.AuthHeaders, want)
		}
	}
	wantOps := map[string]int{"hasRegisteredMobileDevice": 2, "getDeviceRegistrationLink": 1, "authenticateUser": 1, "getSessionStatus": 1}
	if !maps.Equal(ops, wantOps) {
		t.Errorf("the journal of %s holds %v, want %v", user, ops, wantOps)
	}
}
