package acauth_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
)

func FuzzParseAuthentication(f *testing.F) {
	for _, seed := range []string{
		"hmac ABCD:9223372036854775807:LzhljO/bzFUGSTUMwyDHzw==",
		"HMAC\tc9b5062204254e5bb972ae06e4bbb315:1:1itZ/oE1yMUKVeDFqZq7mQ==",
		"  hmac a:0:b  ",
		"hmac a:01:b",
		"hmac a:18446744073709551616:b",
		"hmac a::b",
		"hmac a:1:b:c",
		"hmac",
		"Bearer x",
		"",
		"hmac \u00a0a:1:b\u00a0",
		"hmac ABCD:7FFFFFFFFFFFFFFF:EFhETu7mkMHSmoaAjC8umg==",
		"hmac a:0x10:b",
		"hmac a: spaced nonce :b",
		"hmac a:" + strings.Repeat("9", acauth.MaxNonceLen) + ":b",
		"hmac a:" + strings.Repeat("9", acauth.MaxNonceLen+1) + ":b",
		"hmac a:1\t2:b",
		"hmac a:n\u00f6nce:b",
		"hmac a:\x7f:b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		id, nonce, sig, err := acauth.ParseAuthentication(header)
		if err != nil {
			if id != "" || nonce != "" || sig != "" {
				t.Fatalf("error %v with non-empty results", err)
			}
			if !errors.Is(err, acauth.ErrBadScheme) && !errors.Is(err, acauth.ErrBadHeader) && !errors.Is(err, acauth.ErrBadNonce) {
				t.Fatalf("error %v wraps none of the sentinels", err)
			}
			return
		}
		if id == "" || nonce == "" || sig == "" || strings.Contains(id, ":") || strings.Contains(nonce, ":") || strings.Contains(sig, ":") {
			t.Fatalf("accepted %q as %q %q %q", header, id, nonce, sig)
		}
		// The nonce rule, restated: 1 to MaxNonceLen bytes of printable ASCII, no ':'.
		if len(nonce) > acauth.MaxNonceLen || strings.IndexFunc(nonce, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
			t.Fatalf("accepted bad nonce %q", nonce)
		}
		// Formatting what was parsed must parse back to the same parts.
		id2, nonce2, sig2, err := acauth.ParseAuthentication(acauth.FormatAuthentication(id, nonce, sig))
		if err != nil || id2 != id || nonce2 != nonce || sig2 != sig {
			t.Fatalf("round trip of %q: %q %q %q %v", header, id2, nonce2, sig2, err)
		}
	})
}

var knownCodes = []string{
	acauth.CodeMissingHeader, acauth.CodeBadScheme, acauth.CodeBadHeader, acauth.CodeBadNonce,
	acauth.CodeBadVersion, acauth.CodeStaleTimestamp, acauth.CodeReplayedNonce,
	acauth.CodeUnknownClient, acauth.CodeSignatureMismatch, acauth.CodeWrongCredentialsForRoute,
}

