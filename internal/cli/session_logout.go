package cli

import (
	"context"
	"flag"
)

var sessionLogoutCommand = &command{
	name:    "session logout",
	args:    "--session-file FILE",
	summary: "end a saved session",
	details: `Logs out of a session saved by acclient authenticate --session-file, and saves it back as
closed. Logging out of a session that is already over is harmless.`,
	examples: []string{
		`acclient session logout --session-file session.json`,
	},
	new: func() runner { return &sessionLogoutOptions{} },
}

// sessionLogoutOptions are the options of "session logout".
type sessionLogoutOptions struct {
	sessionFile string
}

func (o *sessionLogoutOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.sessionFile, "session-file", "", "the saved session, or - for stdin (required)")
}

func (o *sessionLogoutOptions) args(pos []string) error {
	if len(pos) > 0 {
		return usageErrorf("session logout: unexpected argument %q (the session comes from --session-file)", pos[0])
	}
	return nil
}

func (o *sessionLogoutOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	s, err := readSessionFile(env, "session logout", o.sessionFile)
	if err != nil {
		return err
	}
	if err := s.Destroy(ctx); err != nil {
		return err
	}
	if err := writeSessionFile(o.sessionFile, s); err != nil {
		return err
	}
	return printSession(env, g, "session", s)
}
