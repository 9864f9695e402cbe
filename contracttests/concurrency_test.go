package contracttests

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acctl"
)

// worker stands in for *testing.T in a goroutine the test starts: Fatalf reports the failure on
// the test and ends that goroutine only.
type worker struct {
	t    *testing.T
	name string
}

func (w worker) Helper() {}

func (w worker) Errorf(format string, args ...any) {
	w.t.Errorf("%s: %s", w.name, fmt.Sprintf(format, args...))
}

func (w worker) Fatalf(format string, args ...any) {
	w.Errorf(format, args...)
	runtime.Goexit()
}

// runWorkers runs f on n goroutines at once and waits for all of them.
func runWorkers(t *testing.T, n int, f func(w worker, i int)) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(worker{t: t, name: fmt.Sprintf("worker %d", i)}, i)
		})
	}
	close(start)
	wg.Wait()
}

// outcomes are what the phone does on concurrent sessions, by session index modulo their count.
var outcomes = [][]acapi.SessionStatus{
	{"active"},
	{"cancelled"},
	{"identifying", "active"},
	{"active", "walkaway"},
	{"identifying", "failed"},
	{"timeout"},
}

// TestConcurrentSessionsOneUser starts 32 logins of one user at once, lets the phone decide each
// differently at the same time, and checks that every session reports its own status, that the
// control API counted every login once, and that logging them all out at once closes each.
func TestConcurrentSessionsOneUser(t *testing.T) {
	tg := newTarget(t, stillTo("register a phone by opening its link and make the phone act"))
	const n = 32
	user := tg.user("busy")
	tg.addUsers(t, user)
	tg.registerPhone(t, user)
	sessions := make([]session, n)
	runWorkers(t, n, func(w worker, i int) { sessions[i] = tg.authenticate(w, user) })
	if t.Failed() {
		t.FailNow()
	}
	tokens := map[string]bool{}
	for _, s := range sessions {
		if tokens[s.token] {
			t.Fatalf("two concurrent logins got the same session token %s", s.token)
		}
		tokens[s.token] = true
	}
	runWorkers(t, n, func(w worker, i int) {
		for _, st := range outcomes[i%len(outcomes)] {
			tg.setStatus(w, sessions[i].token, st)
			if got := tg.status(w, sessions[i]); got.SessionStatus != st {
				w.Fatalf("session %s: the phone made it %s, the status URL says %s", sessions[i].token, st, got.SessionStatus)
			}
		}
	})
	for i, s := range sessions { // nobody else's phone moved this session
		want := outcomes[i%len(outcomes)]
		if got := tg.status(t, s); got.SessionStatus != want[len(want)-1] {
			t.Errorf("session %d: %s, want %s", i, got.SessionStatus, want[len(want)-1])
		}
	}
	list, err := tg.ctl.ListSessionsWithResponse(context.Background(), &acctl.ListSessionsParams{User: &user})
	if err != nil || list.JSON200 == nil {
		t.Fatalf("list sessions: %v %v", err, list)
	}
	var attempts []int
	for _, s := range list.JSON200.Sessions {
		attempts = append(attempts, s.Attempt)
	}
	slices.Sort(attempts)
	for i, a := range attempts {
		if a != i+1 {
			t.Fatalf("the logins' attempt numbers are %v; want 1 to %d, each once", attempts, n)
		}
	}
	if len(attempts) != n {
		t.Fatalf("the control API lists %d sessions for %s, want %d", len(attempts), user, n)
	}
	runWorkers(t, n, func(w worker, i int) { tg.logout(w, sessions[i]) })
	for i, s := range sessions {
		want := outcomes[i%len(outcomes)]
		final := want[len(want)-1]
		if final == "active" || final == "walkaway" {
			final = acapi.SessionStatusClosed
		}
		if got := tg.status(t, s); got.SessionStatus != final {
			t.Errorf("session %d after logout: %s, want %s", i, got.SessionStatus, final)
		}
	}
}

