package emulator_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/emulator"
)

// BenchmarkSignedHasRegisteredMobileDevice measures one signed request through the whole handler:
// body limit, routing, spec validation, HMAC verification (replay cache included), the handler and
// the journal, with the default options (no response validation, no logging).
func BenchmarkSignedHasRegisteredMobileDevice(b *testing.B) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	signer := acauth.NewSigner(demoApp, demoSecret)
	target := "http://127.0.0.1:8080/management/has_registered_mobile_device/" + demoApp + "/alice"
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if err := signer.SignRequest(req.Context(), req); err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkSignedAddUsers measures a signed request with a JSON body of ten user IDs: what
// BenchmarkSignedHasRegisteredMobileDevice measures plus the body checks (one JSON value, keys,
// UTF-8), its validation against the schema and its decoding.
func BenchmarkSignedAddUsers(b *testing.B) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	signer := acauth.NewSigner(demoApp, demoSecret)
	target := "http://127.0.0.1:8080/management/add_users/" + demoApp
	body := `{"users": ["alice", "bob", "carol", "dave", "erin", "MY USER 1", "ünïcødé", "a+b", "x/y", "frank"]}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if err := signer.SignRequest(req.Context(), req); err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
