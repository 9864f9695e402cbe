package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/store"
)

// TestAnExpiryOnReadIsSaved: a session that a read found past its lifetime is closed, and stays
// closed after a restart even though nothing was written after that read and the restarted
// store has no clock to expire it again.
func TestAnExpiryOnReadIsSaved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := now
	lifetime := store.WithLimits(store.Limits{SessionLifetime: time.Hour})
	s, _, err := store.Open(dir, store.SeededIDs(1), nil, lifetime, store.WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.AddApplication("app", "secret")
	withPhones(t, s, "a")
	first, _ := s.StartSession("app", "a", nil, now)
	second, _ := s.StartSession("app", "a", nil, now.Add(time.Minute))
	clock = now.Add(time.Hour)
	if st, _ := s.SessionStatus(first.Token); st != "closed" {
		t.Fatalf("at its lifetime the session is %s", st)
	}
	// A later write, at a time of its own that expires nothing, finishes another session: the one
	// that expired on the read finished first.
	if _, err := s.Transition(second.Token, "cancelled", now.Add(30*time.Minute), "test"); err != nil {
		t.Fatal(err)
	}
	before := s.Export()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, _, err := store.Open(dir, store.SeededIDs(2), nil, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	got, err := again.Session(first.Token)
	if err != nil || got.Status != "closed" || got.History[len(got.History)-1].Cause != "expired" {
		t.Fatalf("after a restart: %+v, %v; want closed, expired", got, err)
	}
	if after := again.Export(); !reflect.DeepEqual(before, after) {
		t.Fatalf("the restarted store differs:\nbefore %+v\nafter  %+v", before.Sessions, after.Sessions)
	}
}

// exampleState makes a store with something of everything, orders that differ from creation
// (a deleted user, sessions finished out of order, a full outbox ring), and returns it.
func exampleState(t *testing.T, l store.Limits) *store.Store {
	t.Helper()
	s := store.New(store.SeededIDs(1), store.WithLimits(l))
	_ = s.AddApplication("app", "secret")
	_ = s.AddApplication("other", "secret2")
	withPhones(t, s, "a", "b", "c")
	_, _, _ = s.AddUsers("other", []string{"z"})
	_ = s.DeleteUsers("app", []string{"b"})
	var tokens []string
	for i := range 4 {
		sess, err := s.StartSession("app", []string{"a", "c"}[i%2], nil, now.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, sess.Token)
	}
	_, _ = s.Transition(tokens[2], "cancelled", now.Add(time.Minute), "test")
	_, _ = s.Transition(tokens[0], "failed", now.Add(2*time.Minute), "test")
	_, _ = s.Transition(tokens[1], "active", now.Add(2*time.Minute), "test")
	if err := s.Plan(tokens[3], []store.Step{{Status: "active", Due: now.Add(time.Hour)}, {Status: "timeout", Due: now.Add(2 * time.Hour), Timeout: true}}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.SendSMS("other", "z", "+15555550100", "", fmt.Sprint(i), func(c string) string { return c }, now); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestImportRebuildsTheSameStore: a snapshot loaded into a new store gives the same snapshot back,
// and the new store goes on as the old one would: the next user gets the same sequence number,
// the cap forgets the same session next, the outbox drops the same message.
func TestImportRebuildsTheSameStore(t *testing.T) {
	t.Parallel()
	l := store.Limits{MaxSessions: 4, MaxOutbox: 3}
	old := exampleState(t, l)
	snap := old.Export()
	fresh := store.New(store.SeededIDs(9), store.WithLimits(l))
	if err := fresh.Import(snap); err != nil {
		t.Fatal(err)
	}
	if got := fresh.Export(); !reflect.DeepEqual(snap, got) {
		t.Fatalf("import then export:\n%+v\nwant\n%+v", got, snap)
	}
	for _, s := range []*store.Store{old, fresh} {
		_, _, _ = s.AddUsers("app", []string{"new"})
		_, _ = s.StartSession("app", "a", nil, now.Add(time.Hour))
		_, _ = s.SendSMS("other", "z", "+15555550100", "", "x", func(c string) string { return c }, now)
	}
	uOld, _ := old.User("app", "new")
	uNew, _ := fresh.User("app", "new")
	if uOld.Seq != uNew.Seq || uOld.Seq == 0 {
		t.Fatalf("the next user's seq: %d before the import, %d after", uOld.Seq, uNew.Seq)
	}
	tokens := func(s *store.Store) (out []string) {
		for _, sess := range s.Sessions(nil) {
			if slices.ContainsFunc(snap.Sessions, func(x store.SessionState) bool { return x.Token == sess.Token }) {
				out = append(out, sess.Token)
			}
		}
		return out
	}
	if a, b := tokens(old), tokens(fresh); !slices.Equal(a, b) || len(a) != 3 {
		t.Fatalf("sessions kept past the cap: %v in the old store, %v in the imported one", a, b)
	}
	messages := func(s *store.Store) (out []string) {
		for _, m := range s.Outbox() {
			out = append(out, strings.Fields(m.Body)[0])
		}
		return out
	}
	if a, b := messages(old), messages(fresh); !slices.Equal(a, b) || !slices.Equal(a, []string{"3", "4", "x"}) {
		t.Fatalf("outbox: %v, imported %v; want 3 4 x", a, b)
	}
}

// TestSnapshotPastTheBoundsIsRefused: a snapshot holding more than the store keeps is refused
// naming the field, and the store is unchanged.
func TestSnapshotPastTheBoundsIsRefused(t *testing.T) {
	t.Parallel()
	l := store.Limits{MaxSessions: 4, MaxOutbox: 3, MaxUsers: 4, MaxApplications: 2, MaxLinksPerUser: 2}
	for _, c := range []struct {
		field string
		spoil func(st *store.State)
	}{
		{"sessions", func(st *store.State) {
			extra := st.Sessions[0]
			extra.Token, extra.Seq = "extra", 0
			st.Sessions = append(st.Sessions, extra)
		}},
		{"outbox", func(st *store.State) { st.Outbox = append(st.Outbox, st.Outbox[0]) }},
		{"applications[0].users[4]", func(st *store.State) {
			st.Applications[0].Users = append(st.Applications[0].Users, store.UserState{ID: "x"}, store.UserState{ID: "y"}, store.UserState{ID: "w"})
		}},
		{"applications", func(st *store.State) {
			st.Applications = append(st.Applications, store.AppState{ID: "third", Secret: "s"})
		}},
		{"applications[0].users[0].links", func(st *store.State) {
			st.Applications[0].Users[0].Links = []store.LinkState{{Code: "1"}, {Code: "2"}, {Code: "3"}}
		}},
		{"sessions[0].history", func(st *store.State) {
			for len(st.Sessions[0].History) <= store.MaxHistory {
				st.Sessions[0].History = append([]store.ChangeState{st.Sessions[0].History[0]}, st.Sessions[0].History...)
			}
		}},
		{"applications[0].users[1].seq", func(st *store.State) { st.Applications[0].Users[1].Seq = st.Applications[0].Users[0].Seq }},
		{"sequences.sessions", func(st *store.State) { st.Sequences.Sessions = 1 }},
	} {
		t.Run(c.field, func(t *testing.T) {
			s := exampleState(t, l)
			before := s.Export()
			snap := s.Export()
			c.spoil(snap)
			err := s.Import(snap)
			var se *store.StateError
			if !errors.As(err, &se) || se.Field != c.field || !errors.Is(err, store.ErrBadState) {
				t.Fatalf("import: %v, want a bad state naming %s", err, c.field)
			}
			if after := s.Export(); !reflect.DeepEqual(before, after) {
				t.Fatal("a refused snapshot changed the store")
			}
		})
	}
}

// TestReopenUnderOtherLimits: a data directory is read back under the limits it was written with
// (its log replays exactly as it ran), then new limits apply as they do at run time; more users
// than a new limit is refused rather than forgetting any.
func TestReopenUnderOtherLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seed := uint64(0)
	open := func(l store.Limits) (*store.Store, error) {
		seed++ // each run hands out tokens of its own
		s, _, err := store.Open(dir, store.SeededIDs(seed), nil, store.WithLimits(l))
		return s, err
	}
	wide := store.Limits{MaxSessions: 3, MaxLinksPerUser: 4, MaxOutbox: 4}
	s, err := open(wide)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.AddApplication("app", "secret")
	withPhones(t, s, "a")
	_, _, _ = s.AddUsers("app", []string{"b"})
	var tokens []string
	start := func() {
		sess, err := s.StartSession("app", "a", nil, now)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, sess.Token)
	}
	for range 3 {
		start()
	}
	for i := range 4 {
		if _, err := s.SendSMS("app", "b", "+15555550100", "", fmt.Sprint(i), func(c string) string { return c }, now); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	if s, err = open(wide); err != nil { // the three sessions are now in the snapshot
		t.Fatal(err)
	}
	start() // forgets tokens[0]
	start() // forgets tokens[1]
	if _, err := s.Transition(tokens[2], "cancelled", now, "test"); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()

	narrow := store.Limits{MaxSessions: 2, MaxLinksPerUser: 2, MaxOutbox: 2}
	if s, err = open(narrow); err != nil {
		t.Fatalf("reopen under lower limits: %v", err)
	}
	var kept []string
	for _, sess := range s.Sessions(nil) {
		kept = append(kept, sess.Token)
	}
	if !slices.Equal(kept, tokens[3:]) {
		t.Fatalf("sessions kept %v, want the two live ones %v (the finished one goes first)", kept, tokens[3:])
	}
	if u, _ := s.User("app", "b"); len(u.Links) != 2 || len(s.Outbox()) != 2 || !strings.HasPrefix(s.Outbox()[0].Body, "2 ") {
		t.Fatalf("links %d, outbox %+v; want the newest two of each", len(u.Links), s.Outbox())
	}
	before := s.Export()
	_ = s.Close()
	if s, err = open(narrow); err != nil {
		t.Fatal(err)
	}
	if after := s.Export(); !reflect.DeepEqual(before, after) {
		t.Fatal("reopening under the same limits changed the state")
	}
	_ = s.Close()
	if _, err := open(store.Limits{MaxSessions: 2, MaxUsers: 1}); !errors.Is(err, store.ErrLimitReached) || !strings.Contains(err.Error(), "holds 2 users") {
		t.Fatalf("reopen with fewer users allowed than held: %v", err)
	}
}

// TestTransitionNewestAfterARestart: the per-user index of live sessions by status comes back
// with the state, from a data directory and from an import, and the change reaches the same
// session it reaches in the store that never stopped.
func TestTransitionNewestAfterARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _, err := store.Open(dir, store.SeededIDs(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.AddApplication("app", "secret")
	_ = s.AddApplication("zoo", "secret")
	withPhones(t, s, "a")
	if _, _, err := s.AddUsers("zoo", []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterPhone("zoo", "a", nil, now); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for i := range 6 {
		app := "app"
		if i == 2 {
			app = "zoo"
		}
		sess, err := s.StartSession(app, "a", nil, now)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, sess.Token)
	}
	// 0 pending, 1 active, 2 (zoo) walkaway, 3 identifying, 4 cancelled, 5 active.
	for _, ch := range []struct {
		i  int
		to string
	}{{1, "active"}, {2, "active"}, {2, "walkaway"}, {3, "identifying"}, {4, "cancelled"}, {5, "active"}} {
		if _, err := s.Transition(tokens[ch.i], acapi.SessionStatus(ch.to), now, "test"); err != nil {
			t.Fatal(err)
		}
	}
	snap := s.Export()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, _, err := store.Open(dir, store.SeededIDs(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	imported := store.New(store.SeededIDs(3))
	if err := imported.Import(snap); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*store.Store{reopened, imported} {
		for _, want := range []struct {
			app, to string
			token   int
		}{
			{"", "identifying", 0}, // only a pending one can
			{"", "active", 3},      // the newest pending, identifying or walkaway one
			{"app", "walkaway", 5}, // the newest active one
			{"zoo", "active", 2},   // zoo's own, though app has newer ones that could
			{"", "walkaway", 3},    // the newest active one, in any application
			{"", "cancelled", 0},   // the only identifying one left
			{"app", "closed", 5},   // the newest live one of app
		} {
			got, _, err := st.TransitionNewest(want.app, "a", acapi.SessionStatus(want.to), now, "test", 5)
			if err != nil || got.Token != tokens[want.token] {
				t.Fatalf("%s -> %s: session %d? got %q, %v", want.app, want.to, want.token, got.Token, err)
			}
		}
		_, sum, err := st.TransitionNewest("", "a", "identifying", now, "test", 3)
		if !errors.Is(err, store.ErrBadTransition) || sum.Count != 6 || !slices.Equal(sum.Newest, []acapi.SessionStatus{"closed", "cancelled", "walkaway"}) {
			t.Fatalf("none can: %v %+v", err, sum)
		}
		if _, sum, err := st.TransitionNewest("app", "nobody", "active", now, "test", 3); !errors.Is(err, store.ErrUserNotFound) || sum.Known {
			t.Fatalf("unknown user: %v %+v", err, sum)
		}
	}
}

// TestAnImportThatCannotBeSavedChangesNothing: when the data directory cannot take the imported
// snapshot, the import fails with ErrStorage and the store keeps the state it had, in memory and
// on disk; an import into a store that had already failed is refused the same way.
func TestAnImportThatCannotBeSavedChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _, err := store.Open(dir, store.SeededIDs(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.AddApplication("app", "secret")
	withPhones(t, s, "a")
	before := s.Export()
	snap := exampleState(t, store.Limits{}).Export()

	// A directory where the snapshot file goes: writing it fails at the rename, even for root.
	if err := os.Remove(filepath.Join(dir, "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "snapshot.json", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Import(snap); !errors.Is(err, store.ErrStorage) || !strings.Contains(err.Error(), "snapshot.json") {
		t.Fatalf("import that cannot be written: %v, want ErrStorage naming snapshot.json", err)
	}
	if got := s.Export(); !reflect.DeepEqual(got, before) {
		t.Fatalf("a failed import changed the state:\n%+v\nwant\n%+v", got.Applications, before.Applications)
	}
	if err := s.Import(snap); !errors.Is(err, store.ErrStorage) {
		t.Fatalf("import into a failed store: %v, want ErrStorage", err)
	}
	if got := s.Export(); !reflect.DeepEqual(got, before) {
		t.Fatal("an import into a failed store changed the state")
	}
	_ = s.Close()
}
