package emulator_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/reqlog"
	"github.com/acmock/acmock/internal/store"
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

// TestHandlerErrorsAreLoggedAndJournaled: an error a handler answers with its typed response (an
// unknown user, a limit reached, a control-API 404) is in the request log line and the journal
// with its code and message, as the errors of the middleware are.
func TestHandlerErrorsAreLoggedAndJournaled(t *testing.T) {
	var logs syncWriter
	e := newEnv(t, withLimits(store.Limits{MaxUsers: 3}), func(o *emulator.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "nobody"), nil)
	expectError(t, r, http.StatusNotFound, "unknown_user", "user_id")
	r = e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"u1", "u2", "u3", "u4"}})
	if r.status != http.StatusConflict || r.str("code") != "limit_reached" {
		t.Fatalf("add_users past the limit: %d %s", r.status, r.raw)
	}
	if resp, err := http.Post(e.srv.URL+"/_acmock/sessions/nonexist/status", "application/json", strings.NewReader(`{"status":"active"}`)); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("control API status of an unknown session: %d", resp.StatusCode)
		}
	}
	for _, want := range []struct{ op, code string }{{"hasRegisteredMobileDevice", "unknown_user"}, {"addUsers", "limit_reached"}} {
		j := e.emu.Journal().List(journalFilter(want.op))
		if len(j) != 1 || j[0].Error != want.code || j[0].Message == "" {
			t.Errorf("journal of %s: %+v, want error %s with its message", want.op, j, want.code)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := logs.String()
		n := strings.Count(out, "error=unknown_user message=") + strings.Count(out, "error=limit_reached message=") +
			strings.Count(out, "error=unknown_session message=")
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log does not name the three errors with their messages:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// blockedWriter holds every write until released: a log writer that cannot keep up.
type blockedWriter struct{ release chan struct{} }

func (b blockedWriter) Write(p []byte) (int, error) {
	<-b.release
	return len(p), nil
}

// TestAnswersDoNotWaitForTheLogLine: the client has its answer, and the journal has the request,
// while the request's log line is still being written.
func TestAnswersDoNotWaitForTheLogLine(t *testing.T) {
	t.Parallel()
	w := blockedWriter{release: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(w.release) }) }
	e := newEnv(t, func(o *emulator.Options) {
		o.RequestLog, o.ServerHandler = reqlog.New(w, reqlog.Text, slog.LevelInfo), true
	})
	t.Cleanup(release) // before the server closes: cleanups run last first
	got := make(chan reply, 1)
	go func() {
		got <- e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil)
	}()
	select {
	case r := <-got:
		if r.status != http.StatusOK || r.field("device_registered") != true {
			t.Fatalf("answer %d %s", r.status, r.raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer while the log line waits to be written")
	}
	entries, err := e.emu.Requests(journal.Filter{Operation: "hasRegisteredMobileDevice"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("journal: %v %v, want the request answered", entries, err)
	}
}
