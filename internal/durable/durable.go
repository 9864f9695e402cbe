// Package durable keeps a data directory on disk: an exclusive lock, a snapshot written whole and
// an append-only log of the records written since, each record on disk (fsync) before Wait
// returns. Concurrent writers share an fsync (group commit). It knows nothing of what the records
// mean; package store gives them their meaning.
//
//	d, _ := durable.Open(dir)        // a second Open of dir fails with ErrLocked
//	l, _ := d.Load()                 // the last snapshot and the records after it
//	n := d.Append(rec); _ = d.Wait(n) // rec is durable once Wait returns nil
//
// The directory holds LOCK (held with flock while a process owns the directory), snapshot.json
// (the state at some point, with the generation G of the log that follows it, after a CRC-32C of
// the rest of the file: {"crc32c":"1a2b3c4d","log_generation":G,...}) and log.G (one record a
// line: eight hex digits of the record's CRC-32C, a space, the record, a newline).
// Compact writes a new snapshot with generation G+1 (temporary file, fsync, rename, fsync of the
// directory), starts log.G+1 and removes log.G, so a crash at any point leaves either the old
// snapshot with its complete log or the new one with an empty log.
package durable

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrLocked is returned by Open when another process owns the directory.
var ErrLocked = errors.New("in use by another process")

// ErrCorrupt is wrapped by Load's errors about damaged files.
var ErrCorrupt = errors.New("data directory is damaged")

// logMode is the mode of the logs, which hold secrets like the snapshot (0600, as os.CreateTemp
// makes it).
const logMode = 0o600

const (
	lockName     = "LOCK"
	snapshotName = "snapshot.json"
	logPrefix    = "log."
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Dir is an open data directory. Its methods are safe for concurrent use.
type Dir struct {
	path string
	lock *os.File
	gen  uint64

	mu      sync.Mutex
	cond    *sync.Cond
	log     *os.File
	buf     []byte        // records appended and not yet written
	records uint64        // records in the current log, written or not
	added   atomic.Uint64 // records appended since Open (changed under mu, read without it too)
	synced  atomic.Uint64 // records on disk (changed under mu, read without it too)
	syncing bool
	err     error // a failed write or fsync: every later Wait returns it
}

// Open creates the directory when it does not exist and takes its lock.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("open data directory %s: %w", path, err)
	}
	lf, err := os.OpenFile(filepath.Join(path, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open data directory %s: %w", path, err)
	}
	if err := lockFile(lf); err != nil {
		owner, _ := os.ReadFile(lf.Name())
		lf.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("data directory %s is %w (%s); stop it or use another --data", path, ErrLocked,
				strings.TrimSpace("held by "+string(bytes.TrimSpace(owner))))
		}
		return nil, fmt.Errorf("lock data directory %s: %w", path, err)
	}
	_ = lf.Truncate(0)
	_, _ = lf.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	d := &Dir{path: path, lock: lf}
	d.cond = sync.NewCond(&d.mu)
	return d, nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// Loaded is what Load read.
type Loaded struct {
	// Snapshot is the JSON object the caller gave Compact last (with its log_generation), nil
	// when the directory has none yet.
	Snapshot []byte
	// Records are the records appended since, in order.
	Records [][]byte
	// Warnings say what Load repaired or accepted that the operator should know of: a torn last
	// record it dropped (its bytes kept beside the log), a snapshot without a checksum.
	Warnings []string
	// Rewrite is set when the snapshot should be written again (it has no checksum yet).
	Rewrite bool
}

