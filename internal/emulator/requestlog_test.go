package emulator_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/emulator"
)

// TestRequestLogNamesAuthHeaders pins how the request log names the signature headers a request
// carried: a bracketed list in the text log, an array in the JSON log.
func TestRequestLogNamesAuthHeaders(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.Handler(slog.NewTextHandler(&buf, nil))
			if format == "json" {
				h = slog.NewJSONHandler(&buf, nil)
			}
			emu, err := emulator.New(emulator.Options{Logger: slog.New(h)})
			if err != nil {
				t.Fatal(err)
			}
			defer emu.Close()
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/management/has_registered_mobile_device/"+demoApp+"/alice", nil)
			if err := acauth.NewSigner(demoApp, demoSecret).SignRequest(req.Context(), req); err != nil {
				t.Fatal(err)
			}
			emu.ServeHTTP(httptest.NewRecorder(), req)
			want := acauth.HeadersUsed(req.Header)
			if len(want) != 2 {
				t.Fatalf("the signer sent %v, want a timestamp and a version header", want)
			}
			line := buf.String()
			if format == "text" {
				if !strings.Contains(line, ` auth_headers="[`+want[0]+" "+want[1]+`]"`) {
					t.Fatalf("no auth_headers=\"[%s %s]\" in %s", want[0], want[1], line)
				}
				return
			}
			var rec struct {
				AuthHeaders []string `json:"auth_headers"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if len(rec.AuthHeaders) != 2 || rec.AuthHeaders[0] != want[0] || rec.AuthHeaders[1] != want[1] {
				t.Fatalf("auth_headers %v, want %v: %s", rec.AuthHeaders, want, line)
			}
		})
	}
}
