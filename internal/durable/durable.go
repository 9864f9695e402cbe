// Package durable keeps a data directory on disk: an exclusive lock, a snapshot written whole and
// an append-only log of the records written since, each record on disk (fsync) before Wait
// returns. Concurrent writers share an fsync (group commit). It knows nothing of what the records
// mean; package store gives them their meaning.
//
//	d, _ := durable.Open(dir)        // a second Open of dir fails with ErrLocked
//	snap, recs, _ := d.Load()        // the last snapshot and the records after it
//	n := d.Append(rec); _ = d.Wait(n) // rec is durable once Wait returns nil
//
// The directory holds LOCK (held with flock while a process owns the directory), snapshot.json
// (the state at some point, with the generation G of the log that follows it) and log.G (one
// record a line: eight hex digits of the line's CRC-32C, a space, the record, a newline).
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
)

// ErrLocked is returned by Open when another process owns the directory.
var ErrLocked = errors.New("in use by another process")

// ErrCorrupt is wrapped by Load's errors about damaged files.
var ErrCorrupt = errors.New("data directory is damaged")

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
	buf     []byte // records appended and not yet written
	records uint64 // records in the current log, written or not
	added   uint64 // records appended since Open
	synced  uint64 // records on disk
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

// snapshotHeader is the part of the snapshot Load reads itself; the rest belongs to the caller.
type snapshotHeader struct {
	Generation *uint64 `json:"log_generation"`
}

// Load reads the snapshot (nil when there is none yet) and the records of the log that follows it,
// and opens that log for appending. A record cut short at the end of the log (a crash while it was
// being written, so never acknowledged) is dropped and reported in dropped; any other damage is an
// error wrapping ErrCorrupt that says which file and line, and the files are left as they are.
func (d *Dir) Load() (snapshot []byte, records [][]byte, dropped string, err error) {
	snapPath := filepath.Join(d.path, snapshotName)
	snapshot, err = os.ReadFile(snapPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		snapshot = nil
	case err != nil:
		return nil, nil, "", fmt.Errorf("read %s: %w", snapPath, err)
	default:
		var h snapshotHeader
		if err := json.Unmarshal(snapshot, &h); err != nil {
			return nil, nil, "", fmt.Errorf("%s: %w: not a JSON snapshot: %v", snapPath, ErrCorrupt, err)
		}
		if h.Generation == nil {
			return nil, nil, "", fmt.Errorf("%s: %w: no log_generation", snapPath, ErrCorrupt)
		}
		d.gen = *h.Generation
	}
	logPath := d.logPath(d.gen)
	f, err := os.OpenFile(logPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, "", fmt.Errorf("open %s: %w", logPath, err)
	}
	records, good, dropped, err := readLog(f)
	if err != nil {
		f.Close()
		return nil, nil, "", fmt.Errorf("%s: %w", logPath, err)
	}
	if dropped != "" {
		// Only the unacknowledged tail goes: the record whose write the crash interrupted.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, nil, "", fmt.Errorf("truncate %s: %w", logPath, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, "", fmt.Errorf("sync %s: %w", logPath, err)
		}
		dropped = fmt.Sprintf("%s: %s", logPath, dropped)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, "", fmt.Errorf("seek %s: %w", logPath, err)
	}
	d.removeOtherLogs()
	d.mu.Lock()
	d.log = f
	d.records = uint64(len(records))
	d.mu.Unlock()
	return snapshot, records, dropped, nil
}

// readLog reads the records of a log. good is the offset after the last good record.
func readLog(r io.Reader) (records [][]byte, good int64, dropped string, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	line := 0
	for {
		raw, rerr := br.ReadBytes('\n')
		if len(raw) == 0 && rerr == io.EOF {
			return records, good, "", nil
		}
		if rerr != nil && rerr != io.EOF {
			return nil, 0, "", fmt.Errorf("read: %w", rerr)
		}
		line++
		rec, problem := parseLine(raw)
		if problem != "" {
			// Damage followed by nothing is the torn tail of an interrupted write; damage with
			// records after it is not something a crash does.
			rest, _ := io.ReadAll(br)
			if rerr == io.EOF || len(bytes.TrimRight(rest, "\x00")) == 0 {
				return records, good, fmt.Sprintf("dropped an incomplete last record at line %d (%s)", line, problem), nil
			}
			return nil, 0, "", fmt.Errorf("%w: line %d: %s", ErrCorrupt, line, problem)
		}
		records = append(records, rec)
		good += int64(len(raw))
	}
}

func parseLine(raw []byte) (rec []byte, problem string) {
	if len(raw) == 0 || raw[len(raw)-1] != '\n' {
		return nil, "no end of line"
	}
	raw = raw[:len(raw)-1]
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

// removeOtherLogs deletes logs of earlier generations, which a crash during Compact can leave.
func (d *Dir) removeOtherLogs() {
	entries, _ := os.ReadDir(d.path)
	for _, e := range entries {
		if n, ok := strings.CutPrefix(e.Name(), logPrefix); ok {
			if g, err := strconv.ParseUint(n, 10, 64); err == nil && g != d.gen {
				_ = os.Remove(filepath.Join(d.path, e.Name()))
			}
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
	d.added++
	d.records++
	return d.added
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
	for d.synced < n && d.err == nil {
		if d.syncing {
			d.cond.Wait()
			continue
		}
		d.syncing = true
		buf, upto := d.buf, d.added
		d.buf = nil
		f := d.log
		d.mu.Unlock()
		err := writeSync(f, buf)
		d.mu.Lock()
		d.syncing = false
		if err != nil {
			d.err = fmt.Errorf("write the log of %s: %w", d.path, err)
		} else {
			d.synced = upto
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
		d.buf, d.synced = nil, d.added
	}
	next := d.gen + 1
	body, err := withGeneration(snapshot, next)
	if err != nil {
		return err
	}
	if err := WriteFile(filepath.Join(d.path, snapshotName), body); err != nil {
		return err
	}
	f, err := os.OpenFile(d.logPath(next), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		d.err = fmt.Errorf("create %s: %w", d.logPath(next), err)
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

func withGeneration(snapshot []byte, gen uint64) ([]byte, error) {
	snapshot = bytes.TrimSpace(snapshot)
	if len(snapshot) < 2 || snapshot[0] != '{' {
		return nil, errors.New("compact: the snapshot is not a JSON object")
	}
	head := fmt.Appendf(nil, "{\"log_generation\":%d", gen)
	if rest := bytes.TrimSpace(snapshot[1:]); len(rest) > 0 && rest[0] != '}' {
		head = append(head, ',')
	}
	return append(head, snapshot[1:]...), nil
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
	n := d.added
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
