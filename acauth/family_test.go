package acauth_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
)

// The six header names of each kind, written out rather than derived, so that a typo in a
// constant fails here.
var (
	sixTimestamps = []string{
		"X-Activeconnect-Authentication-Timestamp", "X-Activeconnect-Authentiaction-Timestamp",
		"X-IAMPASS-Authentiaction-Timestamp", "X-IAMPASS-Authentication-Timestamp",
		"X-Sonikpass-Authentication-Timestamp", "X-Sonikpass-Authentiaction-Timestamp",
	}
	sixVersions = []string{
		"X-Activeconnect-Authentication-Version", "X-Activeconnect-Authentiaction-Version",
		"X-IAMPASS-Authentiaction-Version", "X-IAMPASS-Authentication-Version",
		"X-Sonikpass-Authentication-Version", "X-Sonikpass-Authentiaction-Version",
	}
)

func TestHeaderFamilies(t *testing.T) {
	t.Parallel()
	fams := acauth.HeaderFamilies()
	if len(fams) != 6 {
		t.Fatalf("%d families, want 6", len(fams))
	}
	for i, f := range fams {
		if f.Timestamp() != sixTimestamps[i] || f.Version() != sixVersions[i] || !f.Valid() {
			t.Errorf("family %d: %q %q valid=%v", i, f.Timestamp(), f.Version(), f.Valid())
		}
	}
	if acauth.FamilyActiveconnect.Timestamp() != acauth.HeaderTimestamp || acauth.FamilyActiveconnectAuthentiaction.Version() != acauth.HeaderVersionMisspelled {
		t.Error("the Activeconnect families disagree with the Header constants")
	}
	for _, bad := range []acauth.HeaderFamily{"", "X-Iampass-Authentiaction", "X-IAMPASS"} {
		if bad.Valid() {
			t.Errorf("%q is valid", bad)
		}
	}
}

