package cli

import (
	"context"
	"flag"

	"github.com/acmock/acmock/activeconnect"
)

var sessionStatusCommand = &command{
	name:    "session status",
	args:    "--session-file FILE",
	summary: "show a saved session's status; with --wait, wait for the phone",
	details: `Polls the status of a session saved by acclient authenticate --session-file, prints it and
saves it back to the file. With --wait it polls until the phone has decided and exits like
authenticate --wait. The status saved in the file is not trusted (an active session may have
become walkaway or closed in the meantime): it is always polled at least once. The file may be - to
read the session from stdin (it is then not written back). The session's own URLs, token and
secret say where the request goes and sign it: no application ID or secret is needed.`,
	examples: []string{
		`acclient session status --session-file session.json`,
		`acclient session status --session-file session.json --wait`,
		`acclient authenticate alice --output json | acclient session status --session-file - --wait`,
	},
	sessionFile: true,
	new:         func() runner { return &sessionStatusOptions{} },
}

// sessionStatusOptions are the options of "session status".
type sessionStatusOptions struct {
	sessionFile string
	wait        waitFlags
}

func (o *sessionStatusOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.sessionFile, "session-file", "", "the saved session, or - for stdin (required)")
	o.wait.register(fs)
}

func (o *sessionStatusOptions) args(pos []string) error {
	if len(pos) > 0 {
		return usageErrorf("session status: unexpected argument %q (the session comes from --session-file)", pos[0])
	}
	return o.wait.check("session status")
}

func (o *sessionStatusOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	s, err := readSessionFile(env, g, "session status", o.sessionFile)
	if err != nil {
		return err
	}
	if o.wait.wait && !s.Started() {
		if err := printSession(env, g, "session", s); err != nil {
			return err
		}
		return &outcomeError{user: "the user", session: s}
	}
	// Poll once whatever the file says: the status saved there may be stale.
	fresh := false
	if s.Started() {
		_, err := s.Refresh(ctx)
		switch {
		case err == nil:
			fresh = true
		case !o.wait.wait || !activeconnect.IsTemporary(err):
			return err
		}
		// With --wait, a poll that failed transiently is retried by the wait.
	}
	if o.wait.wait {
		return waitSession(ctx, env, g, s, "session", "the user", "", o.wait, o.sessionFile, fresh)
	}
	if fresh {
		if err := writeSessionFile(o.sessionFile, s); err != nil {
			return err
		}
	}
	return printSession(env, g, "session", s)
}
