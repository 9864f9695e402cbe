package emulator_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/speccheck"
)

// FuzzUserIDPath checks how a user ID is decoded from the path. For any ID, the path the official
// client builds (quote_plus) reaches that very user, or is refused with a 400; and any other
// segment is answered without a 5xx, reaching the user only if it decodes (like unquote_plus) to
// that user's ID. Responses are checked against the spec (a mismatch would be a 500).
func FuzzUserIDPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"MY USER 1", "MY+USER+1"}, {"a+b", "a%2Bb"}, {"a/b", "a%2Fb"}, {"100%", "100%25"}, {"ünïcødé 用户", "%C3%BCn"},
		{".", "."}, {"..", "%2E%2E"}, {"x%2By", "x%252By"}, {"q?uery#frag", "q%3F"}, {"\xff\xfe", "%FF%FE"}, {"", "%"},
		{strings.Repeat("long", 65), "a+%20+b"}, {"tab\there", "tab%09here"}, {"semi;colon", "semi;colon"},
	} {
		f.Add(seed[0], seed[1])
	}
	emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now()), CheckResponse: speccheck.Response})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(emu.Close)
	st := emu.Store()
	signer := acauth.NewSigner(demoApp, demoSecret)
	get := func(t *testing.T, segment string) (int, string) {
		target := "http://127.0.0.1:8080/management/has_registered_mobile_device/" + demoApp + "/" + segment
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.RequestURI = req.URL.RequestURI() // what a client sends for this URL, and signs
		if err := signer.SignRequest(req.Context(), req); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("GET .../%s: %d %s", segment, rec.Code, rec.Body)
		}
		return rec.Code, rec.Body.String()
	}
	_ = st.DeleteUsers(demoApp, []string{"alice", "bob", "carol"})
	previous := ""
	f.Fuzz(func(t *testing.T, id, segment string) {
		// Only this user exists, and it has a phone: answering true proves the request reached it.
		_ = st.DeleteUsers(demoApp, []string{previous})
		previous = id
		if _, _, err := st.AddUsers(demoApp, []string{id}); err != nil {
			t.Fatal(err)
		}
		if err := st.RegisterPhone(demoApp, id, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		switch code, body := get(t, activeconnect.EscapeUserID(id)); code {
		case http.StatusOK:
			if !strings.Contains(body, `"device_registered":true`) {
				t.Fatalf("user %q encoded as %q reached another user: %s", id, activeconnect.EscapeUserID(id), body)
			}
		case http.StatusBadRequest:
		case http.StatusNotFound:
			if id != "" { // an empty segment is no route at all
				t.Fatalf("user %q encoded as %q was not found: %s", id, activeconnect.EscapeUserID(id), body)
			}
		default:
			t.Fatalf("user %q encoded as %q: %d %s", id, activeconnect.EscapeUserID(id), code, body)
		}
		// Another segment, as sent: skip what no HTTP client can put in a request line.
		if strings.ContainsAny(segment, "/?# ") || strings.ContainsFunc(segment, func(r rune) bool { return r < 0x21 || r >= 0x7f }) {
			return
		}
		if _, err := url.ParseRequestURI("/x/" + segment); err != nil {
			return
		}
		code, body := get(t, segment)
		decoded, err := url.QueryUnescape(segment)
		switch {
		case code == http.StatusOK && (err != nil || decoded != id):
			t.Fatalf("segment %q (decoded %q, %v) reached user %q: %s", segment, decoded, err, id, body)
		case code != http.StatusOK && code != http.StatusBadRequest && code != http.StatusNotFound:
			t.Fatalf("segment %q: %d %s", segment, code, body)
		}
	})
}