func TestParseHeaderFamily(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]acauth.HeaderFamily{
		"activeconnect": acauth.FamilyActiveconnect, "IAMPASS": acauth.FamilyIAMPASS, " Sonikpass ": acauth.FamilySonikpass,
		"x-iampass-authentication":       acauth.FamilyIAMPASSAuthentication,
		"X-Activeconnect-Authentiaction": acauth.FamilyActiveconnectAuthentiaction,
		"X-SONIKPASS-AUTHENTIACTION":     acauth.FamilySonikpassAuthentiaction,
	} {
		if got, err := acauth.ParseHeaderFamily(in); err != nil || got != want {
			t.Errorf("ParseHeaderFamily(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "iam", "X-IAMPASS-Authentiaction-Timestamp", "activeconnect2"} {
		if _, err := acauth.ParseHeaderFamily(bad); err == nil || !strings.Contains(err.Error(), "iampass") {
			t.Errorf("ParseHeaderFamily(%q) = %v, want an error listing the choices", bad, err)
		}
	}
}

// TestEveryHeaderFamilyAccepted signs with each of the six families: the request carries that
// family's two headers and no others, and verifies.
func TestEveryHeaderFamilyAccepted(t *testing.T) {
	t.Parallel()
	for i, fam := range acauth.HeaderFamilies() {
		t.Run(string(fam), func(t *testing.T) {
			t.Parallel()
			r := signedWith(t, testTarget, appID, appSecret, "42", fam, testNow)
			if got, want := acauth.HeadersUsed(r.Header), []string{sixTimestamps[i], sixVersions[i]}; !slices.Equal(got, want) {
				t.Fatalf("sent %q, want %q", got, want)
			}
			if id, rej := newTestVerifier().Verify(r); rej != nil || id != appID {
				t.Fatalf("Verify = %q, %v", id, rej)
			}
		})
	}
}

// TestHeaderNamesWithoutCase sends raw HTTP/1.1 requests whose timestamp and version header names
// are in lower, upper and mixed case, the way clients in other languages may write them, to a
// real server: every spelling verifies, and HeadersUsed names the family as documented.
func TestHeaderNamesWithoutCase(t *testing.T) {
	t.Parallel()
	const target = "/management/add_users/" + appID
	verifier := newTestVerifier()
	srv := httptest.NewServer(verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Join(acauth.HeadersUsed(r.Header), ","))
	})))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	cases := []struct{ ts, version, want string }{
		{"x-activeconnect-authentication-timestamp", "X-ACTIVECONNECT-AUTHENTICATION-VERSION", sixTimestamps[0] + "," + sixVersions[0]},
		{"X-ACTIVECONNECT-AUTHENTIACTION-TIMESTAMP", "x-activeconnect-authentiaction-version", sixTimestamps[1] + "," + sixVersions[1]},
		{"x-iampass-authentiaction-timestamp", "X-IAMPASS-Authentiaction-Version", sixTimestamps[2] + "," + sixVersions[2]},
		{"X-iAmPaSs-AuThEnTiCaTiOn-TiMeStAmP", "x-iampass-authentication-version", sixTimestamps[3] + "," + sixVersions[3]},
		{"x-sonikpass-authentication-timestamp", "X-SONIKPASS-AUTHENTICATION-VERSION", sixTimestamps[4] + "," + sixVersions[4]},
		{"X-SONIKPASS-AUTHENTIACTION-TIMESTAMP", "x-Sonikpass-Authentiaction-version", sixTimestamps[5] + "," + sixVersions[5]},
	}
	for i, tc := range cases {
		t.Run(tc.ts, func(t *testing.T) {
			t.Parallel()
			nonce := fmt.Sprint(1000 + i)
			ts := fmt.Sprint(testNow.Unix())
			auth := acauth.FormatAuthentication(appID, nonce, acauth.Sign(appSecret, nonce, host+target, ts))
			raw := "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nAuthentication: " + auth + "\r\n" +
				tc.ts + ": " + ts + "\r\n" + tc.version + ": 1\r\nConnection: close\r\n\r\n"
			status, body := rawRequest(t, host, raw)
			if status != http.StatusOK || body != tc.want {
				t.Errorf("got %d %q, want 200 %q", status, body, tc.want)
			}
		})
	}
	// A hand-built header map with keys that are not in canonical form is read the same way.
	r := signedWith(t, testTarget, appID, appSecret, "2000", acauth.FamilyIAMPASS, testNow)
	for canon, raw := range map[string]string{
		"X-Iampass-Authentiaction-Timestamp": "x-iampass-authentiaction-timestamp",
		"X-Iampass-Authentiaction-Version":   "X-IAMPASS-AUTHENTIACTION-VERSION",
		acauth.HeaderAuthentication:          "AUTHENTICATION",
	} {
		if r.Header[canon] == nil {
			t.Fatalf("signer did not set %s: %v", canon, r.Header)
		}
		r.Header[raw], r.Header[canon] = r.Header[canon], nil
		delete(r.Header, canon)
	}
	if _, rej := verifier.Verify(r); rej != nil {
		t.Errorf("non-canonical keys: %v", rej)
	}
}

// rawRequest writes a request byte for byte and returns the status and body of the answer.
func rawRequest(t *testing.T, host, raw string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b.String()
}

