package emulator_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
)

// TestEachRequestOfAConnectionIsRecordedAsItself: requests that follow each other on one
// keep-alive connection are each journalled with their own user and status, whether the server
// gives connections a slot for their request (ConnContext, as acmock and acmocktest do), does not
// (a plain httptest server), or a handler in front of the emulator serves two requests at once for
// one connection.
func TestEachRequestOfAConnectionIsRecordedAsItself(t *testing.T) {
	cases := []struct {
		name        string
		connContext bool
		twice       bool // the front handler serves each request twice, at once
	}{
		{"with ConnContext", true, false},
		{"without ConnContext", false, false},
		{"two at once on one connection", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			emu, err := emulator.New(emulator.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer emu.Close()
			var front http.Handler = emu
			if c.twice {
				// Before the emulator serves a request, it starts an unsigned login of dave in the
				// same context, whose body arrives only once that request is answered: the two
				// are served at once.
				front = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body := &heldBody{reading: make(chan struct{}), release: make(chan struct{})}
					other := httptest.NewRequestWithContext(r.Context(), http.MethodPost,
						userPath("/authentication/authenticate_user", "dave"), body)
					other.Header.Set("Content-Type", "application/json")
					var wg sync.WaitGroup
					wg.Go(func() { emu.ServeHTTP(httptest.NewRecorder(), other) })
					<-body.reading
					emu.ServeHTTP(w, r)
					close(body.release)
					wg.Wait()
				})
			}
			srv := httptest.NewUnstartedServer(front)
			var conns atomic.Int32
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			if c.connContext {
				srv.Config.ConnContext = emu.ConnContext
			}
			srv.Start()
			defer srv.Close()
			client := srv.Client()
			client.Transport.(*http.Transport).MaxConnsPerHost = 1

			type sent struct {
				user   string
				signed bool
				status int
			}
			want := []sent{{"alice", true, 200}, {"carol", true, 200}, {"bob", false, 401}, {"bob", true, 200}, {"nobody", true, 404}}
			for _, s := range want {
				req, err := http.NewRequest(http.MethodGet, srv.URL+userPath("/management/has_registered_mobile_device", s.user), nil)
				if err != nil {
					t.Fatal(err)
				}
				if s.signed {
					if err := acauth.NewSigner(demoApp, demoSecret).SignRequest(req.Context(), req); err != nil {
						t.Fatal(err)
					}
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body) // so that the connection is used again
				res.Body.Close()
				if res.StatusCode != s.status {
					t.Fatalf("%s: status %d, want %d", s.user, res.StatusCode, s.status)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Fatalf("the requests took %d connections, want 1", n)
			}
			got := emu.Journal().List(journal.Filter{Operation: "hasRegisteredMobileDevice"})
			if len(got) != len(want) {
				t.Fatalf("journal holds %d device checks, want %d: %+v", len(got), len(want), got)
			}
			for i, e := range got {
				s := want[i]
				if e.User != s.user || e.Status != s.status || e.Application != demoApp || e.Session != "" {
					t.Errorf("entry %d: user %q, status %d, application %q, session %q; want %q, %d, %q and none",
						i, e.User, e.Status, e.Application, e.Session, s.user, s.status, demoApp)
				}
			}
			others := emu.Journal().List(journal.Filter{Operation: "authenticateUser"})
			if c.twice && len(others) != len(want) || !c.twice && len(others) != 0 {
				t.Fatalf("journal holds %d logins: %+v", len(others), others)
			}
			for i, e := range others {
				if e.User != "dave" || e.Status != http.StatusUnauthorized || e.Error != "missing_header" {
					t.Errorf("login %d: user %q, status %d, error %q; want dave, 401 and missing_header", i, e.User, e.Status, e.Error)
				}
			}
		})
	}
}

// heldBody is a request body that says when it is first read, and then gives "{}" once released.
type heldBody struct {
	reading, release chan struct{}
	once             sync.Once
	done             bool
}

func (b *heldBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.reading) })
	<-b.release
	if b.done {
		return 0, io.EOF
	}
	b.done = true
	return copy(p, "{}"), nil
}

// TestTheCallersRequestIsLeftAsItWas: the emulator serves a request without changing the
// *http.Request its caller holds: a handler in front of it finds the same body (read to its end)
// and the same context afterwards, for a request with a body and one without.
func TestTheCallersRequestIsLeftAsItWas(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	type seen struct {
		sameBody, sameContext bool
		rest                  string
	}
	got := make(chan seen, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ctx := r.Body, r.Context()
		emu.ServeHTTP(w, r)
		rest, _ := io.ReadAll(r.Body)
		got <- seen{r.Body == body, r.Context() == ctx, string(rest)}
	}))
	srv.Config.ConnContext = emu.ConnContext
	srv.Start()
	defer srv.Close()
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, userPath("/authentication/authenticate_user", "alice"), `{"note":"kept by the emulator only"}`},
		{http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), ""},
	} {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, err := http.NewRequest(c.method, srv.URL+c.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if err := acauth.NewSigner(demoApp, demoSecret).SignRequest(req.Context(), req); err != nil {
			t.Fatal(err)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if s := <-got; !s.sameBody || !s.sameContext || s.rest != "" {
			t.Errorf("%s %s: after the emulator, same body %v, same context %v, body still reads %q",
				c.method, c.path, s.sameBody, s.sameContext, s.rest)
		}
	}
}
