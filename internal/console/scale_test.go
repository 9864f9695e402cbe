package console_test

// The console at scale: more users and sessions than one page of the control API holds. The
// state is made straight in the store (fast), then read by the page through the control API as
// always; what the test checks is what a person sees.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
)

// bigEmulator serves the default scenario on a virtual clock, with its store at hand; wrap, when
// given, sees every request.
func bigEmulator(t *testing.T, wrap ...func(http.Handler) http.Handler) (base string, emu *emulator.Emulator, api *activeconnect.AuthenticationAPI) {
	t.Helper()
	needBrowser(t)
	emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = emu
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})
	api, err = activeconnect.NewAuthenticationAPI(scenario.DemoApplicationID, scenario.DemoApplicationSecret, activeconnect.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, emu, api
}

// finishedLogins gives user n logins that were denied at once.
func finishedLogins(t *testing.T, emu *emulator.Emulator, user string, n int) {
	t.Helper()
	st, now := emu.Store(), emu.Clock().Now()
	for range n {
		s, err := st.StartSession(scenario.DemoApplicationID, user, nil, now)
		if err == nil {
			_, err = st.Transition(s.Token, acapi.SessionStatusCancelled, now, "control")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// pendingLogins starts n logins of user that nobody answers.
func pendingLogins(t *testing.T, emu *emulator.Emulator, user string, n int) {
	t.Helper()
	st, now := emu.Store(), emu.Clock().Now()
	for range n {
		if _, err := st.StartSession(scenario.DemoApplicationID, user, nil, now); err != nil {
			t.Fatal(err)
		}
	}
}

// manyUsers adds user-0000 ... user-(n-1) to the demo application, each with a phone.
func manyUsers(t *testing.T, emu *emulator.Emulator, n int) {
	t.Helper()
	st, now := emu.Store(), emu.Clock().Now()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("user-%04d", i)
	}
	if _, _, err := st.AddUsers(scenario.DemoApplicationID, ids); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := st.RegisterPhone(scenario.DemoApplicationID, id, nil, now); err != nil {
			t.Fatal(err)
		}
	}
}

func moreText(tb *tab, id string) string {
	return eval[string](tb, `document.getElementById('`+id+`').textContent`)
}

// TestAPendingLoginBehindManyFinishedOnesShows: 12,000 denied logins of bob, then one of alice
// that nobody answered: alice's phone shows her login (the first page of live sessions the
// emulator answers is empty, the scan having stopped among bob's finished ones).
func TestAPendingLoginBehindManyFinishedOnesShows(t *testing.T) {
	t.Parallel()
	base, emu, api := bigEmulator(t)
	finishedLogins(t, emu, "bob", 12_000)
	login(t, api, "alice")
	tb := openConsole(t, base, "#phone")
	request := find("region", "Login request for alice", alicePhone)
	if !tb.waitForWithin(10*time.Second, request) {
		t.Fatalf("alice's phone says %q although she has a pending login", tb.text(alicePhone))
	}
	tb.waitText(find("article", "Phone of bob"), "No login waiting")
}

// TestAnOldLoginBehindManyLiveOnesShows: alice's login is older than 1,200 live logins of bob:
// her phone still shows it, and bob's says that it shows only his newest logins.
func TestAnOldLoginBehindManyLiveOnesShows(t *testing.T) {
	t.Parallel()
	base, emu, api := bigEmulator(t)
	login(t, api, "alice")
	pendingLogins(t, emu, "bob", 1_200)
	tb := openConsole(t, base, "#phone")
	if !tb.waitForWithin(10*time.Second, find("region", "Login request for alice", alicePhone)) {
		t.Fatalf("alice's phone says %q although she has a pending login", tb.text(alicePhone))
	}
	bob := in("article", "Phone of bob")
	tb.waitFor(find("region", "Login request for bob", bob))
	shown := eval[int](tb, `document.querySelectorAll('article[aria-label="Phone of bob"] .notification').length`)
	if shown != 5 {
		t.Errorf("bob's phone shows %d of his 1,200 logins, want the newest 5", shown)
	}
	tb.waitText(bob, "And 1,195 more logins waiting; the newest 5 are shown.")
}

// TestEveryUserCanBeFound: with 1,503 users more, the Phone view says how many there are, finds a
// user far past the first page, and shows first a user whose login waits.
func TestEveryUserCanBeFound(t *testing.T) {
	t.Parallel()
	base, emu, _ := bigEmulator(t)
	manyUsers(t, emu, 1_503)
	if _, err := emu.Store().StartSession(scenario.DemoApplicationID, "user-1400", nil, emu.Clock().Now()); err != nil {
		t.Fatal(err)
	}
	tb := openConsole(t, base, "#phone")
	tb.waitEval(`document.getElementById('phones-more').textContent !== ''`, "the phones' summary")
	if got := moreText(tb, "phones-more"); !containsAll(got, "60", "1,506 users") {
		t.Errorf("the Phone view says %q, want it to show 60 of 1,506 users", got)
	}
	// The login of user-1400 waits: that phone is shown without searching.
	if !tb.waitForWithin(5*time.Second, find("region", "Login request for user-1400", in("article", "Phone of user-1400"))) {
		t.Error("the waiting login of user-1400 is not shown")
	}
	tb.fill(find("searchbox", "Find user", in("region", "Phone")), "user-1502")
	if !tb.waitForWithin(5*time.Second, find("article", "Phone of user-1502")) {
		t.Fatalf("Find user does not find user-1502; the view says %q", moreText(tb, "phones-more"))
	}
	tb.waitText(find("article", "Phone of user-1502"), "No login waiting")
	tb.fill(find("searchbox", "Find user", in("region", "Phone")), "USER-150")
	tb.waitEval(`document.querySelectorAll('#phones article').length === 3`, "user-1500, user-1501 and user-1502")
	tb.fill(find("searchbox", "Find user", in("region", "Phone")), "nobody")
	tb.waitEval(`document.getElementById('phones-more').textContent.includes('No users match')`, "no users match")
}

// TestRegistrationFindsEveryUserAndItsLinks: the Registration view finds a user past the first
// page, and the SMS of such a user can be opened on the phone.
func TestRegistrationFindsEveryUserAndItsLinks(t *testing.T) {
	t.Parallel()
	base, emu, _ := bigEmulator(t)
	st, now := emu.Store(), emu.Clock().Now()
	ids := make([]string, 1_503)
	for i := range ids {
		ids[i] = fmt.Sprintf("user-%04d", i)
	}
	if _, _, err := st.AddUsers(scenario.DemoApplicationID, ids); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SendSMS(scenario.DemoApplicationID, "user-1502", "+15555550100", "", "Welcome:",
		func(code string) string { return base + "/_acmock/register/" + code }, now); err != nil {
		t.Fatal(err)
	}
	tb := openConsole(t, base, "#registration")
	sms := find("article", "SMS to +15555550100 for user-1502", in("list", "SMS outbox"))
	tb.waitFor(sms)
	if got := moreText(tb, "registration-more"); !containsAll(got, "60", "1,506 users") {
		t.Errorf("the Registration view says %q, want it to show 60 of 1,506 users", got)
	}
	tb.click(find("button", "Open on phone", sms))
	tb.waitText(sms, "link used")
	if u, err := st.User(scenario.DemoApplicationID, "user-1502"); err != nil || !u.HasDevice() {
		t.Fatalf("after Open on phone user-1502 has no phone (%v)", err)
	}
	tb.fill(find("searchbox", "Find user", in("region", "Registration")), "user-1502")
	if !tb.waitForWithin(5*time.Second, find("article", "Registration of user-1502")) {
		t.Fatalf("Find user does not find user-1502; the view says %q", moreText(tb, "registration-more"))
	}
	tb.waitText(find("article", "Registration of user-1502"), "Phone registered")
}

// reads counts what the page reads: requests per path and the users and sessions they answered.
type reads struct {
	mu       sync.Mutex
	requests map[string]int
	bad      []string // reads that are not bounded pages
}

func (rd *reads) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == "/_acmock/users" || r.URL.Path == "/_acmock/sessions") {
			q := r.URL.Query()
			limit, err := strconv.Atoi(q.Get("limit"))
			rd.mu.Lock()
			rd.requests[r.URL.Path]++
			if _, named := q["user"]; r.URL.Path == "/_acmock/users" && !named && (err != nil || limit > 200) {
				rd.bad = append(rd.bad, r.URL.String())
			}
			if r.URL.Path == "/_acmock/sessions" && (err != nil || limit > 200) {
				rd.bad = append(rd.bad, r.URL.String())
			}
			rd.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// TestARefreshReadsBoundedPages: with 3,000 users and 300 logins waiting, every refresh of the
// Phone and Registration views reads a few small pages, never a whole list, however many there are.
func TestARefreshReadsBoundedPages(t *testing.T) {
	t.Parallel()
	rd := &reads{requests: map[string]int{}}
	base, emu, api := bigEmulator(t, rd.middleware)
	manyUsers(t, emu, 3_000)
	st, now := emu.Store(), emu.Clock().Now()
	for i := range 300 {
		if _, err := st.StartSession(scenario.DemoApplicationID, fmt.Sprintf("user-%04d", i*10), nil, now); err != nil {
			t.Fatal(err)
		}
	}
	tb := openConsole(t, base, "#phone")
	tb.waitFor(find("region", "Login request for user-2990", in("article", "Phone of user-2990")))
	for i := range 5 { // five changes, five refreshes
		login(t, api, "alice")
		tb.waitEval(`document.querySelectorAll('article[aria-label="Phone of alice"] .notification').length === `+strconv.Itoa(min(i+1, 5)), "alice's logins")
	}
	tb.click(find("link", "Registration"))
	tb.waitFor(find("article", "Registration of user-0000"))
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if len(rd.bad) > 0 {
		t.Errorf("the page read whole lists:\n%s", strings.Join(rd.bad, "\n"))
	}
	t.Logf("reads: %v", rd.requests)
}