// TestMixedHeaderFamilies: headers of several families may come together when they agree; when
// they carry different values, or one is repeated, the request is refused naming them.
func TestMixedHeaderFamilies(t *testing.T) {
	t.Parallel()
	ts := fmt.Sprint(testNow.Unix())
	later := fmt.Sprint(testNow.Unix() + 1)
	iTS, iV := acauth.FamilyIAMPASS.Timestamp(), acauth.FamilyIAMPASS.Version()
	sTS, sV := acauth.FamilySonikpass.Timestamp(), acauth.FamilySonikpass.Version()
	aTS, aV := acauth.HeaderTimestamp, acauth.HeaderVersion
	tests := []struct {
		name    string
		headers [][2]string // added to a request signed without timestamp and version headers
		code    string      // "" means accepted
		field   string
		message []string // substrings of the message
	}{
		{name: "timestamp of one family, version of another", headers: [][2]string{{iTS, ts}, {sV, "1"}}},
		{name: "the same timestamp under three names", headers: [][2]string{{aTS, ts}, {iTS, ts}, {sTS, ts}, {iV, "1"}}},
		{name: "the same version under six names", headers: append([][2]string{{sTS, ts}}, pairs(sixVersions, "1")...)},
		{name: "timestamps that differ", headers: [][2]string{{iTS, ts}, {sTS, later}, {iV, "1"}},
			code: acauth.CodeBadHeader, field: sTS, message: []string{"headers " + iTS + " and " + sTS + " carry different timestamps"}},
		{name: "a third timestamp differs", headers: [][2]string{{aTS, ts}, {iTS, ts}, {sTS, later}, {aV, "1"}},
			code: acauth.CodeBadHeader, field: sTS, message: []string{"3 headers carry the timestamp, with different values: " + aTS + ", " + iTS + " and " + sTS}},
		{name: "versions that differ", headers: [][2]string{{iTS, ts}, {iV, "1"}, {sV, "2"}},
			code: acauth.CodeBadHeader, field: sV, message: []string{"headers " + iV + " and " + sV + " carry different versions"}},
		{name: "an IAMPASS timestamp sent twice", headers: [][2]string{{iTS, ts}, {iTS, ts}, {iV, "1"}},
			code: acauth.CodeBadHeader, field: iTS, message: []string{"more than once"}},
		{name: "no timestamp, IAMPASS version", headers: [][2]string{{iV, "1"}},
			code: acauth.CodeMissingHeader, field: iTS, message: []string{"X-IAMPASS-", "X-Sonikpass-"}},
		{name: "Sonikpass timestamp, no version", headers: [][2]string{{sTS, ts}},
			code: acauth.CodeMissingHeader, field: sV},
		{name: "neither", code: acauth.CodeMissingHeader, field: aTS},
		{name: "IAMPASS version 2", headers: [][2]string{{iTS, ts}, {iV, "2"}},
			code: acauth.CodeBadVersion, field: iV},
		{name: "Sonikpass timestamp not a number", headers: [][2]string{{sTS, "soon"}, {sV, "1"}},
			code: acauth.CodeBadHeader, field: sTS},
		{name: "stale IAMPASS timestamp", headers: [][2]string{{iTS, fmt.Sprint(testNow.Unix() - 1000)}, {iV, "1"}},
			code: acauth.CodeStaleTimestamp, field: iTS},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := signedWith(t, testTarget, appID, appSecret, fmt.Sprint(i), "", testNow)
			r.Header.Del(aTS)
			r.Header.Del(aV)
			for _, h := range tc.headers {
				r.Header.Add(h[0], h[1])
			}
			_, rej := newTestVerifier().Verify(r)
			switch {
			case tc.code == "" && rej != nil:
				t.Fatalf("refused: %v", rej)
			case tc.code == "":
				return
			case rej == nil:
				t.Fatalf("accepted, want %s", tc.code)
			case rej.Code != tc.code || rej.Field != tc.field:
				t.Fatalf("got %s field %q (%s), want %s field %q", rej.Code, rej.Field, rej.Message, tc.code, tc.field)
			}
			for _, m := range tc.message {
				if !strings.Contains(rej.Message, m) {
					t.Errorf("message %q does not say %q", rej.Message, m)
				}
			}
		})
	}
}

func pairs(names []string, value string) [][2]string {
	out := make([][2]string, len(names))
	for i, n := range names {
		out[i] = [2]string{n, value}
	}
	return out
}

