package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/acmock/acmock/activeconnect"
)

var deviceCheckCommand = &command{
	name:    "device check",
	args:    "USER",
	summary: "tell whether a user has a registered phone (exit 0 yes, 6 no)",
	exits:   "Exit codes: 0 the user has a phone, 6 no phone, 2 usage, 7 bad credentials, 8 unreachable, 9 not found (unknown user or application), 1 other refusals (acclient --help lists all).",
	details: `Tells whether the user has a registered phone that was not reported lost. The exit code
answers too: 0 when the user has one, 6 when not, so scripts can branch on it.`,
	examples: []string{
		`acclient device check alice`,
		`acclient device check carol || acclient device link carol`,
	},
	new: func() runner { return &deviceCheckOptions{} },
}

// deviceCheckOptions are the options of "device check".
type deviceCheckOptions struct {
	user string
}

func (o *deviceCheckOptions) flags(*flag.FlagSet) {}

func (o *deviceCheckOptions) args(pos []string) error {
	return oneUser("device check", pos, &o.user)
}

func (o *deviceCheckOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	m, err := g.management()
	if err != nil {
		return err
	}
	result, err := m.HasRegisteredMobileDevice(ctx, o.user)
	if err != nil {
		return forUser(o.user, err)
	}
	has := result == activeconnect.ResultHasMobileDevice
	switch {
	case g.json():
		err = writeJSON(env.Stdout, map[string]any{"user": o.user, "device_registered": has})
	case has:
		_, err = fmt.Fprintf(env.Stdout, "%s has a registered phone\n", show(o.user))
	default:
		_, err = fmt.Fprintf(env.Stdout, "%s has no registered phone; register one with: %s\n", show(o.user), suggest("device link", o.user))
	}
	if err != nil {
		return err
	}
	if !has {
		return &noPhoneError{user: show(o.user)}
	}
	return nil
}
