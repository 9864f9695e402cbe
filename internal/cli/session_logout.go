package cli

import (
	"context"
	"flag"
)

var sessionLogoutCommand = &command{
	name:    "session logout",
	args:    "--session-file FILE",
	summary: "end a saved session",
	details: `Logs out of a session saved by acclient authenticate --session-file, then saves it back with
the status the service reports: closed when it was live (pending, identifying, active or
walkaway); a session that had already ended keeps its status (timeout, cancelled, failed or
closed). Logging out of a session that is already over is harmless. The session's own URLs, token and secret say where the
request goes and sign it: no application ID or secret is needed.`,
	examples: []string{
		`acclient session logout --session-file session.json`,
	},
	sessionFile: true,
	new:         func() runner { return &sessionLogoutOptions{} },
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
	s, err := readSessionFile(env, g, "session logout", o.sessionFile)
	if err != nil {
		return err
	}
	if err := s.Destroy(ctx); err != nil {
		return err
	}
	// The file's status may be stale (a pending session may since have been declined): ask the
	// service where the session ended. If it cannot say, what Destroy concluded stands.
	_, _ = s.Refresh(ctx)
	if err := writeSessionFile(o.sessionFile, s); err != nil {
		return err
	}
	return printSession(env, g, "session", s)
}