// Load reads the snapshot and the records of the log that follows it, and opens that log for
// appending. It refuses, with an error wrapping ErrCorrupt that names the file and what is wrong,
// and without changing any file:
//   - a snapshot whose checksum does not match its content (or that has lost its checksum);
//   - a record of the log that is whole (it ends with a newline) but does not match its
//     checksum, wherever it is: it may have been acknowledged;
//   - a log newer than the snapshot (log.N next to a snapshot followed by log.G, N > G);
//   - a directory with no snapshot that holds anything but what a fresh one may (see isFresh).
//
// The one thing it repairs is a last record without its newline, the torn tail of a write that a
// crash interrupted (never acknowledged, since records are acknowledged after their fsync): its
// bytes are appended to log.G.torn, then cut from the log, and a warning says so.
func (d *Dir) Load() (*Loaded, error) {
	out := &Loaded{}
	snapPath := filepath.Join(d.path, snapshotName)
	data, err := os.ReadFile(snapPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := d.checkFresh(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err // a *fs.PathError: it names the file
	default:
		body, legacy, err := openSnapshot(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", snapPath, ErrCorrupt, err)
		}
		var h struct {
			Generation *uint64 `json:"log_generation"`
		}
		if err := json.Unmarshal(body, &h); err != nil {
			return nil, fmt.Errorf("%s: %w: not a JSON snapshot: %v", snapPath, ErrCorrupt, err)
		}
		if h.Generation == nil {
			return nil, fmt.Errorf("%s: %w: no log_generation", snapPath, ErrCorrupt)
		}
		d.gen = *h.Generation
		if legacy {
			out.Rewrite = true
			out.Warnings = append(out.Warnings, snapPath+": has no checksum (an earlier acmock wrote it): read as it is; it gets one when it is written next, now")
		}
		if err := d.checkNoNewerLog(); err != nil {
			return nil, err
		}
		out.Snapshot = body
	}
	logPath := d.logPath(d.gen)
	f, err := os.OpenFile(logPath, os.O_RDWR|os.O_CREATE, logMode)
	if err != nil {
		return nil, err // a *fs.PathError: it names the file
	}
	records, good, torn, err := readLog(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", logPath, err)
	}
	if torn != nil {
		// Only the unacknowledged tail goes, and its bytes are kept.
		if err := appendSync(logPath+".torn", torn.bytes); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		out.Warnings = append(out.Warnings, fmt.Sprintf("%s: the last record (line %d, %d bytes) has no end of line: acmock stopped while "+
			"writing it, before it was acknowledged; it was dropped, and its bytes were added to %s.torn", logPath, torn.line, len(torn.bytes), logPath))
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	d.removeOlderLogs()
	d.mu.Lock()
	d.log = f
	d.records = uint64(len(records))
	d.mu.Unlock()
	out.Records = records
	return out, nil
}

// checkFresh accepts a directory without a snapshot only when it is fresh: it holds nothing but
// LOCK, log.0 (the log of a directory that has no snapshot yet, which is all the changes since
// the empty state), leftovers of an interrupted snapshot write (.snapshot.json.tmp*) and
// lost+found. Anything else means the snapshot went missing, and starting empty would lose the
// state and, at the first snapshot, the log.
func (d *Dir) checkFresh() error {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return fmt.Errorf("read data directory %s: %w", d.path, err)
	}
	var found []string
	for _, e := range entries {
		name := e.Name()
		if name == lockName || name == logPrefix+"0" || name == "lost+found" || strings.HasPrefix(name, "."+snapshotName+".tmp") {
			continue
		}
		if info, err := e.Info(); err == nil && !e.IsDir() {
			name = fmt.Sprintf("%s (%d bytes)", name, info.Size())
		}
		found = append(found, name)
	}
	if len(found) == 0 {
		return nil
	}
	if len(found) > 5 {
		found = append(found[:5], fmt.Sprintf("and %d more", len(found)-5))
	}
	return fmt.Errorf("%w: there is no %s, but the directory holds %s. acmock keeps its state in %s and the log that "+
		"follows it, and will not start empty over these files (that would lose the state the log builds on): put %s back "+
		"(from a backup), or move these files away and import an export into the empty directory (acmock state import), or "+
		"give --data an empty or new directory", ErrCorrupt, snapshotName, strings.Join(found, ", "), snapshotName, snapshotName)
}

// checkNoNewerLog refuses a log of a later generation than the snapshot's: a crash never leaves
// one (Compact renames the new snapshot before it starts its log), so the snapshot is older than
// the records (restored from a backup, say), which cannot be applied to it.
func (d *Dir) checkNoNewerLog() error {
	for _, g := range d.logs() {
		if g > d.gen {
			return fmt.Errorf("%w: %s is newer than %s, which is followed by %s: the snapshot is older than the log (restored from "+
				"a backup?) and the log cannot be applied to it. Put back the snapshot.json that goes with %s, or move %s away to start "+
				"from the snapshot as it is", ErrCorrupt, logPrefix+strconv.FormatUint(g, 10), snapshotName, logPrefix+strconv.FormatUint(d.gen, 10),
				logPrefix+strconv.FormatUint(g, 10), logPrefix+strconv.FormatUint(g, 10))
		}
	}
	return nil
}

// logs lists the generations of the logs in the directory.
func (d *Dir) logs() []uint64 {
	entries, _ := os.ReadDir(d.path)
	var gens []uint64
	for _, e := range entries {
		if n, ok := strings.CutPrefix(e.Name(), logPrefix); ok {
			if g, err := strconv.ParseUint(n, 10, 64); err == nil {
				gens = append(gens, g)
			}
		}
	}
	return gens
}

// snapshotSumPrefix starts a snapshot file: the CRC-32C of everything after the checksum field
// comes first, so a reader can check the file before it trusts a byte of it.
const snapshotSumPrefix = `{"crc32c":"`

// openSnapshot checks a snapshot file's checksum and returns its JSON without the checksum field.
// legacy reports a file written before snapshots had one (it starts with its log_generation).
func openSnapshot(data []byte) (body []byte, legacy bool, err error) {
	rest, ok := bytes.CutPrefix(data, []byte(snapshotSumPrefix))
	if !ok {
		if bytes.HasPrefix(data, []byte(`{"log_generation":`)) {
			return data, true, nil
		}
		return nil, false, fmt.Errorf("it does not start with its checksum (%s...), but with %q", snapshotSumPrefix, data[:min(len(data), 24)])
	}
	if len(rest) < 10 || string(rest[8:10]) != `",` {
		return nil, false, fmt.Errorf("its checksum is not 8 hex digits followed by %q", `",`)
	}
	want, perr := strconv.ParseUint(string(rest[:8]), 16, 32)
	if perr != nil {
		return nil, false, fmt.Errorf("its checksum %q is not 8 hex digits", rest[:8])
	}
	content := rest[10:]
	if got := crc32.Checksum(content, castagnoli); uint32(want) != got {
		return nil, false, fmt.Errorf("checksum mismatch (the file says %08x, its content has %08x): it was changed or damaged after acmock "+
			"wrote it, so acmock will not trust it. Restore it from a backup, or start from an export (acmock state import); "+
			"a snapshot edited on purpose loads with PUT /_acmock/state (acmock state import), which checks it", want, got)
	}
	return append([]byte{'{'}, content...), false, nil
}

// tornTail is the last record of a log that has no newline: a write a crash interrupted.
type tornTail struct {
	line  int
	bytes []byte
}

// readLog reads the records of a log. good is the offset after the last good record.
func readLog(r io.Reader) (records [][]byte, good int64, torn *tornTail, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	line := 0
	for {
		raw, rerr := br.ReadBytes('\n')
		if len(raw) == 0 && rerr == io.EOF {
			return records, good, nil, nil
		}
		if rerr != nil && rerr != io.EOF {
			return nil, 0, nil, fmt.Errorf("read: %w", rerr)
		}
		line++
		if rerr == io.EOF {
			// No newline and nothing after it: the tail of an interrupted write.
			return records, good, &tornTail{line: line, bytes: raw}, nil
		}
		rec, problem := parseLine(raw)
		if problem != "" {
			return nil, 0, nil, fmt.Errorf("%w: line %d: %s: the record is whole (it ends with a newline), so acmock wrote it and may have "+
				"acknowledged it; the file was changed or damaged since, and acmock will not drop it. Restore the directory from a backup, "+
				"or delete this line and the ones after it to start without those changes", ErrCorrupt, line, problem)
		}
		records = append(records, rec)
		good += int64(len(raw))
	}
}

// appendSync adds data to the end of the file at path, creating it, and syncs it.
func appendSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, logMode)
	if err != nil {
		return fmt.Errorf("keep the torn record: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("keep the torn record: %w", err)
	}
	return nil
}

