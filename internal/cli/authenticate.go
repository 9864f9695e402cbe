package cli

import (
	"context"
	"flag"
	"fmt"
)

var authenticateCommand = &command{
	name:    "authenticate",
	args:    "USER",
	summary: "start a login; with --wait, wait for the phone (exit 0 only when approved)",
	details: `Starts a login session for the user: the user's phone is asked to approve it. Without
--wait the session is printed (and saved with --session-file) and acclient exits at once. With
--wait it polls the session until the phone has decided, showing the status as it changes, and
exits 0 only when the session is active; see the exit codes below. Polls that fail transiently
(HTTP 429, 5xx, dropped connections) are retried with backoff.

With acmock's demo application, alice approves after 2 s, bob declines, and carol has no phone.`,
	examples: []string{
		`acclient authenticate alice --wait`,
		`acclient authenticate alice --methods acceptance,facial --wait --interval 1s --timeout 1m`,
		`acclient authenticate alice --session-file session.json   # then: acclient session status --session-file session.json --wait`,
		`acclient authenticate alice --wait --output json           # the session, byte for byte the Python client's JSON`,
	},
	new: func() runner { return &authenticateOptions{} },
}

// authenticateOptions are the options of "authenticate".
type authenticateOptions struct {
	user        string
	methods     methodsFlag
	wait        waitFlags
	sessionFile string
}

func (o *authenticateOptions) flags(fs *flag.FlagSet) {
	fs.Var(&o.methods, "methods", "methods the phone should use, comma-separated: acceptance, device, facial (default: the service chooses)")
	o.wait.register(fs)
	fs.StringVar(&o.sessionFile, "session-file", "", "save the session to this file (mode 0600: it holds the session secret)")
}

func (o *authenticateOptions) args(pos []string) error {
	if err := oneUser("authenticate", pos, &o.user); err != nil {
		return err
	}
	if o.sessionFile == "-" {
		return usageErrorf("authenticate: --session-file needs a file name (- is only for reading)")
	}
	return o.wait.check("authenticate")
}

func (o *authenticateOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	a, err := g.authentication()
	if err != nil {
		return err
	}
	s, err := a.AuthenticateUser(ctx, o.user, o.methods...)
	if err != nil {
		return forUser(o.user, err)
	}
	if err := writeSessionFile(o.sessionFile, s); err != nil {
		return err
	}
	who := show(o.user)
	if !s.Started() {
		if err := printSession(env, g, who, s); err != nil {
			return err
		}
		return &outcomeError{user: who, id: o.user, session: s}
	}
	if o.wait.wait {
		return waitSession(ctx, env, g, s, who, who, o.user, o.wait, o.sessionFile, true)
	}
	if err := printSession(env, g, who, s); err != nil {
		return err
	}
	if !g.json() {
		if o.sessionFile != "" {
			fmt.Fprintf(env.Stdout, "saved to %s; follow it with: acclient session status --wait --session-file %s\n", o.sessionFile, shellWord(o.sessionFile))
		} else {
			fmt.Fprintf(env.Stdout, "not saved: pass --wait to wait for the phone, or --session-file FILE to follow it later\n")
		}
	}
	return nil
}
