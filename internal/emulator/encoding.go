package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

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
	length []string // the body's Content-Length, as a header value
}

// encodeFixed returns a pointer, which the generated response interfaces hold without the
// allocation a struct would cost on every answer.
func encodeFixed(status int, v any) *fixedJSON {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode fixed answer %T: %v", v, err)) // a type of the spec: cannot fail
	}
	body = append(body, '\n') // json.Encoder ends with a newline
	return &fixedJSON{status: status, body: body, length: []string{strconv.Itoa(len(body))}}
}

// write answers with the body's length, which net/http would otherwise add only once the handler
// has returned: with it, observe can send the answer as soon as it is recorded (see answerEarly).
func (f *fixedJSON) write(w http.ResponseWriter) error {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = f.length
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

// startedAnswer is authenticate's 202, written as the generated AuthenticateUser202JSONResponse
// encodes it (encoding/json, then a newline) without reflection or a buffer per answer: the
// bytes around its strings are encoded once, at start-up (see started).
type startedAnswer struct {
	token, secret, statusURL, logoutURL string
	status                              acapi.SessionStatus
}

// values are the answer's strings, in a fixed order (the order of sentinel numbers in started).
func (a *startedAnswer) values() [5]string {
	return [...]string{a.token, a.secret, a.statusURL, a.logoutURL, string(a.status)}
}

// generated is the answer as the generated type holds it.
func (a *startedAnswer) generated() acapiserver.AuthenticateUser202JSONResponse {
	return acapiserver.AuthenticateUser202JSONResponse{AuthenticationStatus: acapi.AuthenticationStatus{
		Authenticated: true, SessionStatus: a.status,
		SessionToken: &a.token, SessionSecret: &a.secret, StatusUrl: &a.statusURL, LogoutUrl: &a.logoutURL,
	}}
}

// started is the 202's encoding cut around its strings: parts[k] comes before the string
// values()[order[k]], and the last part after the last one; size is the parts' length together.
var started = func() (t struct {
	parts []string
	order []int
	size  int
}) {
	sentinel := func(i int) string { return fmt.Sprintf("@@acmock-started-%d@@", i) }
	a := startedAnswer{token: sentinel(0), secret: sentinel(1), statusURL: sentinel(2), logoutURL: sentinel(3),
		status: acapi.SessionStatus(sentinel(4))}
	values := a.values()
	body, err := json.Marshal(a.generated())
	if err != nil {
		panic(fmt.Sprintf("encode the started answer: %v", err)) // a type of the spec: cannot fail
	}
	rest := string(body) + "\n" // json.Encoder ends with a newline
	type place struct{ at, i int }
	places := make([]place, len(values))
	for i, v := range values {
		if v != sentinel(i) {
			panic("startedAnswer.values is out of order")
		}
		if places[i] = (place{strings.Index(rest, `"`+v+`"`), i}); places[i].at < 0 {
			panic(fmt.Sprintf("the started answer lost its string %d", i)) // only a change to the spec could
		}
	}
	slices.SortFunc(places, func(a, b place) int { return a.at - b.at })
	for _, p := range places {
		before, after, _ := strings.Cut(rest, `"`+sentinel(p.i)+`"`)
		t.parts, t.order, rest = append(t.parts, before), append(t.order, p.i), after
	}
	t.parts = append(t.parts, rest)
	for _, p := range t.parts {
		t.size += len(p)
	}
	return t
}()

// VisitAuthenticateUserResponse writes the answer.
func (a *startedAnswer) VisitAuthenticateUserResponse(w http.ResponseWriter) error {
	values := a.values()
	n := started.size
	for _, v := range values {
		n += len(v) + 2
	}
	body := make([]byte, 0, n)
	for k, i := range started.order {
		body = append(body, started.parts[k]...)
		body = appendJSONString(body, values[i])
	}
	body = append(body, started.parts[len(started.parts)-1]...)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusAccepted)
	_, err := w.Write(body)
	return err
}

// appendJSONString appends s as encoding/json encodes a string: quoted, with HTML characters,
// control characters, invalid UTF-8 and U+2028/U+2029 escaped. Plain printable ASCII (tokens,
// secrets, URLs) is copied as it is; anything else is left to encoding/json itself.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s) // a string always encodes
			return append(dst, quoted...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
