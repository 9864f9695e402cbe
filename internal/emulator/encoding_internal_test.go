package emulator

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/acmock/acmock/generated/acapi"
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

// TestStartedAnswerIsTheGeneratedOne: authenticate's 202, written from its template, is what the
// generated type writes for the same values, for any host a client could send (HTML characters,
// quotes, control characters, non-ASCII and invalid UTF-8 are escaped as encoding/json escapes
// them) and for every session status.
func TestStartedAnswerIsTheGeneratedOne(t *testing.T) {
	t.Parallel()
	hosts := []string{"127.0.0.1:8080", "localhost", "a<b>&c", `q"uote\back`, "tab\there", "café", "\xff\xfe",
		"line\u2028sep", "", "@@acmock-started-0@@", "x\x00y", "\x7f"}
	statuses := []acapi.SessionStatus{acapi.SessionStatusPending, acapi.SessionStatusActive, acapi.SessionStatusFailed}
	for _, host := range hosts {
		for _, status := range statuses {
			a := &startedAnswer{token: "c4bcba4971503c09500355b825eb8a6f", secret: "KPSY6FQI77QF5140441YYCE847TYHZFZ",
				statusURL: "http://" + host + "/authentication/session_status/t", logoutURL: "http://" + host + "/authentication/logout/t",
				status: status}
			got, want := httptest.NewRecorder(), httptest.NewRecorder()
			if err := a.VisitAuthenticateUserResponse(got); err != nil {
				t.Fatal(err)
			}
			if err := a.generated().VisitAuthenticateUserResponse(want); err != nil {
				t.Fatal(err)
			}
			if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), want.Header()) {
				t.Errorf("host %q, %s: template %d %v %q, generated %d %v %q", host, status, got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
			}
		}
	}
}
