package emulator

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

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
		if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), onTheWire(want)) {
			t.Errorf("%s: fixed %d %v %q, generated %d %v %q", p.name, got.Code, got.Header(), got.Body, want.Code, onTheWire(want), want.Body)
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
			if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), onTheWire(want)) {
				t.Errorf("host %q, %s: template %d %v %q, generated %d %v %q", host, status, got.Code, got.Header(), got.Body, want.Code, onTheWire(want), want.Body)
			}
		}
	}
}

// onTheWire is the header net/http's server sends for an answer a handler wrote as rec holds it:
// with the body's Content-Length added, as it adds one to a small answer written whole. The fixed
// answers set it themselves, so that they can be sent before the handler returns.
func onTheWire(rec *httptest.ResponseRecorder) http.Header {
	h := rec.Header().Clone()
	if h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	}
	return h
}

// TestEarlyAnswersGoOutAsTheGeneratedOnes: a fixed answer sent before its handler returns (written,
// then flushed, as answerEarly does) reaches the client with the status, framing, headers and body
// net/http sends for the generated answer written by a handler that just returns, Date aside. (The
// headers' order differs: net/http writes a handler's headers sorted, Content-Length among them,
// and the length it adds itself after them.)
func TestEarlyAnswersGoOutAsTheGeneratedOnes(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/fixed", func(w http.ResponseWriter, _ *http.Request) {
		if err := statusAnswers[acapi.SessionStatusPending].VisitGetSessionStatusResponse(w); err != nil {
			t.Error(err)
		}
		w.(http.Flusher).Flush()
	})
	mux.HandleFunc("/generated", func(w http.ResponseWriter, _ *http.Request) {
		if err := statusBody(acapi.SessionStatusPending).VisitGetSessionStatusResponse(w); err != nil {
			t.Error(err)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	raw := func(path string) string {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		res.Header.Del("Date")
		var b strings.Builder
		_ = res.Header.Write(&b)
		return fmt.Sprintf("%s chunked=%v length=%d\n%s\n%s", res.Status, res.TransferEncoding, res.ContentLength, b.String(), body)
	}
	if got, want := raw("/fixed"), raw("/generated"); got != want {
		t.Fatalf("sent early:\n%s\nwant, as net/http sends the generated answer:\n%s", got, want)
	}
}
