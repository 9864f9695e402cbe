package watch_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	// The delay is long enough that five writes fit in it on a loaded machine (with -race, at a
	// load of 8 on 2 cores, 50 ms did not always hold them).
	const delay = 400 * time.Millisecond
	stop, err := watch.File(path, delay, func() { calls.Add(1) }, nil)
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
	time.Sleep(2 * delay)
	if n := calls.Load(); n != 2 {
		t.Errorf("a burst of five writes made %d calls, want 1", n-1)
	}

	// Other files in the directory are not the file.
	if err := os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * delay)
	if n := calls.Load(); n != 2 {
		t.Errorf("writing another file made a call")
	}
}

// logBuffer collects a logger's output for a test to read while the watch writes.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func saveByRename(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestReplacedDirectoryIsWatchedAgain: when the file's directory is moved away or removed and
// made again (a git checkout, rm -rf), the watch logs that it lost it, watches the new one once
// it is there, and counts the file there as changed; later saves count as before.
func TestReplacedDirectoryIsWatchedAgain(t *testing.T) {
	*watch.CheckEvery = 20 * time.Millisecond
	for _, replace := range []struct {
		name string
		away func(dir string) error
	}{
		{"moved away", func(dir string) error { return os.Rename(dir, dir+".away") }},
		{"removed", os.RemoveAll},
	} {
		t.Run(replace.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "w")
			path := filepath.Join(dir, "s.yaml")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte("a"), 0o644); err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			var log logBuffer
			stop, err := watch.File(path, 20*time.Millisecond, func() { calls.Add(1) }, slog.New(slog.NewTextHandler(&log, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			if err := replace.away(dir); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a warning that the directory is lost", func() bool { return strings.Contains(log.String(), "lost the scenario file's directory") })
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte("b"), 0o644); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the new directory watched", func() bool { return strings.Contains(log.String(), "watching the scenario file's directory again") })
			waitFor(t, "a call for the file in the new directory", func() bool { return calls.Load() > 0 })
			time.Sleep(100 * time.Millisecond) // past the debounce of that call
			n := calls.Load()
			saveByRename(t, path, "c")
			waitFor(t, "a save in the new directory", func() bool { return calls.Load() > n })
		})
	}
}

// TestEditsThroughASymlinkCount: a file given as a symbolic link to a file elsewhere is watched
// where it points: saving the target counts, and so does pointing the link at another file, after
// which that file's saves count.
func TestEditsThroughASymlinkCount(t *testing.T) {
	*watch.CheckEvery = 20 * time.Millisecond
	linkDir, targetDir, otherDir := t.TempDir(), t.TempDir(), t.TempDir()
	target, other := filepath.Join(targetDir, "s.yaml"), filepath.Join(otherDir, "o.yaml")
	link := filepath.Join(linkDir, "link.yaml")
	for _, f := range []string{target, other} {
		if err := os.WriteFile(f, []byte("a"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	stop, err := watch.File(link, 20*time.Millisecond, func() { calls.Add(1) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	saveByRename(t, target, "b") // as sed -i does
	waitFor(t, "a save of the link's target", func() bool { return calls.Load() == 1 })
	if err := os.WriteFile(target, []byte("c"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a write of the link's target", func() bool { return calls.Load() == 2 })

	// ln -sf: the link now points at another file in another directory.
	tmp := filepath.Join(linkDir, ".link.tmp")
	if err := os.Symlink(other, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the link pointed elsewhere", func() bool { return calls.Load() == 3 })
	saveByRename(t, other, "d")
	waitFor(t, "a save of the new target", func() bool { return calls.Load() == 4 })
	time.Sleep(100 * time.Millisecond)
	if err := os.WriteFile(target, []byte("e"), 0o644); err != nil { // no longer the file
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if n := calls.Load(); n != 4 {
		t.Errorf("%d calls; a write of the old target counted", n)
	}
}
