package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acapiserver"
)

// jsonContentType is the Content-Type of every JSON answer, one slice shared by all of them
// (net/http only reads it), so that setting it allocates nothing.
var jsonContentType = []string{"application/json"}

// fixedJSON is an answer whose body never changes, encoded once, at start-up, by encoding/json
// from the spec's generated types, so that it holds the bytes the generated code would write.
// It implements the generated response interfaces of the operations that answer it.
type fixedJSON struct {
	status int
	body   []byte
}

// encodeFixed returns a pointer, which the generated response interfaces hold without the
// allocation a struct would cost on every answer.
func encodeFixed(status int, v any) *fixedJSON {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode fixed answer %T: %v", v, err)) // a type of the spec: cannot fail
	}
	return &fixedJSON{status: status, body: append(body, '\n')} // json.Encoder ends with a newline
}

func (f *fixedJSON) write(w http.ResponseWriter) error {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(f.status)
	_, err := w.Write(f.body)
	return err
}

// VisitHasRegisteredMobileDeviceResponse writes the answer.
func (f *fixedJSON) VisitHasRegisteredMobileDeviceResponse(w http.ResponseWriter) error {
	return f.write(w)
}

// VisitGetSessionStatusResponse writes the answer.
func (f *fixedJSON) VisitGetSessionStatusResponse(w http.ResponseWriter) error { return f.write(w) }

// VisitLogoutResponse writes the answer.
func (f *fixedJSON) VisitLogoutResponse(w http.ResponseWriter) error { return f.write(w) }

// The fixed answers of the calls a client makes most: device checks, status polls and logouts.
var (
	deviceAnswers = [2]*fixedJSON{
		encodeFixed(http.StatusOK, acapiserver.HasRegisteredMobileDevice200JSONResponse{Status: true, DeviceRegistered: false}),
		encodeFixed(http.StatusOK, acapiserver.HasRegisteredMobileDevice200JSONResponse{Status: true, DeviceRegistered: true}),
	}
	logoutAnswer  = encodeFixed(http.StatusOK, acapiserver.Logout200JSONResponse{Status: true})
	statusAnswers = func() map[acapi.SessionStatus]*fixedJSON {
		m := map[acapi.SessionStatus]*fixedJSON{}
		for _, s := range []acapi.SessionStatus{acapi.SessionStatusActive, acapi.SessionStatusCancelled,
			acapi.SessionStatusClosed, acapi.SessionStatusFailed, acapi.SessionStatusIdentifying,
			acapi.SessionStatusPending, acapi.SessionStatusTimeout, acapi.SessionStatusWalkaway} {
			m[s] = encodeFixed(http.StatusOK, statusBody(s))
		}
		return m
	}()
)

// statusBody is the generated answer of a status poll.
func statusBody(s acapi.SessionStatus) acapiserver.GetSessionStatus200JSONResponse {
	return acapiserver.GetSessionStatus200JSONResponse{AuthenticationStatus: acapi.SessionState{
		Authenticated: s == acapi.SessionStatusActive, SessionStatus: s,
	}}
}
