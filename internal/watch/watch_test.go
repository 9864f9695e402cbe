package watch_test

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/watch"
)

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestSaveByRenameAndBurstsCallOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	stop, err := watch.File(path, 50*time.Millisecond, func() { calls.Add(1) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	// An editor's save: write a temporary file next to it, rename it over the old one.
	tmp := filepath.Join(dir, ".s.yaml.swp")
	if err := os.WriteFile(tmp, []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the save by rename", func() bool { return calls.Load() == 1 })

	// A burst of writes within the delay is one change.
	for i := range 5 {
		if err := os.WriteFile(path, []byte{byte('c' + i)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the burst", func() bool { return calls.Load() == 2 })
	time.Sleep(150 * time.Millisecond)
	if n := calls.Load(); n != 2 {
		t.Errorf("a burst of five writes made %d calls, want 1", n-1)
	}

	// Other files in the directory are not the file.
	if err := os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if n := calls.Load(); n != 2 {
		t.Errorf("writing another file made a call")
	}
}
