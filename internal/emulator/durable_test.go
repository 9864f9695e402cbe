package emulator_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/durable"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/store"
)

// TestDataDirKeepsRunTimeStateAcrossRestarts makes users, a phone, a session with steps to come, an
// SMS, an application, a clock time and skew settings, stops the emulator and starts another on
// the same directory: it holds all of it, and the session's pending step fires at its due time.
func TestDataDirKeepsRunTimeStateAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	withDir := func(o *emulator.Options) { o.DataDir = dir }
	e := newEnv(t, withDir)
	if r := e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"dave", "erin"}}); r.status != http.StatusCreated {
		t.Fatalf("add users: %d %s", r.status, r.raw)
	}
	link := e.app(http.MethodGet, userPath("/management/device_registration_link", "dave"), nil).str("register_url")
	if r := e.do(http.MethodGet, link, "", "", nil, func(r *http.Request) { r.Header.Set("Accept", "application/json") }); r.status != http.StatusOK {
		t.Fatalf("open link: %d %s", r.status, r.raw)
	}
	if r := e.app(http.MethodPost, userPath("/management/send_registration_sms", "erin"), map[string]any{"phone_number": "+15555550100"}); r.status != http.StatusOK {
		t.Fatalf("sms: %d %s", r.status, r.raw)
	}
	token, _, _, _ := e.login("dave") // the default timeline approves after 2 s
	if r := e.do(http.MethodPost, "/_acmock/applications", "", "", map[string]any{"id": "app2"}); r.status != http.StatusCreated {
		t.Fatalf("create application: %d %s", r.status, r.raw)
	}
	if r := e.do(http.MethodPut, "/_acmock/wallclock", "", "", map[string]any{"shift": "-10m", "max_skew": "42s"}); r.status != http.StatusOK {
		t.Fatalf("wall clock: %d %s", r.status, r.raw)
	}
	if r := e.do(http.MethodPost, "/_acmock/clock/advance", "", "", map[string]any{"duration": "1s"}); r.status != http.StatusOK {
		t.Fatalf("advance: %d %s", r.status, r.raw)
	}
	before := e.emu.ExportState()
	e.emu.Close()

	again := newEnv(t, withDir) // a fresh virtual clock at the same start: the saved time wins
	if got := again.emu.ExportState(); !reflect.DeepEqual(got, before) {
		a, _ := json.Marshal(before)
		b, _ := json.Marshal(got)
		t.Fatalf("state after the restart differs:\nbefore %s\nafter  %s", a, b)
	}
	if got := again.clock.Now(); !got.Equal(before.Clock.Now) {
		t.Errorf("the clock reads %v after the restart, want %v", got, before.Clock.Now)
	}
	if again.emu.WallClockShift() != -10*time.Minute || again.emu.Verifier().MaxSkew() != 42*time.Second {
		t.Errorf("skew settings after the restart: shift %v, max skew %v", again.emu.WallClockShift(), again.emu.Verifier().MaxSkew())
	}
	// The step due 2 s after the login was pending at the stop; it fires when the clock gets there.
	if s, _ := again.emu.Store().Session(token); s.Status != "pending" {
		t.Fatalf("session after the restart: %s", s.Status)
	}
	again.clock.Advance(time.Second)
	if s, _ := again.emu.Store().Session(token); s.Status != "active" {
		t.Fatalf("the rescheduled step did not fire at its due time: %s %+v", s.Status, s.History)
	}
}

func TestSecondEmulatorOnADataDirIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	newEnv(t, func(o *emulator.Options) { o.DataDir = dir })
	_, err := emulator.New(emulator.Options{DataDir: dir})
	if !errors.Is(err, durable.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second emulator: %v", err)
	}
}

