package store

import (
	"unicode"
	"unicode/utf8"

	"github.com/google/btree"
)

// Finding users by the start of their ID, for the console's Find user: each application keeps
// its users in a B-tree ordered by ID with letters compared in lower case, so that a search costs
// the logarithm of the application's users plus what it returns, however many users there are.

// idIndexDegree is the B-tree's degree: nodes of 31 to 63 users, a few bytes of index per user.
const idIndexDegree = 32

func newIDIndex() *btree.BTreeG[*user] { return btree.NewG(idIndexDegree, lessByID) }

// lessByID orders users by ID in lower case, then (for IDs that differ only in case) byte by byte.
// A search key (a user with Seq 0, which no stored user has) comes before every ID equal to it in
// lower case, so a search for a prefix starts at the first ID that has it.
func lessByID(a, b *user) bool {
	if c := foldCompare(a.id, b.id); c != 0 {
		return c < 0
	}
	if (a.seq == 0) != (b.seq == 0) {
		return a.seq == 0
	}
	return a.id < b.id
}

// nextFolded returns the first rune of s in lower case and its width.
func nextFolded(s string) (rune, int) {
	if c := s[0]; c < utf8.RuneSelf {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		return rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s)
	return unicode.ToLower(r), n
}

// foldCompare compares a and b rune by rune in lower case. Bytes they share count as equal
// without being looked at one rune at a time: IDs often share a long start (user-000123...).
func foldCompare(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	// Back to the start of a rune that both may go on differently.
	for i > 0 && (i < len(a) && !utf8.RuneStart(a[i]) || i < len(b) && !utf8.RuneStart(b[i])) {
		i--
	}
	a, b = a[i:], b[i:]
	for a != "" && b != "" {
		ra, na := nextFolded(a)
		rb, nb := nextFolded(b)
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// foldHasPrefix reports whether s starts with prefix, letters compared in lower case.
func foldHasPrefix(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		rs, ns := nextFolded(s)
		rp, np := nextFolded(prefix)
		if rs != rp {
			return false
		}
		s, prefix = s[ns:], prefix[np:]
	}
	return true
}

// UsersByPrefix lists up to limit (at least 1) of an application's users whose IDs start with
// prefix, letters compared in lower case, in that order (IDs that differ only in case by their
// bytes), starting after the user whose ID is after ("": from the first). more reports whether
// more users match. The cost is the logarithm of the application's users plus the users returned.
func (s *Store) UsersByPrefix(appID, prefix, after string, limit int) (users []User, more bool, err error) {
	s.mu.RLock()
	defer s.readUnlock()
	app, err := s.app(appID)
	if err != nil {
		return nil, false, err
	}
	limit = max(limit, 1)
	users = []User{}
	from := &user{id: prefix} // Seq 0: before every ID with this prefix
	if after != "" && foldCompare(after, prefix) >= 0 {
		from = &user{id: after, seq: 1} // a stored user's place: after the IDs before it
	}
	app.byID.AscendGreaterOrEqual(from, func(u *user) bool {
		if !foldHasPrefix(u.id, prefix) {
			return false
		}
		if u.id == after {
			return true
		}
		if len(users) == limit {
			more = true
			return false
		}
		users = append(users, u.copy())
		return true
	})
	return users, more, nil
}

// UserCountOf returns how many users an application has.
func (s *Store) UserCountOf(appID string) (int, error) {
	s.mu.RLock()
	defer s.readUnlock()
	app, err := s.app(appID)
	if err != nil {
		return 0, err
	}
	return len(app.users), nil
}
