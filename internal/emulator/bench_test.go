package emulator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/store"
)

// BenchmarkSignedHasRegisteredMobileDevice measures one signed request through the whole handler:
// body limit, routing, spec validation, HMAC verification (replay cache included), the handler and
// the journal, with the default options (no response validation, no logging).
func BenchmarkSignedHasRegisteredMobileDevice(b *testing.B) {
	benchmarkDevice(b, emulator.Options{})
}

// BenchmarkSignedHasRegisteredMobileDeviceLogged is the same with acmock's default request log
// (text, one line per request), written to nowhere: the cost of formatting the line.
func BenchmarkSignedHasRegisteredMobileDeviceLogged(b *testing.B) {
	benchmarkDevice(b, emulator.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func benchmarkDevice(b *testing.B, opts emulator.Options) {
	emu, err := emulator.New(opts)
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

// BenchmarkLoginAmongSessions measures a signed authenticate_user through the whole handler while
// the emulator already holds 1,000, 100,000 or 1,000,000 live (approved) sessions, at its session
// cap, so every login also forgets the oldest. It reports the process's resident memory and the live
// heap once the sessions are in.
func BenchmarkLoginAmongSessions(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			emu := approvedSessions(b, n)
			defer emu.Close()
			st := emu.Store()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap, rss := float64(ms.HeapAlloc)/(1<<20), rssMiB()
			signer := acauth.NewSigner(demoApp, demoSecret)
			target := "http://127.0.0.1:8080/authentication/authenticate_user/" + demoApp + "/alice"
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, target, strings.NewReader("{}"))
				req.Header.Set("Content-Type", "application/json")
				if err := signer.SignRequest(req.Context(), req); err != nil {
					b.Fatal(err)
				}
				rec := httptest.NewRecorder()
				emu.ServeHTTP(rec, req)
				if rec.Code != http.StatusAccepted {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.StopTimer()
			b.ReportMetric(heap, "heap-MiB")
			b.ReportMetric(rss, "RSS-MiB")
			if got := st.SessionCount(); got != n {
				b.Fatalf("%d sessions kept, want the cap of %d", got, n)
			}
		})
	}
}

// rssMiB reads this process's resident memory.
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
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

// BenchmarkSignedLoginFlow measures what make load's flow rows do: authenticate, ten status polls
// signed with the session's credentials, and a logout.
func BenchmarkSignedLoginFlow(b *testing.B) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	app := acauth.NewSigner(demoApp, demoSecret)
	do := func(s *acauth.Signer, method, target, body string, want int) []byte {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, "http://127.0.0.1:8080"+target, r)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if err := s.SignRequest(req.Context(), req); err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s: status %d: %s", method, target, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	b.ReportAllocs()
	for b.Loop() {
		out := do(app, http.MethodPost, "/authentication/authenticate_user/"+demoApp+"/alice?methods=", "{}", http.StatusAccepted)
		var started struct {
			Status struct {
				Token  string `json:"session_token"`
				Secret string `json:"session_secret"`
			} `json:"authentication_status"`
		}
		if err := json.Unmarshal(out, &started); err != nil {
			b.Fatal(err)
		}
		sess := acauth.NewSigner(started.Status.Token, started.Status.Secret)
		for range 10 {
			do(sess, http.MethodGet, "/authentication/session_status/"+started.Status.Token, "", http.StatusOK)
		}
		do(sess, http.MethodPost, "/authentication/logout/"+started.Status.Token, "", http.StatusOK)
	}
}

// BenchmarkReadJournal measures GET /_acmock/requests, unfiltered and filtered on a user with one
// entry, while the journal holds 10,000 (its default size) or 100,000 entries: the answer is one
// page, so its cost should follow the page, not the journal.
func BenchmarkReadJournal(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now()), JournalSize: n})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			user := "alice"
			if i == n/2 {
				user = "bob"
			}
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/management/has_registered_mobile_device/"+demoApp+"/"+user, nil)
			emu.ServeHTTP(httptest.NewRecorder(), req)
		}
		for _, q := range []string{"", "?limit=10", "?user=bob"} {
			b.Run(fmt.Sprintf("%d%s", n, q), func(b *testing.B) {
				b.ReportAllocs()
				size := 0
				for b.Loop() {
					rec := httptest.NewRecorder()
					emu.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/_acmock/requests"+q, nil))
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
					size = rec.Body.Len()
				}
				b.ReportMetric(float64(size), "bytes/answer")
			})
		}
		emu.Close()
	}
}

// approvedSessions returns an emulator holding n approved sessions of alice, at its session cap.
func approvedSessions(b *testing.B, n int) *emulator.Emulator {
	emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now()), Limits: store.Limits{MaxSessions: n}})
	if err != nil {
		b.Fatal(err)
	}
	st := emu.Store()
	for range n {
		s, err := st.StartSession(demoApp, "alice", nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Transition(s.Token, "active", time.Now(), "scenario"); err != nil {
			b.Fatal(err)
		}
	}
	return emu
}

// BenchmarkSetUserStatusAmongSessions measures approving a user (SetUserStatus, what acmock
// approve USER and POST /_acmock/users/{id}/status do) whose 1,000 or 100,000 live sessions are all
// active, so none can become identifying: the refusal looks for a session that can make the change
// and counts the others.
func BenchmarkSetUserStatusAmongSessions(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			emu := approvedSessions(b, n)
			defer emu.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := emu.SetUserStatus("", "alice", "identifying"); err == nil {
					b.Fatal("a session became identifying")
				}
			}
		})
	}
}

// BenchmarkTimeline measures GET /_acmock/timeline (its default page of 100 steps) while 1,000 or
// 100,000 logins nobody answers wait for their timeout, as the console's Clock view reads it on
// every change.
func BenchmarkTimeline(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now())})
			if err != nil {
				b.Fatal(err)
			}
			defer emu.Close()
			startLogins(b, emu, demoApp, "alice", n)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				emu.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/_acmock/timeline", nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
