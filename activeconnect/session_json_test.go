package activeconnect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/activeconnect"
)

// pythonKeys are the keys the Python client's Session schema writes, in its order.
var pythonKeys = []string{"status_url", "session_status", "session_secret", "failure_reason", "session_token", "logout_url"}

// TestSessionJSONMatchesPython round-trips sessions written in the Python client's format:
// python_session.json is the Python client's output; python_session_not_started.json is the same
// shape for a session that did not start, written by hand.
func TestSessionJSONMatchesPython(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want activeconnect.Session
	}{
		{"python_session.json", activeconnect.Session{Status: activeconnect.StatusPending, Secret: "s", Token: "t", StatusURL: "http://x/st", LogoutURL: "http://x/lo"}},
		{"python_session_not_started.json", activeconnect.Session{Status: activeconnect.StatusFailed, FailureReason: activeconnect.ReasonNoMobileDevice}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			fixture, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var s activeconnect.Session
			if err := json.Unmarshal(fixture, &s); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(s, tt.want) {
				t.Fatalf("decoded %+v, want %+v", s, tt.want)
			}
			out, err := json.Marshal(s)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			// Same keys in the same order with the same values: only the whitespace that
			// Python's separators add differs.
			var compact bytes.Buffer
			if err := json.Compact(&compact, fixture); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, compact.Bytes()) {
				t.Errorf("marshalled\n%s\nwant\n%s", out, compact.Bytes())
			}
			var got, want map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(fixture, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("semantic difference: %v vs %v", got, want)
			}
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(slices.Values(pythonKeys))) {
				t.Errorf("keys %q, want exactly %q", keys, pythonKeys)
			}
			// A pointer marshals the same.
			if ptr, _ := json.Marshal(&s); !bytes.Equal(ptr, out) {
				t.Errorf("pointer marshals to %s", ptr)
			}
		})
	}
}

func TestSessionJSONRejectsForeignDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc, want string }{
		{"unknown key", `{"token": "t"}`, `unknown field "token"`},
		{"unknown status", `{"session_status": "approved"}`, `unknown session_status "approved"`},
		{"status not a string", `{"session_status": 3}`, "cannot unmarshal number"},
		{"not an object", `[]`, "cannot unmarshal array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s activeconnect.Session
			err := json.Unmarshal([]byte(tt.doc), &s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Unmarshal(%s) = %v, want %q", tt.doc, err, tt.want)
			}
		})
	}
	// Missing keys count as null, as Python writes them for absent values.
	var s activeconnect.Session
	if err := json.Unmarshal([]byte(`{"session_status": "active"}`), &s); err != nil || s.Status != activeconnect.StatusActive || s.Started() {
		t.Fatalf("partial document: %+v, %v", s, err)
	}
}

