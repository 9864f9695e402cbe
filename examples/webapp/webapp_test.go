package webapp_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/examples/webapp"
	"github.com/acmock/acmock/scenarios"
)

// browser is the application on a loopback server, and a browser with a cookie jar that shows
// redirects instead of following them.
type browser struct {
	t      *testing.T
	app    *httptest.Server
	client *http.Client
}

// open starts the application against the emulator, polling every 5 ms: in production the
// interval would be a second or two, and the emulator's default clock needs no waiting either way.
func open(t *testing.T, srv *acmocktest.Server) *browser {
	t.Helper()
	app, err := webapp.New(webapp.Config{Auth: srv.Authentication(), Management: srv.Management(),
		PollInterval: 5 * time.Millisecond, MaxWait: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(app)
	t.Cleanup(hs.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, app: hs, client: client}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var res *http.Response
	var err error
	if method == http.MethodPost {
		res, err = b.client.PostForm(b.app.URL+path, form)
	} else {
		res, err = b.client.Get(b.app.URL + path)
	}
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(body)}
}

func (b *browser) login(user string) page {
	b.t.Helper()
	return b.do(http.MethodPost, "/login", url.Values{"user": {user}})
}

func (b *browser) account() page {
	b.t.Helper()
	return b.do(http.MethodGet, "/account", nil)
}

func expect(t *testing.T, what string, p page, status int, text string) {
	t.Helper()
	if p.status != status || !strings.Contains(p.body, text) {
		t.Fatalf("%s: %d %q, want %d with %q", what, p.status, p.body, status, text)
	}
}

func TestApprovedLogin(t *testing.T) {
	t.Parallel()
	b := open(t, acmocktest.Run(t)) // the demo: alice approves 2 s after a login
	if p := b.login("alice"); p.status != http.StatusSeeOther || p.location != "/account" {
		t.Fatalf("login: %d to %q: %s", p.status, p.location, p.body)
	}
	// Nothing more happens to alice's session, so every view finds her logged in.
	for range 3 {
		expect(t, "account", b.account(), http.StatusOK, "Welcome, alice.")
	}
	if p := b.do(http.MethodPost, "/logout", nil); p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.status)
	}
	if p := b.account(); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("account after logout: %d to %q", p.status, p.location)
	}
}

func TestDeniedLogin(t *testing.T) {
	t.Parallel()
	b := open(t, acmocktest.Run(t)) // the demo: bob declines 2 s after a login
	expect(t, "login", b.login("bob"), http.StatusForbidden, "You declined the login on your phone.")
	if p := b.account(); p.status != http.StatusSeeOther {
		t.Fatalf("bob reached his account: %d", p.status)
	}
}

// TestLoginTimesOut: a phone that never answers times out after the scenario's 60 s, in scenario
// time; the test takes milliseconds.
func TestLoginTimesOut(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t, acmocktest.WithScenarioYAML([]byte(`
applications:
  - id: 5ca1ab1e000000000000000000000001
    secret: ACMOCKDEMOSECRET0000000000000001
    users: [{id: dave, phone: true, login: []}]
`)))
	start := srv.Now()
	b := open(t, srv)
	expect(t, "login", b.login("dave"), http.StatusUnauthorized, "Your phone did not answer in time")
	if got := srv.Now().Sub(start); got != 60*time.Second {
		t.Fatalf("scenario time passed: %v, want the 60s timeout", got)
	}
}

// TestWalkAway uses a shipped scenario by name: erin approves, her phone walks away at 60 s and
// comes back at 70 s. The account page checks the session on every view, and each view sees the
// next change.
func TestWalkAway(t *testing.T) {
	t.Parallel()
	b := open(t, acmocktest.Run(t, acmocktest.WithScenario(scenarios.Walkaway)))
	if p := b.login("erin"); p.status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", p.status, p.body)
	}
	expect(t, "phone away", b.account(), http.StatusLocked, "Your phone is away from this computer")
	expect(t, "phone back", b.account(), http.StatusOK, "Welcome, erin.")
}

func TestNoPhone(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t) // the demo: carol has no phone
	b := open(t, srv)
	p := b.login("carol")
	expect(t, "login", p, http.StatusConflict, "carol has no phone registered yet")
	_, rest, _ := strings.Cut(p.body, `<a href="`)
	link, _, _ := strings.Cut(rest, `"`)
	if err := srv.OpenLink(t.Context(), strings.ReplaceAll(link, "&amp;", "&")); err != nil { // her phone opens the link
		t.Fatalf("open %q: %v", link, err)
	}
	if p := b.login("carol"); p.status != http.StatusSeeOther { // unlisted users' phones approve after 2 s
		t.Fatalf("login once registered: %d %s", p.status, p.body)
	}
	expect(t, "unknown user", b.login("mallory"), http.StatusNotFound, "There is no user mallory.")
}

// TestShippedScenarios: grace declines her first login and approves the next (deny-then-approve);
// frank's phone ends his session from afar (remote-logout).
func TestShippedScenarios(t *testing.T) {
	t.Parallel()
	t.Run("deny-then-approve", func(t *testing.T) {
		t.Parallel()
		b := open(t, acmocktest.Run(t, acmocktest.WithScenario(scenarios.DenyThenApprove)))
		expect(t, "first login", b.login("grace"), http.StatusForbidden, "You declined")
		if p := b.login("grace"); p.status != http.StatusSeeOther {
			t.Fatalf("second login: %d %s", p.status, p.body)
		}
	})
	t.Run("remote-logout", func(t *testing.T) {
		t.Parallel()
		b := open(t, acmocktest.Run(t, acmocktest.WithScenario(scenarios.RemoteLogout)))
		if p := b.login("frank"); p.status != http.StatusSeeOther {
			t.Fatalf("login: %d %s", p.status, p.body)
		}
		expect(t, "after the phone logged out", b.account(), http.StatusUnauthorized, "You were logged out.")
	})
}