// TestConcurrentUsers plays the whole life of 32 users at once: add, register a phone, log in,
// approve, poll, log out, delete.
func TestConcurrentUsers(t *testing.T) {
	tg := newTarget(t, stillTo("register phones by opening their links and make the phones approve"))
	runWorkers(t, 32, func(w worker, i int) {
		user := tg.user(fmt.Sprintf("crowd %d", i))
		tg.addUsers(w, user)
		tg.registerPhone(w, user)
		s := tg.authenticate(w, user)
		tg.setStatus(w, s.token, acapi.SessionStatusActive)
		if got := tg.status(w, s); got.SessionStatus != acapi.SessionStatusActive {
			w.Fatalf("approved session is %s", got.SessionStatus)
		}
		tg.logout(w, s)
		res, err := tg.api.DeleteUsersWithResponse(context.Background(), tg.appID, acapi.UsersRequest{Users: []string{user}})
		if err != nil || res.JSON200 == nil {
			w.Fatalf("delete: %v %v", err, res)
		}
		// A deleted user's sessions are gone with it.
		r := tg.do(w, call{method: http.MethodGet, url: s.statusURL, signer: s.signer()})
		expectError(w, r, http.StatusNotFound, acapi.ErrorCodeUnknownSession, "session_token")
	})
}

// TestConcurrentAddUsers has 8 clients add the same 50 users at once: each user is created
// exactly once and reported as existing to everybody else.
func TestConcurrentAddUsers(t *testing.T) {
	tg := newTarget(t)
	users := make([]string, 50)
	for i := range users {
		users[i] = tg.user(fmt.Sprintf("shared %d", i))
	}
	tg.mu.Lock()
	tg.added = append(tg.added, users...)
	tg.mu.Unlock()
	var mu sync.Mutex
	created := map[string]int{}
	runWorkers(t, 8, func(w worker, i int) {
		order := slices.Clone(users)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		res, err := tg.api.AddUsersWithResponse(context.Background(), tg.appID, acapi.UsersRequest{Users: order})
		if err != nil || res.JSON201 == nil {
			w.Fatalf("add users: %v %v", err, res)
		}
		if got := len(res.JSON201.Users.Created) + len(res.JSON201.Users.Existing); got != len(users) {
			w.Errorf("created %d + existing %d users, want %d in all", len(res.JSON201.Users.Created), len(res.JSON201.Users.Existing), len(users))
		}
		mu.Lock()
		defer mu.Unlock()
		for _, u := range res.JSON201.Users.Created {
			created[u]++
		}
	})
	for _, u := range users {
		if created[u] != 1 {
			t.Errorf("user %s was created %d times", u, created[u])
		}
	}
}

// TestSessionIsolation checks that a session's credentials open that session's status and logout
// URLs and nothing else, and that application credentials do not open them.
func TestSessionIsolation(t *testing.T) {
	tg := newTarget(t, acmockTo("register phones by opening their links"))
	alice, bob := tg.user("alice"), tg.user("bob")
	tg.addUsers(t, alice, bob)
	tg.registerPhone(t, alice)
	tg.registerPhone(t, bob)
	a, b, a2 := tg.authenticate(t, alice), tg.authenticate(t, bob), tg.authenticate(t, alice)
	wrong := acapi.ErrorCodeWrongCredentialsForRoute
	tests := []struct {
		name   string
		method string
		url    string
		signer *acauth.Signer
		body   string
		status int
		code   acapi.ErrorCode
	}{
		{"own credentials on own status URL", http.MethodGet, a.statusURL, a.signer(), "", http.StatusOK, ""},
		{"another user's session credentials on a status URL", http.MethodGet, b.statusURL, a.signer(), "", 401, wrong},
		{"same user's other session on a status URL", http.MethodGet, a2.statusURL, a.signer(), "", 401, wrong},
		{"another session's credentials on a logout URL", http.MethodPost, b.logoutURL, a.signer(), "", 401, wrong},
		{"application credentials on a status URL", http.MethodGet, a.statusURL, tg.signer(), "", 401, wrong},
		{"application credentials on a logout URL", http.MethodPost, a.logoutURL, tg.signer(), "", 401, wrong},
		{"session credentials on add_users", http.MethodPost, tg.appURL("/management/add_users"), a.signer(), `{"users": ["ct-nobody"]}`, 401, wrong},
		{"session credentials on delete_users", http.MethodPost, tg.appURL("/management/delete_users"), a.signer(), `{"users": ["` + alice + `"]}`, 401, wrong},
		{"session credentials on has_registered_mobile_device", http.MethodGet, tg.userURL("/management/has_registered_mobile_device", alice), a.signer(), "", 401, wrong},
		{"session credentials on lost_user_mobile_device", http.MethodGet, tg.userURL("/management/lost_user_mobile_device", alice), a.signer(), "", 401, wrong},
		{"session credentials on authenticate_user", http.MethodPost, tg.userURL("/authentication/authenticate_user", alice), a.signer(), `{}`, 401, wrong},
		{"a session's token with another session's secret", http.MethodGet, b.statusURL, newSigner(b.token, a.secret), "", 401, acapi.ErrorCodeSignatureMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			c := call{method: tc.method, url: tc.url, signer: tc.signer, contentType: "application/json"}
			if tc.body != "" {
				c.body = []byte(tc.body)
			}
			r := tg.do(t, c)
			if tc.status == http.StatusOK {
				if r.status != http.StatusOK {
					t.Fatalf("want 200, got %s", r)
				}
				return
			}
			expectError(t, r, tc.status, tc.code, hdrAuth)
		})
	}
	t.Cleanup(func() {
		// Nothing above ended a session or took a phone: every session is still live (a phone
		// may have approved in the meantime, on a real clock), alice still has her phone.
		for _, s := range []session{a, b, a2} {
			if got := tg.status(t, s); got.SessionStatus == acapi.SessionStatusClosed || got.SessionStatus == acapi.SessionStatusFailed {
				t.Errorf("session %s became %s through somebody else's credentials", s.token, got.SessionStatus)
			}
		}
		res, err := tg.api.HasRegisteredMobileDeviceWithResponse(context.Background(), tg.appID, alice)
		if err != nil || res.JSON200 == nil || !res.JSON200.DeviceRegistered {
			t.Errorf("alice lost her phone through a session's credentials: %v %v", err, res)
		}
	})
}

