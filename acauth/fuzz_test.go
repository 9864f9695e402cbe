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
// case). The names go into the header map as they are, not canonicalised.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	good := "/management/add_users/ABCD/MY+USER+1?x=a%2Fb"
	sig := acauth.Sign("secret", "42", "h"+good, "1700000000")
	hexSig := acauth.Sign("secret", "7FFFFFFFFFFFFFFF", "h"+good, "1700000000")
	ts, ver := acauth.HeaderTimestamp, acauth.HeaderVersion
	f.Add("hmac ABCD:42:"+sig, ts, "1700000000", ver, "1", "h", good)
	f.Add("hmac ABCD:42:"+sig, "x-iampass-authentiaction-timestamp", "1700000000", "X-IAMPASS-AUTHENTIACTION-VERSION", "1", "h", good)
	f.Add("hmac ABCD:7FFFFFFFFFFFFFFF:"+hexSig, "X-Sonikpass-Authentication-Timestamp", "1700000000", "x-sonikpass-authentiaction-version", "1", "h", good)
	f.Add("hmac ABCD:42:"+sig, "X-Iampass-Authentication-Timestam", "1700000000", ver, "1", "h", good)
	f.Add("hmac ABCD:42:"+sig, "X-Activeconnect-Authentication-Timestamp ", "1700000000", ver, "1", "h", good)
	f.Add("hmac ABCD:42:"+sig, ts, "1700000000", ver, "2", "h", good)
	f.Add("hmac ABCD:42:"+sig, ts, "1699999000", ver, "1", "h", good)
	f.Add("hmac SESSION:1:x", ts, "1700000000", ver, "1", "h", "/session/status")
	f.Add("hmac nobody:1:x", ts, "1700000000", ver, "1", "h", "/")
	f.Add("hmac ABCD:1:x", ts, "-9223372036854775808", ver, "1", "[::1]:8080", "http://[::1]:8080/x")
	f.Add("hmac ABCD:1:x", ts, "9223372036854775807", ver, "1", "", "")
	f.Add("Bearer x", ts, "", ver, "", "h", "*")
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
	f.Fuzz(func(t *testing.T, auth, tsName, ts, versionName, version, host, target string) {
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
		if ts != "" {
			r.Header[tsName] = append(r.Header[tsName], ts)
		}
		if version != "" {
			r.Header[versionName] = append(r.Header[versionName], version)
		}
		id, rej := v.Verify(r)
		if rej == nil {
			if id != "ABCD" {
				t.Fatalf("accepted client %q", id)
			}
			if !isOneOf(tsName, tsNames) || !isOneOf(versionName, versionNames) || version != "1" {
				t.Fatalf("accepted timestamp under %q and version %q under %q", tsName, version, versionName)
			}
			// The only way in is a correct signature over what was sent.
			_, nonce, gotSig, _ := acauth.ParseAuthentication(auth)
			if want := acauth.Sign("secret", nonce, acauth.IncomingURI(r), ts); gotSig != want {
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
		if strings.Contains(rej.StringToSign, "secret") && !strings.Contains(auth+host+target, "secret") {
			t.Fatalf("string_to_sign leaks the secret: %q", rej.StringToSign)
		}
	})
}
