package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// TestStrictPathHandlersAnswerAsTheGeneratedWrappers: the operations served by StrictPathHandlers
// (device checks, lost phones, status polls, logouts) answer every request, hostile path values
// and bad signatures included, exactly as the generated wrappers behind the strict handler do, and
// leave the same journal.
func TestStrictPathHandlersAnswerAsTheGeneratedWrappers(t *testing.T) {
	newEmu := func(generated bool) *Emulator {
		t.Helper()
		clk := clock.NewVirtual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		e, err := New(Options{Clock: clk, IDs: store.SeededIDs(7), generatedWrappers: generated})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		return e
	}
	direct, generated := newEmu(false), newEmu(true)
	if n := countDirect(direct); n == 0 {
		t.Fatal("no operation is served by StrictPathHandlers")
	}
	if n := countDirect(generated); n != 0 {
		t.Fatalf("%d operations served by StrictPathHandlers with generatedWrappers set", n)
	}

	app := acauth.NewSigner(scenario.DemoApplicationID, scenario.DemoApplicationSecret)
	// Both emulators hand out the same tokens (seeded IDs): start a login on each.
	var token, secret string
	for _, e := range []*Emulator{direct, generated} {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/authentication/authenticate_user/"+scenario.DemoApplicationID+"/alice", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if err := app.SignRequest(req.Context(), req); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var started struct {
			Status struct {
				Token  string `json:"session_token"`
				Secret string `json:"session_secret"`
			} `json:"authentication_status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &started); err != nil || rec.Code != http.StatusAccepted {
			t.Fatalf("authenticate: %d %s", rec.Code, rec.Body)
		}
		if token != "" && started.Status.Token != token {
			t.Fatalf("tokens differ: %s and %s", token, started.Status.Token)
		}
		token, secret = started.Status.Token, started.Status.Secret
	}
	sess := acauth.NewSigner(token, secret)

	users := []string{"alice", "bob", "nobody", "al%2Bice", "a+b", "%FF", "a%2Fb", "caf%C3%A9"}
	apps := []string{scenario.DemoApplicationID, "no-such-app", "%FF"}
	type call struct {
		method, path string
		signer       *acauth.Signer
	}
	var calls []call
	for _, a := range apps {
		for _, u := range users {
			for _, op := range []string{"has_registered_mobile_device", "lost_user_mobile_device"} {
				calls = append(calls, call{http.MethodGet, "/management/" + op + "/" + a + "/" + u, app})
				calls = append(calls, call{http.MethodGet, "/management/" + op + "/" + a + "/" + u, nil})
			}
		}
	}
	for _, tok := range []string{token, "0123", "%FF"} {
		for _, s := range []*acauth.Signer{sess, app, nil} {
			calls = append(calls, call{http.MethodGet, "/authentication/session_status/" + tok, s})
		}
	}
	calls = append(calls, call{http.MethodPost, "/authentication/logout/" + token, app},
		call{http.MethodPost, "/authentication/logout/" + token, sess},
		call{http.MethodGet, "/authentication/session_status/" + token, sess},
		call{http.MethodPost, "/authentication/logout/%FF", sess})

	for _, c := range calls {
		req := httptest.NewRequest(c.method, "http://127.0.0.1:8080"+c.path, nil)
		if c.signer != nil {
			if err := c.signer.SignRequest(req.Context(), req); err != nil {
				t.Fatal(err)
			}
		}
		var got [2]*httptest.ResponseRecorder
		for i, e := range []*Emulator{direct, generated} {
			got[i] = httptest.NewRecorder()
			e.ServeHTTP(got[i], req.Clone(req.Context()))
		}
		d, g := got[0], got[1]
		signed := c.signer != nil
		if d.Code != g.Code || !bytes.Equal(d.Body.Bytes(), g.Body.Bytes()) ||
			d.Header().Get("Content-Type") != g.Header().Get("Content-Type") ||
			d.Header().Get("WWW-Authenticate") != g.Header().Get("WWW-Authenticate") {
			t.Errorf("%s %s (signed %v):\n direct    %d %s\n generated %d %s", c.method, c.path, signed, d.Code, d.Body, g.Code, g.Body)
		}
	}
	dj, gj := direct.journal.List(journal.Filter{}), generated.journal.List(journal.Filter{})
	if len(dj) != len(gj) || len(dj) != len(calls)+1 {
		t.Fatalf("journal: %d and %d entries, want %d", len(dj), len(gj), len(calls)+1)
	}
	for i := range dj {
		a, b := dj[i], gj[i]
		a.Latency, b.Latency = 0, 0
		aj, _ := json.Marshal(a)
		bj, _ := json.Marshal(b)
		if !bytes.Equal(aj, bj) {
			t.Errorf("journal entry %d:\n direct    %s\n generated %s", i, aj, bj)
		}
	}
}

func countDirect(e *Emulator) int {
	n := 0
	for _, op := range e.ops {
		if op.direct {
			n++
		}
	}
	return n
}
