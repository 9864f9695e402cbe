package acauth_test

import (
	"net/http"
	"testing"

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
