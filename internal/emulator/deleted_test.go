package emulator_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
)

const deletedYAML = `
applications:
  - id: app
    secret: SECRET
    users:
      - id: ann
        phone: true
%s`

// TestUsersDeletedAtRunTimeStayDeleted: a user the scenario lists and the application deleted is
// not added back by a reload, a restart or an export and import; adding the user again, a
// scenario that stops listing the user, or a reset ends that.
func TestUsersDeletedAtRunTimeStayDeleted(t *testing.T) {
	t.Parallel()
	dir, file := t.TempDir(), filepath.Join(t.TempDir(), "deleted.yaml")
	save := func(extra string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(sprintfYAML(deletedYAML, extra)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	withDan := "      - id: dan\n        phone: true\n"
	save(withDan)
	start := func() *env {
		t.Helper()
		sc, err := scenario.LoadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return newEnv(t, func(o *emulator.Options) { o.Clock, o.Scenario, o.DataDir = clock.NewVirtual(epoch), sc, dir })
	}
	has := func(e *env, user string) (bool, bool) {
		t.Helper()
		u, err := e.emu.Store().User("app", user)
		return err == nil, err == nil && u.Phone != nil
	}
	del := func(e *env, user string) {
		t.Helper()
		if r := e.do(http.MethodPost, "/management/delete_users/app", "app", "SECRET", map[string]any{"users": []string{user}}); r.status != http.StatusOK {
			t.Fatalf("delete %s: %d %s", user, r.status, r.raw)
		}
	}

	e := start()
	del(e, "dan")
	if err := e.emu.ReloadFile(file); err != nil {
		t.Fatal(err)
	}
	if there, _ := has(e, "dan"); there {
		t.Fatal("a reload added back a user the application deleted")
	}
	e.emu.Close()
	e = start()
	if there, _ := has(e, "dan"); there {
		t.Fatal("a restart added back a user the application deleted")
	}
	snap := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw
	if r := e.do(http.MethodPut, "/_acmock/state", "", "", snap); r.status != http.StatusOK {
		t.Fatalf("PUT state: %d %s", r.status, r.raw)
	}
	if err := e.emu.ReloadFile(file); err != nil {
		t.Fatal(err)
	}
	if there, _ := has(e, "dan"); there {
		t.Fatal("an export and import forgot that dan was deleted")
	}

	// Added again at run time: dan is a user like any other, and a reload leaves him (without
	// the scenario's phone: he was added by the application).
	if r := e.do(http.MethodPost, "/management/add_users/app", "app", "SECRET", map[string]any{"users": []string{"dan"}}); r.status != http.StatusCreated {
		t.Fatalf("add dan: %d %s", r.status, r.raw)
	}
	if err := e.emu.ReloadFile(file); err != nil {
		t.Fatal(err)
	}
	if there, phone := has(e, "dan"); !there || phone {
		t.Fatalf("dan added again at run time, after a reload: there %v, phone %v", there, phone)
	}

	// Deleted again, then a file without dan, then one with him: he is new to the file, and
	// added with his phone.
	del(e, "dan")
	save("")
	if err := e.emu.ReloadFile(file); err != nil {
		t.Fatal(err)
	}
	if got := e.emu.Store().Deleted(); len(got) != 0 {
		t.Fatalf("deleted users kept after the scenario stopped listing them: %v", got)
	}
	save(withDan)
	if err := e.emu.ReloadFile(file); err != nil {
		t.Fatal(err)
	}
	if there, phone := has(e, "dan"); !there || !phone {
		t.Fatalf("dan listed again by the file: there %v, phone %v; want him added with a phone", there, phone)
	}

	// A reset starts over from the file: every user it lists is there.
	del(e, "dan")
	if r := e.do(http.MethodPost, "/_acmock/reset", "", "", nil); r.status != http.StatusOK {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	if there, phone := has(e, "dan"); !there || !phone || len(e.emu.Store().Deleted()) != 0 {
		t.Fatalf("after a reset dan: there %v, phone %v; deleted %v", there, phone, e.emu.Store().Deleted())
	}
}

func sprintfYAML(format, extra string) string {
	return strings.Replace(format, "%s", extra, 1)
}