// TestStateExportImportRoundTrip exports, changes the state, imports the export and expects the
// export again; a bad snapshot gets a 400 naming the field and changes nothing.
func TestStateExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"dave"}})
	e.login("alice")
	e.clock.Advance(time.Second)
	exported := e.do(http.MethodGet, "/_acmock/state", "", "", nil)
	if exported.status != http.StatusOK || exported.str("format") != "acmock-state" {
		t.Fatalf("GET state: %d %s", exported.status, exported.raw)
	}

	e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"zed"}})
	e.login("bob")
	if r := e.do(http.MethodPut, "/_acmock/state", "", "", exported.raw); r.status != http.StatusOK || r.field("sessions") != float64(1) {
		t.Fatalf("PUT state: %d %s", r.status, r.raw)
	}
	if again := e.do(http.MethodGet, "/_acmock/state", "", "", nil); again.raw != exported.raw {
		t.Fatalf("round trip differs:\nexported %s\nnow      %s", exported.raw, again.raw)
	}
	// The imported session's pending step still fires (alice approves 2 s after the login).
	e.clock.Advance(time.Second)
	sessions := e.emu.Store().Sessions(nil)
	if len(sessions) != 1 || sessions[0].Status != "active" {
		t.Fatalf("imported session after its due time: %+v", sessions)
	}

	before := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw
	var doc map[string]any
	_ = json.Unmarshal([]byte(before), &doc)
	for _, tc := range []struct {
		name, field string
		edit        func(map[string]any)
	}{
		{"future version", "version", func(d map[string]any) { d["version"] = 2 }},
		{"session of a missing user", "sessions[0].user", func(d map[string]any) {
			d["sessions"].([]any)[0].(map[string]any)["user"] = "nobody"
		}},
		{"duplicate application", "applications[1].id", func(d map[string]any) {
			apps := d["applications"].([]any)
			d["applications"] = append(apps, apps[0])
		}},
		{"bad skew", "wall_clock.max_skew", func(d map[string]any) { d["wall_clock"].(map[string]any)["max_skew"] = "soon" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bad map[string]any
			_ = json.Unmarshal([]byte(before), &bad)
			tc.edit(bad)
			r := e.do(http.MethodPut, "/_acmock/state", "", "", bad)
			if r.status != http.StatusBadRequest || !strings.Contains(r.str("field")+" "+r.str("message"), tc.field) {
				t.Fatalf("bad snapshot: %d %s, want a 400 naming %s", r.status, r.raw, tc.field)
			}
			if now := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw; now != before {
				t.Fatalf("a refused snapshot changed the state")
			}
		})
	}
}

// TestPutStatePastABoundIsRefused: a snapshot holding more sessions than the emulator keeps (its
// --max-sessions) is refused with a 400 naming the field, and nothing changes.
func TestPutStatePastABoundIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.Limits = store.Limits{MaxSessions: 1} })
	e.login("alice")
	before := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw
	var doc map[string]any
	_ = json.Unmarshal([]byte(before), &doc)
	sessions := doc["sessions"].([]any)
	extra := map[string]any{}
	for k, v := range sessions[0].(map[string]any) {
		extra[k] = v
	}
	extra["token"], extra["seq"] = "another", 7
	doc["sessions"] = append(sessions, extra)
	r := e.do(http.MethodPut, "/_acmock/state", "", "", doc)
	if r.status != http.StatusBadRequest || r.str("field") != "sessions" ||
		!strings.Contains(r.str("message"), "holds 2 sessions, more than the limit of 1") {
		t.Fatalf("PUT of 2 sessions with a cap of 1: %d %s", r.status, r.raw)
	}
	if now := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw; now != before {
		t.Fatal("a refused snapshot changed the state")
	}
}