func parseLine(raw []byte) (rec []byte, problem string) {
	raw = raw[:len(raw)-1] // the newline
	if len(raw) < 10 || raw[8] != ' ' {
		return nil, "no checksum"
	}
	want, err := strconv.ParseUint(string(raw[:8]), 16, 32)
	if err != nil {
		return nil, "bad checksum " + strconv.Quote(string(raw[:8]))
	}
	rec = raw[9:]
	if got := crc32.Checksum(rec, castagnoli); uint32(want) != got {
		return nil, fmt.Sprintf("checksum mismatch (file says %08x, record has %08x)", want, got)
	}
	return rec, ""
}

func (d *Dir) logPath(gen uint64) string {
	return filepath.Join(d.path, logPrefix+strconv.FormatUint(gen, 10))
}

// removeOlderLogs deletes logs of earlier generations, which a crash during Compact can leave:
// the snapshot holds everything they do.
func (d *Dir) removeOlderLogs() {
	for _, g := range d.logs() {
		if g < d.gen {
			_ = os.Remove(d.logPath(g))
		}
	}
}

// Append adds a record (one line of JSON, no newline) to the log and returns its number for Wait.
// Callers append in the order the changes were made (under their own lock), and wait outside it.
func (d *Dir) Append(rec []byte) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.buf = fmt.Appendf(d.buf, "%08x ", crc32.Checksum(rec, castagnoli))
	d.buf = append(d.buf, rec...)
	d.buf = append(d.buf, '\n')
	d.records++
	return d.added.Add(1)
}