// TestSignatureMismatchNamesTimestampHeader: the explanation of a mismatch says which header the
// timestamp in string_to_sign came from, and the 401 body carries it.
func TestSignatureMismatchNamesTimestampHeader(t *testing.T) {
	t.Parallel()
	for _, fam := range acauth.HeaderFamilies() {
		t.Run(string(fam), func(t *testing.T) {
			t.Parallel()
			r := signedWith(t, testTarget, appID, "not-the-secret", "7FFFFFFFFFFFFFFF", fam, testNow)
			w := httptest.NewRecorder()
			newTestVerifier().Middleware(http.NotFoundHandler()).ServeHTTP(w, r)
			var body acauth.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			want := "7FFFFFFFFFFFFFFF127.0.0.1:8080/management/has_registered_mobile_device/" + appID + "/MY+USER+1?x=a%2Fb1700000000"
			if body.Code != acauth.CodeSignatureMismatch || body.StringToSign != want || !strings.Contains(body.Message, "timestamp from "+fam.Timestamp()) {
				t.Errorf("body %s; want signature_mismatch naming %s with string_to_sign %q", w.Body, fam.Timestamp(), want)
			}
		})
	}
}

// TestOpaqueNonces: decimal nonces, the mobile SDK's hex nonces and any other token of printable
// ASCII verify once each; the exact text again is a replay, and spellings of the same number are
// different nonces.
func TestOpaqueNonces(t *testing.T) {
	t.Parallel()
	v := newTestVerifier()
	nonces := []string{
		"9223372036854775807", "18446744073709551615", "0", "7", "007", "+7", "18446744073709551616",
		"7FFFFFFFFFFFFFFF", "00000000075BCD15", "0000000000000007", "deadbeef", "0x7",
		"1b4e28ba-2fa1-11d2-883f-0016d3cca427", " padded ", "~!@#$%^&*()_+{}|\"<>?`-=[]\\;',./",
		strings.Repeat("F", acauth.MaxNonceLen),
	}
	for _, n := range nonces {
		if _, rej := v.Verify(signedWith(t, testTarget, appID, appSecret, n, acauth.FamilySonikpass, testNow)); rej != nil {
			t.Errorf("nonce %q: %v", n, rej)
		}
	}
	for _, n := range nonces {
		// A new signature one second later, the same nonce: still a replay.
		_, rej := v.Verify(signedWith(t, testTarget, appID, appSecret, n, acauth.FamilyIAMPASS, testNow.Add(time.Second)))
		if rej == nil || rej.Code != acauth.CodeReplayedNonce {
			t.Errorf("replayed nonce %q: %v", n, rej)
		}
	}
	if got := v.ReplayCacheLen(); got != len(nonces) {
		t.Errorf("cache holds %d nonces, want %d", got, len(nonces))
	}
}

// TestBadNonceMessages: an empty or over-long nonce, or one with a byte outside printable ASCII,
// is bad_nonce, and the message says which rule it broke.
func TestBadNonceMessages(t *testing.T) {
	t.Parallel()
	for nonce, want := range map[string]string{
		"":                                 "this one is empty",
		strings.Repeat("1", 65):            "this one is 65 bytes long",
		strings.Repeat("1", 1000):          "this one is 1000 bytes long",
		"12\t34":                           "this one has byte 0x09 at position 3",
		"n\u00f6nce":                       "this one has byte 0xC3 at position 2",
		"\x7f":                             "this one has byte 0x7F at position 1",
		strings.Repeat("1", 64) + "\u00e9": "this one is 66 bytes long",
	} {
		r := signed(t, testTarget, appID, appSecret, 1, testNow)
		r.Header.Set(acauth.HeaderAuthentication, "hmac "+appID+":"+nonce+":LzhljO/bzFUGSTUMwyDHzw==")
		_, rej := newTestVerifier().Verify(r)
		if rej == nil || rej.Code != acauth.CodeBadNonce || rej.Field != acauth.HeaderAuthentication ||
			!strings.Contains(rej.Message, "1 to 64 characters of printable ASCII") || !strings.HasSuffix(rej.Message, want) {
			t.Errorf("nonce %q: %v, want bad_nonce ending %q", nonce, rej, want)
		}
	}
}

