package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/store"
)

func ids(users []store.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

func TestUsersByPrefixIgnoresCaseAndPages(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, _, err := s.AddUsers("app", []string{"bob", "Alice", "alice2", "ALICE", "al", "alex", "Ålborg", "ålesund", "carol"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"al", []string{"al", "alex", "ALICE", "Alice", "alice2"}},
		{"AL", []string{"al", "alex", "ALICE", "Alice", "alice2"}},
		{"alice", []string{"ALICE", "Alice", "alice2"}},
		{"ALICE2", []string{"alice2"}},
		{"å", []string{"Ålborg", "ålesund"}},
		{"", []string{"al", "alex", "ALICE", "Alice", "alice2", "bob", "carol", "Ålborg", "ålesund"}},
		{"alicex", []string{}},
		{"zed", []string{}},
	} {
		got, more, err := s.UsersByPrefix("app", c.prefix, "", 100)
		if err != nil || more || !slices.Equal(ids(got), c.want) {
			t.Errorf("prefix %q: %v more=%v (%v), want %v", c.prefix, ids(got), more, err, c.want)
		}
	}
	// Pages of two, each starting after the last ID of the one before.
	var all []string
	after := ""
	for {
		page, more, err := s.UsersByPrefix("app", "a", after, 2)
		if err != nil || len(page) == 0 || len(page) > 2 {
			t.Fatalf("page after %q: %v (%v)", after, ids(page), err)
		}
		all = append(all, ids(page)...)
		if !more {
			break
		}
		after = page[len(page)-1].ID
	}
	if want := []string{"al", "alex", "ALICE", "Alice", "alice2"}; !slices.Equal(all, want) {
		t.Fatalf("pages gave %v, want %v", all, want)
	}
	// A page can go on after a user that was deleted since.
	if err := s.DeleteUsers("app", []string{"ALICE"}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.UsersByPrefix("app", "a", "ALICE", 10); !slices.Equal(ids(got), []string{"Alice", "alice2"}) {
		t.Fatalf("after the deleted ALICE: %v", ids(got))
	}
	if got, _, _ := s.UsersByPrefix("app", "alice", "", 10); !slices.Equal(ids(got), []string{"Alice", "alice2"}) {
		t.Fatalf("a deleted user is still found: %v", ids(got))
	}
	if _, _, err := s.UsersByPrefix("nope", "a", "", 10); err == nil {
		t.Fatal("an unknown application is not an error")
	}
	if err := s.ResetApplication("app"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.UsersByPrefix("app", "", "", 10); len(got) != 0 {
		t.Fatalf("after a reset of the application: %v", ids(got))
	}
	if n, err := s.UserCountOf("app"); err != nil || n != 0 {
		t.Fatalf("after a reset the application counts %d users (%v)", n, err)
	}
}

// TestUsersByPrefixMatchesAFullScan compares the index with a plain filter over random IDs.
func TestUsersByPrefixMatchesAFullScan(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r := rand.New(rand.NewPCG(1, 2))
	letters := []rune("aAbBzZ-_0éÉ")
	var added []string
	for range 2_000 {
		var b strings.Builder
		for range 1 + r.IntN(5) {
			b.WriteRune(letters[r.IntN(len(letters))])
		}
		added = append(added, b.String())
	}
	created, _, err := s.AddUsers("app", added)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.UserCountOf("app"); n != len(created) {
		t.Fatalf("the application counts %d users, %d were created", n, len(created))
	}
	for _, prefix := range []string{"", "a", "A", "ab", "é", "É-", "z0", "0", "-_", "aaaaaa"} {
		var want []string
		for _, id := range created {
			if strings.HasPrefix(strings.ToLower(id), strings.ToLower(prefix)) {
				want = append(want, id)
			}
		}
		got, more, err := s.UsersByPrefix("app", prefix, "", len(created)+1)
		if err != nil || more {
			t.Fatalf("prefix %q: more=%v %v", prefix, more, err)
		}
		slices.Sort(want)
		sorted := slices.Sorted(slices.Values(ids(got)))
		if !slices.Equal(sorted, want) {
			t.Fatalf("prefix %q finds %d users, a full scan %d", prefix, len(got), len(want))
		}
		if !slices.IsSortedFunc(ids(got), func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
			t.Fatalf("prefix %q: not in ID order (letters in lower case): %v", prefix, ids(got))
		}
	}
}

// BenchmarkUsersByPrefix finds one user among n: the cost must not grow with n.
func BenchmarkUsersByPrefix(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := store.New(store.RandomIDs(), store.WithLimits(store.Limits{MaxUsers: n}))
			_ = s.AddApplication("app", "secret")
			batch := make([]string, 0, 1000)
			for i := range n {
				batch = append(batch, fmt.Sprintf("user-%07d", i))
				if len(batch) == cap(batch) || i == n-1 {
					if _, _, err := s.AddUsers("app", batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				got, _, _ := s.UsersByPrefix("app", fmt.Sprintf("USER-%07d", i%n), "", 60)
				if len(got) != 1 {
					b.Fatalf("found %d users", len(got))
				}
				i += 7919
			}
		})
	}
}

// BenchmarkAddUser adds one user to an application of n users (and removes it again).
func BenchmarkAddUser(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := store.New(store.RandomIDs(), store.WithLimits(store.Limits{MaxUsers: n + 1}))
			_ = s.AddApplication("app", "secret")
			batch := make([]string, 0, 1000)
			for i := range n {
				batch = append(batch, fmt.Sprintf("user-%07d", i))
				if len(batch) == cap(batch) || i == n-1 {
					_, _, _ = s.AddUsers("app", batch)
					batch = batch[:0]
				}
			}
			one := []string{"user-0500000x"}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.AddUsers("app", one); err != nil {
					b.Fatal(err)
				}
				_ = s.DeleteUsers("app", one)
			}
		})
	}
}

