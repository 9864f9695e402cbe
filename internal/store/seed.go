package store

import (
	"slices"
	"time"

	"github.com/acmock/acmock/generated/acapi"
)

// SeedApplication is an application a scenario lists, with the users it starts with.
type SeedApplication struct {
	ID     string     `json:"id"`
	Secret string     `json:"secret"`
	Users  []SeedUser `json:"users,omitempty"`
}

// SeedUser is a user a scenario lists, with the phone it gives them (nil: none).
type SeedUser struct {
	ID    string     `json:"id"`
	Phone *SeedPhone `json:"phone,omitempty"`
}

// SeedPhone is a phone a scenario registers for a user.
type SeedPhone struct {
	Methods []acapi.AuthenticationMethod `json:"methods,omitempty"`
}

// AddMissing adds, as one change, what of apps the store lacks: the applications it does not
// have (with their secrets) and, to every application listed, the users it does not have, with
// the phone each is given (registered at now). Applications and users that exist are left as they
// are, secrets and phones included. Everything is checked first: when the new users would take
// the store past Limits.MaxUsers, nothing is added and the error is ErrLimitReached. It returns
// how many applications and users it added.
func (s *Store) AddMissing(apps []SeedApplication, now time.Time) (newApps, newUsers int, err error) {
	defer s.write(&err)()
	var add []SeedApplication
	for _, a := range apps {
		missing := SeedApplication{ID: a.ID, Secret: a.Secret}
		app := s.apps[a.ID]
		seen := make(map[string]bool, len(a.Users))
		for _, u := range a.Users {
			if seen[u.ID] {
				continue
			}
			seen[u.ID] = true
			if app == nil || app.users[u.ID] == nil {
				missing.Users = append(missing.Users, u)
			}
		}
		if app == nil || len(missing.Users) > 0 {
			if app != nil {
				missing.Secret = "" // kept as it is
			}
			add = append(add, missing)
			newUsers += len(missing.Users)
			if app == nil {
				newApps++
			}
		}
	}
	if s.users+newUsers > s.limits.MaxUsers {
		return 0, 0, limitError("add %d users: the emulator holds %d users and at most %d", newUsers, s.users, s.limits.MaxUsers)
	}
	if len(add) == 0 {
		return 0, 0, nil
	}
	s.record(fact{Op: "add_missing", Apps: add, At: now})
	for _, a := range add {
		app := s.apps[a.ID]
		if app == nil {
			app = s.putApplication(a.ID, a.Secret)
		}
		for _, su := range a.Users {
			u := s.addUser(app, su.ID)
			if su.Phone != nil {
				u.phone = &Phone{RegisteredAt: now, Methods: slices.Clone(su.Phone.Methods)}
			}
		}
	}
	return newApps, newUsers, nil
}
