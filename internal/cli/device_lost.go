package cli

import (
	"context"
	"flag"
	"fmt"
)

var deviceLostCommand = &command{
	name:    "device lost",
	args:    "USER",
	summary: "disable a user's phone and print a new registration link",
	details: `Reports the user's phone lost: it can no longer approve logins. Prints a new registration
link for the replacement phone (on its own line, for scripts).`,
	examples: []string{
		`acclient device lost alice`,
		`curl "$(acclient device lost alice | tail -n 1)"   # acmock: register a new emulated phone`,
	},
	new: func() runner { return &deviceLostOptions{} },
}

// deviceLostOptions are the options of "device lost".
type deviceLostOptions struct {
	user string
}

func (o *deviceLostOptions) flags(*flag.FlagSet) {}

func (o *deviceLostOptions) args(pos []string) error {
	return oneUser("device lost", pos, &o.user)
}

func (o *deviceLostOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	m, err := g.management()
	if err != nil {
		return err
	}
	link, err := m.LostUserMobileDevice(ctx, o.user)
	if err != nil {
		return forUser(o.user, err)
	}
	if g.json() {
		return writeJSON(env.Stdout, map[string]string{"user": o.user, "register_url": link})
	}
	_, err = fmt.Fprintf(env.Stdout, "disabled the phone of %s; a new phone registers with:\n%s\n", show(o.user), link)
	return err
}
