package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/store"
)

// TestMain lets the crash test run this test binary as acmock itself: a child started with
// ACMOCK_TEST_SERVE=1 serves with its arguments, so that it can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("ACMOCK_TEST_SERVE") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
	}
	os.Exit(m.Run())
}

// child is acmock running as a separate process.
type child struct {
	cmd  *exec.Cmd
	base string
	errs *syncBuffer
}

var servingAt = regexp.MustCompile(`serving the Activeconnect API at (http://127\.0\.0\.1:\d+)`)

func startChild(t *testing.T, args ...string) (*child, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "ACMOCK_TEST_SERVE=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errs := &syncBuffer{}
	cmd.Stderr = errs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := servingAt.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case base, ok := <-found:
		if !ok {
			_ = cmd.Wait()
			return nil, fmt.Errorf("acmock exited before serving: %s", errs.String())
		}
		return &child{cmd: cmd, base: base, errs: errs}, nil
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("acmock did not start: %s", errs.String())
	}
}

func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// crashClient makes the harness's calls; any answer but the expected status is "not acknowledged".
type crashClient struct {
	http *http.Client
	base string
}

func (c crashClient) call(method, path, body string, want int, out any) bool {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return false
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != want {
		return false
	}
	return out == nil || json.Unmarshal(data, out) == nil
}

// expected is what the acknowledged writes promise the state holds, per user (each user is
// written by one worker only, so its last acknowledged state is known exactly).
type expected struct {
	mu       sync.Mutex
	users    map[string]*userFacts
	apps     map[string]bool
	messages int
	clock    time.Time
	writes   int
}

type userFacts struct {
	phone    string // "", "registered", "lost"
	sessions map[string]string
}

func (x *expected) ack(f func()) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.writes++
	f()
}

const demoApp = "5ca1ab1e000000000000000000000001"

// worker writes until stop closes: add a user, register a phone through a link, log in, approve
// from the phone, lose the phone, send an SMS; worker 0 also creates applications and moves the
// clock. Every write acknowledged with its success status is recorded in x.
func worker(c crashClient, w int, next *atomic.Int64, x *expected, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		id := fmt.Sprintf("w%d-u%d", w, next.Add(1))
		if !c.call("POST", "/management/add_users/"+demoApp, `{"users":["`+id+`"]}`, http.StatusCreated, nil) {
			continue
		}
		x.ack(func() { x.users[id] = &userFacts{sessions: map[string]string{}} })
		var link struct {
			URL string `json:"register_url"`
		}
		if !c.call("GET", "/management/device_registration_link/"+demoApp+"/"+id, "", http.StatusOK, &link) {
			continue
		}
		x.ack(func() {})
		code := link.URL[strings.LastIndex(link.URL, "/")+1:]
		if !c.call("GET", "/_acmock/register/"+code, "", http.StatusOK, nil) {
			continue
		}
		x.ack(func() { x.users[id].phone = "registered" })
		var auth struct {
			Status struct {
				Token string `json:"session_token"`
			} `json:"authentication_status"`
		}
		if !c.call("POST", "/authentication/authenticate_user/"+demoApp+"/"+id, `{}`, http.StatusAccepted, &auth) || auth.Status.Token == "" {
			continue
		}
		token := auth.Status.Token
		x.ack(func() { x.users[id].sessions[token] = "pending" })
		if !c.call("POST", "/_acmock/sessions/"+token+"/status", `{"status":"active"}`, http.StatusOK, nil) {
			continue
		}
		x.ack(func() { x.users[id].sessions[token] = "active" })
		if !c.call("POST", "/_acmock/applications/"+demoApp+"/users/"+id+"/lose-phone", "", http.StatusOK, nil) {
			continue
		}
		// Losing the phone closes the active session.
		x.ack(func() { x.users[id].phone = "lost"; x.users[id].sessions[token] = "closed" })
		if rand.IntN(4) == 0 {
			if c.call("POST", "/management/send_registration_sms/"+demoApp+"/"+id, `{"phone_number":"+15555550100"}`, http.StatusOK, nil) {
				x.ack(func() { x.messages++ })
			}
		}
		if w == 0 {
			var app struct {
				ID string `json:"id"`
			}
			if c.call("POST", "/_acmock/applications", `{}`, http.StatusCreated, &app) {
				x.ack(func() { x.apps[app.ID] = true })
			}
			var clk struct {
				Now time.Time `json:"now"`
			}
			if c.call("POST", "/_acmock/clock/advance", `{"duration":"1s"}`, http.StatusOK, &clk) {
				x.ack(func() { x.clock = clk.Now })
			}
		}
	}
}

// crashMaxSessions is the session cap the harness runs acmock with: low enough that the cap
// forgets sessions during the run, so that restarts replay evictions too.
const crashMaxSessions = 150

