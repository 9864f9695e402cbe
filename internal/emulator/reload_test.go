package emulator_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// tooMany is a scenario that lists 3 users, 2 of them new (one with a phone, in a new
// application): too many for an emulator that holds at most 5 users and holds 5 already.
const tooMany = `name: toomany
timeout: 5s
applications:
  - id: 5ca1ab1e000000000000000000000001
    secret: ACMOCKDEMOSECRET0000000000000001
    users:
      - {id: alice, phone: {}}
      - {id: p1, phone: {}}
  - id: 5ca1ab1e000000000000000000000002
    secret: ACMOCKDEMOSECRET0000000000000002
    users: [{id: q1}]
`

// fiveUsers starts an emulator that holds at most 5 users and holds 5: the demo's 3 and 2 added.
func fiveUsers(t *testing.T, mutate ...func(*emulator.Options)) *env {
	t.Helper()
	e := newEnv(t, append([]func(*emulator.Options){func(o *emulator.Options) { o.Limits = store.Limits{MaxUsers: 5} }}, mutate...)...)
	if r := e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"d1", "d2"}}); r.status != http.StatusCreated {
		t.Fatalf("add users: %d %s", r.status, r.raw)
	}
	return e
}

// TestAReloadTheStoreRefusesChangesNothing: a reload whose users would pass --max-users changes
// nothing (no application, user or phone added, the scenario and its timeout kept) and is
// reported as a failed reload, like a file with problems.
func TestAReloadTheStoreRefusesChangesNothing(t *testing.T) {
	t.Parallel()
	e := fiveUsers(t)
	before := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw
	path := filepath.Join(t.TempDir(), "w.yaml")
	if err := os.WriteFile(path, []byte(tooMany), 0o644); err != nil {
		t.Fatal(err)
	}
	err := e.emu.ReloadFile(path)
	if !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("reload past the users limit: %v", err)
	}
	if now := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw; now != before {
		t.Errorf("the refused reload changed the state:\nbefore %s\nafter  %s", before, now)
	}
	if name := e.emu.Scenario().Name; name != scenario.Default().Name {
		t.Errorf("the scenario is now %q", name)
	}
	for _, endpoint := range []string{"/_acmock/scenario", "/_acmock/health"} {
		r := e.do(http.MethodGet, endpoint, "", "", nil)
		name := r.str("name")
		if endpoint == "/_acmock/health" {
			name = r.str("scenario")
		}
		if name != scenario.Default().Name || r.field("reload", "ok") != false || !strings.Contains(fmt.Sprint(r.field("reload")), "at most 5") {
			t.Errorf("%s after the refused reload: %s", endpoint, r.raw)
		}
	}
	// A login starts with the timeout of the scenario still in use, not the refused one's 5 s.
	if e.emu.Scenario().SessionTimeout() == 5*time.Second {
		t.Error("the refused scenario's timeout is in use")
	}
}

// TestAStartOnADataDirTheStoreRefusesChangesNothing: a start on a data directory whose scenario
// would pass --max-users fails, and the directory holds what it held.
func TestAStartOnADataDirTheStoreRefusesChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := func(o *emulator.Options) { o.DataDir = dir; o.Limits = store.Limits{MaxUsers: 5} }
	e := fiveUsers(t, opts)
	before := e.emu.ExportState()
	e.emu.Close()
	sc, err := scenario.Parse("w.yaml", []byte(tooMany))
	if err != nil {
		t.Fatal(err)
	}
	o := emulator.Options{Clock: e.clock, Scenario: sc}
	opts(&o)
	if _, err := emulator.New(o); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("start with a scenario past the limit: %v", err)
	}
	again := newEnv(t, opts)
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(again.emu.ExportState())
	if string(a) != string(b) {
		t.Errorf("the refused start changed the directory:\nbefore %s\nafter  %s", a, b)
	}
}
