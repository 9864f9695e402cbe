package store

import (
	"errors"
	"testing"
)

// TestFailedWriteIsNeverAcknowledged: once the log cannot be written, the change that hit it and
// every later one fail with ErrStorage, instead of being answered as if they were saved.
func TestFailedWriteIsNeverAcknowledged(t *testing.T) {
	s, _, err := Open(t.TempDir(), SeededIDs(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddApplication("app", "secret"); err != nil {
		t.Fatal(err)
	}
	s.dir.Close() // the disk goes away under the store: its writes now fail
	if _, _, err := s.AddUsers("app", []string{"a"}); !errors.Is(err, ErrStorage) {
		t.Fatalf("a write that did not reach the disk: %v, want ErrStorage", err)
	}
	if err := s.AddApplication("other", "secret"); !errors.Is(err, ErrStorage) {
		t.Fatalf("a later write: %v, want ErrStorage", err)
	}
	if _, err := s.Application("app"); err != nil {
		t.Fatalf("reads still work: %v", err)
	}
}