func TestHeadersUsed(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	if got := acauth.HeadersUsed(h); got != nil {
		t.Errorf("empty header: %q", got)
	}
	h.Set("X-Sonikpass-Authentication-Version", "1")
	h.Set("x-iampass-authentiaction-timestamp", "1")
	h["x-activeconnect-authentication-timestamp"] = []string{"1"} // not canonical
	h.Set("X-IAMPASS-Authentiaction", "1")                        // no suffix: not a protocol header
	h.Set("X-Other-Timestamp", "1")
	want := []string{"X-Activeconnect-Authentication-Timestamp", "X-IAMPASS-Authentiaction-Timestamp", "X-Sonikpass-Authentication-Version"}
	if got := acauth.HeadersUsed(h); !slices.Equal(got, want) {
		t.Errorf("HeadersUsed = %q, want %q", got, want)
	}
}

// TestHeadersUsedEveryPair: for each family's timestamp header (or none) with each family's
// version header (or none), in any case, HeadersUsed names exactly those headers, timestamp
// first. The answers are shared between calls, so a caller appending to one must not change
// what the next call returns.
func TestHeadersUsedEveryPair(t *testing.T) {
	t.Parallel()
	for ts := -1; ts < len(sixTimestamps); ts++ {
		for v := -1; v < len(sixVersions); v++ {
			h := http.Header{"Authentication": {"hmac a:1:x"}, "User-Agent": {"test"}}
			var want []string
			if ts >= 0 {
				h[strings.ToLower(sixTimestamps[ts])] = []string{"1700000000"}
				want = append(want, sixTimestamps[ts])
			}
			if v >= 0 {
				h.Set(sixVersions[v], "1")
				want = append(want, sixVersions[v])
			}
			got := acauth.HeadersUsed(h)
			if !slices.Equal(got, want) || (want == nil) != (got == nil) {
				t.Errorf("timestamp %d, version %d: HeadersUsed = %q, want %q", ts, v, got, want)
			}
			if len(got) > 0 {
				if extended := append(got, "appended"); len(extended) != len(want)+1 {
					t.Fatalf("appended to %q: %q", got, extended)
				}
				if again := acauth.HeadersUsed(h); !slices.Equal(again, want) {
					t.Errorf("timestamp %d, version %d: after an append HeadersUsed = %q, want %q", ts, v, again, want)
				}
			}
		}
	}
}

// TestReplayIsCaseExact: the replay cache tells nonces apart byte for byte. A hex nonce in lower case
// is a different nonce from its upper-case twin, in either order, while the exact text again is a
// replay. A verifier that folded case before keying the cache would refuse the twins.
func TestReplayIsCaseExact(t *testing.T) {
	t.Parallel()
	v := newTestVerifier()
	steps := []struct {
		nonce string
		code  string // "" means accepted
	}{
		{"7FFFFFFFFFFFFFFF", ""},
		{"7fffffffffffffff", ""},
		{"7FFFFFFFFFFFFFFF", acauth.CodeReplayedNonce},
		{"7fffffffffffffff", acauth.CodeReplayedNonce},
		{"deadbeefcafe0001", ""},
		{"DEADBEEFCAFE0001", ""},
		{"DeadBeefCafe0001", ""},
		{"DEADBEEFCAFE0001", acauth.CodeReplayedNonce},
	}
	for i, st := range steps {
		// A new second per step: a replay carries a fresh signature, as a real one would.
		_, rej := v.Verify(signedWith(t, testTarget, appID, appSecret, st.nonce, acauth.FamilySonikpass, testNow.Add(time.Duration(i)*time.Second)))
		switch {
		case st.code == "" && rej != nil:
			t.Errorf("step %d: fresh nonce %q refused: %v", i, st.nonce, rej)
		case st.code != "" && (rej == nil || rej.Code != st.code):
			t.Errorf("step %d: nonce %q again: %v, want %s", i, st.nonce, rej, st.code)
		}
	}
}

// documentedMaxNonce is the longest nonce the documentation promises (api/openapi.yaml, README
// and the package documentation say "1 to 64 characters"), written out rather than taken from
// MaxNonceLen so that a change of the constant alone fails here.
const documentedMaxNonce = 64

