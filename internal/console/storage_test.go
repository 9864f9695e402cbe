package console_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
)

// TestHeaderShowsWhereTheStateLives: the header says whether the state is in memory or on disk
// (and where).
func TestHeaderShowsWhereTheStateLives(t *testing.T) {
	t.Parallel()
	tb := openConsole(t, acmocktest.Run(t).URL(), "")
	tb.waitText(find("banner", ""), "state in memory (lost on exit)")
}

// TestHeaderShowsAReloadThatFailed: a scenario file reload with problems (what --watch and SIGHUP
// do) shows in the header with each problem at file:line:col, while the page stays live, and goes
// away once a good file reloads.
func TestHeaderShowsAReloadThatFailed(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	dir := t.TempDir()
	emu, err := emulator.New(emulator.Options{Clock: clock.NewVirtual(time.Now()), DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	tb := openConsole(t, srv.URL, "")
	tb.waitText(find("banner", ""), "state on disk: "+filepath.Join(dir, "data"))

	path := filepath.Join(dir, "mine.yaml")
	good := "name: mine\napplications:\n  - id: " + scenario.DemoApplicationID + "\n    secret: " + scenario.DemoApplicationSecret + "\n"
	if err := os.WriteFile(path, []byte("name: mine\ntimeout: soon\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := emu.ReloadFile(path); err == nil {
		t.Fatal("a bad file reloaded")
	}
	tb.waitText(find("alert", "Scenario reload"), path+":2:10: timeout must be a duration")
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := emu.ReloadFile(path); err != nil {
		t.Fatal(err)
	}
	tb.gone(find("alert", "Scenario reload"))
	tb.waitText(find("banner", ""), "scenario mine")
}