// TestRestartPlansOnlyWhatIsStillToCome: after a restart the steps of live sessions are scheduled
// again, and nothing of sessions that ended (cancelled, expired past their lifetime) is.
func TestRestartPlansOnlyWhatIsStillToCome(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := func(o *emulator.Options) {
		o.DataDir = dir
		o.Limits = store.Limits{SessionLifetime: time.Hour}
	}
	planned := func(e *env) (sessions map[string]int, timers float64) {
		t.Helper()
		r := e.do(http.MethodGet, "/_acmock/timeline", "", "", nil)
		sessions = map[string]int{}
		for _, s := range r.field("steps").([]any) {
			sessions[s.(map[string]any)["session"].(string)]++
		}
		return sessions, e.do(http.MethodGet, "/_acmock/clock", "", "", nil).field("pending").(float64)
	}
	e := newEnv(t, opts)
	a, _, _, _ := e.login("alice") // approves 2 s later, else times out
	b, _, _, _ := e.login("bob")
	if r := e.do(http.MethodPost, "/_acmock/sessions/"+b+"/status", "", "", map[string]any{"status": "cancelled"}); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.raw)
	}
	e.emu.Close()

	e = newEnv(t, opts)
	if got, timers := planned(e); len(got) != 1 || got[a] != 2 || timers != 2 {
		t.Fatalf("after a restart: steps by session %v, %v timers; want alice's approval and timeout only", got, timers)
	}
	e.clock.Advance(2 * time.Second) // alice approves: her timeout goes
	e.clock.Advance(time.Hour)       // and her session outlives its lifetime
	if s, _ := e.emu.Store().Session(a); s.Status != "closed" {
		t.Fatalf("alice's session after its lifetime: %s", s.Status)
	}
	d, _, _, _ := e.login("alice")
	e.emu.Close()

	e = newEnv(t, opts)
	if got, timers := planned(e); len(got) != 1 || got[d] != 2 || timers != 2 {
		t.Fatalf("after a second restart: steps by session %v, %v timers; want the new login's only", got, timers)
	}
	if s, _ := e.emu.Store().Session(a); s.Status != "closed" || s.History[len(s.History)-1].Cause != "expired" {
		t.Fatalf("the expired session after a restart: %+v", s)
	}
}

// TestADataDirSnapshotImports: the snapshot file of a data directory, checksum field and all, is
// a snapshot PUT /_acmock/state takes (the way to load one edited by hand).
func TestADataDirSnapshotImports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnv(t, func(o *emulator.Options) { o.DataDir = dir })
	e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"dave"}})
	e.emu.Close()
	newEnv(t, func(o *emulator.Options) { o.DataDir = dir }).emu.Close() // a start folds the log into the snapshot
	file, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err != nil || !strings.HasPrefix(string(file), `{"crc32c":"`) {
		t.Fatalf("snapshot.json: %.40s %v", file, err)
	}
	other := newEnv(t)
	if r := other.do(http.MethodPut, "/_acmock/state", "", "", string(file)); r.status != http.StatusOK || r.field("users") != float64(4) {
		t.Fatalf("PUT of the data directory's snapshot: %d %s", r.status, r.raw)
	}
}

// brokenDisk starts an emulator on a data directory that then fails as a full or failing disk
// does: a directory sits where the next snapshot goes, and the store writes one every few changes
// (store.CompactAfter is 1 meanwhile, so the test must not run in parallel with others). Changes
// are made (applications created) until one fails; from then on the store refuses every change.
func brokenDisk(t *testing.T, mutate func(*emulator.Options)) *env {
	t.Helper()
	old := store.CompactAfter
	store.CompactAfter = 1
	t.Cleanup(func() { store.CompactAfter = old })
	dir := t.TempDir()
	e := newEnv(t, func(o *emulator.Options) {
		o.DataDir = dir
		if mutate != nil {
			mutate(o)
		}
	})
	return e
}

// breakDisk puts a directory where the next snapshot of dir goes and makes changes until one
// fails.
func breakDisk(t *testing.T, e *env) {
	t.Helper()
	snap := filepath.Join(e.emu.DataDir(), "snapshot.json")
	if err := os.Remove(snap); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(snap, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		r := e.do(http.MethodPost, "/_acmock/applications", "", "", map[string]any{})
		if r.status == http.StatusInternalServerError {
			return
		}
		if r.status != http.StatusCreated || i == 100 {
			t.Fatalf("change %d on a broken disk: %d %s", i, r.status, r.raw)
		}
	}
}

