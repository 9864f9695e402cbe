package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/scenario"
)

var alicePhone = in("article", "Phone of alice")

// TestLoginAppearsLiveAndApproveReachesTheClient: a login started over the API shows on the
// phone within a second without a reload, and Approve makes the client's next poll see active.
func TestLoginAppearsLiveAndApproveReachesTheClient(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	tb := openConsole(t, srv.URL(), "#phone")
	tb.waitText(find("article", "Phone of alice"), "No login waiting")
	eval[bool](tb, `window.loadedOnce = true`)

	ctx := context.Background()
	session := login(t, srv.Authentication(), "alice", activeconnect.MethodAcceptance)
	start := time.Now()
	request := find("region", "Login request for alice", alicePhone)
	if !tb.waitForWithin(time.Second, request) {
		t.Fatalf("the login did not appear on alice's phone within a second")
	}
	t.Logf("the login appeared %v after it started", time.Since(start))
	if !eval[bool](tb, `window.loadedOnce === true`) {
		t.Fatal("the page reloaded to show the login")
	}
	if got := tb.text(request); !containsAll(got, "alice", srv.AppID(), "acceptance") {
		t.Fatalf("the notification says %q: want the user, the application and the methods", got)
	}
	for _, name := range []string{"Deny", "Ignore", "End session", "Fail"} {
		tb.waitFor(find("button", name, alicePhone, request))
	}
	if *updateScreenshots { // bob logged in and approved, for a picture with both kinds
		bob, err := srv.Authentication().AuthenticateUser(ctx, "bob", activeconnect.MethodFacial)
		if err != nil || srv.Approve(bob.Token) != nil {
			t.Fatalf("bob: %v", err)
		}
		tb.waitFor(find("region", "Logged in for bob", in("article", "Phone of bob")))
	}
	tb.screenshot("phone")

	tb.click(find("button", "Approve", alicePhone, request))
	loggedIn := find("region", "Logged in for alice", alicePhone)
	tb.waitFor(loggedIn)
	status, err := session.Refresh(ctx)
	if err != nil || status != activeconnect.StatusActive {
		t.Fatalf("after Approve the client polls %q (%v), want active", status, err)
	}
	// An active session offers what the phone can do next, and nothing it cannot.
	tb.waitFor(find("button", "Walk away", alicePhone, loggedIn))
	if tb.waitForWithin(100*time.Millisecond, find("button", "Approve", alicePhone, loggedIn)) {
		t.Fatal("an active session still offers Approve")
	}
}

// TestDenyFromTheKeyboard: Deny works from the keyboard, and the client sees cancelled.
func TestDenyFromTheKeyboard(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	session := login(t, srv.Authentication(), "alice")
	tb := openConsole(t, srv.URL(), "")
	request := find("region", "Login request for alice", alicePhone)
	tb.press(find("button", "Deny", alicePhone, request), "\r")
	tb.waitText(find("status", "Notice"), "alice: denied the login (cancelled)")
	tb.gone(request)
	status, err := session.Refresh(ctx)
	if err != nil || status != activeconnect.StatusCancelled {
		t.Fatalf("after Deny the client polls %q (%v), want cancelled", status, err)
	}
}

