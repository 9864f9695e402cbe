// Package journal records the requests the emulator served in a bounded ring buffer, so tests can
// assert what a client sent (and how often) without the journal ever exhausting memory.
//
//	j := journal.New(1000)
//	j.Add(journal.Entry{Operation: "getSessionStatus", Status: 200})
//	polls := j.List(journal.Filter{Operation: "getSessionStatus"})
package journal

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/acmock/acmock/internal/clip"
	"sync"
	"time"
)

// DefaultSize is how many entries a journal keeps unless told otherwise.
const DefaultSize = 10_000

// Entry is one request as the emulator saw it.
type Entry struct {
	Seq         uint64        `json:"seq"`
	Time        time.Time     `json:"time"`
	Method      string        `json:"method"`
	Path        string        `json:"path"`
	Operation   string        `json:"operation,omitempty"`
	Application string        `json:"application,omitempty"`
	User        string        `json:"user,omitempty"`
	Session     string        `json:"session,omitempty"`
	Status      int           `json:"status"`
	HMAC        string        `json:"hmac"`
	Error       string        `json:"error,omitempty"`
	Fault       string        `json:"fault,omitempty"`
	Latency     time.Duration `json:"latency_ns"`

	// Message is the error's sentence, and StringToSign what the emulator signed when a signature
	// did not match, so the mismatch can be compared with what the client signed.
	Message      string `json:"message,omitempty"`
	StringToSign string `json:"string_to_sign,omitempty"`

	// AuthHeaders names the signature's timestamp and version headers the request carried, as
	// acauth.HeadersUsed reports them: at most twelve short strings.
	AuthHeaders []string `json:"auth_headers,omitempty"`
}

// Filter selects entries; zero fields match everything.
type Filter struct {
	Operation   string
	Application string
	User        string
	Session     string
	Method      string
	Status      int
	// Since keeps entries with Seq greater than it.
	Since uint64
}

// Journal is a ring buffer of entries, safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	entries []stored // ring of size entries, grown as entries come until it is full
	size    int
	next    int // where the next entry goes
	full    bool
	seq     uint64
	changed chan struct{} // made by Changed when nil, closed and dropped by the next Add
	waiters map[*waiter]struct{}
}

// waiter is a WaitFor in progress: Add and Clear keep its count of matching entries, so that a
// wait costs one pass over the journal when it starts and O(1) per entry added after.
type waiter struct {
	f     Filter
	n     int
	count int
	done  chan struct{} // closed once count reaches n
}

func (w *waiter) check() {
	if w.count >= w.n && w.done != nil {
		close(w.done)
		w.done = nil
	}
}

// New returns a journal that keeps the last size entries (DefaultSize when size <= 0).
func New(size int) *Journal {
	if size <= 0 {
		size = DefaultSize
	}
	// The ring grows with use: a journal that is never filled costs only what it holds, and a
	// start does not pay for 10,000 empty entries.
	return &Journal{entries: make([]stored, 0, min(size, 64)), size: size}
}

// MaxText bounds each text field of an entry (path, IDs, message, string to sign), in bytes, so an
// entry's size does not grow with what a client sent; a longer text keeps its start and its length.
const MaxText = 2048

// Add records an entry, giving it the next sequence number, and returns that number.
func (j *Journal) Add(e Entry) uint64 {
	s := pack(&e)
	j.mu.Lock()
	j.seq++
	s.seq = j.seq
	for w := range j.waiters {
		if j.full && w.f.matches(&j.entries[j.next]) {
			w.count-- // the entry it replaces is forgotten
		}
		if w.f.matches(&s) {
			w.count++
		}
		w.check()
	}
	if j.full {
		j.entries[j.next] = s
		j.next++
	} else {
		if len(j.entries) == cap(j.entries) { // never past size
			grown := make([]stored, len(j.entries), min(2*cap(j.entries), j.size))
			copy(grown, j.entries)
			j.entries = grown
		}
		j.entries = append(j.entries, s)
		j.next = len(j.entries)
	}
	if j.next == j.size {
		j.next, j.full = 0, true
	}
	ch := j.changed // nil when nobody watches: nothing to make or close
	j.changed = nil
	j.mu.Unlock()
	if ch != nil {
		close(ch)
	}
	return s.seq
}