// check compares the state after a restart with what was acknowledged. A session may be gone
// only when the cap is full (it was forgotten for a newer one); check returns how many were.
func (x *expected) check(t *testing.T, st *store.State) (forgotten int) {
	t.Helper()
	x.mu.Lock()
	defer x.mu.Unlock()
	users := map[string]store.UserState{}
	apps := map[string]bool{}
	for _, a := range st.Applications {
		apps[a.ID] = true
		if a.ID == demoApp {
			for _, u := range a.Users {
				users[u.ID] = u
			}
		}
	}
	sessions := map[string]store.SessionState{}
	for _, s := range st.Sessions {
		sessions[s.Token] = s
	}
	for id, want := range x.users {
		got, ok := users[id]
		if !ok {
			t.Errorf("acknowledged user %s is gone", id)
			continue
		}
		switch {
		// A write in flight at the kill may have been made too: a registered phone may be lost.
		case want.phone == "registered" && got.Phone == nil:
			t.Errorf("user %s: acknowledged a registered phone, state has %+v", id, got.Phone)
		case want.phone == "lost" && (got.Phone == nil || !got.Phone.Lost):
			t.Errorf("user %s: acknowledged a lost phone, state has %+v", id, got.Phone)
		}
		for token, status := range want.sessions {
			s, ok := sessions[token]
			if !ok && len(st.Sessions) == crashMaxSessions {
				forgotten++
				continue
			}
			if !ok {
				t.Errorf("user %s: acknowledged session %s is gone, with %d sessions kept", id, token, len(st.Sessions))
				continue
			}
			if !slices.ContainsFunc(s.History, func(h store.ChangeState) bool { return string(h.Status) == status }) {
				t.Errorf("session %s: acknowledged status %s is not in its history %+v", token, status, s.History)
			}
		}
	}
	for id := range x.apps {
		if !apps[id] {
			t.Errorf("acknowledged application %s is gone", id)
		}
	}
	if len(st.Outbox) < x.messages {
		t.Errorf("the outbox holds %d messages, %d were acknowledged", len(st.Outbox), x.messages)
	}
	if st.Clock.Now.Before(x.clock) {
		t.Errorf("the clock reads %v, an advance to %v was acknowledged", st.Clock.Now, x.clock)
	}
	return forgotten
}

// exportState answers GET /_acmock/state, raw and parsed.
func exportState(t *testing.T, c *child, client crashClient, when string) (json.RawMessage, *store.State) {
	t.Helper()
	var raw json.RawMessage
	if !client.call("GET", "/_acmock/state", "", http.StatusOK, &raw) {
		c.kill()
		t.Fatalf("%s: GET /_acmock/state failed: %s", when, c.errs.String())
	}
	parsed, err := store.ParseState(raw, store.Limits{MaxSessions: crashMaxSessions})
	if err != nil {
		c.kill()
		t.Fatalf("%s: the exported state does not load: %v", when, err)
	}
	return raw, parsed
}

// TestCrashLosesNoAcknowledgedWrite is the crash harness: acmock with --data takes mixed writes
// from several clients, is killed with SIGKILL at a random moment, restarted on the same
// directory, and must hold every write it had acknowledged, with a store that loads (nothing
// corrupt); a few rounds of that. ACMOCK_CRASH_ROUNDS sets the number of kills (default 6).
func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts acmock processes")
	}
	rounds := 6
	if n, err := fmt.Sscan(os.Getenv("ACMOCK_CRASH_ROUNDS"), &rounds); n == 0 || err != nil {
		rounds = 6
	}
	dir := t.TempDir()
	x := &expected{users: map[string]*userFacts{}, apps: map[string]bool{}}
	var next atomic.Int64
	hc := &http.Client{Timeout: 10 * time.Second}
	args := []string{"--data", dir, "--clock", "virtual", "--auth", "off", "--max-sessions", fmt.Sprint(crashMaxSessions)}
	forgotten := 0
	for round := 0; round <= rounds; round++ {
		c, err := startChild(t, args...)
		if err != nil {
			t.Fatalf("restart %d: %v", round, err)
		}
		client := crashClient{http: hc, base: c.base}
		raw, parsed := exportState(t, c, client, fmt.Sprintf("restart %d", round))
		forgotten = x.check(t, parsed)
		// Without writes in between, another kill and restart gives back the very same state:
		// the replay (evictions, expiries and fired steps included) is deterministic.
		c.kill()
		if c, err = startChild(t, args...); err != nil {
			t.Fatalf("restart %d again: %v", round, err)
		}
		client = crashClient{http: hc, base: c.base}
		if again, _ := exportState(t, c, client, fmt.Sprintf("restart %d again", round)); !bytes.Equal(raw, again) {
			t.Errorf("restart %d: a second restart with no write in between changed the state:\n%.2000s\nthen\n%.2000s", round, raw, again)
		}
		if t.Failed() || round == rounds {
			c.kill()
			break
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); worker(client, w, &next, x, stop) }()
		}
		// The kill comes after a random number of acknowledged writes (not after a time, which
		// a loaded machine stretches), while the workers are in the middle of more.
		x.mu.Lock()
		target := x.writes + 300 + rand.IntN(500)
		x.mu.Unlock()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond) {
			x.mu.Lock()
			done := x.writes >= target
			x.mu.Unlock()
			if done {
				break
			}
		}
		c.kill()
		close(stop)
		wg.Wait()
	}
	x.mu.Lock()
	sessions := 0
	for _, u := range x.users {
		sessions += len(u.sessions)
	}
	t.Logf("crash harness: %d kills at random moments (and %d more between restarts with no write), %d acknowledged writes "+
		"(%d users, %d sessions of which %d forgotten by the cap of %d, %d SMS, %d applications)",
		rounds, rounds+1, x.writes, len(x.users), sessions, forgotten, crashMaxSessions, x.messages, len(x.apps))
	if sessions == 0 || x.messages == 0 || len(x.apps) == 0 || forgotten == 0 {
		t.Errorf("some kinds of write were never acknowledged: the harness is broken")
	}
	x.mu.Unlock()
	if x.writes < rounds*300 {
		t.Errorf("only %d writes were acknowledged in %d rounds: the harness did not exercise the store", x.writes, rounds)
	}
}