// TestWalkAwayComeBackAndEnd plays an active session through the phone's other actions.
func TestWalkAwayComeBackAndEnd(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	ctx := context.Background()
	session := login(t, srv.Authentication(), "alice")
	if err := srv.Approve(session.Token); err != nil {
		t.Fatal(err)
	}
	tb := openConsole(t, srv.URL(), "#phone")
	region := "Logged in for alice"
	for _, s := range []struct{ button, next, status string }{
		{"Walk away", "Walked away for alice", "walkaway"},
		{"Come back", "Logged in for alice", "active"},
	} {
		tb.click(find("button", s.button, alicePhone, in("region", region)))
		tb.waitFor(find("region", s.next, alicePhone))
		if got, _ := session.Refresh(ctx); string(got) != s.status {
			t.Fatalf("after %s the client polls %q, want %s", s.button, got, s.status)
		}
		region = s.next
	}
	tb.click(find("button", "End session", alicePhone, in("region", region)))
	// The page says so once the emulator has answered (gone alone can pass on a slow page).
	tb.waitText(find("status", "Notice"), "alice: ended the login (closed)")
	tb.gone(find("region", region, alicePhone))
	if got, _ := session.Refresh(ctx); got != activeconnect.StatusClosed {
		t.Fatalf("after End session the client polls %q, want closed", got)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// login starts a login for user over the Activeconnect API, as the application would.
func login(t *testing.T, api *activeconnect.AuthenticationAPI, user string, methods ...activeconnect.AuthenticationMethod) *activeconnect.Session {
	t.Helper()
	session, err := api.AuthenticateUser(context.Background(), user, methods...)
	if err != nil {
		t.Fatalf("log %s in: %v", user, err)
	}
	return session
}

// quietAlice is a scenario whose alice never answers: her login stays pending until it times out.
const quietAlice = `name: quiet
timeout: 30s
applications:
  - id: ` + scenario.DemoApplicationID + `
    secret: ` + scenario.DemoApplicationSecret + `
    users:
      - {id: alice, phone: true}
`

// TestIgnoreLetsTheLoginTimeOut: Ignore answers nothing. The notification goes, the page says
// when the login will time out, the client keeps seeing pending, and the timeout fires when the
// clock reaches it. The keyboard stays on alice's phone.
func TestIgnoreLetsTheLoginTimeOut(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t, acmocktest.WithManualClock(), acmocktest.WithScenarioYAML([]byte(quietAlice)))
	ctx := context.Background()
	session := login(t, srv.Authentication(), "alice")
	tb := openConsole(t, srv.URL(), "#phone")
	request := find("region", "Login request for alice", alicePhone)
	tb.press(find("button", "Ignore", alicePhone, request), " ")
	ignored := find("region", "Ignored login for alice", alicePhone)
	tb.waitText(ignored, "It times out at")
	tb.gone(request)
	if got := eval[string](tb, `document.activeElement.getAttribute('aria-label') || document.activeElement.tagName`); got != "Phone of alice" {
		t.Errorf("after Ignore the focus is on %q, want alice's phone", got)
	}
	if got, err := session.Refresh(ctx); err != nil || got != activeconnect.StatusPending {
		t.Fatalf("after Ignore the client polls %q (%v), want pending", got, err)
	}
	srv.Advance(29 * time.Second)
	if got, _ := session.Refresh(ctx); got != activeconnect.StatusPending {
		t.Fatalf("1 s before its timeout the client polls %q, want pending", got)
	}
	srv.Advance(2 * time.Second)
	if got, _ := session.Refresh(ctx); got != activeconnect.StatusTimeout {
		t.Fatalf("after its timeout the client polls %q, want timeout", got)
	}
	tb.gone(ignored)
	tb.waitText(alicePhone, "No login waiting")
}

// TestFailFromThePhone: Fail ends the login as failed, and the client sees it.
func TestFailFromThePhone(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	session := login(t, srv.Authentication(), "alice")
	tb := openConsole(t, srv.URL(), "#phone")
	request := find("region", "Login request for alice", alicePhone)
	tb.click(find("button", "Fail", alicePhone, request))
	tb.gone(request)
	if got, _ := session.Refresh(context.Background()); got != activeconnect.StatusFailed {
		t.Fatalf("after Fail the client polls %q, want failed", got)
	}
	tb.waitText(find("status", "Notice"), "alice: failed the login (failed)")
}

// TestEachStatusOffersWhatTheTransitionTableAllows: the buttons of a pending, an active and a
// walked-away login are exactly those the phone can press from there; after each action the
// keyboard is on the phone's next button.
func TestEachStatusOffersWhatTheTransitionTableAllows(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	login(t, srv.Authentication(), "alice")
	tb := openConsole(t, srv.URL(), "#phone")
	for _, s := range []struct {
		region string
		want   []string
		press  string
		next   string // the button the keyboard lands on after press
	}{
		{"Login request for alice", []string{"Approve", "Deny", "Ignore", "End session", "Fail"}, "Approve", "Walk away"},
		{"Logged in for alice", []string{"Walk away", "End session", "Fail"}, "Walk away", "Come back"},
		{"Walked away for alice", []string{"Come back", "End session", "Fail"}, "Come back", "Walk away"},
		{"Logged in for alice", []string{"Walk away", "End session", "Fail"}, "", ""},
	} {
		region := find("region", s.region, alicePhone)
		tb.waitFor(region)
		got := eval[[]string](tb, `[...document.querySelector('article[aria-label="Phone of alice"] .notification').querySelectorAll('button')].map((b) => b.textContent)`)
		if strings.Join(got, ", ") != strings.Join(s.want, ", ") {
			t.Errorf("%s offers %q, want %q", s.region, got, s.want)
		}
		if s.press == "" {
			break
		}
		tb.press(find("button", s.press, alicePhone, region), " ")
		tb.gone(find("button", s.press, alicePhone, region))
		// The pressed button is gone; the keyboard moves to the first one of what comes next.
		tb.waitEval(`(document.activeElement.closest('article[aria-label="Phone of alice"] .notification') ? 'on ' : 'off ') + document.activeElement.textContent === 'on `+s.next+`'`,
			"the focus on "+s.next+" after "+s.press)
	}
}
