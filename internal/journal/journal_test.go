package journal

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
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
