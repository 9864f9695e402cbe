package emulator_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/scenarios"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// timelineYAML has one user per kind of timeline.
const timelineYAML = `
applications:
  - id: app
    secret: SECRET
    users:
      - id: erin           # identifies, approves, walks away and comes back
        phone: true
        login:
          - {after: 1s, status: identifying}
          - {after: 3s, status: active}
          - {after: 60s, status: walkaway}
          - {after: 70s, status: active}
      - id: alice          # approves, then nothing more happens
        phone: true
        login: [{after: 2s, status: active}]
      - id: quiet          # never answers
        phone: true
        login: []
      - id: zero           # answers at once
        phone: true
        login:
          - {after: 0s, status: active}
          - {after: 5s, status: closed}
`

// timelineEnv serves timelineYAML (plus extra YAML at the end) on clk.
func timelineEnv(t *testing.T, clk clock.Clock, extra string) *env {
	t.Helper()
	sc, err := scenario.Parse("timeline.yaml", []byte(timelineYAML+extra))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *emulator.Options) { o.Clock, o.Scenario = clk, sc })
	e.clock, _ = clk.(*clock.Virtual)
	return e
}

type session struct {
	e                                   *env
	token, secret, statusURL, logoutURL string
}

func (e *env) loginAs(user string) session {
	e.t.Helper()
	r := e.do(http.MethodPost, "/authentication/authenticate_user/app/"+user, "app", "SECRET", map[string]any{})
	if r.status != http.StatusAccepted {
		e.t.Fatalf("authenticate %s: %d %s", user, r.status, r.raw)
	}
	if got := r.str("authentication_status", "session_status"); got != "pending" {
		e.t.Fatalf("authenticate %s answered %s; a session always starts pending", user, got)
	}
	return session{e: e, token: r.str("authentication_status", "session_token"), secret: r.str("authentication_status", "session_secret"),
		statusURL: r.str("authentication_status", "status_url"), logoutURL: r.str("authentication_status", "logout_url")}
}

func (s session) poll() string {
	s.e.t.Helper()
	return s.e.status(s.token, s.secret, s.statusURL)
}

// polls polls n times without anything else happening in between.
func (s session) polls(n int) []string {
	s.e.t.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = s.poll()
	}
	return out
}

func (e *env) elapsed() time.Duration { return e.clock.Now().Sub(epoch) }

// TestAutoClockPollsWalkTheTimeline: each poll that would repeat the previous answer moves time
// to the session's next change, so successive polls see every status once, and the clock ends
// where the last step is.
func TestAutoClockPollsWalkTheTimeline(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewAuto(epoch), "")
	erin := e.loginAs("erin")
	got := erin.polls(7)
	want := []string{"pending", "identifying", "active", "walkaway", "active", "active", "active"}
	if !slices.Equal(got, want) {
		t.Fatalf("polls saw %v, want %v", got, want)
	}
	if e.elapsed() != 70*time.Second {
		t.Fatalf("the clock moved %v, want 70s (the last step)", e.elapsed())
	}
	if n := e.clock.Pending(); n != 0 {
		t.Fatalf("%d timers left once the timeline is over (the timeout went when the phone answered)", n)
	}
	sessions := e.emu.Store().Sessions(nil)
	var at []time.Duration
	for _, h := range sessions[0].History {
		at = append(at, h.At.Sub(epoch))
	}
	if want := []time.Duration{0, time.Second, 3 * time.Second, 60 * time.Second, 70 * time.Second}; !slices.Equal(at, want) {
		t.Fatalf("history at %v, want %v: steps keep their scenario times", at, want)
	}
}

func TestAutoClockTimeoutAndDecidedSessions(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewAuto(epoch), "")
	quiet := e.loginAs("quiet")
	if got := quiet.polls(3); !slices.Equal(got, []string{"pending", "timeout", "timeout"}) {
		t.Fatalf("a phone that never answers: %v", got)
	}
	if e.elapsed() != scenario.DefaultTimeout {
		t.Fatalf("the clock moved %v, want the 60s timeout", e.elapsed())
	}

	// An approved session with nothing more to come does not move time: its timeout changes
	// nothing, so polling it again must not fire other sessions' steps.
	f := timelineEnv(t, clock.NewAuto(epoch), "")
	alice := f.loginAs("alice")
	erin := f.loginAs("erin")
	if got := alice.polls(4); !slices.Equal(got, []string{"pending", "active", "active", "active"}) {
		t.Fatalf("alice: %v", got)
	}
	if f.elapsed() != 2*time.Second {
		t.Fatalf("polling a decided session moved the clock to %v", f.elapsed())
	}
	// The jump to alice's approval fired erin's identifying at 1s on the way.
	if got := erin.poll(); got != "identifying" {
		t.Fatalf("erin after alice's jump to 2s: %s", got)
	}
}

