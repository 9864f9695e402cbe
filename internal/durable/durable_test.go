package durable_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/acmock/acmock/internal/durable"
)

func open(t *testing.T, dir string) *durable.Dir {
	t.Helper()
	d, err := durable.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	_, err := durable.Open(dir)
	if !errors.Is(err, durable.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("the error does not name the owner: %v", err)
	}
	d.Close()
	d2, err := durable.Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	d2.Close()
}

func TestRecordsSurviveReopenAndCompact(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	if snap, recs, _, err := d.Load(); err != nil || snap != nil || len(recs) != 0 {
		t.Fatalf("empty directory: %q %q %v", snap, recs, err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.Wait(d.Append(fmt.Appendf(nil, `{"n":%d}`, i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	d.Close()

	d = open(t, dir)
	_, recs, dropped, err := d.Load()
	if err != nil || len(recs) != 50 || dropped != "" {
		t.Fatalf("after reopen: %d records, dropped %q, %v", len(recs), dropped, err)
	}
	if err := d.Compact([]byte(`{"state":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(d.Append([]byte(`{"after":1}`))); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d = open(t, dir)
	snap, recs, _, err := d.Load()
	if err != nil {
		t.Fatal(err)
	}
	if string(snap) != `{"log_generation":1,"state":1}` || len(recs) != 1 || string(recs[0]) != `{"after":1}` {
		t.Fatalf("after compact: snapshot %s, records %q", snap, recs)
	}
	if _, err := os.Stat(filepath.Join(dir, "log.0")); !os.IsNotExist(err) {
		t.Errorf("the old log is still there: %v", err)
	}
}

func TestDamage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		log     string
		records int
		dropped string
		err     string
	}{
		{name: "torn tail is dropped", log: good(`{"a":1}`) + `0000`, records: 1, dropped: "line 2"},
		{name: "bad checksum at the end is dropped", log: good(`{"a":1}`) + "00000000 {}\n", records: 1, dropped: "checksum mismatch"},
		{name: "zeros at the end are dropped", log: good(`{"a":1}`) + "\x00\x00\x00\x00", records: 1, dropped: "line 2"},
		{name: "damage in the middle is an error", log: good(`{"a":1}`) + "00000000 {}\n" + good(`{"b":2}`), err: "line 2: checksum mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "log.0"), []byte(tc.log), 0o644); err != nil {
				t.Fatal(err)
			}
			d := open(t, dir)
			_, recs, dropped, err := d.Load()
			if tc.err != "" {
				if !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load: %v, want ErrCorrupt with %q", err, tc.err)
				}
				if data, _ := os.ReadFile(filepath.Join(dir, "log.0")); string(data) != tc.log {
					t.Errorf("a damaged log was changed")
				}
				return
			}
			if err != nil || len(recs) != tc.records || !strings.Contains(dropped, tc.dropped) {
				t.Fatalf("Load: %d records, dropped %q, %v", len(recs), dropped, err)
			}
		})
	}
}

func TestBadSnapshotIsReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "snapshot.json"), []byte(`{"log_generation":1,`), 0o644); err != nil {
		t.Fatal(err)
	}
	d := open(t, dir)
	if _, _, _, err := d.Load(); !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "snapshot.json") {
		t.Fatalf("Load: %v", err)
	}
}

// good frames a record as Append does.
func good(rec string) string {
	dir, _ := os.MkdirTemp("", "frame")
	defer os.RemoveAll(dir)
	d, _ := durable.Open(dir)
	_, _, _, _ = d.Load()
	_ = d.Wait(d.Append([]byte(rec)))
	d.Close()
	data, _ := os.ReadFile(filepath.Join(dir, "log.0"))
	return string(data)
}
