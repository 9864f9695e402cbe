package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
)

// answer is what the emulator answered to a request a test watches.
type answer struct {
	method, path, host, origin string
	status                     int
	field                      string
}

// recorder notes the emulator's answers to control requests.
type recorder struct {
	mu      sync.Mutex
	answers []answer
}

func (rec *recorder) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_acmock/") || r.URL.Path == "/_acmock/events" {
			next.ServeHTTP(w, r)
			return
		}
		cw := &capture{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		var body struct{ Field string }
		_ = json.Unmarshal([]byte(cw.body.String()), &body)
		rec.mu.Lock()
		rec.answers = append(rec.answers, answer{r.Method, r.URL.Path, r.Host, r.Header.Get("Origin"), cw.status, body.Field})
		rec.mu.Unlock()
	})
}

func (rec *recorder) wait(t *testing.T, match func(answer) bool) answer {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		rec.mu.Lock()
		for _, a := range rec.answers {
			if match(a) {
				rec.mu.Unlock()
				return a
			}
		}
		rec.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the request never arrived; answers: %+v", rec.answers)
	return answer{}
}

type capture struct {
	http.ResponseWriter
	status int
	body   strings.Builder
}

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (c *capture) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// TestAnotherSiteCannotChangeTheEmulator: a page of another origin that makes the browser POST
// to the control API (a fetch that would approve a login, a form that would reset) is refused
// with a 403 naming Origin, and nothing changes.
func TestAnotherSiteCannotChangeTheEmulator(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	rec := &recorder{}
	srv := acmocktest.Run(t, acmocktest.WithMiddleware(rec.middleware))
	ctx := context.Background()
	session := login(t, srv.Authentication(), "alice")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>another site</title>
<form id="f" method="POST" action="%[1]s/_acmock/reset"></form>
<script>
fetch(%[2]q, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: '{"status":"active"}'})
  .finally(() => document.getElementById('f').submit());
</script>`, srv.URL(), srv.URL()+"/_acmock/sessions/"+url.PathEscape(session.Token)+"/status")
	}))
	t.Cleanup(evil.Close)
	tb := newTab(t)
	tb.do(chromedp.Navigate(evil.URL))

	for _, path := range []string{"/_acmock/sessions/" + session.Token + "/status", "/_acmock/reset"} {
		got := rec.wait(t, func(a answer) bool { return a.method == "POST" && a.path == path })
		if got.status != http.StatusForbidden || got.field != "Origin" || got.origin != evil.URL {
			t.Fatalf("the cross-site POST %s was answered %+v, want a 403 naming Origin", path, got)
		}
	}
	if status, err := session.Refresh(ctx); err != nil || status != activeconnect.StatusPending {
		t.Fatalf("after the cross-site requests the login is %q (%v), want still pending", status, err)
	}
}

// TestAForeignHostIsRefused: a name that resolves to the emulator's address (DNS rebinding)
// gets a 403 naming Host, for the page and for the control API.
func TestAForeignHostIsRefused(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	rec := &recorder{}
	srv := acmocktest.Run(t, acmocktest.WithMiddleware(rec.middleware))
	u, _ := url.Parse(srv.URL())
	rebound := "http://" + rebindHost + ":" + u.Port()
	tb := newTab(t)
	tb.do(chromedp.Navigate(rebound + "/_acmock/ui/"))
	body := eval[string](tb, `document.body.innerText`)
	if !containsAll(body, `"code":"foreign_host"`, `"field":"Host"`) {
		t.Fatalf("the console under another name shows %q, want a 403 naming Host", body)
	}
	got := rec.wait(t, func(a answer) bool { return a.path == "/_acmock/ui/" })
	if got.status != http.StatusForbidden || got.host != rebindHost+":"+u.Port() {
		t.Fatalf("the page was answered %+v", got)
	}
	// What a script of the rebound name would do next.
	eval[bool](tb, `fetch('/_acmock/reset', {method: 'POST'}), true`)
	got = rec.wait(t, func(a answer) bool { return a.path == "/_acmock/reset" })
	if got.status != http.StatusForbidden || got.field != "Host" {
		t.Fatalf("the rebound reset was answered %+v", got)
	}
}

// TestTheConsoleAsksForTheControlToken: with --control-token, the page asks for it, says when
// it is wrong, and once it has it shows the phone and follows events with it.
func TestTheConsoleAsksForTheControlToken(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now()), ControlToken: "s3cret-token"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })

	tb := newTab(t)
	tb.do(chromedp.Navigate(srv.URL + "/_acmock/ui/"))
	tb.waitText(find("status", "Connection"), "Token needed")
	tb.waitText(find("banner", ""), "virtual clock") // the header needs no token
	tb.fill(find("textbox", "Control token"), "wrong")
	tb.click(find("button", "Use token"))
	tb.waitText(find("alert", ""), "That token was refused")
	tb.fill(find("textbox", "Control token"), "s3cret-token")
	tb.click(find("button", "Use token"))
	tb.waitText(find("status", "Connection"), "Live")
	tb.waitFor(find("article", "Phone of alice"))

	api, err := activeconnect.NewAuthenticationAPI(scenario.DemoApplicationID, scenario.DemoApplicationSecret,
		activeconnect.WithBaseURL(srv.URL), activeconnect.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	login(t, api, "alice")
	tb.waitFor(find("region", "Login request for alice", alicePhone))
}

// TestSecretsAreShownOnlyWhenAsked: no view shows an application secret until Show secret.
func TestSecretsAreShownOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	tb := openConsole(t, srv.URL(), "#phone")
	for _, view := range []string{"Phone", "Registration", "Requests", "Clock", "Scenario"} {
		tb.click(find("link", view, in("navigation", "Views")))
		tb.waitFor(find("region", view))
		if text := eval[string](tb, `document.body.innerText`); strings.Contains(text, srv.AppSecret()) {
			t.Fatalf("the %s view shows the secret", view)
		}
	}
	tb.click(find("link", "Phone", in("navigation", "Views")))
	tb.click(find("button", "Show secret"))
	tb.waitText(find("region", "Phone"), srv.AppSecret())
	tb.click(find("button", "Hide secret"))
	tb.waitFor(find("button", "Show secret"))
	if text := eval[string](tb, `document.body.innerText`); strings.Contains(text, srv.AppSecret()) {
		t.Fatal("Hide secret left it on the page")
	}
}