// TestAutoClockFiresOtherSessionsInOrder: a jump made for one session fires every step of every
// session due by then, in time order.
func TestAutoClockFiresOtherSessionsInOrder(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewAuto(epoch), "")
	erin := e.loginAs("erin")
	quiet := e.loginAs("quiet")
	quiet.polls(2) // to its timeout at 60s
	var got []string
	for _, s := range e.emu.Store().Sessions(nil) {
		for _, h := range s.History {
			got = append(got, s.UserID+":"+string(h.Status)+"@"+h.At.Sub(epoch).String())
		}
	}
	want := []string{"erin:pending@0s", "erin:identifying@1s", "erin:active@3s", "erin:walkaway@1m0s",
		"quiet:pending@0s", "quiet:timeout@1m0s"}
	if !slices.Equal(got, want) {
		t.Fatalf("histories %v, want %v", got, want)
	}
	// erin's client had not looked yet; it now sees where her timeline is, then moves on.
	if got := erin.polls(3); !slices.Equal(got, []string{"walkaway", "active", "active"}) {
		t.Fatalf("erin: %v", got)
	}
}

// TestAutoClockChangesBetweenPolls: a change made between two polls (the control API, Advance, a
// logout) is what the next poll sees, without moving time.
func TestAutoClockChangesBetweenPolls(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewAuto(epoch), "")
	erin := e.loginAs("erin")
	erin.poll()
	if _, err := e.emu.SetStatus(erin.token, "active"); err != nil {
		t.Fatal(err)
	}
	if got := erin.poll(); got != "active" || e.elapsed() != 0 {
		t.Fatalf("after approving from the control side: %s at %v", got, e.elapsed())
	}
	// Advance still moves the clock: at 65s erin has walked away.
	e.clock.Advance(65 * time.Second)
	if got := erin.poll(); got != "walkaway" || e.elapsed() != 65*time.Second {
		t.Fatalf("after Advance(65s): %s at %v", got, e.elapsed())
	}
	if lo := e.do(http.MethodPost, erin.logoutURL, erin.token, erin.secret, nil); lo.status != 200 {
		t.Fatalf("logout: %d %s", lo.status, lo.raw)
	}
	if got := erin.polls(2); !slices.Equal(got, []string{"closed", "closed"}) || e.elapsed() != 65*time.Second {
		t.Fatalf("after logout: %v at %v", got, e.elapsed())
	}
	if n := e.clock.Pending(); n != 0 {
		t.Fatalf("%d timers still pending for a closed session", n)
	}
}

// TestAutoClockSpoiledPollDoesNotMoveTime: an answer a fault cut short was not seen, so the next
// poll still gets the status it would have carried, and only the one after moves on.
func TestAutoClockSpoiledPollDoesNotMoveTime(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewAuto(epoch), `
faults:
  - operation: getSessionStatus
    call: 2
    malformed: true
`)
	alice := e.loginAs("alice")
	if got := alice.poll(); got != "pending" {
		t.Fatalf("first poll: %s", got)
	}
	req, _ := http.NewRequest(http.MethodGet, alice.statusURL, nil)
	if err := acauth.NewSigner(alice.token, alice.secret).SignRequest(req.Context(), req); err != nil {
		t.Fatal(err)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if json.Valid(body) {
		t.Fatalf("the second poll should be cut short: %s", body)
	}
	if e.elapsed() != 0 {
		t.Fatalf("a malformed answer moved the clock to %v", e.elapsed())
	}
	if got := alice.polls(2); !slices.Equal(got, []string{"active", "active"}) {
		t.Fatalf("after the malformed answer: %v", got)
	}
}

// TestAutoClockJournalTime: a poll that moved the clock is journalled at the time it moved to,
// the time its answer reflects.
func TestAutoClockJournalTime(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewAuto(epoch), "")
	e.loginAs("erin").polls(3)
	polls := e.emu.Journal().List(journal.Filter{Operation: "getSessionStatus"})
	var at []time.Duration
	for _, p := range polls {
		at = append(at, p.Time.Sub(epoch))
	}
	if want := []time.Duration{0, time.Second, 3 * time.Second}; !slices.Equal(at, want) {
		t.Fatalf("journal times %v, want %v", at, want)
	}
}

// TestManualClockPollsDoNotMoveTime: the manual virtual clock moves only when advanced.
func TestManualClockPollsDoNotMoveTime(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewVirtual(epoch), "")
	erin := e.loginAs("erin")
	if got := erin.polls(3); !slices.Equal(got, []string{"pending", "pending", "pending"}) || e.elapsed() != 0 {
		t.Fatalf("manual clock: %v at %v", got, e.elapsed())
	}
	e.clock.Advance(3 * time.Second)
	if got := erin.poll(); got != "active" {
		t.Fatalf("after Advance(3s): %s", got)
	}
}

