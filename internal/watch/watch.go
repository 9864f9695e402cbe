// Package watch calls a function when a file is saved. It watches the file's directory, not the
// file: editors save by writing a new file and renaming it over the old one, which replaces the
// file a watch on it would follow. A burst of events (write, chmod, rename) makes one call, once
// the file has been quiet for the debounce delay.
//
//	stop, err := watch.File("scenarios/mine.yaml", 200*time.Millisecond, func() { reload() })
//	defer stop()
package watch

import (
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a file must be quiet before a change counts.
const DefaultDebounce = 200 * time.Millisecond

// File calls changed (on a goroutine of its own, never two at once) after path is created,
// written or renamed into place, once no further event came for debounce. failed receives watcher
// errors (a full event queue, say), which do not stop the watch. stop ends the watch and waits for
// a call in progress.
func File(path string, debounce time.Duration, changed func(), failed func(error)) (stop func(), err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch %s: %w", filepath.Dir(abs), err)
	}
	var (
		mu    sync.Mutex
		timer *time.Timer
		calls sync.WaitGroup
		run   sync.Mutex // one call at a time
		done  = make(chan struct{})
	)
	fire := func() {
		calls.Add(1)
		go func() {
			defer calls.Done()
			run.Lock()
			defer run.Unlock()
			select {
			case <-done:
				return
			default:
			}
			changed()
		}()
	}
	go func() {
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Clean(ev.Name) != abs || !ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Rename|fsnotify.Remove) {
					continue
				}
				// A rename or remove of the file itself is the first half of a save by rename:
				// the new file arrives as a Create, which restarts the delay.
				mu.Lock()
				if timer != nil {
					timer.Stop()
				}
				timer = time.AfterFunc(debounce, fire)
				mu.Unlock()
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				if failed != nil {
					failed(err)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			w.Close()
			mu.Lock()
			if timer != nil {
				timer.Stop()
			}
			mu.Unlock()
			calls.Wait()
		})
	}, nil
}
