package journal_test

import (
	"testing"

	"github.com/acmock/acmock/internal/journal"
)

func TestChangedWakesOnAdd(t *testing.T) {
	t.Parallel()
	j := journal.New(2)
	seq, ch := j.Changed()
	if seq != 0 {
		t.Fatalf("an empty journal is at seq %d", seq)
	}
	j.List(journal.Filter{})
	select {
	case <-ch:
		t.Fatal("a read woke the watcher")
	default:
	}
	added := j.Add(journal.Entry{Operation: "x"})
	select {
	case <-ch:
	default:
		t.Fatal("an add did not wake the watcher")
	}
	if seq, _ := j.Changed(); seq != added {
		t.Fatalf("Changed says seq %d after adding %d", seq, added)
	}
}