// stored is an entry as the ring keeps it: its texts in one string, which holds no part of the
// request they came from (a path or an ID cut from a request line of 64 KiB would otherwise keep
// the whole line alive for as long as the entry), and the end of each in it. That is three
// pointers for the collector to follow per entry instead of thirteen, in a ring of 10,000 entries
// that every collection marks, and 136 bytes instead of 248.
type stored struct {
	seq     uint64
	time    time.Time
	status  int
	latency time.Duration
	texts   string
	ends    [numTexts]uint32
	// auth is AuthHeaders as it came: header names, each a string of its own (net/http
	// allocates every header key apart from the request line, and acauth names them with
	// constants), so that keeping them keeps nothing else.
	auth []string
}

// The texts of a stored entry, in the order they are kept.
const (
	textMethod = iota
	textPath
	textOperation
	textApplication
	textUser
	textSession
	textHMAC
	textError
	textFault
	textMessage
	textStringToSign
	numTexts
)

// pack clips the entry's texts to MaxText and copies them, all in one allocation.
func pack(e *Entry) stored {
	texts := [numTexts]string{e.Method, e.Path, e.Operation, e.Application, e.User, e.Session, e.HMAC,
		e.Error, e.Fault, e.Message, e.StringToSign}
	n := 0
	for i := range texts {
		if len(texts[i]) > MaxText {
			texts[i] = clip.String(texts[i], MaxText)
		}
		n += len(texts[i])
	}
	var b strings.Builder
	b.Grow(n)
	s := stored{seq: e.Seq, time: e.Time, status: e.Status, latency: e.Latency, auth: e.AuthHeaders}
	for i, t := range texts {
		b.WriteString(t)
		s.ends[i] = uint32(b.Len())
	}
	s.texts = b.String()
	return s
}

// text returns the stored entry's text i.
func (s *stored) text(i int) string {
	start := uint32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.texts[start:s.ends[i]]
}

// entry returns the stored entry as an Entry; its texts share the stored string.
func (s *stored) entry() Entry {
	return Entry{Seq: s.seq, Time: s.time, Status: s.status, Latency: s.latency,
		Method: s.text(textMethod), Path: s.text(textPath), Operation: s.text(textOperation),
		Application: s.text(textApplication), User: s.text(textUser), Session: s.text(textSession),
		HMAC: s.text(textHMAC), Error: s.text(textError), Fault: s.text(textFault),
		Message: s.text(textMessage), StringToSign: s.text(textStringToSign), AuthHeaders: s.auth}
}

// matches reports whether a stored entry passes the filter.
func (f Filter) matches(s *stored) bool {
	return (f.Operation == "" || f.Operation == s.text(textOperation)) &&
		(f.Application == "" || f.Application == s.text(textApplication)) &&
		(f.User == "" || f.User == s.text(textUser)) &&
		(f.Session == "" || f.Session == s.text(textSession)) &&
		(f.Method == "" || f.Method == s.text(textMethod)) &&
		(f.Status == 0 || f.Status == s.status) &&
		s.seq > f.Since
}

// Len reports how many entries are kept.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// Cap reports how many entries the journal keeps at most.
func (j *Journal) Cap() int { return j.size }

// Clear forgets every entry; sequence numbers keep counting.
func (j *Journal) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.entries)
	j.entries = j.entries[:0]
	j.next, j.full = 0, false
	for w := range j.waiters {
		w.count = 0
	}
}

// List returns the kept entries that match f, oldest first. It copies every match: serve pages
// from Page.
func (j *Journal) List(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []Entry{}
	j.descend(0, func(s *stored) bool {
		if f.matches(s) {
			out = append(out, s.entry())
		}
		return true
	})
	slices.Reverse(out)
	return out
}

