package acauth

import (
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestVerifyAndNameSaysWhatHeadersUsedSays: for requests carrying any mix of the six families'
// timestamp and version headers, in any case, repeated or empty, the names VerifyAndName gives
// from its own pass over the headers are HeadersUsed's.
func TestVerifyAndNameSaysWhatHeadersUsedSays(t *testing.T) {
	t.Parallel()
	v := NewVerifier(SecretLookupFunc(func(*http.Request, string) (string, error) { return "secret", nil }))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		r, _ := http.NewRequest(http.MethodGet, "http://h/x", nil)
		if rng.IntN(4) > 0 {
			r.Header.Set(HeaderAuthentication, "hmac c:1:AAAA")
		}
		for i := range numFamilies {
			for which := range 2 {
				switch rng.IntN(6) {
				case 0:
					r.Header[canonical[i][which]] = []string{"1"}
				case 1:
					r.Header[canonical[i][which]] = []string{"1", "2"}
				case 2:
					r.Header[canonical[i][which]] = []string{} // a key with no value
				case 3:
					r.Header[strings.ToLower(canonical[i][which])] = []string{"1"} // not canonical
				}
			}
		}
		_, used, _ := v.VerifyAndName(r)
		if want := HeadersUsed(r.Header); !reflect.DeepEqual(used, want) {
			t.Fatalf("headers %v: VerifyAndName names %v, HeadersUsed %v", r.Header, used, want)
		}
	}
}
