package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDataDirOwnedByOneProcess: a second acmock on a data directory in use exits with a clear
// error, and a damaged store is reported (file, line, problem) and left as it is.
func TestDataDirOwnedByOneProcess(t *testing.T) {
	dir := t.TempDir()
	serveInProcess(t, "--data", dir)
	var stdout, stderr syncBuffer
	code := run([]string{"--addr", "127.0.0.1:0", "--data", dir}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "data directory "+dir+" is in use by another process") {
		t.Fatalf("second acmock: exit %d, %s", code, stderr.String())
	}
}

func TestDamagedDataDirIsReportedNotReplaced(t *testing.T) {
	dir := t.TempDir()
	damaged := "00000000 {\"op\":\"reset\"}\n00000000 {\"op\":\"reset\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "log.0"), []byte(damaged), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	code := run([]string{"--addr", "127.0.0.1:0", "--data", dir}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "log.0: data directory is damaged: line 1: checksum mismatch") {
		t.Fatalf("damaged directory: exit %d, %s", code, stderr.String())
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "log.0")); string(data) != damaged {
		t.Error("the damaged log was changed")
	}
}

// TestStateExportImportCommands saves a running acmock's state, changes it, and puts it back; a
// bad file is refused with what is wrong and changes nothing.
func TestStateExportImportCommands(t *testing.T) {
	base, _ := serveInProcess(t, "--auth", "off")
	ctl := func(args ...string) (int, string) {
		var stdout, stderr syncBuffer
		code := run(append(args, "--url", base), &stdout, &stderr, nil)
		return code, stdout.String() + stderr.String()
	}
	file := filepath.Join(t.TempDir(), "state.json")
	if code, out := ctl("state", "export", file); code != 0 || !strings.Contains(out, "saved the state to "+file) {
		t.Fatalf("export: %d %s", code, out)
	}
	res, err := http.Post(base+"/management/add_users/5ca1ab1e000000000000000000000001", "application/json", strings.NewReader(`{"users":["dave"]}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !hasUser(t, base, "dave") {
		t.Fatal("dave was not added")
	}
	if code, out := ctl("state", "import", file); code != 0 || !strings.Contains(out, "1 application, 3 users, 0 sessions") {
		t.Fatalf("import: %d %s", code, out)
	}
	if hasUser(t, base, "dave") {
		t.Error("the import did not put the saved state back")
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	data, _ := os.ReadFile(file)
	if err := os.WriteFile(bad, []byte(strings.Replace(string(data), `"format":"acmock-state"`, `"format":"other"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := ctl("state", "import", bad); code != 1 || !strings.Contains(out, "bad.json: format: ") {
		t.Fatalf("a bad file: %d %s", code, out)
	}
	if code, out := ctl("state", "import"); code != 2 {
		t.Fatalf("no file: %d %s", code, out)
	}
}

// TestStateImportPastTheBodyLimitSaysWhatToDo: a snapshot larger than --max-body-bytes is refused
// whole, and the command says which flag to raise.
func TestStateImportPastTheBodyLimitSaysWhatToDo(t *testing.T) {
	base, _ := serveInProcess(t, "--auth", "off", "--max-body-bytes", "300")
	file := filepath.Join(t.TempDir(), "state.json")
	var stdout, stderr syncBuffer
	if code := run([]string{"state", "export", file, "--url", base}, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("export: %d %s", code, stderr.String())
	}
	code := run([]string{"state", "import", file, "--url", base}, &stdout, &stderr, nil)
	if out := stderr.String(); code != 1 || !strings.Contains(out, "the state was not changed: start acmock with a --max-body-bytes of at least") {
		t.Fatalf("import past the body limit: %d %s", code, out)
	}
}

// TestStateImportSaysWhatBecameOfTheState: a refused snapshot says once that nothing changed; a
// snapshot the data directory cannot take changes nothing and says so; a failure the emulator
// does not explain is not reported as leaving the state unchanged.
func TestStateImportSaysWhatBecameOfTheState(t *testing.T) {
	dir := t.TempDir()
	base, _ := serveInProcess(t, "--auth", "off", "--data", dir)
	ctl := func(url string, args ...string) (int, string) {
		var stdout, stderr syncBuffer
		code := run(append(args, "--url", url), &stdout, &stderr, nil)
		return code, stdout.String() + stderr.String()
	}
	file := filepath.Join(t.TempDir(), "state.json")
	if code, out := ctl(base, "state", "export", file); code != 0 {
		t.Fatalf("export: %d %s", code, out)
	}
	data, _ := os.ReadFile(file)
	bad := filepath.Join(t.TempDir(), "bad.json")
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	apps := doc["applications"].([]any)
	doc["applications"] = append(apps, apps[0]) // the emulator's own check, past the spec's
	data, _ = json.Marshal(doc)
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := ctl(base, "state", "import", bad); code != 1 || strings.Count(out, "changed") != 1 || !strings.Contains(out, "applications[1].id") {
		t.Fatalf("a refused snapshot: %d %s; want one word that nothing changed", code, out)
	}

	res, err := http.Post(base+"/management/add_users/5ca1ab1e000000000000000000000001", "application/json", strings.NewReader(`{"users":["dave"]}`))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("add dave: %v %v", res, err)
	}
	res.Body.Close()
	// The directory cannot take a new snapshot: a directory is in the way of snapshot.json.
	if err := os.Remove(filepath.Join(dir, "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "snapshot.json", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out := ctl(base, "state", "import", file); code != 1 || !strings.Contains(out, "the state was not changed") ||
		!strings.Contains(out, "snapshot.json") || strings.Count(out, "changed") != 1 {
		t.Fatalf("an import the directory cannot take: %d %s", code, out)
	}
	if !hasUser(t, base, "dave") {
		t.Error("the failed import changed the state")
	}

	// A failure nobody explains.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"status":false,"code":"internal_error","message":"acmock failed to answer: panic: oops"}`))
	}))
	defer failing.Close()
	if code, out := ctl(failing.URL, "state", "import", file); code != 1 || strings.Contains(out, "not changed") ||
		!strings.Contains(out, "acmock state export") {
		t.Fatalf("an unexplained failure: %d %s", code, out)
	}
}