// MaxScan bounds how many entries one Page call looks at beyond its limit, so that a filter that
// matches few entries of a large journal cannot make a call slow; the page then comes back short,
// with a cursor to go on.
const MaxScan = 10_000

// Page returns up to limit entries matching f, oldest first: the newest of those with a Seq below
// before (0: of all), and next, the Seq to pass as before for the entries older than the page, or
// 0 when none is left to look at. It looks at no more than limit+MaxScan entries, and copies only
// those it returns.
func (j *Journal) Page(f Filter, before uint64, limit int) (page []Entry, next uint64) {
	limit = max(limit, 1)
	page = []Entry{}
	scanned := 0
	j.mu.Lock()
	defer j.mu.Unlock()
	j.descend(before, func(s *stored) bool {
		if s.seq <= f.Since {
			return false // older entries cannot match
		}
		if len(page) == limit || scanned == limit+MaxScan {
			next = s.seq + 1 // an entry is left: go on from below the last one looked at
			return false
		}
		scanned++
		if f.matches(s) {
			page = append(page, s.entry())
		}
		return true
	})
	slices.Reverse(page)
	return page, next
}

// descend calls f for the kept entries with a Seq below before (every entry when before is 0),
// newest first, until f returns false. Seqs are consecutive in the ring, so the first entry is
// found without a search. The caller holds the lock.
func (j *Journal) descend(before uint64, f func(*stored) bool) {
	n := j.next
	if j.full {
		n = len(j.entries)
	}
	skip := uint64(0) // how many of the newest entries are at or above before
	if before != 0 && before <= j.seq {
		skip = j.seq - before + 1
	}
	for k := skip; k < uint64(n); k++ {
		i := (j.next - 1 - int(k) + len(j.entries)) % len(j.entries)
		if !f(&j.entries[i]) {
			return
		}
	}
}

// Count reports how many kept entries match f.
func (j *Journal) Count(f Filter) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.count(f)
}

func (j *Journal) count(f Filter) int {
	n := 0
	j.descend(0, func(s *stored) bool {
		if s.seq <= f.Since {
			return false
		}
		if f.matches(s) {
			n++
		}
		return true
	})
	return n
}

// MaxWaiters bounds the waits in progress at once: each costs every Add a filter match, so
// without a bound clients waiting on the journal would slow every request.
const MaxWaiters = 1000

// ErrTooManyWaiters is WaitFor's answer, at once, when MaxWaiters waits are in progress.
var ErrTooManyWaiters = fmt.Errorf("%d waits on the journal are in progress, the most it holds", MaxWaiters)

// WaitFor returns nil once at least n kept entries match f, or ctx's error when ctx ends first,
// or ErrTooManyWaiters when MaxWaiters waits are in progress already.
// It counts the matches once; then each Add updates the count, so waiting costs nothing per
// entry beyond a filter match.
func (j *Journal) WaitFor(ctx context.Context, f Filter, n int) error {
	j.mu.Lock()
	w := &waiter{f: f, n: n, count: j.count(f), done: make(chan struct{})}
	w.check()
	if w.done == nil {
		j.mu.Unlock()
		return nil
	}
	if len(j.waiters) >= MaxWaiters {
		j.mu.Unlock()
		return ErrTooManyWaiters
	}
	if j.waiters == nil {
		j.waiters = map[*waiter]struct{}{}
	}
	j.waiters[w] = struct{}{}
	done := w.done
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		delete(j.waiters, w)
		j.mu.Unlock()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait returns the matching entries once there are at least n of them, or what there is when ctx
// ends (with ctx's error), so tests can wait for a client to poll without sleeping.
func (j *Journal) Wait(ctx context.Context, f Filter, n int) ([]Entry, error) {
	err := j.WaitFor(ctx, f, n)
	return j.List(f), err
}
