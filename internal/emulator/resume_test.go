package emulator_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
)

// resumeYAML has a phone that identifies, then approves, and one that never answers; every step
// is far enough off that no real timer fires while a test starts and stops an emulator.
const resumeYAML = `
timeout: 60s
applications:
  - id: app
    secret: SECRET
    users:
      - id: ann
        phone: true
        login:
          - {after: 20s, status: identifying}
          - {after: 30s, status: active}
      - id: quiet
        phone: true
        login: []
`

// lagging is the real clock set back by a fixed amount: an emulator on it writes a data directory
// or a snapshot as one that stopped that long ago would have.
type lagging struct{ by time.Duration }

func (l lagging) Now() time.Time { return time.Now().Add(-l.by) }
func (l lagging) AfterFunc(d time.Duration, f func()) clock.Timer {
	return time.AfterFunc(d, f)
}

func resumeEnv(t *testing.T, clk clock.Clock, more ...func(*emulator.Options)) *env {
	t.Helper()
	sc, err := scenario.Parse("resume.yaml", []byte(resumeYAML))
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, append([]func(*emulator.Options){func(o *emulator.Options) { o.Clock, o.Scenario = clk, sc }}, more...)...)
}

func (e *env) loginTo(app, secret, user string) string {
	e.t.Helper()
	r := e.do(http.MethodPost, "/authentication/authenticate_user/"+app+"/"+user, app, secret, map[string]any{})
	if r.status != http.StatusAccepted {
		e.t.Fatalf("authenticate %s: %d %s", user, r.status, r.raw)
	}
	return r.str("authentication_status", "session_token")
}

// expectOverdueFired checks that every step of both logins, all due while the emulator was
// stopped, fired in order: ann identified then approved (so her timeout never fired), quiet timed
// out; and that nothing is left to fire.
func expectOverdueFired(t *testing.T, e *env, ann, quiet string) {
	t.Helper()
	statuses := func(token string) []string {
		s, err := e.emu.Store().Session(token)
		if err != nil {
			t.Fatalf("session %s: %v", token, err)
		}
		var out []string
		for _, h := range s.History {
			out = append(out, string(h.Status))
		}
		return out
	}
	if got, want := statuses(ann), []string{"pending", "identifying", "active"}; !slices.Equal(got, want) {
		t.Errorf("ann's session went %v, want %v", got, want)
	}
	if got, want := statuses(quiet), []string{"pending", "timeout"}; !slices.Equal(got, want) {
		t.Errorf("quiet's session went %v, want %v", got, want)
	}
	if steps := e.do(http.MethodGet, "/_acmock/timeline", "", "", nil).field("steps").([]any); len(steps) != 0 {
		t.Errorf("steps still planned after every one fell due: %v", steps)
	}
}

// TestOverdueStepsFireAtARestart: steps that fell due while acmock was stopped fire at once, in
// order, when it starts again; on the real clock, on a virtual clock's directory restarted on the
// real clock, and when an older snapshot is imported.
func TestOverdueStepsFireAtARestart(t *testing.T) {
	t.Parallel()
	t.Run("real clock, stopped for ten minutes", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		withDir := func(o *emulator.Options) { o.DataDir = dir }
		e := resumeEnv(t, lagging{10 * time.Minute}, withDir)
		ann, quiet := e.loginTo("app", "SECRET", "ann"), e.loginTo("app", "SECRET", "quiet")
		e.emu.Close()
		expectOverdueFired(t, resumeEnv(t, clock.Real{}, withDir), ann, quiet)
	})
	t.Run("virtual clock's directory restarted on the real clock", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		withDir := func(o *emulator.Options) { o.DataDir = dir }
		e := resumeEnv(t, clock.NewVirtual(time.Now().Add(-10*time.Minute)), withDir)
		ann, quiet := e.loginTo("app", "SECRET", "ann"), e.loginTo("app", "SECRET", "quiet")
		e.emu.Close()
		expectOverdueFired(t, resumeEnv(t, clock.Real{}, withDir), ann, quiet)
	})
	t.Run("older snapshot imported on the real clock", func(t *testing.T) {
		t.Parallel()
		old := resumeEnv(t, lagging{10 * time.Minute})
		ann, quiet := old.loginTo("app", "SECRET", "ann"), old.loginTo("app", "SECRET", "quiet")
		snap := old.do(http.MethodGet, "/_acmock/state", "", "", nil)
		e := resumeEnv(t, clock.Real{})
		if r := e.do(http.MethodPut, "/_acmock/state", "", "", snap.raw); r.status != http.StatusOK {
			t.Fatalf("PUT state: %d %s", r.status, r.raw)
		}
		expectOverdueFired(t, e, ann, quiet)
	})
}