// FuzzVerify feeds arbitrary headers, header names and request targets to
// Verify. It must never panic, must only use documented codes, must accept
// only what verifies against the one known secret, and must read the
// timestamp and version only from one of the six families' names (in any
// case). Each of the timestamp and the version can come under two names, so
// agreeing, conflicting and repeated headers are explored: a request is
// accepted only if every protocol name it carries agrees, and a bad_header
// names a header the request carried. The names go into the header map as
// they are, not canonicalised.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	good := "/management/add_users/ABCD/MY+USER+1?x=a%2Fb"
	sig := acauth.Sign("secret", "42", "h"+good, "1700000000")
	hexSig := acauth.Sign("secret", "7FFFFFFFFFFFFFFF", "h"+good, "1700000000")
	ts, ver := acauth.HeaderTimestamp, acauth.HeaderVersion
	iTS, iV := acauth.FamilyIAMPASS.Timestamp(), acauth.FamilyIAMPASS.Version()
	sTS, sV := acauth.FamilySonikpass.Timestamp(), acauth.FamilySonikpass.Version()
	add := func(auth, tsName, ts, versionName, version, host, target string) {
		f.Add(auth, tsName, ts, "", "", versionName, version, "", "", host, target)
	}
	add("hmac ABCD:42:"+sig, ts, "1700000000", ver, "1", "h", good)
	add("hmac ABCD:42:"+sig, "x-iampass-authentiaction-timestamp", "1700000000", "X-IAMPASS-AUTHENTIACTION-VERSION", "1", "h", good)
	add("hmac ABCD:7FFFFFFFFFFFFFFF:"+hexSig, "X-Sonikpass-Authentication-Timestamp", "1700000000", "x-sonikpass-authentiaction-version", "1", "h", good)
	add("hmac ABCD:42:"+sig, "X-Iampass-Authentication-Timestam", "1700000000", ver, "1", "h", good)
	add("hmac ABCD:42:"+sig, "X-Activeconnect-Authentication-Timestamp ", "1700000000", ver, "1", "h", good)
	add("hmac ABCD:42:"+sig, ts, "1700000000", ver, "2", "h", good)
	add("hmac ABCD:42:"+sig, ts, "1699999000", ver, "1", "h", good)
	add("hmac SESSION:1:x", ts, "1700000000", ver, "1", "h", "/session/status")
	add("hmac nobody:1:x", ts, "1700000000", ver, "1", "h", "/")
	add("hmac ABCD:1:x", ts, "-9223372036854775808", ver, "1", "[::1]:8080", "http://[::1]:8080/x")
	add("hmac ABCD:1:x", ts, "9223372036854775807", ver, "1", "", "")
	add("Bearer x", ts, "", ver, "", "h", "*")
	add("hmac ABCD:4:2:"+sig, ts, "1700000000", ver, "1", "h", good)
	// Two names for the timestamp or the version: agreeing, conflicting, repeated.
	f.Add("hmac ABCD:42:"+sig, ts, "1700000000", iTS, "1700000000", ver, "1", sV, "1", "h", good)
	f.Add("hmac ABCD:42:"+sig, ts, "1700000000", iTS, "1700000001", ver, "1", "", "", "h", good)
	f.Add("hmac ABCD:42:"+sig, sTS, "1700000000", "", "", iV, "1", sV, "2", "h", good)
	f.Add("hmac ABCD:42:"+sig, iTS, "1700000000", strings.ToLower(iTS), "1700000000", ver, "1", "", "", "h", good)
	f.Add("hmac ABCD:42:"+sig, ts, "1700000000", ts, "1700000000", ver, "1", ver, "1", "h", good)
	lookup := acauth.SecretLookupFunc(func(_ *http.Request, id string) (string, error) {
		switch id {
		case "ABCD":
			return "secret", nil
		case "SESSION":
			return "", acauth.ErrWrongCredentialsForRoute
		}
		return "", acauth.ErrUnknownClient
	})
	var tsNames, versionNames []string
	for _, fam := range acauth.HeaderFamilies() {
		tsNames = append(tsNames, fam.Timestamp())
		versionNames = append(versionNames, fam.Version())
	}
	isOneOf := func(name string, names []string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) && len(n) == len(name) })
	}
	type sent struct{ name, value string }
	// agreed reports the one value the protocol headers among hs carry, or ok false if there is
	// none, two differ, or one header (names equal without regard to case) comes twice.
	agreed := func(hs []sent, names []string) (value string, ok bool) {
		var valid []sent
		for _, h := range hs {
			if h.value != "" && isOneOf(h.name, names) {
				valid = append(valid, h)
			}
		}
		if len(valid) == 0 {
			return "", false
		}
		for _, h := range valid[1:] {
			if h.value != valid[0].value || strings.EqualFold(h.name, valid[0].name) {
				return "", false
			}
		}
		return valid[0].value, true
	}
	f.Fuzz(func(t *testing.T, auth, tsName, ts, tsName2, ts2, versionName, version, versionName2, version2, host, target string) {
		v := acauth.NewVerifier(lookup, acauth.WithClock(func() time.Time { return now }), acauth.WithReplayCacheSize(4))
		u, err := url.ParseRequestURI(target)
		if err != nil {
			u = &url.URL{Path: target}
		}
		r := &http.Request{Method: http.MethodGet, URL: u, Host: host, RequestURI: target, Header: http.Header{}}
		if auth != "" {
			r.Header.Set(acauth.HeaderAuthentication, auth)
		}
		// Raw keys, as a hand-built header map may hold them; the same name twice adds a value.
		headers := []sent{{tsName, ts}, {tsName2, ts2}, {versionName, version}, {versionName2, version2}}
		for _, h := range headers {
			if h.value != "" {
				r.Header[h.name] = append(r.Header[h.name], h.value)
			}
		}
		id, rej := v.Verify(r)
		if rej == nil {
			if id != "ABCD" {
				t.Fatalf("accepted client %q", id)
			}
			tsValue, tsOK := agreed(headers, tsNames)
			versionValue, versionOK := agreed(headers, versionNames)
			if !tsOK || !versionOK || versionValue != "1" {
				t.Fatalf("accepted headers %q", headers)
			}
			// The only way in is a correct signature over what was sent.
			_, nonce, gotSig, _ := acauth.ParseAuthentication(auth)
			if want := acauth.Sign("secret", nonce, acauth.IncomingURI(r), tsValue); gotSig != want {
				t.Fatalf("accepted signature %q, want %q", gotSig, want)
			}
			if _, rej := v.Verify(r); rej == nil || rej.Code != acauth.CodeReplayedNonce {
				t.Fatalf("second verify: %v", rej)
			}
			return
		}
		if id != "" {
			t.Fatalf("rejection %v with client ID %q", rej, id)
		}
		if !slices.Contains(knownCodes, rej.Code) || rej.Message == "" || rej.Error() == "" {
			t.Fatalf("bad rejection %#v", rej)
		}
		if (rej.Code == acauth.CodeSignatureMismatch) != (rej.StringToSign != "") {
			t.Fatalf("string_to_sign %q with code %s", rej.StringToSign, rej.Code)
		}
		// Every field is a header name the protocol defines, spelled as documented.
		if rej.Field != acauth.HeaderAuthentication && !slices.Contains(tsNames, rej.Field) && !slices.Contains(versionNames, rej.Field) {
			t.Fatalf("field %q is not a protocol header (%v)", rej.Field, rej)
		}
		// A malformed, repeated or contradictory timestamp or version header is one the request carried.
		if rej.Code == acauth.CodeBadHeader && rej.Field != acauth.HeaderAuthentication &&
			!slices.ContainsFunc(headers, func(h sent) bool {
				return h.value != "" && strings.EqualFold(h.name, rej.Field) && len(h.name) == len(rej.Field)
			}) {
			t.Fatalf("bad_header names %q, which the request did not carry (%v)", rej.Field, rej)
		}
		if strings.Contains(rej.StringToSign, "secret") && !strings.Contains(auth+host+target, "secret") {
			t.Fatalf("string_to_sign leaks the secret: %q", rej.StringToSign)
		}
	})
}