// serveOnce runs acmock in this process until stop is called (which waits for it to exit).
func serveOnce(t *testing.T, args ...string) (base string, stdout, stderr *syncBuffer, stop func()) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ready := make(chan string, 1)
	code := make(chan int, 1)
	go func() { code <- run(append([]string{"--addr", "127.0.0.1:0"}, args...), stdout, stderr, ready) }()
	select {
	case base = <-ready:
	case c := <-code:
		t.Fatalf("run exited with %d: %s", c, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case <-code:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	}
	t.Cleanup(stop)
	return base, stdout, stderr, stop
}

// call sends a request to acmock (unsigned: the servers of these tests run with --auth off).
func call(t *testing.T, method, url, body string, want int) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, res.StatusCode, data, want)
	}
}

const bannerScenario = `name: banner
applications:
  - id: 5ca1ab1e0000000000000000000000b1
    secret: %s
    users:
      - id: alice
        phone: true
      - id: bob
        phone: true
      - id: carol
        phone: %t
      - id: erin
        phone: true
`

// TestBannerShowsTheResumedState: a start on a data directory that holds state says so, with
// counts, and prints the secret and users acmock serves, not those of the file.
func TestBannerShowsTheResumedState(t *testing.T) {
	dir, file := t.TempDir(), filepath.Join(t.TempDir(), "banner.yaml")
	write := func(secret string, carolsPhone bool) {
		if err := os.WriteFile(file, fmt.Appendf(nil, bannerScenario, secret, carolsPhone), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("SECRETONE0000000000000000000000001", false)
	base, stdout, _, stop := serveOnce(t, "--auth", "off", "--data", dir, "--scenario", file)
	if out := stdout.String(); !strings.Contains(out, "State kept in "+dir+" (nothing saved there yet") {
		t.Errorf("first start's banner:\n%s", out)
	}
	app := "5ca1ab1e0000000000000000000000b1"
	call(t, http.MethodGet, base+"/management/lost_user_mobile_device/"+app+"/alice", "", http.StatusOK)
	call(t, http.MethodPost, base+"/management/add_users/"+app, `{"users":["rt1","rt2"]}`, http.StatusCreated)
	call(t, http.MethodPost, base+"/management/delete_users/"+app, `{"users":["erin"]}`, http.StatusOK)
	stop()

	write("SECRETTWO0000000000000000000000002", true) // carol gets a phone only as a new user would
	_, stdout, stderr, _ := serveOnce(t, "--auth", "off", "--data", dir, "--scenario", file)
	out := stdout.String()
	for _, want := range []string{
		"State resumed from " + dir + ": 1 application, 5 users, 0 sessions, 0 SMS messages.",
		"export ACTIVECONNECT_APP_SECRET=SECRETONE0000000000000000000000001\n",
		"the scenario file gives another, which applies only after POST /_acmock/reset",
		"alice        phone lost",
		"bob          phone: never answers",
		"carol        no phone",
		"erin         deleted at run time",
		"and 2 more users created at run time",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner after a restart lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SECRETTWO") {
		t.Errorf("the banner prints the file's secret, which acmock does not use:\n%s", out)
	}
	eventually(t, "the log warns that the file's secret was not applied", func() bool {
		return strings.Contains(stderr.String(), "the scenario gives an application another secret")
	})
}
