package journal

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/clip"
)

func TestJournalStaysBounded(t *testing.T) {
	t.Parallel()
	j := New(100)
	for i := range 10_000 {
		j.Add(Entry{Operation: fmt.Sprintf("op%d", i%3), Status: 200})
	}
	if j.Len() != 100 {
		t.Fatalf("Len = %d after 10000 adds to a journal of 100", j.Len())
	}
	all := j.List(Filter{})
	if len(all) != 100 || all[0].Seq != 9901 || all[99].Seq != 10000 {
		t.Fatalf("kept seq %d..%d (%d entries), want the last 100", all[0].Seq, all[len(all)-1].Seq, len(all))
	}
	if got := len(j.List(Filter{Operation: "op0"})); got != 34 {
		t.Fatalf("op0 entries = %d, want 34", got)
	}
}

func TestJournalClearKeepsCounting(t *testing.T) {
	t.Parallel()
	j := New(10)
	j.Add(Entry{})
	j.Clear()
	if j.Len() != 0 {
		t.Fatal("Clear left entries")
	}
	if seq := j.Add(Entry{}); seq != 2 {
		t.Fatalf("seq after Clear = %d, want 2", seq)
	}
}

func TestJournalWait(t *testing.T) {
	t.Parallel()
	j := New(10)
	go func() {
		for range 3 {
			j.Add(Entry{Operation: "getSessionStatus"})
			j.Add(Entry{Operation: "other"})
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := j.Wait(ctx, Filter{Operation: "getSessionStatus"}, 3)
	if err != nil || len(got) < 3 {
		t.Fatalf("Wait = %d entries, %v", len(got), err)
	}

	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	got, err = j.Wait(short, Filter{Operation: "never"}, 1)
	if err == nil || len(got) != 0 {
		t.Fatalf("Wait for nothing = %d entries, %v; want a deadline error", len(got), err)
	}
}

func TestEntryTextIsBounded(t *testing.T) {
	j := New(2)
	long := strings.Repeat("x", 1<<20)
	j.Add(Entry{Path: "/" + long, User: long, Message: long, StringToSign: long})
	e := j.List(Filter{})[0]
	for name, s := range map[string]string{"path": e.Path, "user": e.User, "message": e.Message, "string_to_sign": e.StringToSign} {
		if len(s) > MaxText+32 || !strings.HasSuffix(s, " bytes)") {
			t.Errorf("%s: %d bytes, ends %q", name, len(s), s[max(0, len(s)-20):])
		}
	}
}

// TestPageWalksFromTheNewest walks a journal that has wrapped round, with and without a filter,
// and checks that the pages hold every kept match once, newest page first, each oldest first.
func TestPageWalksFromTheNewest(t *testing.T) {
	t.Parallel()
	j := New(100)
	for i := range 250 { // seqs 151..250 are kept
		j.Add(Entry{Operation: fmt.Sprintf("op%d", i%3)})
	}
	for _, f := range []Filter{{}, {Operation: "op1"}, {Since: 200}, {Operation: "op2", Since: 180}} {
		want := j.List(f)
		var got []Entry
		before, pages := uint64(0), 0
		for {
			page, next := j.Page(f, before, 7)
			if len(page) > 7 {
				t.Fatalf("%+v: a page of %d entries, limit 7", f, len(page))
			}
			for i := 1; i < len(page); i++ {
				if page[i].Seq <= page[i-1].Seq {
					t.Fatalf("%+v: page not oldest first: %d then %d", f, page[i-1].Seq, page[i].Seq)
				}
			}
			got = append(page, got...)
			pages++
			if next == 0 {
				break
			}
			before = next
		}
		if len(got) != len(want) {
			t.Fatalf("%+v: %d pages gave %d entries, want %d", f, pages, len(got), len(want))
		}
		for i := range want {
			if got[i].Seq != want[i].Seq {
				t.Fatalf("%+v: entry %d is seq %d, want %d", f, i, got[i].Seq, want[i].Seq)
			}
		}
	}
	if page, next := j.Page(Filter{}, 0, 3); len(page) != 3 || page[0].Seq != 248 || page[2].Seq != 250 || next != 248 {
		t.Fatalf("first page of 3: %d entries from %d, next %d; want 248..250, next 248", len(page), page[0].Seq, next)
	}
	if page, next := j.Page(Filter{}, 152, 3); len(page) != 1 || page[0].Seq != 151 || next != 0 {
		t.Fatalf("the page before 152: %v, next %d; want only 151 and no next", page, next)
	}
}

// TestPageLooksAtABoundedNumberOfEntries: a filter that matches nothing in a large journal stops
// after MaxScan entries and says where to go on, instead of reading the whole journal.
func TestPageLooksAtABoundedNumberOfEntries(t *testing.T) {
	t.Parallel()
	j := New(3 * MaxScan)
	for range 3 * MaxScan {
		j.Add(Entry{Operation: "a"})
	}
	page, next := j.Page(Filter{Operation: "b"}, 0, 10)
	if len(page) != 0 || next != uint64(3*MaxScan-MaxScan-10+1) {
		t.Fatalf("page %d entries, next %d; want none and a cursor after %d entries looked at", len(page), next, MaxScan+10)
	}
	page, next = j.Page(Filter{Operation: "b"}, next, 10)
	if len(page) != 0 || next == 0 {
		t.Fatalf("second page: %d entries, next %d", len(page), next)
	}
}

// TestWaitForCountsWhatTheJournalKeeps: entries the ring forgets stop counting, and a Clear
// starts the count again.
func TestWaitForCountsWhatTheJournalKeeps(t *testing.T) {
	t.Parallel()
	j := New(4)
	j.Add(Entry{Operation: "x"})
	j.Add(Entry{Operation: "x"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- j.WaitFor(ctx, Filter{Operation: "x"}, 3) }()
	waiting := func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return len(j.waiters) == 1
	}
	for !waiting() {
		time.Sleep(time.Millisecond)
	}
	for range 4 { // the two x entries are forgotten
		j.Add(Entry{Operation: "y"})
	}
	j.Add(Entry{Operation: "x"})
	j.Add(Entry{Operation: "x"})
	j.Clear()
	j.Add(Entry{Operation: "x"})
	select {
	case err := <-done:
		t.Fatalf("the wait ended with %v after 3 x entries of which the journal keeps 1", err)
	case <-time.After(20 * time.Millisecond):
	}
	j.Add(Entry{Operation: "x"})
	j.Add(Entry{Operation: "x"})
	if err := <-done; err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	if n := j.Count(Filter{Operation: "x"}); n != 3 {
		t.Fatalf("Count = %d, want 3", n)
	}
}

// TestWaitersAreBounded: at MaxWaiters waits in progress the next one is refused at once, not held
// (each wait costs every Add a filter match); once one ends, a wait is taken again.
func TestWaitersAreBounded(t *testing.T) {
	j := New(10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended := make(chan error, MaxWaiters)
	for range MaxWaiters {
		go func() { ended <- j.WaitFor(ctx, Filter{Operation: "never"}, 1) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		j.mu.Lock()
		n := len(j.waiters)
		j.mu.Unlock()
		if n == MaxWaiters {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters in progress, want %d", n, MaxWaiters)
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	past, stopPast := context.WithTimeout(context.Background(), 2*time.Second)
	defer stopPast()
	if err := j.WaitFor(past, Filter{Operation: "never"}, 1); err != ErrTooManyWaiters {
		t.Fatalf("wait past the bound: %v, want ErrTooManyWaiters", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the refused wait took %v", d)
	}
	// A wait that is met at once takes no place.
	j.Add(Entry{Operation: "op"})
	if err := j.WaitFor(context.Background(), Filter{Operation: "op"}, 1); err != nil {
		t.Fatalf("a wait already met: %v", err)
	}
	cancel()
	for range MaxWaiters {
		<-ended
	}
	short, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer stop()
	if err := j.WaitFor(short, Filter{Operation: "never"}, 1); err != context.DeadlineExceeded {
		t.Fatalf("a wait once the others ended: %v", err)
	}
}

// TestEntriesComeBackAsAdded: every field of an entry reads back as it was added (the texts cut
// to MaxText), whether it filled its texts or left them empty, and filters match on what was
// kept.
func TestEntriesComeBackAsAdded(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 21, 0, 0, 5, time.FixedZone("X", 3600))
	full := Entry{Time: at, Method: "POST", Path: "/authentication/authenticate_user/app/al%20ice",
		Operation: "authenticateUser", Application: "app", User: "al ice", Session: "tok", Status: 401,
		HMAC: "signature_mismatch", Error: "signature_mismatch", Fault: "slow", Latency: 1500 * time.Microsecond,
		Message: "two\nlines", StringToSign: "nonce" + strings.Repeat("u", MaxText),
		AuthHeaders: []string{"X-Activeconnect-Authentication-Timestamp", "X-Iampass-Authentication-Version"}}
	j := New(10)
	j.Add(full)
	j.Add(Entry{Method: "GET", Status: 200})
	got := j.List(Filter{})
	if len(got) != 2 {
		t.Fatalf("List = %d entries, want 2", len(got))
	}
	want := full
	want.Seq = 1
	want.StringToSign = clip.String(full.StringToSign, MaxText)
	if g := got[0]; !reflect.DeepEqual(g, want) {
		t.Errorf("full entry read back as\n%+v\nwant\n%+v", g, want)
	}
	if g := got[1]; !reflect.DeepEqual(g, Entry{Seq: 2, Method: "GET", Status: 200}) {
		t.Errorf("bare entry read back as %+v", g)
	}
	for _, f := range []Filter{{User: "al ice"}, {Application: "app", Session: "tok"}, {Method: "POST", Status: 401}, {Operation: "authenticateUser"}} {
		if n := j.Count(f); n != 1 {
			t.Errorf("filter %+v matches %d entries, want 1", f, n)
		}
	}
}
