package cli

import (
	"context"
	"flag"
	"fmt"
)

var usersAddCommand = &command{
	name:    "users add",
	args:    "USER...",
	summary: "register users with the application",
	details: `Registers each user ID with the application. IDs that already exist are reported and left
as they are. A new user has no phone yet: register one with acclient device link.`,
	examples: []string{
		`acclient users add dave erin`,
		`acclient users add "MY USER 1" --output json     # {"created":["MY USER 1"],"existing":[]}`,
		`acclient users add -- -dash                      # an ID that starts with - goes after --`,
	},
	new: func() runner { return &usersAddOptions{} },
}

// usersAddOptions are the options of "users add".
type usersAddOptions struct {
	users []string
}

func (o *usersAddOptions) flags(*flag.FlagSet) {}

func (o *usersAddOptions) args(pos []string) error {
	if err := userList("users add", pos); err != nil {
		return err
	}
	o.users = pos
	return nil
}

func (o *usersAddOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	m, err := g.management()
	if err != nil {
		return err
	}
	created, existing, err := m.AddUsers(ctx, o.users)
	if err != nil {
		return err
	}
	if g.json() {
		return writeJSON(env.Stdout, map[string][]string{"created": created, "existing": existing})
	}
	for _, u := range created {
		fmt.Fprintf(env.Stdout, "added %s\n", show(u))
	}
	for _, u := range existing {
		fmt.Fprintf(env.Stdout, "%s already exists\n", show(u))
	}
	return nil
}

// userList checks the user IDs of users add and users delete: at least one, none empty.
func userList(cmd string, pos []string) error {
	if len(pos) == 0 {
		return usageErrorf("%s: give at least one user ID, as in: acclient %s dave", cmd, cmd)
	}
	for i, u := range pos {
		switch {
		case u != "":
		case len(pos) == 1:
			return usageErrorf("%s: the user ID is empty", cmd)
		default:
			return usageErrorf("%s: user ID %d of %d is empty", cmd, i+1, len(pos))
		}
	}
	return nil
}