// TestZeroDelayStepsFireAtOnce on every clock: the first poll, made before any time passes, sees
// the steps due at 0s; authenticate still answered pending (checked by loginAs).
func TestZeroDelayStepsFireAtOnce(t *testing.T) {
	t.Parallel()
	for name, clk := range map[string]func() clock.Clock{
		"real":    func() clock.Clock { return clock.Real{} },
		"virtual": func() clock.Clock { return clock.NewVirtual(epoch) },
		"auto":    func() clock.Clock { return clock.NewAuto(epoch) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := timelineEnv(t, clk(), "")
			zero := e.loginAs("zero")
			if got := zero.poll(); got != "active" {
				t.Fatalf("first poll: %s, want active (due at 0s)", got)
			}
			s := e.emu.Store().Sessions(nil)[0]
			if len(s.History) != 2 || !s.History[1].At.Equal(s.History[0].At) {
				t.Fatalf("history %+v: the zero-delay step at the login's time", s.History)
			}
		})
	}
}

func TestAutoClockControlAPI(t *testing.T) {
	t.Parallel()
	e := timelineEnv(t, clock.NewAuto(epoch), "")
	ctx := context.Background()
	h, err := e.ctl().GetHealthWithResponse(ctx)
	if err != nil || h.JSON200 == nil || h.JSON200.Clock != "auto" {
		t.Fatalf("health: %v %s", err, h.Body)
	}
	e.loginAs("alice")
	adv, _ := e.ctl().AdvanceClockWithResponse(ctx, acctl.AdvanceRequest{Duration: "2s"})
	if adv.JSON200 == nil || adv.JSON200.Mode != "auto" || *adv.JSON200.Fired != 1 || adv.JSON200.Pending != 0 {
		t.Fatalf("advance on the auto clock: %d %s", adv.StatusCode(), adv.Body)
	}
	if !strings.Contains(string(adv.Body), `"pending":0`) {
		t.Fatalf("an approved session with nothing to come keeps no timer: %s", adv.Body)
	}
}

// BenchmarkStatusPoll measures one signed status poll through the whole handler on each clock, for
// a session with a step still to come on the manual clock and an approved one elsewhere: the cost
// the automatic clock adds to a poll that does not move time.
func BenchmarkStatusPoll(b *testing.B) {
	for name, clk := range map[string]func() clock.Clock{
		"real":    func() clock.Clock { return clock.Real{} },
		"virtual": func() clock.Clock { return clock.NewVirtual(epoch) },
		"auto":    func() clock.Clock { return clock.NewAuto(epoch) },
	} {
		b.Run(name, func(b *testing.B) {
			emu, err := emulator.New(emulator.Options{Clock: clk()})
			if err != nil {
				b.Fatal(err)
			}
			defer emu.Close()
			token, secret := benchLogin(b, emu, "alice")
			signer := acauth.NewSigner(token, secret)
			b.ReportAllocs()
			for b.Loop() {
				benchPoll(b, emu, signer, token)
			}
		})
	}
}

// BenchmarkAutoClockLogin measures a whole login on the automatic clock: authenticate, then polls
// until walkaway.yaml's erin is back (four jumps), through the handler.
func BenchmarkAutoClockLogin(b *testing.B) {
	data, err := scenarios.Walkaway.YAML()
	if err != nil {
		b.Fatal(err)
	}
	sc, err := scenario.Parse("walkaway.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Clock: clock.NewAuto(epoch), Scenario: sc})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	b.ReportAllocs()
	for b.Loop() {
		token, secret := benchLogin(b, emu, "erin")
		signer := acauth.NewSigner(token, secret)
		for range 5 {
			benchPoll(b, emu, signer, token)
		}
		if s, _ := emu.Store().Session(token); s.Status != "active" || len(s.History) != 5 {
			b.Fatalf("after five polls: %s, %d changes", s.Status, len(s.History))
		}
	}
}

// benchPoll sends one signed status poll through the handler.
func benchPoll(b *testing.B, emu *emulator.Emulator, signer *acauth.Signer, token string) {
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/authentication/session_status/"+token, nil)
	if err := signer.SignRequest(req.Context(), req); err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

func benchLogin(b *testing.B, emu *emulator.Emulator, user string) (token, secret string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/authentication/authenticate_user/"+demoApp+"/"+user, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if err := acauth.NewSigner(demoApp, demoSecret).SignRequest(req.Context(), req); err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, req)
	var body struct {
		Status struct {
			Token  string `json:"session_token"`
			Secret string `json:"session_secret"`
		} `json:"authentication_status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusAccepted {
		b.Fatalf("login %s: %d %s", user, rec.Code, rec.Body)
	}
	return body.Status.Token, body.Status.Secret
}