// TestNonceLengthLimit: a nonce of exactly the documented maximum verifies; one byte more is
// bad_nonce saying how long it was.
func TestNonceLengthLimit(t *testing.T) {
	t.Parallel()
	if acauth.MaxNonceLen != documentedMaxNonce {
		t.Errorf("MaxNonceLen = %d, the documentation says %d", acauth.MaxNonceLen, documentedMaxNonce)
	}
	v := newTestVerifier()
	longest := strings.Repeat("A", documentedMaxNonce-1) + "Z"
	if _, rej := v.Verify(signedWith(t, testTarget, appID, appSecret, longest, "", testNow)); rej != nil {
		t.Errorf("nonce of %d bytes: %v", documentedMaxNonce, rej)
	}
	r := signedWith(t, testTarget, appID, appSecret, "1", "", testNow)
	r.Header.Set(acauth.HeaderAuthentication, "hmac "+appID+":"+longest+"1:LzhljO/bzFUGSTUMwyDHzw==")
	_, rej := v.Verify(r)
	if rej == nil || rej.Code != acauth.CodeBadNonce || !strings.HasSuffix(rej.Message, fmt.Sprintf("is %d bytes long", documentedMaxNonce+1)) {
		t.Errorf("nonce of %d bytes: %v, want bad_nonce", documentedMaxNonce+1, rej)
	}
}

// TestNonceWithColon: a nonce holding ':' is refused as bad_nonce, as the specification says, with
// a message that names the colon and says how the credentials were split; the header still parses
// unambiguously because neither the client ID nor the base64 signature can hold ':'.
func TestNonceWithColon(t *testing.T) {
	t.Parallel()
	for auth, want := range map[string]string{
		"hmac " + appID + ":ab:cd:LzhljO/bzFUGSTUMwyDHzw==":   "this one has ':' at position 3",
		"hmac " + appID + "::cd:LzhljO/bzFUGSTUMwyDHzw==":     "this one has ':' at position 1",
		"hmac " + appID + ":a:b:c:LzhljO/bzFUGSTUMwyDHzw==":   "this one has ':' at position 2",
		"hmac " + appID + ":7FFF:FFFF:LzhljO/bzFUGSTUMwyDHzw": "this one has ':' at position 5",
	} {
		r := signed(t, testTarget, appID, appSecret, 1, testNow)
		r.Header.Set(acauth.HeaderAuthentication, auth)
		_, rej := newTestVerifier().Verify(r)
		if rej == nil || rej.Code != acauth.CodeBadNonce || rej.Field != acauth.HeaderAuthentication ||
			!strings.Contains(rej.Message, want) || !strings.Contains(rej.Message, "between the first and the last ':'") {
			t.Errorf("%s: %v, want bad_nonce saying %q", auth, rej, want)
		}
	}
	// Fewer than three parts, or an empty client ID or signature, stays bad_header.
	for _, auth := range []string{"hmac " + appID + ":1", "hmac :a:b:sig", "hmac " + appID + ":a:b:"} {
		r := signed(t, testTarget, appID, appSecret, 1, testNow)
		r.Header.Set(acauth.HeaderAuthentication, auth)
		if _, rej := newTestVerifier().Verify(r); rej == nil || rej.Code != acauth.CodeBadHeader {
			t.Errorf("%s: %v, want bad_header", auth, rej)
		}
	}
}

