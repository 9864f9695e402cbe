package acauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
)

func BenchmarkSign(b *testing.B) {
	for b.Loop() {
		acauth.Sign(appSecret, "9223372036854775807", "activeconnect.activeapi.ninja/management/add_users/ABCD", "1234567890")
	}
}

func BenchmarkSignRequest(b *testing.B) {
	s := acauth.NewSigner(appID, appSecret)
	req, _ := http.NewRequest(http.MethodGet, testTarget, nil)
	for b.Loop() {
		if err := s.SignRequest(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures verifying one valid request end to end,
// including the replay cache at its cap (each insert evicts the oldest),
// which is the steady state under sustained load.
func BenchmarkVerify(b *testing.B) {
	const pool, limit = 4096, 1024 // pool > limit so reused nonces were evicted
	reqs := make([]*http.Request, pool)
	for i := range reqs {
		reqs[i] = signed(b, testTarget, appID, appSecret, uint64(i), testNow)
	}
	v := newTestVerifier(acauth.WithReplayCacheSize(limit))
	i := 0
	for b.Loop() {
		if _, rej := v.Verify(reqs[i%pool]); rej != nil {
			b.Fatal(rej)
		}
		i++
	}
}

// serverRequest is a signed request as a server receives it from the official client: an
// origin-form target (so the signed URI is the Host header and the path joined) and the other
// headers python-requests sends.
func serverRequest(b *testing.B, nonce uint64) *http.Request {
	b.Helper()
	r := signed(b, "/management/has_registered_mobile_device/"+appID+"/MY+USER+1?x=a%2Fb", appID, appSecret, nonce, testNow)
	r.Header.Set("User-Agent", "python-requests/2.31.0")
	r.Header.Set("Accept-Encoding", "gzip, deflate")
	r.Header.Set("Accept", "*/*")
	r.Header.Set("Connection", "keep-alive")
	return r
}

// BenchmarkVerifyOriginForm is BenchmarkVerify on requests as a server sees them (see
// serverRequest), with the replay cache at its default size: pool fresh nonces fill it and
// then each insert evicts the oldest.
func BenchmarkVerifyOriginForm(b *testing.B) {
	const pool = 1 << 17 // more than the default cache holds, so reused nonces were evicted
	reqs := make([]*http.Request, pool)
	for i := range reqs {
		reqs[i] = serverRequest(b, uint64(i))
	}
	v := newTestVerifier()
	for _, r := range reqs { // fill the cache to its cap: the steady state under sustained load
		if _, rej := v.Verify(r); rej != nil {
			b.Fatal(rej)
		}
	}
	i := 0
	for b.Loop() {
		if _, rej := v.Verify(reqs[i%pool]); rej != nil {
			b.Fatal(rej)
		}
		i++
	}
}

// BenchmarkVerifyMismatch measures the signature_mismatch rejection, which builds the string to
// sign for the error body.
func BenchmarkVerifyMismatch(b *testing.B) {
	r := serverRequest(b, 42)
	v := acauth.NewVerifier(acauth.SecretLookupFunc(func(*http.Request, string) (string, error) { return "another secret", nil }),
		acauth.WithClock(func() time.Time { return testNow }))
	for b.Loop() {
		if _, rej := v.Verify(r); rej == nil || rej.Code != acauth.CodeSignatureMismatch {
			b.Fatal(rej)
		}
	}
}

// BenchmarkHeadersUsed measures naming the header family of a request, which the emulator does
// for every request it journals.
func BenchmarkHeadersUsed(b *testing.B) {
	r := serverRequest(b, 42)
	for b.Loop() {
		if len(acauth.HeadersUsed(r.Header)) != 2 {
			b.Fatal("want two header names")
		}
	}
}
