// Package journal records the requests the emulator served in a bounded ring buffer, so tests can
// assert what a client sent (and how often) without the journal ever exhausting memory.
//
//	j := journal.New(1000)
//	j.Add(journal.Entry{Operation: "getSessionStatus", Status: 200})
//	polls := j.List(journal.Filter{Operation: "getSessionStatus"})
package journal

import (
	"context"
	"github.com/acmock/acmock/internal/clip"
	"strings"
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

// Match reports whether e passes the filter.
func (f Filter) Match(e *Entry) bool {
	return (f.Operation == "" || f.Operation == e.Operation) &&
		(f.Application == "" || f.Application == e.Application) &&
		(f.User == "" || f.User == e.User) &&
		(f.Session == "" || f.Session == e.Session) &&
		(f.Method == "" || f.Method == e.Method) &&
		(f.Status == 0 || f.Status == e.Status) &&
		e.Seq > f.Since
}

// Journal is a ring buffer of entries, safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	entries []Entry // ring of cap size
	next    int     // where the next entry goes
	full    bool
	seq     uint64
	changed chan struct{} // closed and replaced by the first Add after a waiter took it
	watched bool          // changed has been handed to a waiter since it was made
}

// New returns a journal that keeps the last size entries (DefaultSize when size <= 0).
func New(size int) *Journal {
	if size <= 0 {
		size = DefaultSize
	}
	return &Journal{entries: make([]Entry, size), changed: make(chan struct{})}
}

// MaxText bounds each text field of an entry (path, IDs, message, string to sign), in bytes, so an
// entry's size does not grow with what a client sent; a longer text keeps its start and its length.
const MaxText = 2048

// Add records an entry, giving it the next sequence number, and returns that number.
func (j *Journal) Add(e Entry) uint64 {
	keep(&e)
	j.mu.Lock()
	j.seq++
	e.Seq = j.seq
	j.entries[j.next] = e
	j.next++
	if j.next == len(j.entries) {
		j.next, j.full = 0, true
	}
	var ch chan struct{}
	if j.watched { // nobody waits on an unwatched channel: no need to replace it
		ch, j.changed, j.watched = j.changed, make(chan struct{}), false
	}
	j.mu.Unlock()
	if ch != nil {
		close(ch)
	}
	return e.Seq
}

// keep clips the entry's texts to MaxText and copies them, all in one allocation, so that the
// entry holds no part of the request it came from: a path or an ID cut from a request line of
// 64 KiB would otherwise keep the whole line alive for as long as the entry.
func keep(e *Entry) {
	fields := [...]*string{&e.Method, &e.Path, &e.Operation, &e.Application, &e.User, &e.Session, &e.Error, &e.Fault, &e.Message, &e.StringToSign}
	n := 0
	for _, f := range fields {
		*f = clip.String(*f, MaxText)
		n += len(*f)
	}
	// AuthHeaders are header names, each a string of its own (net/http allocates every header
	// key apart from the request line), so they are kept as they are.
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all, at := b.String(), 0
	cut := func(s string) string {
		at += len(s)
		return all[at-len(s) : at]
	}
	for _, f := range fields {
		*f = cut(*f)
	}
}

// Len reports how many entries are kept.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.full {
		return len(j.entries)
	}
	return j.next
}

// Cap reports how many entries the journal keeps at most.
func (j *Journal) Cap() int { return len(j.entries) }

// Clear forgets every entry; sequence numbers keep counting.
func (j *Journal) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.entries)
	j.next, j.full = 0, false
}

// List returns the kept entries that match f, oldest first.
func (j *Journal) List(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.list(f)
}

func (j *Journal) list(f Filter) []Entry {
	out := []Entry{}
	visit := func(es []Entry) {
		for i := range es {
			if f.Match(&es[i]) {
				out = append(out, es[i])
			}
		}
	}
	if j.full {
		visit(j.entries[j.next:])
	}
	visit(j.entries[:j.next])
	return out
}

// Wait returns the matching entries once there are at least n of them, or what there is when ctx
// ends (with ctx's error), so tests can wait for a client to poll without sleeping.
func (j *Journal) Wait(ctx context.Context, f Filter, n int) ([]Entry, error) {
	for {
		j.mu.Lock()
		got := j.list(f)
		ch := j.changed
		j.watched = true
		j.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}
