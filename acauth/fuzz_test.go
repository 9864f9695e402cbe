package acauth_test

import (
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
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		id, nonce, sig, err := acauth.ParseAuthentication(header)
		if err != nil {
			if id != "" || nonce != "" || sig != "" {
				t.Fatalf("error %v with non-empty results", err)
			}
			return
		}
		if id == "" || nonce == "" || sig == "" || strings.Contains(id, ":") || strings.Contains(nonce, ":") || strings.Contains(sig, ":") {
			t.Fatalf("accepted %q as %q %q %q", header, id, nonce, sig)
		}
		if _, err := acauth.ParseNonce(nonce); err != nil {
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

// FuzzVerify feeds arbitrary headers and request targets to Verify. It must
// never panic, must only use documented codes, and must accept only what
// verifies against the one known secret.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	good := "/management/add_users/ABCD/MY+USER+1?x=a%2Fb"
	sig := acauth.Sign("secret", "42", "h"+good, "1700000000")
	f.Add("hmac ABCD:42:"+sig, "1700000000", "1", "h", good)
	f.Add("hmac ABCD:42:"+sig, "1700000000", "2", "h", good)
	f.Add("hmac ABCD:42:"+sig, "1699999000", "1", "h", good)
	f.Add("hmac SESSION:1:x", "1700000000", "1", "h", "/session/status")
	f.Add("hmac nobody:1:x", "1700000000", "1", "h", "/")
	f.Add("hmac ABCD:1:x", "-9223372036854775808", "1", "[::1]:8080", "http://[::1]:8080/x")
	f.Add("hmac ABCD:1:x", "9223372036854775807", "1", "", "")
	f.Add("Bearer x", "", "", "h", "*")
	lookup := acauth.SecretLookupFunc(func(_ *http.Request, id string) (string, error) {
		switch id {
		case "ABCD":
			return "secret", nil
		case "SESSION":
			return "", acauth.ErrWrongCredentialsForRoute
		}
		return "", acauth.ErrUnknownClient
	})
	f.Fuzz(func(t *testing.T, auth, ts, version, host, target string) {
		v := acauth.NewVerifier(lookup, acauth.WithClock(func() time.Time { return now }), acauth.WithReplayCacheSize(4))
		u, err := url.ParseRequestURI(target)
		if err != nil {
			u = &url.URL{Path: target}
		}
		r := &http.Request{Method: http.MethodGet, URL: u, Host: host, RequestURI: target, Header: http.Header{}}
		for name, value := range map[string]string{
			acauth.HeaderAuthentication: auth, acauth.HeaderTimestamp: ts, acauth.HeaderVersion: version,
		} {
			if value != "" {
				r.Header.Set(name, value)
			}
		}
		id, rej := v.Verify(r)
		if rej == nil {
			if id != "ABCD" {
				t.Fatalf("accepted client %q", id)
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
		if strings.Contains(rej.StringToSign, "secret") && !strings.Contains(auth+host+target, "secret") {
			t.Fatalf("string_to_sign leaks the secret: %q", rej.StringToSign)
		}
	})
}
