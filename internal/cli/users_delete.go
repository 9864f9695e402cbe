package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
)

var usersDeleteCommand = &command{
	name:    "users delete",
	args:    "USER...",
	summary: "remove users with their phones and sessions",
	details: `Removes each user with its phone, registration links and sessions. IDs the application does
not have are ignored, so deleting twice is harmless; the service does not say which IDs existed,
so neither can acclient.`,
	examples: []string{
		`acclient users delete dave erin`,
	},
	new: func() runner { return &usersDeleteOptions{} },
}

// usersDeleteOptions are the options of "users delete".
type usersDeleteOptions struct {
	users []string
}

func (o *usersDeleteOptions) flags(*flag.FlagSet) {}

func (o *usersDeleteOptions) args(pos []string) error {
	if err := userList("users delete", pos); err != nil {
		return err
	}
	o.users = pos
	return nil
}

func (o *usersDeleteOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	m, err := g.management()
	if err != nil {
		return err
	}
	if err := m.DeleteUsers(ctx, o.users); err != nil {
		return err
	}
	if g.json() {
		return writeJSON(env.Stdout, map[string][]string{"deleted": o.users})
	}
	shown := make([]string, len(o.users))
	for i, u := range o.users {
		shown[i] = show(u)
	}
	// The service answers the same whether or not the users existed.
	_, err = fmt.Fprintf(env.Stdout, "deleted (if they existed): %s\n", strings.Join(shown, ", "))
	return err
}