// TestLiveSessionsAreCounted: a user's count of live sessions follows starts, answers, expiry,
// a lost phone and sessions forgotten at the cap.
func TestLiveSessionsAreCounted(t *testing.T) {
	t.Parallel()
	s := store.New(store.SeededIDs(1), store.WithLimits(store.Limits{MaxSessions: 4, SessionLifetime: time.Hour}))
	_ = s.AddApplication("app", "secret")
	_, _, _ = s.AddUsers("app", []string{"a", "b"})
	_ = s.RegisterPhone("app", "a", nil, now)
	_ = s.RegisterPhone("app", "b", nil, now)
	live := func(user string) int {
		t.Helper()
		u, err := s.User("app", user)
		if err != nil {
			t.Fatal(err)
		}
		return u.LiveSessions
	}
	var tokens []string
	for range 3 {
		sess, err := s.StartSession("app", "a", nil, now)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, sess.Token)
	}
	if n := live("a"); n != 3 {
		t.Fatalf("3 logins: %d live", n)
	}
	_, _ = s.Transition(tokens[0], "active", now, "control")    // still live
	_, _ = s.Transition(tokens[1], "cancelled", now, "control") // over
	_, _ = s.Transition(tokens[1], "active", now, "control")    // refused: changes nothing
	if n := live("a"); n != 2 {
		t.Fatalf("after one denied: %d live", n)
	}
	for range 3 { // b's logins push a's out at the cap of 4: the finished one first, then the oldest live
		if _, err := s.StartSession("app", "b", nil, now); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := live("a"), live("b"); a != 1 || b != 3 {
		t.Fatalf("at the cap: a %d live, b %d, want 1 and 3", a, b)
	}
	if _, err := s.LoseDevice("app", "b", now); err != nil {
		t.Fatal(err)
	}
	if n := live("b"); n != 0 {
		t.Fatalf("after a lost phone b has %d live", n)
	}
	if _, err := s.StartSession("app", "a", nil, now.Add(2*time.Hour)); err != nil { // the others expire first
		t.Fatal(err)
	}
	if n := live("a"); n != 1 {
		t.Fatalf("after the others expired a has %d live", n)
	}
}

// TestAnImportedStateIsFoundByPrefix: users and live sessions loaded from a snapshot are found and
// counted as those added one by one.
func TestAnImportedStateIsFoundByPrefix(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	_, _, _ = s.AddUsers("app", []string{"alice", "Alan", "bob"})
	_ = s.RegisterPhone("app", "alice", nil, now)
	if _, err := s.StartSession("app", "alice", nil, now); err != nil {
		t.Fatal(err)
	}
	again := store.New(store.SeededIDs(2))
	if err := again.Import(s.Export()); err != nil {
		t.Fatal(err)
	}
	got, _, err := again.UsersByPrefix("app", "al", "", 10)
	if err != nil || !slices.Equal(ids(got), []string{"Alan", "alice"}) {
		t.Fatalf("after an import prefix al finds %v (%v)", ids(got), err)
	}
	if got[1].LiveSessions != 1 {
		t.Fatalf("after an import alice has %d live sessions, want 1", got[1].LiveSessions)
	}
	if n, _ := again.UserCountOf("app"); n != 3 {
		t.Fatalf("after an import the application counts %d users", n)
	}
}