// TestReplayKeyRoom: the replay cache's bound is its entry count alone, whatever the length of
// the keys (a key is the client ID, ':' and the nonce; the cache keeps a fixed-size hash of it):
// a cache of 1000 entries remembers the last 1000 of the longest nonces, as it does of short
// ones, and has forgotten the one before them.
func TestReplayKeyRoom(t *testing.T) {
	t.Parallel()
	const size = 1000
	long := newTestVerifier(acauth.WithReplayCacheSize(size))
	short := newTestVerifier(acauth.WithReplayCacheSize(size))
	longNonce := func(i int) string { return fmt.Sprintf("%064d", i) }
	for i := range 2 * size {
		if _, rej := long.Verify(signedWith(t, testTarget, appID, appSecret, longNonce(i), "", testNow)); rej != nil {
			t.Fatalf("long nonce %d: %v", i, rej)
		}
		if _, rej := short.Verify(signedWith(t, testTarget, appID, appSecret, fmt.Sprint(i), "", testNow)); rej != nil {
			t.Fatalf("short nonce %d: %v", i, rej)
		}
	}
	if got := long.ReplayCacheLen(); got != size {
		t.Errorf("cache of %d with %d-byte keys holds %d", size, len(appID)+1+documentedMaxNonce, got)
	}
	if got := short.ReplayCacheLen(); got != size {
		t.Errorf("cache of %d with short keys holds %d", size, got)
	}
	// The oldest long nonce still held is remembered; the one before it is not.
	later := testNow.Add(time.Second)
	if _, rej := long.Verify(signedWith(t, testTarget, appID, appSecret, longNonce(size), "", later)); rej == nil || rej.Code != acauth.CodeReplayedNonce {
		t.Errorf("oldest long nonce held, again: %v", rej)
	}
	if _, rej := long.Verify(signedWith(t, testTarget, appID, appSecret, longNonce(size-1), "", later)); rej != nil {
		t.Errorf("evicted long nonce again: %v", rej)
	}
}

// TestConflictNamesTheOddOneOut: when headers of one kind disagree, the value most of them carry
// (on a tie, the first in family order) is taken as agreed, and field names the first header whose
// value differs. The message speaks of two headers as two and of more as many, and quotes the
// values.
func TestConflictNamesTheOddOneOut(t *testing.T) {
	t.Parallel()
	ts := fmt.Sprint(testNow.Unix())
	later := fmt.Sprint(testNow.Unix() + 1)
	aTS, aaTS, iTS, sTS := acauth.HeaderTimestamp, acauth.HeaderTimestampMisspelled, acauth.FamilyIAMPASS.Timestamp(), acauth.FamilySonikpass.Timestamp()
	tests := []struct {
		name    string
		headers [][2]string
		field   string
		message string
	}{
		{"two agree, Sonikpass differs", [][2]string{{aaTS, ts}, {iTS, ts}, {sTS, later}}, sTS,
			`3 headers carry the timestamp, with different values: ` + aaTS + `, ` + iTS + ` and ` + sTS + `; ` +
				sTS + ` has "1700000001" where ` + aaTS + ` has "1700000000"; send one of them, or the same value in all`},
		{"the first in family order differs", [][2]string{{aTS, later}, {iTS, ts}, {sTS, ts}}, aTS,
			aTS + ` has "1700000001" where ` + iTS + ` has "1700000000"`},
		{"two headers", [][2]string{{iTS, ts}, {sTS, later}}, sTS,
			`headers ` + iTS + ` and ` + sTS + ` carry different timestamps ("1700000000" and "1700000001"); send one of them, or the same value in both`},
		{"three values, none shared", [][2]string{{aTS, ts}, {iTS, later}, {sTS, "1700000002"}}, iTS,
			iTS + ` has "1700000001" where ` + aTS + ` has "1700000000"`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := signedWith(t, testTarget, appID, appSecret, fmt.Sprint(i), "", testNow)
			r.Header.Del(aTS)
			for _, h := range tc.headers {
				r.Header.Add(h[0], h[1])
			}
			_, rej := newTestVerifier().Verify(r)
			if rej == nil {
				t.Fatal("accepted")
			}
			if rej.Code != acauth.CodeBadHeader || rej.Field != tc.field || !strings.Contains(rej.Message, tc.message) {
				t.Fatalf("got %v (field %q), want bad_header field %q saying %q", rej, rej.Field, tc.field, tc.message)
			}
			if len(tc.headers) == 2 && strings.Contains(rej.Message, " all ") {
				t.Errorf("message for two headers speaks of all: %q", rej.Message)
			}
		})
	}
}