// Appended returns the number of the last record appended, so that Wait(Appended()) waits for
// everything appended so far.
func (d *Dir) Appended() uint64 {
	return d.added.Load()
}

// Synced reports whether record n (from Append or Appended) is on disk, without waiting: a caller
// that finds it is not calls Wait.
func (d *Dir) Synced(n uint64) bool {
	return d.synced.Load() >= n
}

// Records returns how many records the current log holds, so the caller knows when to Compact.
func (d *Dir) Records() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.records
}

// Wait returns once record n (from Append) is on disk. Whoever finds no write in progress writes
// and syncs everything appended so far, for all waiters at once. After a failed write every Wait
// returns the error: what is in memory may then be ahead of the disk.
func (d *Dir) Wait(n uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.synced.Load() < n && d.err == nil {
		if d.syncing {
			d.cond.Wait()
			continue
		}
		d.syncing = true
		buf, upto := d.buf, d.added.Load()
		d.buf = nil
		f := d.log
		d.mu.Unlock()
		err := writeSync(f, buf)
		d.mu.Lock()
		d.syncing = false
		if err != nil {
			d.err = fmt.Errorf("write the log of %s: %w", d.path, err)
		} else {
			d.synced.Store(upto)
		}
		d.cond.Broadcast()
	}
	return d.err
}

func writeSync(f *os.File, buf []byte) error {
	if f == nil {
		return errors.New("log not loaded")
	}
	if _, err := f.Write(buf); err != nil {
		return err
	}
	return f.Sync()
}

// Compact replaces the snapshot with one the caller wrote of its whole state, which must include
// every record appended so far, and starts an empty log. snapshot is a JSON object; Compact adds
// its log_generation. The caller keeps Append from running meanwhile (it holds its write lock).
func (d *Dir) Compact(snapshot []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.syncing {
		d.cond.Wait()
	}
	if d.err != nil {
		return d.err
	}
	// Whatever is buffered is in the snapshot too, but is written first so that the old log is
	// complete should the new snapshot fail.
	if len(d.buf) > 0 {
		if err := writeSync(d.log, d.buf); err != nil {
			d.err = fmt.Errorf("write %s: %w", d.log.Name(), err)
			return d.err
		}
		d.buf = nil
		d.synced.Store(d.added.Load())
	}
	next := d.gen + 1
	body, err := withGeneration(snapshot, next)
	if err != nil {
		return err
	}
	if err := WriteFile(filepath.Join(d.path, snapshotName), body); err != nil {
		return err
	}
	f, err := os.OpenFile(d.logPath(next), os.O_RDWR|os.O_CREATE|os.O_TRUNC, logMode)
	if err != nil {
		d.err = fmt.Errorf("start the next log: %w", err)
		return d.err
	}
	old := d.log
	d.log, d.gen, d.records = f, next, 0
	d.cond.Broadcast()
	if old != nil {
		old.Close()
	}
	_ = os.Remove(d.logPath(next - 1))
	return syncDir(d.path)
}

// withGeneration frames a snapshot as its file holds it: the checksum of what follows it, then the
// log generation, then the caller's fields.
func withGeneration(snapshot []byte, gen uint64) ([]byte, error) {
	snapshot = bytes.TrimSpace(snapshot)
	if len(snapshot) < 2 || snapshot[0] != '{' {
		return nil, errors.New("compact: the snapshot is not a JSON object")
	}
	content := fmt.Appendf(nil, "\"log_generation\":%d", gen)
	if rest := bytes.TrimSpace(snapshot[1:]); len(rest) > 0 && rest[0] != '}' {
		content = append(content, ',')
	}
	content = append(content, snapshot[1:]...)
	out := fmt.Appendf(make([]byte, 0, len(snapshotSumPrefix)+10+len(content)), "%s%08x\",", snapshotSumPrefix, crc32.Checksum(content, castagnoli))
	return append(out, content...), nil
}

// WriteFile writes data to path so that a crash leaves either the old file or the new one whole:
// a temporary file in the same directory, fsync, rename over path, fsync of the directory.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// Close writes what is buffered, closes the log and releases the lock.
func (d *Dir) Close() error {
	d.mu.Lock()
	n := d.added.Load()
	d.mu.Unlock()
	err := d.Wait(n)
	d.mu.Lock()
	if d.log != nil {
		d.log.Close()
		d.log = nil
	}
	d.mu.Unlock()
	_ = unlockFile(d.lock)
	d.lock.Close()
	return err
}