// TestStoredSessionWorksAcrossProcesses stores a live session as JSON and follows and ends it from
// the decoded copy, as a second process (or a Python service) would.
func TestStoredSessionWorksAcrossProcesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s, err := e.auth().AuthenticateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := e.auth().LoadSession(stored)
	if err != nil {
		t.Fatalf("LoadSession: %v", err)
	}
	if loaded.Token != s.Token || loaded.Secret != s.Secret || loaded.StatusURL != s.StatusURL || loaded.LogoutURL != s.LogoutURL || loaded.Status != s.Status {
		t.Fatalf("loaded %+v, stored %+v", loaded, s)
	}
	e.srv.Advance(2 * time.Second)
	if err := loaded.Wait(ctx, time.Second, activeconnect.WithSleep(e.sleeper().sleep)); err != nil || !loaded.Active() {
		t.Fatalf("Wait on the loaded session: %v, %s", err, loaded.Status)
	}
	// A session decoded with plain encoding/json works too, through the default HTTP client.
	var plain activeconnect.Session
	if err := json.Unmarshal(stored, &plain); err != nil {
		t.Fatal(err)
	}
	if err := plain.Destroy(ctx); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if got, err := s.Refresh(ctx); err != nil || got != activeconnect.StatusClosed {
		t.Fatalf("the original after logout: %v, %v", got, err)
	}
	if _, err := e.auth().LoadSession([]byte(`{"session_status": "nope"}`)); err == nil || !strings.HasPrefix(err.Error(), "load session: decode session JSON") {
		t.Fatalf("LoadSession of a bad document: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestParseSession(t *testing.T) {
	t.Parallel()
	s := activeconnect.Session{Status: activeconnect.StatusPending, Token: "t", Secret: "s",
		StatusURL: "http://x/st?a=1&b=<2>", LogoutURL: "http://x/lo"}
	// Like Python's json module, "&", "<" and ">" stay as they are when the encoder allows it.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if !bytes.Contains(data, []byte(`"http://x/st?a=1&b=<2>"`)) {
		t.Fatalf("encoded %s", data)
	}
	var sent *http.Request
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"authentication_status": {"authenticated": true, "session_status": "active"}}`))}, nil
	})}
	parsed, err := activeconnect.ParseSession(data, activeconnect.WithHTTPClient(client))
	if err != nil {
		t.Fatalf("ParseSession: %v", err)
	}
	if got, err := parsed.Refresh(context.Background()); err != nil || got != activeconnect.StatusActive {
		t.Fatalf("Refresh: %v, %v", got, err)
	}
	if sent == nil || sent.URL.String() != "http://x/st?a=1&b=%3C2%3E" && sent.URL.String() != "http://x/st?a=1&b=<2>" {
		t.Fatalf("request went to %v", sent.URL)
	}
	if !strings.HasPrefix(sent.Header.Get("Authentication"), "hmac t:") {
		t.Errorf("not signed with the session token: %q", sent.Header.Get("Authentication"))
	}
	if _, err := activeconnect.ParseSession([]byte(`{`)); err == nil || !strings.HasPrefix(err.Error(), "parse session: ") {
		t.Errorf("ParseSession of broken JSON: %v", err)
	}
}

// TestSessionPythonJSONIsByteForByte compares PythonJSON with the raw fixture files, whitespace
// and all: each file is json.dumps's output followed by the file's line ending.
func TestSessionPythonJSONIsByteForByte(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"python_session.json", "python_session_not_started.json"} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := activeconnect.ParseSession(raw)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.PythonJSON()
			if err != nil {
				t.Fatal(err)
			}
			if got := append(out, '\n'); !bytes.Equal(got, raw) {
				t.Fatalf("PythonJSON + newline\n%q\nwant the file\n%q", got, raw)
			}
			// What PythonJSON writes reads back as the same session.
			var back, orig activeconnect.Session
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &orig); err != nil || !reflect.DeepEqual(back, orig) {
				t.Fatalf("round trip: %+v, want %+v (%v)", back, orig, err)
			}
		})
	}
}

// TestSessionPythonJSONEscapes checks the escaping of json.dumps with ensure_ascii=True. The
// expected bytes were written by hand from Python's rules (and agree with CPython 3's json.dumps):
// quote, backslash and the five short escapes with a backslash, other control characters, DEL and
// everything beyond ASCII as lowercase \uXXXX with a surrogate pair beyond U+FFFF; "/", "&", "<"
// and ">" as they are.
func TestSessionPythonJSONEscapes(t *testing.T) {
	t.Parallel()
	s := activeconnect.Session{
		Status:    activeconnect.StatusPending,
		StatusURL: "http://x/st?u=ü&a=<b>/c",
		Secret:    "s\"\\\n\r\t\b\f\x01\x1f\x7f",
		Token:     "tök€n😀",
		LogoutURL: "http://x/lo\u2028",
	}
	const want = `{"status_url": "http://x/st?u=\u00fc&a=<b>/c", "session_status": "pending", ` +
		`"session_secret": "s\"\\\n\r\t\b\f\u0001\u001f\u007f", "failure_reason": null, ` +
		`"session_token": "t\u00f6k\u20acn\ud83d\ude00", "logout_url": "http://x/lo\u2028"}`
	out, err := s.PythonJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Fatalf("PythonJSON\n%s\nwant\n%s", out, want)
	}
	var back activeconnect.Session
	if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("UnmarshalJSON of the Python form: %+v, %v", back, err)
	}
	// The compact encoding/json form decodes to the same session.
	compact, _ := json.Marshal(s)
	if bytes.Equal(compact, out) {
		t.Fatal("MarshalJSON should stay encoding/json's compact form")
	}
	var back2 activeconnect.Session
	if err := json.Unmarshal(compact, &back2); err != nil || !reflect.DeepEqual(back2, s) {
		t.Fatalf("UnmarshalJSON of the compact form: %+v, %v", back2, err)
	}
	// Bytes that are not UTF-8 become U+FFFD, as with encoding/json.
	bad := activeconnect.Session{Token: "a\xffb"}
	if out, _ := bad.PythonJSON(); !bytes.Contains(out, []byte(`"session_token": "a\ufffdb"`)) {
		t.Fatalf("invalid UTF-8: %s", out)
	}
}