// TestClockAndSkewChangesAreSavedBeforeTheyApply: PUT /_acmock/wallclock and POST
// /_acmock/clock/advance save their change before making it, so one the disk refuses (a 500)
// is not in effect either.
func TestClockAndSkewChangesAreSavedBeforeTheyApply(t *testing.T) {
	e := brokenDisk(t, nil)
	wall := e.do(http.MethodGet, "/_acmock/wallclock", "", "", nil)
	now := e.clock.Now()
	breakDisk(t, e)
	if r := e.do(http.MethodPut, "/_acmock/wallclock", "", "", map[string]any{"shift": "10m", "max_skew": "42s"}); r.status != http.StatusInternalServerError {
		t.Fatalf("PUT wallclock on a broken disk: %d %s", r.status, r.raw)
	}
	if again := e.do(http.MethodGet, "/_acmock/wallclock", "", "", nil); again.str("shift") != wall.str("shift") || again.str("max_skew") != wall.str("max_skew") {
		t.Errorf("a wall-clock change the disk refused is in effect: %s, was %s", again.raw, wall.raw)
	}
	if e.emu.WallClockShift() != 0 || e.emu.Verifier().MaxSkew() == 42*time.Second {
		t.Errorf("signatures are checked with the refused settings: shift %v, max skew %v", e.emu.WallClockShift(), e.emu.Verifier().MaxSkew())
	}
	if r := e.do(http.MethodPost, "/_acmock/clock/advance", "", "", map[string]any{"duration": "5s"}); r.status != http.StatusInternalServerError {
		t.Fatalf("advance on a broken disk: %d %s", r.status, r.raw)
	}
	if got := e.clock.Now(); !got.Equal(now) {
		t.Errorf("an advance the disk refused moved the clock from %v to %v", now, got)
	}
}

// TestAnAutoClockJumpIsSavedBeforeItIsMade: on the automatic clock, a poll that moves time saves
// the new time first; when the disk refuses it, time does not move.
func TestAnAutoClockJumpIsSavedBeforeItIsMade(t *testing.T) {
	e := brokenDisk(t, func(o *emulator.Options) { o.Clock = clock.NewAuto(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) })
	token, secret, statusURL, _ := e.login("alice")
	if got := e.status(token, secret, statusURL); got != "pending" {
		t.Fatalf("first poll: %s", got)
	}
	now := e.emu.Clock().Now()
	breakDisk(t, e)
	if r := e.do(http.MethodGet, statusURL, token, secret, nil); r.status != http.StatusInternalServerError {
		t.Fatalf("a poll that moves time on a broken disk: %d %s", r.status, r.raw)
	}
	if got := e.emu.Clock().Now(); !got.Equal(now) {
		t.Errorf("a jump the disk refused moved the clock from %v to %v", now, got)
	}
}

// TestAnImportTheDataDirCannotTakeChangesNothing: when the new snapshot cannot be written, PUT
// /_acmock/state answers a 500 that says the state was not changed, and it was not: the same
// state, the same steps still to come.
func TestAnImportTheDataDirCannotTakeChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnv(t, func(o *emulator.Options) { o.DataDir = dir })
	snap := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw
	e.login("alice")
	before := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw
	steps := len(e.do(http.MethodGet, "/_acmock/timeline", "", "", nil).field("steps").([]any))
	// A directory in the way of snapshot.json: writing it fails, even for root.
	if err := os.Remove(filepath.Join(dir, "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "snapshot.json", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.do(http.MethodPut, "/_acmock/state", "", "", snap)
	if r.status != http.StatusInternalServerError || !strings.Contains(r.str("message"), "the state was not changed") ||
		strings.Contains(r.str("message"), "bug") {
		t.Fatalf("PUT state that cannot be saved: %d %s", r.status, r.raw)
	}
	if now := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw; now != before {
		t.Fatalf("a failed import changed the state:\nbefore %s\nnow    %s", before, now)
	}
	if got := len(e.do(http.MethodGet, "/_acmock/timeline", "", "", nil).field("steps").([]any)); got != steps || steps == 0 {
		t.Fatalf("%d steps planned after the failed import, %d before", got, steps)
	}
}
