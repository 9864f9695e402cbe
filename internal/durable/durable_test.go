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
	if l, err := d.Load(); err != nil || l.Snapshot != nil || len(l.Records) != 0 {
		t.Fatalf("empty directory: %+v %v", l, err)
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
	l, err := d.Load()
	if err != nil || len(l.Records) != 50 || len(l.Warnings) != 0 {
		t.Fatalf("after reopen: %+v, %v", l, err)
	}
	if err := d.Compact([]byte(`{"state":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(d.Append([]byte(`{"after":1}`))); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d = open(t, dir)
	l, err = d.Load()
	if err != nil {
		t.Fatal(err)
	}
	if string(l.Snapshot) != `{"log_generation":1,"state":1}` || len(l.Records) != 1 || string(l.Records[0]) != `{"after":1}` {
		t.Fatalf("after compact: snapshot %s, records %q", l.Snapshot, l.Records)
	}
	if file, _ := os.ReadFile(filepath.Join(dir, "snapshot.json")); !strings.HasPrefix(string(file), `{"crc32c":"`) || !strings.HasSuffix(string(file), `"log_generation":1,"state":1}`) {
		t.Errorf("the snapshot file is %s, want its checksum first", file)
	}
	if _, err := os.Stat(filepath.Join(dir, "log.0")); !os.IsNotExist(err) {
		t.Errorf("the old log is still there: %v", err)
	}
	// The files hold secrets: only their owner reads them.
	for _, name := range []string{"snapshot.json", "log.1"} {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", name, info.Mode().Perm(), err)
		}
	}
}

// TestDamage: only a last record without its newline (a write a crash interrupted, never
// acknowledged) is dropped, with a warning that says so and its bytes kept in log.G.torn; a whole
// record that fails its checksum is damage wherever it is, and the log is left as it is.
func TestDamage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		log     string
		records int
		torn    string
		err     string
	}{
		{name: "torn tail is dropped", log: good(`{"a":1}`) + `0000`, records: 1, torn: "0000"},
		{name: "a whole record cut short of its newline is dropped", log: good(`{"a":1}`) + strings.TrimSuffix(good(`{"b":2}`), "\n"), records: 1,
			torn: strings.TrimSuffix(good(`{"b":2}`), "\n")},
		{name: "zeros at the end are dropped", log: good(`{"a":1}`) + "\x00\x00\x00\x00", records: 1, torn: "\x00\x00\x00\x00"},
		{name: "a whole last record with a bad checksum is damage", log: good(`{"a":1}`) + "00000000 {}\n", err: "line 2: checksum mismatch"},
		{name: "a whole last record after a changed byte is damage", log: good(`{"a":1}`) + strings.Replace(good(`{"v":3}`), "3", "8", 1),
			err: "line 2: checksum mismatch"},
		{name: "damage in the middle is an error", log: good(`{"a":1}`) + "00000000 {}\n" + good(`{"b":2}`), err: "line 2: checksum mismatch"},
		{name: "a whole record without a checksum is damage", log: good(`{"a":1}`) + "{}\n", err: "line 2: no checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "log.0")
			if err := os.WriteFile(logPath, []byte(tc.log), 0o644); err != nil {
				t.Fatal(err)
			}
			d := open(t, dir)
			l, err := d.Load()
			if tc.err != "" {
				if !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "log.0") {
					t.Fatalf("Load: %v, want ErrCorrupt naming log.0 with %q", err, tc.err)
				}
				if data, _ := os.ReadFile(logPath); string(data) != tc.log {
					t.Errorf("a damaged log was changed")
				}
				return
			}
			if err != nil || len(l.Records) != tc.records || len(l.Warnings) != 1 {
				t.Fatalf("Load: %+v, %v", l, err)
			}
			if w := l.Warnings[0]; !strings.Contains(w, "line 2") || !strings.Contains(w, "no end of line") || !strings.Contains(w, "log.0.torn") {
				t.Errorf("warning %q does not say which record, why, and where its bytes are", w)
			}
			if kept, _ := os.ReadFile(logPath + ".torn"); string(kept) != tc.torn {
				t.Errorf("log.0.torn holds %q, want the cut bytes %q", kept, tc.torn)
			}
			if data, _ := os.ReadFile(logPath); string(data) != good(`{"a":1}`) {
				t.Errorf("after the repair the log holds %q", data)
			}
		})
	}
}

