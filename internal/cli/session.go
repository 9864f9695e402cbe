package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/acmock/acmock/activeconnect"
)

// readSessionFile loads a session saved by --session-file (or, for "-", read from stdin). Its
// status and logout calls use acclient's HTTP client, with --http-timeout, and --auth-headers.
func readSessionFile(env *Env, g *globalOptions, cmd, path string) (*activeconnect.Session, error) {
	if path == "" {
		return nil, usageErrorf("%s: --session-file is required (save one with: acclient authenticate alice --session-file session.json)", cmd)
	}
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(env.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read session file: %w; save one with: acclient authenticate USER --session-file %s", err, shellWord(path))
	}
	if err != nil {
		return nil, fmt.Errorf("read session file: %w", err)
	}
	s, err := activeconnect.ParseSession(data, g.clientOptions()...)
	if err != nil {
		return nil, usageErrorf("session file %s: %v (it should hold the JSON that acclient authenticate --session-file writes)", path, err)
	}
	if missing := missingSessionFields(s); missing != "" {
		return nil, usageErrorf("session file %s lacks %s; it should hold the JSON that acclient authenticate --session-file writes", path, missing)
	}
	return s, nil
}

// missingSessionFields names the keys a session file needs but lacks (absent, null or empty), in
// the words of the file: a session that started needs its status, token, secret and both URLs;
// one that did not start, its status and failure reason. "" means none.
func missingSessionFields(s *activeconnect.Session) string {
	var missing []string
	need := func(value, key string) {
		if value == "" {
			missing = append(missing, key)
		}
	}
	need(string(s.Status), "session_status")
	if s.FailureReason == "" {
		need(s.Token, "session_token")
		need(s.Secret, "session_secret")
		need(s.StatusURL, "status_url")
		need(s.LogoutURL, "logout_url")
	}
	switch {
	case len(missing) == 0:
		return ""
	case len(missing) == 1:
		return missing[0]
	}
	list := strings.Join(missing[:len(missing)-1], ", ") + " and " + missing[len(missing)-1]
	if len(missing) >= 4 {
		list += " (or failure_reason, for a login that did not start)"
	}
	return list
}

// sessionLine is s in the Python client's exact JSON (see activeconnect.Session.PythonJSON), as
// one line.
func sessionLine(s *activeconnect.Session) ([]byte, error) {
	data, err := s.PythonJSON()
	if err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	return append(data, '\n'), nil
}

// writeSessionFile saves s in the Python client's JSON, byte for byte what its
// Session.Schema().dumps writes, followed by a newline. The file is readable by its owner only
// (it holds the session secret) and replaced in one step so that a reader never sees half of it.
// "-" (stdin) and "" are not written.
func writeSessionFile(path string, s *activeconnect.Session) error {
	if path == "" || path == "-" {
		return nil
	}
	data, err := sessionLine(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	_, err = tmp.Write(data)
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save session to %s: %w", path, err)
	}
	return nil
}

// writeSession prints s in the Python client's JSON, for --output json.
func writeSession(w io.Writer, s *activeconnect.Session) error {
	data, err := sessionLine(s)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// printSession writes the session's final state: its JSON, or a line for people.
func printSession(env *Env, g *globalOptions, label string, s *activeconnect.Session) error {
	if g.json() {
		return writeSession(env.Stdout, s)
	}
	_, err := fmt.Fprintf(env.Stdout, "%s: %s\n", label, describe(s.Status))
	return err
}

// waitSession polls s until the phone has decided, showing the status as it goes, saves the
// result to sessionFile and turns an outcome other than active into an error for exitCode. label
// names the session on the progress line, who and id the user in messages (id is empty when
// unknown). fresh says that s.Status was just polled: a decided status is then not polled again.
func waitSession(ctx context.Context, env *Env, g *globalOptions, s *activeconnect.Session, label, who, id string, w waitFlags, sessionFile string, fresh bool) error {
	// With --output json, stdout is for the JSON alone; progress goes to stderr.
	progressOut := env.Stdout
	if g.json() {
		progressOut = env.Stderr
	}
	p := startProgress(progressOut, !g.json() && env.IsTerminal(env.Stdout), label, s.Status, env.Now)
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if w.timeout > 0 {
		wctx, cancel = context.WithTimeout(ctx, w.timeout)
	}
	defer cancel()
	opts := []activeconnect.WaitOption{activeconnect.OnStatusChange(p.setStatus), activeconnect.OnRetry(p.retry)}
	if env.Sleep != nil {
		opts = append(opts, activeconnect.WithSleep(env.Sleep))
	}
	var err error
	if s.InProgress() || !fresh {
		err = s.Wait(wctx, w.interval, opts...)
	}
	p.finish()
	if saveErr := writeSessionFile(sessionFile, s); saveErr != nil {
		return saveErr
	}
	timedOut := err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && wctx.Err() != nil
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("wait for %s: %w", who, ctx.Err())
	case err != nil && !timedOut:
		return err
	}
	if g.json() {
		if err := writeSession(env.Stdout, s); err != nil {
			return err
		}
	}
	if timedOut {
		resume := ""
		if sessionFile != "" && sessionFile != "-" {
			resume = "acclient session status --wait --session-file " + shellWord(sessionFile)
		}
		return &waitTimeoutError{after: w.timeout, status: s.Status, resume: resume}
	}
	if !s.Active() {
		return &outcomeError{user: who, id: id, session: s}
	}
	return nil
}
