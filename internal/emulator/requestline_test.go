package emulator_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/reqlog"
	"github.com/acmock/acmock/internal/scenario"
)

// requestLineTraffic is a mix of requests that fill every field of the request line: signed and
// unsigned, with hostile and long path parameters, an unknown route, a bad body, a control call, an
// injected fault and a 5xx that is not one.
func requestLineTraffic(t *testing.T) []*http.Request {
	t.Helper()
	signed := func(method, target, body string) *http.Request {
		req := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if err := acauth.NewSigner(demoApp, demoSecret).SignRequest(req.Context(), req); err != nil {
			t.Fatal(err)
		}
		return req
	}
	device := "/management/has_registered_mobile_device"
	return []*http.Request{
		signed(http.MethodGet, userPath(device, "alice"), ""),
		httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080"+userPath(device, "alice"), nil),
		signed(http.MethodGet, userPath(device, "a \"quoted\" = user\n\t\\ é \u2028 <&>"), ""),
		signed(http.MethodGet, device+"/"+demoApp+"/%ff%fe", ""),
		signed(http.MethodGet, userPath(device, strings.Repeat("long\x00", 1000)), ""),
		signed(http.MethodGet, "/no/such/route", ""),
		signed(http.MethodPost, "/authenticate_user/"+demoApp, "{not json"),
		signed(http.MethodGet, userPath(device, "faulty"), ""), // an injected 503
		signed(http.MethodGet, userPath(device, "broken"), ""), // a 500 the emulator did not mean
		httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/_acmock/health", nil),
		httptest.NewRequest("BREW", "http://127.0.0.1:8080/_acmock/health", nil),
	}
}

// requestLine matches the message of a request line, in either format.
var requestLine = regexp.MustCompile(`msg=request |"msg":"request"`)

// timeOrDuration matches what differs between two runs of the same requests: the time of each
// line and the latency.
var timeOrDuration = regexp.MustCompile(`time=\S+|"time":"[^"]*"|duration=\S+|"duration":-?\d+`)

// TestRequestLogWritesWhatSlogWrites runs the same requests through an emulator logging with
// slog alone and one with Options.RequestLog, for both formats, with and without --auth off, at
// the levels info and warn, and checks that the logs are the same (but for times and latencies).
func TestRequestLogWritesWhatSlogWrites(t *testing.T) {
	data := strings.Replace(demoYAML(t), "\nexpect:", `
faults:
  - name: outage "now"
    operation: hasRegisteredMobileDevice
    user: faulty
    respond: {status: 503}
expect:`, 1)
	sc, err := scenario.Parse("faults.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	// The response check turns broken's answer into a 500 (logged at ERROR).
	check := func(r *http.Request, _ string, _ map[string]string, _ int, _ http.Header, _ []byte) error {
		if strings.HasSuffix(r.URL.Path, "/broken") {
			return errors.New("the check failed on purpose")
		}
		return nil
	}
	for _, format := range []reqlog.Format{reqlog.Text, reqlog.JSON} {
		for _, authOff := range []bool{false, true} {
			for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
				logs := [2]bytes.Buffer{}
				for i := range logs {
					opts := &slog.HandlerOptions{Level: level}
					var h slog.Handler = slog.NewTextHandler(&logs[i], opts)
					if format == reqlog.JSON {
						h = slog.NewJSONHandler(&logs[i], opts)
					}
					o := emulator.Options{Scenario: sc, AuthOff: authOff, CheckResponse: check, Logger: slog.New(h)}
					if i == 1 {
						o.RequestLog = reqlog.New(&logs[i], format, level)
					}
					emu, err := emulator.New(o)
					if err != nil {
						t.Fatal(err)
					}
					for _, req := range requestLineTraffic(t) {
						emu.ServeHTTP(httptest.NewRecorder(), req)
					}
					emu.Close()
				}
				want := timeOrDuration.ReplaceAllString(logs[0].String(), "T")
				got := timeOrDuration.ReplaceAllString(logs[1].String(), "T")
				if got != want {
					t.Fatalf("format %d, auth off %v, level %v: with RequestLog\n%s\nwith slog alone\n%s", format, authOff, level, got, want)
				}
				lines := len(requestLine.FindAllString(want, -1))
				switch {
				case level == slog.LevelInfo && lines < len(requestLineTraffic(t)):
					t.Fatalf("level INFO: %d request lines for %d requests:\n%s", lines, len(requestLineTraffic(t)), want)
				case level == slog.LevelWarn && (lines != 1 || !strings.Contains(want, "ERROR")):
					t.Fatalf("level WARN: want only the ERROR line of the unplanned 500:\n%s", want)
				case authOff && !strings.Contains(want, "OFF: unsigned requests accepted"):
					t.Fatalf("auth off, and the lines do not say so:\n%s", want)
				}
			}
		}
	}
}