// TestMissingSnapshotIsRefused: without snapshot.json, only a fresh directory starts empty; one
// whose log builds on a snapshot is refused with what is missing and what was found, and no file
// is removed.
func TestMissingSnapshotIsRefused(t *testing.T) {
	dir := t.TempDir()
	d := openLoaded(t, dir)
	for i := range 2 {
		if err := d.Compact(fmt.Appendf(nil, `{"state":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Wait(d.Append([]byte(`{"after":1}`))); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := os.Remove(filepath.Join(dir, "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	d = open(t, dir)
	_, err := d.Load()
	if !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "no snapshot.json") || !strings.Contains(err.Error(), "log.2") {
		t.Fatalf("Load: %v, want a refusal naming the missing snapshot and log.2", err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "log.2")); err != nil || !strings.Contains(string(data), `{"after":1}`) {
		t.Fatalf("log.2 after the refusal: %q %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "log.0")); !os.IsNotExist(err) {
		t.Errorf("Load made a log.0 in a directory it refused: %v", err)
	}
}

// TestFreshDirectories: a directory with nothing in it, or only LOCK, an empty log.0 and the
// leftovers of an interrupted snapshot write, starts empty.
func TestFreshDirectories(t *testing.T) {
	for name, files := range map[string][]string{
		"nothing":                       nil,
		"a first start that was killed": {"log.0", ".snapshot.json.tmp123"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range files {
				if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d := open(t, dir)
			if l, err := d.Load(); err != nil || l.Snapshot != nil || len(l.Records) != 0 {
				t.Fatalf("Load: %+v %v", l, err)
			}
		})
	}
	t.Run("someone else's files", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		d := open(t, dir)
		if _, err := d.Load(); !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "notes.txt (5 bytes)") {
			t.Fatalf("Load: %v", err)
		}
	})
}

// TestLogNewerThanTheSnapshotIsRefused: a log of a later generation than the snapshot (an older
// snapshot put back) is refused and kept, not deleted.
func TestLogNewerThanTheSnapshotIsRefused(t *testing.T) {
	dir := t.TempDir()
	d := openLoaded(t, dir)
	if err := d.Compact([]byte(`{"state":1}`)); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err := d.Compact([]byte(`{"state":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(d.Append([]byte(`{"after":2}`))); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := os.WriteFile(filepath.Join(dir, "snapshot.json"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	d = open(t, dir)
	if _, err := d.Load(); !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "log.2 is newer than snapshot.json") {
		t.Fatalf("Load: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "log.2")); err != nil {
		t.Fatalf("log.2 is gone: %v", err)
	}
}

func TestBadSnapshotIsReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "snapshot.json"), []byte(`{"log_generation":1,`), 0o644); err != nil {
		t.Fatal(err)
	}
	d := open(t, dir)
	if _, err := d.Load(); !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "snapshot.json") {
		t.Fatalf("Load: %v", err)
	}
}

// TestSnapshotChecksum: a snapshot changed after it was written is refused, naming the file and the
// checksums, even when it is still good JSON, and is left as it is; one that lost its checksum
// field is refused too.
func TestSnapshotChecksum(t *testing.T) {
	dir := t.TempDir()
	d := openLoaded(t, dir)
	if err := d.Compact([]byte(`{"secret":"ACMOCKDEMOSECRET0000000000000001","user":"zed"}`)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	path := filepath.Join(dir, "snapshot.json")
	good, _ := os.ReadFile(path)
	for name, edit := range map[string]func(string) string{
		"a changed secret": func(s string) string { return strings.Replace(s, "0001", "0003", 1) },
		"a changed user":   func(s string) string { return strings.Replace(s, `"zed"`, `"zee"`, 1) },
		"a cut file":       func(s string) string { return s[:len(s)-10] },
		"no checksum":      func(s string) string { return strings.Replace(s, `"crc32c"`, `"crc32C"`, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			bad := edit(string(good))
			if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			d := open(t, dir)
			_, err := d.Load()
			if !errors.Is(err, durable.ErrCorrupt) || !strings.Contains(err.Error(), "snapshot.json") {
				t.Fatalf("Load: %v, want ErrCorrupt naming snapshot.json", err)
			}
			d.Close()
			if data, _ := os.ReadFile(path); string(data) != bad {
				t.Errorf("the damaged snapshot was changed")
			}
		})
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	d = open(t, dir)
	if l, err := d.Load(); err != nil || !strings.Contains(string(l.Snapshot), `"user":"zed"`) || l.Rewrite {
		t.Fatalf("the good snapshot: %+v %v", l, err)
	}
}

// TestSnapshotWithoutChecksum: a snapshot from before snapshots had a checksum is read, with a
// warning, and marked to be written again.
func TestSnapshotWithoutChecksum(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "snapshot.json"), []byte(`{"log_generation":3,"state":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	d := open(t, dir)
	l, err := d.Load()
	if err != nil || string(l.Snapshot) != `{"log_generation":3,"state":1}` || !l.Rewrite || len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "no checksum") {
		t.Fatalf("Load: %+v %v", l, err)
	}
}

// openLoaded opens dir and loads it.
func openLoaded(t *testing.T, dir string) *durable.Dir {
	t.Helper()
	d := open(t, dir)
	if _, err := d.Load(); err != nil {
		t.Fatal(err)
	}
	return d
}

// good frames a record as Append does.
func good(rec string) string {
	dir, _ := os.MkdirTemp("", "frame")
	defer os.RemoveAll(dir)
	d, _ := durable.Open(dir)
	_, _ = d.Load()
	_ = d.Wait(d.Append([]byte(rec)))
	d.Close()
	data, _ := os.ReadFile(filepath.Join(dir, "log.0"))
	return string(data)
}
