package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acmock/acmock/internal/durable"
	"github.com/acmock/acmock/internal/store"
)

// openDir opens a store on dir, runs f on it and closes it.
func openDir(t *testing.T, dir string, f func(s *store.Store)) {
	t.Helper()
	s, _, err := store.Open(dir, store.SeededIDs(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	f(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func addUsers(t *testing.T, s *store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, _, err := s.AddUsers("app", []string{id}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAMissingSnapshotIsRefused: a directory whose snapshot.json went missing, next to the log
// that builds on it, is refused with what is missing and what is there; the log stays.
func TestAMissingSnapshotIsRefused(t *testing.T) {
	dir := t.TempDir()
	openDir(t, dir, func(s *store.Store) {
		if err := s.AddApplication("app", "secret"); err != nil {
			t.Fatal(err)
		}
		addUsers(t, s, "v1", "v2", "v3")
	})
	openDir(t, dir, func(s *store.Store) { addUsers(t, s, "v4") }) // the snapshot is now generation 2
	if err := os.Remove(filepath.Join(dir, "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	_, _, err := store.Open(dir, store.SeededIDs(1), nil)
	if !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "no snapshot.json") || !strings.Contains(err.Error(), "log.2") {
		t.Fatalf("Open: %v, want a refusal that names the missing snapshot and log.2", err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "log.2")); err != nil || !strings.Contains(string(data), `"v4"`) {
		t.Fatalf("log.2 after the refusal: %q %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "snapshot.json")); !os.IsNotExist(err) {
		t.Errorf("a new snapshot was written over the directory: %v", err)
	}
}

// TestADamagedSnapshotIsRefused: a snapshot changed inside a JSON string (still good JSON) is
// refused by its checksum, naming the file, and is not replaced.
func TestADamagedSnapshotIsRefused(t *testing.T) {
	dir := t.TempDir()
	openDir(t, dir, func(s *store.Store) {
		if err := s.AddApplication("app", "ACMOCKDEMOSECRET0000000000000001"); err != nil {
			t.Fatal(err)
		}
		addUsers(t, s, "zed")
	})
	openDir(t, dir, func(*store.Store) {}) // folds the log into the snapshot
	path := filepath.Join(dir, "snapshot.json")
	data, _ := os.ReadFile(path)
	bad := strings.Replace(strings.Replace(string(data), "0000000000000001", "0000000000000003", 1), `"zed"`, `"zee"`, 1)
	if bad == string(data) {
		t.Fatalf("the snapshot does not hold the secret and the user: %s", data)
	}
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := store.Open(dir, store.SeededIDs(1), nil)
	if !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "snapshot.json") || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("Open: %v, want a checksum mismatch naming snapshot.json", err)
	}
	if now, _ := os.ReadFile(path); string(now) != bad {
		t.Error("the damaged snapshot was replaced")
	}
}

// TestAChangedLastRecordIsRefused: the last record of the log, whole but changed (v3 became v8),
// may have been acknowledged: it is refused like damage in the middle, not dropped.
func TestAChangedLastRecordIsRefused(t *testing.T) {
	dir := t.TempDir()
	openDir(t, dir, func(s *store.Store) {
		if err := s.AddApplication("app", "secret"); err != nil {
			t.Fatal(err)
		}
		addUsers(t, s, "v1", "v2", "v3")
	})
	logs, _ := filepath.Glob(filepath.Join(dir, "log.*"))
	if len(logs) != 1 {
		t.Fatalf("logs: %v", logs)
	}
	data, _ := os.ReadFile(logs[0])
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) != 5 || !strings.Contains(lines[3], `"v3"`) {
		t.Fatalf("the log: %q", data)
	}
	lines[3] = strings.Replace(lines[3], "v3", "v8", 1)
	bad := strings.Join(lines, "")
	if err := os.WriteFile(logs[0], []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := store.Open(dir, store.SeededIDs(1), nil)
	if !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "line 4: checksum mismatch") {
		t.Fatalf("Open: %v, want damage at line 4", err)
	}
	if now, _ := os.ReadFile(logs[0]); string(now) != bad {
		t.Error("the log was changed")
	}

	// A record cut short of its newline is the torn tail of a crash: dropped, kept aside, said.
	torn := strings.Join(lines[:3], "") + strings.TrimSuffix(string(data[len(strings.Join(lines[:3], "")):]), "\n")
	if err := os.WriteFile(logs[0], []byte(torn), 0o644); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	s, _, err := store.Open(dir, store.SeededIDs(1), func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.User("app", "v3"); !errors.Is(err, store.ErrUserNotFound) {
		t.Errorf("the torn record was applied: %v", err)
	}
	if _, err := s.User("app", "v2"); err != nil {
		t.Errorf("a whole record before it was lost: %v", err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "no end of line") {
		t.Errorf("warnings: %q", warnings)
	}
	if kept, _ := os.ReadFile(logs[0] + ".torn"); !strings.Contains(string(kept), `"v3"`) {
		t.Errorf("%s.torn holds %q", logs[0], kept)
	}
}