// TestApplicationIsolation loads two applications that both have a user "alice" and checks that
// neither application's credentials open the other's paths or sessions.
func TestApplicationIsolation(t *testing.T) {
	tg := newTarget(t, exclusiveTo("load a scenario with a second application"))
	const otherID, otherSecret = "5ca1ab1e00000000000000000000c0de", "OTHERSECRET000000000000000000001"
	tg.loadScenario(t, tg.appScenario("contract-two-apps", `    users:
      - {id: alice, phone: true, login: []}
  - id: `+otherID+`
    secret: `+otherSecret+`
    users:
      - {id: alice, phone: true, login: []}
      - {id: only-other}
`, ""))
	other := newSigner(otherID, otherSecret)
	mine := tg.authenticate(t, "alice")
	otherSession := func() session {
		r := tg.do(t, call{method: http.MethodPost, url: tg.baseURL + "/authentication/authenticate_user/" + otherID + "/alice", body: []byte("{}"), signer: other})
		if r.status != http.StatusAccepted {
			t.Fatalf("authenticate in the other application: %s", r)
		}
		var out acapi.AuthenticateResponse
		mustUnmarshal(t, r.raw, &out)
		st := out.AuthenticationStatus
		return session{token: *st.SessionToken, secret: *st.SessionSecret, statusURL: *st.StatusUrl, logoutURL: *st.LogoutUrl}
	}()
	wrong := acapi.ErrorCodeWrongCredentialsForRoute
	tests := []struct {
		name   string
		method string
		url    string
		signer *acauth.Signer
		body   string
		status int
		code   acapi.ErrorCode
		field  string
	}{
		{"other application's credentials on this application's path", http.MethodGet, tg.userURL("/management/has_registered_mobile_device", "alice"), other, "", 401, wrong, hdrAuth},
		{"other application's credentials on this application's session", http.MethodGet, mine.statusURL, other, "", 401, wrong, hdrAuth},
		{"this application's session on the other application's session", http.MethodGet, otherSession.statusURL, mine.signer(), "", 401, wrong, hdrAuth},
		{"this application's session on the other application's path", http.MethodPost, tg.baseURL + "/management/add_users/" + otherID, mine.signer(), `{"users": ["x"]}`, 401, wrong, hdrAuth},
		{"a user of the other application only", http.MethodGet, tg.userURL("/management/has_registered_mobile_device", "only-other"), tg.signer(), "", 404, acapi.ErrorCodeUnknownUser, "user_id"},
		{"the other application's own alice", http.MethodGet, tg.baseURL + "/management/has_registered_mobile_device/" + otherID + "/alice", other, "", http.StatusOK, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			c := call{method: tc.method, url: tc.url, signer: tc.signer}
			if tc.body != "" {
				c.body = []byte(tc.body)
			}
			r := tg.do(t, c)
			if tc.status == http.StatusOK {
				if r.status != http.StatusOK {
					t.Fatalf("want 200, got %s", r)
				}
				return
			}
			expectError(t, r, tc.status, tc.code, tc.field)
		})
	}
}
