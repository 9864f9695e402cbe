package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const watchedScenario = `name: %s
timeout: %s
applications:
  - id: 5ca1ab1e000000000000000000000001
    secret: ACMOCKDEMOSECRET0000000000000001
    users:
      - id: alice
        phone: true
%s`

// saveByRename writes the file as editors do: a new file next to it, renamed over it.
func saveByRename(t *testing.T, path, name, timeout, extra string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	data := []byte(strings.Replace(strings.Replace(strings.Replace(watchedScenario, "%s", name, 1), "%s", timeout, 1), "%s", extra, 1))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

type scenarioView struct {
	Name   string `json:"name"`
	Reload *struct {
		OK       bool `json:"ok"`
		Problems []struct {
			Line   int    `json:"line"`
			Column int    `json:"column"`
			Text   string `json:"text"`
		} `json:"problems"`
	} `json:"reload"`
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// serveInProcess runs acmock in this process until the test ends.
func serveInProcess(t *testing.T, args ...string) (base string, stderr *syncBuffer) {
	t.Helper()
	base, _, stderr, _ = serveOnce(t, args...)
	return base, stderr
}

func hasUser(t *testing.T, base, user string) bool {
	t.Helper()
	var list struct {
		Applications []struct {
			Users []struct {
				ID string `json:"id"`
			} `json:"users"`
		} `json:"applications"`
	}
	getJSON(t, base+"/_acmock/users", &list)
	for _, app := range list.Applications {
		for _, u := range app.Users {
			if u.ID == user {
				return true
			}
		}
	}
	return false
}

// TestWatchReloadsOnSaveKeepsStateAndReportsBadEdits: a save by rename applies, users created at
// run time survive it, and a bad edit keeps the last good scenario and says file:line:col where
// the user looks (log, health, GET /_acmock/scenario).
func TestWatchReloadsOnSaveKeepsStateAndReportsBadEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	saveByRename(t, path, "first", "60s", "")
	base, stderr := serveInProcess(t, "--scenario", path, "--watch", "--auth", "off", "--clock", "virtual")

	res, err := http.Post(base+"/management/add_users/5ca1ab1e000000000000000000000001", "application/json", strings.NewReader(`{"users":["dave"]}`))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("add dave: %v %v", res, err)
	}
	res.Body.Close()

	saveByRename(t, path, "second", "30s", "      - id: erin\n")
	eventually(t, "the saved scenario is loaded", func() bool {
		var sc scenarioView
		getJSON(t, base+"/_acmock/scenario", &sc)
		return sc.Name == "second"
	})
	if !hasUser(t, base, "dave") {
		t.Error("the user created at run time did not survive the reload")
	}
	if !hasUser(t, base, "erin") {
		t.Error("the user the new scenario adds is missing")
	}

	saveByRename(t, path, "third", "soon", "")
	var sc scenarioView
	eventually(t, "the bad edit is reported", func() bool {
		sc = scenarioView{}
		getJSON(t, base+"/_acmock/scenario", &sc)
		return sc.Reload != nil && !sc.Reload.OK
	})
	if sc.Name != "second" {
		t.Errorf("a bad edit replaced the scenario: %s", sc.Name)
	}
	if len(sc.Reload.Problems) == 0 || !strings.HasPrefix(sc.Reload.Problems[0].Text, path+":2:10: ") {
		t.Errorf("problems of the bad edit: %+v, want %s:2:10", sc.Reload.Problems, path)
	}
	var health struct {
		Reload *struct {
			OK       bool `json:"ok"`
			Problems []struct {
				Text string `json:"text"`
			} `json:"problems"`
		} `json:"reload"`
	}
	getJSON(t, base+"/_acmock/health", &health)
	if health.Reload == nil || health.Reload.OK || len(health.Reload.Problems) == 0 {
		t.Errorf("health does not report the bad edit: %+v", health.Reload)
	}
	// The log is written off the request path, a moment later.
	eventually(t, "the log says where the problem is ("+path+":2:10)", func() bool {
		return strings.Contains(stderr.String(), path+":2:10")
	})
	if !hasUser(t, base, "dave") {
		t.Error("a bad edit lost a user created at run time")
	}
}

// TestSIGHUPReloadsWithoutWatch changes the file and sends SIGHUP to acmock.
func TestSIGHUPReloadsWithoutWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	saveByRename(t, path, "first", "60s", "")
	base, _ := serveInProcess(t, "--scenario", path)
	saveByRename(t, path, "second", "60s", "")
	time.Sleep(300 * time.Millisecond) // no watcher: nothing may change before the signal
	var sc scenarioView
	getJSON(t, base+"/_acmock/scenario", &sc)
	if sc.Name != "first" {
		t.Fatalf("the file was reloaded without --watch or SIGHUP: %s", sc.Name)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "SIGHUP reloads the file", func() bool {
		var sc scenarioView
		getJSON(t, base+"/_acmock/scenario", &sc)
		return sc.Name == "second"
	})
}

// TestWatchSurvivesAReplacedDirectoryAndFollowsASymlink: --watch on a symbolic link reloads when
// the target is edited in place (sed -i); when the target's directory is replaced (a checkout),
// the log says the watch lost it, and the file in the new directory is loaded.
func TestWatchSurvivesAReplacedDirectoryAndFollowsASymlink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "w")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	target, link := filepath.Join(dir, "scen.yaml"), filepath.Join(t.TempDir(), "link.yaml")
	saveByRename(t, target, "first", "60s", "")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	base, stderr := serveInProcess(t, "--scenario", link, "--watch", "--auth", "off")
	loaded := func(name string) func() bool {
		return func() bool {
			var sc scenarioView
			getJSON(t, base+"/_acmock/scenario", &sc)
			return sc.Name == name
		}
	}
	saveByRename(t, target, "second", "60s", "")
	eventually(t, "an edit of the link's target is loaded", loaded("second"))

	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	saveByRename(t, target, "third", "60s", "")
	eventually(t, "the file in the new directory is loaded", loaded("third"))
	eventually(t, "the log says the watch lost the directory", func() bool {
		return strings.Contains(stderr.String(), "lost the scenario file's directory")
	})
	saveByRename(t, target, "fourth", "60s", "")
	eventually(t, "a later save in the new directory is loaded", loaded("fourth"))
}
