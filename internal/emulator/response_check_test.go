package emulator_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/speccheck"
)

// TestCheckResponseTurnsAMismatchInto500: Options.CheckResponse sees each answer of the API with
// the operation's path template and the decoded path parameters, and what it refuses becomes a
// 500 naming the operation and the mismatch; what it accepts goes out as it was.
func TestCheckResponseTurnsAMismatchInto500(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	e := newEnv(t, func(o *emulator.Options) {
		o.CheckResponse = func(r *http.Request, template string, params map[string]string, status int, header http.Header, body []byte) error {
			mu.Lock()
			seen = append(seen, template+" "+params["application_id"]+" "+params["user_id"])
			mu.Unlock()
			if params["user_id"] == "MY USER 1" {
				return errors.New("the body is not what the spec says")
			}
			return speccheck.Response(r, template, params, status, header, body)
		}
	})
	r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil)
	if r.status != http.StatusOK || r.field("device_registered") != true {
		t.Fatalf("accepted answer: %d %s", r.status, r.raw)
	}
	r = e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "MY USER 1"), nil)
	expectError(t, r, http.StatusInternalServerError, "internal_error", "")
	if want := "response 404 of hasRegisteredMobileDevice breaks the spec: the body is not what the spec says"; !strings.Contains(r.str("message"), want) {
		t.Errorf("message %q lacks %q", r.str("message"), want)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "/management/has_registered_mobile_device/{application_id}/{user_id} " + demoApp + " MY USER 1"
	if len(seen) != 2 || seen[1] != want {
		t.Errorf("the check saw %q, want the second to be %q", seen, want)
	}
}
