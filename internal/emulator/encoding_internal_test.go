package emulator

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/acmock/acmock/generated/acapiserver"
)

// TestFixedAnswersAreTheGeneratedOnes: each answer encoded at start-up writes the status, headers
// and bytes that the generated code writes for the same value.
func TestFixedAnswersAreTheGeneratedOnes(t *testing.T) {
	t.Parallel()
	type pair struct {
		name      string
		fixed     func(http.ResponseWriter) error
		generated func(http.ResponseWriter) error
	}
	pairs := []pair{
		{"device false", deviceAnswers[0].VisitHasRegisteredMobileDeviceResponse,
			acapiserver.HasRegisteredMobileDevice200JSONResponse{Status: true}.VisitHasRegisteredMobileDeviceResponse},
		{"device true", deviceAnswers[1].VisitHasRegisteredMobileDeviceResponse,
			acapiserver.HasRegisteredMobileDevice200JSONResponse{Status: true, DeviceRegistered: true}.VisitHasRegisteredMobileDeviceResponse},
		{"logout", logoutAnswer.VisitLogoutResponse, acapiserver.Logout200JSONResponse{Status: true}.VisitLogoutResponse},
	}
	for s, answer := range statusAnswers {
		pairs = append(pairs, pair{"status " + string(s), answer.VisitGetSessionStatusResponse, statusBody(s).VisitGetSessionStatusResponse})
	}
	if len(statusAnswers) != 8 {
		t.Errorf("%d session statuses have a fixed answer, want all 8", len(statusAnswers))
	}
	for _, p := range pairs {
		got, want := httptest.NewRecorder(), httptest.NewRecorder()
		if err := p.fixed(got); err != nil {
			t.Fatal(err)
		}
		if err := p.generated(want); err != nil {
			t.Fatal(err)
		}
		if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), want.Header()) {
			t.Errorf("%s: fixed %d %v %q, generated %d %v %q", p.name, got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
	}
}
