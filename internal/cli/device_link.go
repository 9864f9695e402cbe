package cli

import (
	"context"
	"flag"
	"fmt"
)

var deviceLinkCommand = &command{
	name:    "device link",
	args:    "USER",
	summary: "print a link that registers a phone for a user",
	details: `Prints a registration link for the user. The Activeconnect mobile app opens it to register
the phone; with acmock, opening the link in a browser (or with curl) registers an emulated phone.`,
	examples: []string{
		`acclient device link dave`,
		`curl "$(acclient device link dave --display-name dave@myapp)"   # acmock: dave now has a phone`,
	},
	new: func() runner { return &deviceLinkOptions{} },
}

// deviceLinkOptions are the options of "device link".
type deviceLinkOptions struct {
	user        string
	displayName string
}

func (o *deviceLinkOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.displayName, "display-name", "", "how the mobile app describes the user, such as dave@myapp")
}

func (o *deviceLinkOptions) args(pos []string) error {
	return oneUser("device link", pos, &o.user)
}

func (o *deviceLinkOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	m, err := g.management()
	if err != nil {
		return err
	}
	link, err := m.GetRegistrationLink(ctx, o.user, o.displayName)
	if err != nil {
		return forUser(o.user, err)
	}
	if g.json() {
		return writeJSON(env.Stdout, map[string]string{"user": o.user, "register_url": link})
	}
	_, err = fmt.Fprintln(env.Stdout, link)
	return err
}

// oneUser takes the single user ID a command needs; an empty ID is a usage error, like a missing
// one.
func oneUser(cmd string, pos []string, user *string) error {
	switch {
	case len(pos) == 0:
		return usageErrorf("%s: give a user ID, as in: acclient %s dave", cmd, cmd)
	case len(pos) > 1:
		return usageErrorf("%s: give one user ID, not %d (quote an ID that holds spaces)", cmd, len(pos))
	case pos[0] == "":
		return usageErrorf("%s: the user ID is empty", cmd)
	}
	*user = pos[0]
	return nil
}
