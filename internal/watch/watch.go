// Package watch calls a function when a file is saved. It watches the file's directory, not the
// file: editors save by writing a new file and renaming it over the old one, which replaces the
// file a watch on it would follow. A burst of events (write, chmod, rename) makes one call, once
// the file has been quiet for the debounce delay.
//
// A file reached through a symbolic link is watched where the link is and where it points (the
// directory of its target, followed again whenever the link changes), so an edit of the target
// counts. When the directory is replaced (moved away or removed and made again, as a git checkout
// or rm -rf does), the watch says so and keeps looking: once the directory is back it watches it
// again and calls, since the file may have changed meanwhile.
//
//	stop, err := watch.File("scenarios/mine.yaml", 200*time.Millisecond, func() { reload() }, slog.Default())
//	defer stop()
package watch

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a file must be quiet before a change counts.
const DefaultDebounce = 200 * time.Millisecond

// checkEvery is how often the watch checks that the directories it watches are still the ones
// at their paths, and where a symbolic link points: a directory replaced by a move of one of its
// parents, or a link pointed elsewhere by a tool that sends no event, is seen within it.
var checkEvery = time.Second

// File calls changed (on a goroutine of its own, never two at once) after path is created,
// written or renamed into place, once no further event came for debounce. log receives what
// happens to the watch: watcher errors (a full event queue, say), which do not stop it, a
// directory lost (a warning) and watched again (information). stop ends the watch and waits for
// a call in progress.
func File(path string, debounce time.Duration, changed func(), log *slog.Logger) (stop func(), err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	w := &watcher{file: abs, fw: fw, log: log, watched: map[string]os.FileInfo{}, debounce: debounce, changed: changed,
		done: make(chan struct{})}
	if err := fw.Add(filepath.Dir(abs)); err != nil {
		fw.Close()
		return nil, fmt.Errorf("watch %s: %w", filepath.Dir(abs), err)
	}
	if fi, err := os.Stat(filepath.Dir(abs)); err == nil {
		w.watched[filepath.Dir(abs)] = fi
	}
	w.sync(false)
	go w.loop()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(w.done)
			fw.Close()
			w.mu.Lock()
			if w.timer != nil {
				w.timer.Stop()
			}
			w.mu.Unlock()
			w.calls.Wait()
		})
	}, nil
}

type watcher struct {
	file     string // absolute, as given
	fw       *fsnotify.Watcher
	log      *slog.Logger
	debounce time.Duration
	changed  func()

	// Owned by the loop goroutine (and File before it starts):
	target  string                 // where file points when it is a symbolic link, else ""
	watched map[string]os.FileInfo // the directories watched, as they were when the watch began
	lost    map[string]bool        // directories wanted but missing, reported once

	mu    sync.Mutex
	timer *time.Timer
	calls sync.WaitGroup
	run   sync.Mutex // one call at a time
	done  chan struct{}
}

// names reports whether an event's path is the file (as given, or the target of the link).
func (w *watcher) names(p string) bool {
	p = filepath.Clean(p)
	return p == w.file || (w.target != "" && p == w.target)
}

// sync brings the watched directories in line with what the file needs now: its directory and,
// for a link, the target's. A directory that is missing is reported lost (once); one that is
// back, or was replaced by another at the same path, is watched again, and then, when fire is
// set, the file counts as changed.
func (w *watcher) sync(fire bool) {
	before := w.target
	w.target = ""
	if t, err := filepath.EvalSymlinks(w.file); err == nil {
		if t, err = filepath.Abs(t); err == nil && t != w.file {
			w.target = t
		}
	}
	restored := before != w.target // the link points elsewhere: another file
	want := []string{filepath.Dir(w.file)}
	if w.target != "" {
		want = append(want, filepath.Dir(w.target))
	}
	keep := map[string]bool{}
	for _, dir := range want {
		fi, err := os.Stat(dir)
		if err != nil {
			w.lose(dir, err)
			continue
		}
		if w.sameAsWatched(fi, keep) {
			continue // the same directory as another wanted one (a link to its own directory)
		}
		keep[dir] = true
		if old, ok := w.watched[dir]; ok && os.SameFile(old, fi) {
			continue
		}
		_ = w.fw.Remove(dir) // the old directory at this path, if fsnotify still has it
		if err := w.fw.Add(dir); err != nil {
			w.lose(dir, err)
			delete(keep, dir)
			continue
		}
		if _, was := w.watched[dir]; was || w.lost[dir] {
			w.log.Info("--watch is watching the scenario file's directory again", "file", w.file, "dir", dir)
			restored = true
		}
		delete(w.lost, dir)
		w.watched[dir] = fi
	}
	for dir := range w.watched {
		if !keep[dir] {
			_ = w.fw.Remove(dir)
			delete(w.watched, dir)
		}
	}
	if restored && fire {
		w.later()
	}
}

// lose reports, once until it is watched again, that a directory the file needs cannot be
// watched.
func (w *watcher) lose(dir string, err error) {
	if w.lost[dir] {
		return
	}
	if w.lost == nil {
		w.lost = map[string]bool{}
	}
	w.lost[dir] = true
	w.log.Warn("--watch lost the scenario file's directory (moved, removed or replaced): watching for it to come back",
		"file", w.file, "dir", dir, "err", err)
}

// sameAsWatched reports whether fi is a directory already kept in this sync under another path.
func (w *watcher) sameAsWatched(fi os.FileInfo, keep map[string]bool) bool {
	for dir := range keep {
		if os.SameFile(w.watched[dir], fi) {
			return true
		}
	}
	return false
}

func (w *watcher) loop() {
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-tick.C:
			w.sync(true)
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if dir := filepath.Clean(ev.Name); ev.Has(fsnotify.Remove|fsnotify.Rename) && w.watched[dir] != nil {
				// The directory itself went away: fsnotify has dropped its watch.
				delete(w.watched, dir)
				w.lose(dir, fmt.Errorf("%s: %s", dir, ev.Op))
				w.sync(true)
				continue
			}
			if !w.names(ev.Name) || !ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Rename|fsnotify.Remove) {
				continue
			}
			// A rename or remove of the file itself is the first half of a save by rename:
			// the new file arrives as a Create, which restarts the delay. A link may now point
			// elsewhere.
			w.sync(false)
			w.later()
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			w.log.Warn("watching the scenario file", "file", w.file, "err", err)
		}
	}
}

// later calls changed once debounce passes without another event.
func (w *watcher) later() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = time.AfterFunc(w.debounce, w.fire)
}

func (w *watcher) fire() {
	w.calls.Add(1)
	go func() {
		defer w.calls.Done()
		w.run.Lock()
		defer w.run.Unlock()
		select {
		case <-w.done:
			return
		default:
		}
		w.changed()
	}()
}
