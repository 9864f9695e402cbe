package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/scenarios"
)

// ctlCommands drive a running emulator through its control API.
var ctlCommands = map[string]struct {
	args    string
	summary string
	run     func(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, follow bool) error
}{
	"approve":  {"USER|SESSION", "approve the session, or the user's newest session that can be approved", phone("active")},
	"deny":     {"USER|SESSION", "decline the session, or the user's newest pending one", phone("cancelled")},
	"walkaway": {"USER|SESSION", "take the phone away from the session, or the user's newest active one", phone("walkaway")},
	"close":    {"USER|SESSION", "end the session, or the user's newest live one, from the phone", phone("closed")},
	"advance":  {"DURATION", "move the virtual clock forward (--clock virtual or auto)", advance},
	"sms":      {"", "show the SMS outbox", showSMS},
	"requests": {"", "show the request journal, all of it, oldest first; --follow keeps printing new requests", showRequests},
	"sessions": {"[USER]", "list every session (or the user's), oldest first, with its status history", showSessions},
	"reset":    {"", "go back to the loaded scenario's initial state", reset},
	"load":     {"FILE|NAME", "replace the scenario with FILE, or a shipped one by NAME, and reset", load},
	"state":    {"export|import FILE", "save the state to FILE (- for stdout), or replace it with the one saved in FILE", state},
}

func ctlUsage(w io.Writer) {
	fmt.Fprint(w, "Commands for a running emulator (they use its control API under /_acmock/):\n")
	names := make([]string, 0, len(ctlCommands))
	for name := range ctlCommands {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := ctlCommands[name]
		fmt.Fprintf(w, "  acmock %-22s %s\n", strings.TrimSpace(name+" "+c.args), c.summary)
	}
	fmt.Fprint(w, `
Flags for these commands: --url (default http://127.0.0.1:8080, or ACMOCK_URL) and
--control-token (or ACMOCK_CONTROL_TOKEN).

Examples:
  acmock approve alice
  acmock advance 90s
  acmock requests --follow
  acmock load scenarios/deny.yaml
  acmock load walkaway
  acmock state export before.json
  acmock state import before.json
`)
}

// runCtl runs one control command and returns the exit code.
func runCtl(name string, args []string, stdout, stderr io.Writer) int {
	cmd := ctlCommands[name]
	fs := flag.NewFlagSet("acmock "+name, flag.ContinueOnError)
	// As for the serve flags: an error is one line and a hint, --help goes to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	base := fs.String("url", envOr("ACMOCK_URL", "http://127.0.0.1:8080"), "the emulator's base URL [ACMOCK_URL]")
	token := fs.String("control-token", os.Getenv("ACMOCK_CONTROL_TOKEN"), "bearer token for the control API [ACMOCK_CONTROL_TOKEN]")
	follow := fs.Bool("follow", false, "requests: keep printing new requests until interrupted")
	// Flags may come before or after the arguments.
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "Usage: acmock %s\n  %s\n\n", strings.TrimSpace(name+" "+cmd.args), cmd.summary)
				ctlUsage(stdout)
				return 0
			}
			fmt.Fprintf(stderr, "acmock %s: %v\nRun acmock --help for the flags and commands.\n", name, err)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	opts := []acctl.ClientOption{}
	if *token != "" {
		opts = append(opts, acctl.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+*token)
			return nil
		}))
	}
	c, err := acctl.NewClientWithResponses(strings.TrimRight(*base, "/"), opts...)
	if err != nil {
		fmt.Fprintf(stderr, "acmock %s: %v\n", name, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := cmd.run(ctx, c, positional, stdout, *follow); err != nil {
		var usage usageError
		if errors.As(err, &usage) {
			fmt.Fprintf(stderr, "acmock %s: %v (usage: acmock %s %s)\n", name, err, name, cmd.args)
			return 2
		}
		fmt.Fprintf(stderr, "acmock %s: %v\n", name, err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// unreachable explains a call that got no answer.
func unreachable(err error) error {
	return fmt.Errorf("cannot reach the emulator (is acmock running there? see --url): %w", err)
}

// expect turns an answer that is not the expected one into an error that says in a sentence what
// the emulator said: the message of its JSON error, or the start of whatever else came back (a
// proxy's page, say).
func expect(status int, body []byte, want int) error {
	if status == want {
		return nil
	}
	var e acctl.Error
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return errors.New(e.Message)
	}
	text := strings.Join(strings.Fields(string(body)), " ")
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	if text == "" {
		return fmt.Errorf("the emulator answered %d %s with no explanation", status, http.StatusText(status))
	}
	return fmt.Errorf("the emulator answered %d %s: %s", status, http.StatusText(status), text)
}

// phone returns a command that changes a session's status: the session named by its token, or
// else the newest session of the user named that can make the change (the emulator picks it, and
// says why when none can).
func phone(status acctl.SessionStatus) func(context.Context, *acctl.ClientWithResponses, []string, io.Writer, bool) error {
	return func(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, _ bool) error {
		if len(args) != 1 {
			return usageError{errors.New("name one user or session token")}
		}
		who := args[0]
		change := acctl.StatusChangeRequest{Status: status}
		res, err := c.SetSessionStatusWithResponse(ctx, who, change)
		if err != nil {
			return unreachable(err)
		}
		code, body, session := res.StatusCode(), res.Body, res.JSON200
		if code == http.StatusNotFound {
			byUser, err := c.SetUserStatusWithResponse(ctx, who, nil, change)
			if err != nil {
				return unreachable(err)
			}
			if byUser.StatusCode() == http.StatusNotFound && byUser.JSON404 != nil && byUser.JSON404.Code == "unknown_user" {
				return fmt.Errorf("no session or user %q: add the user and start a login first", who)
			}
			code, body, session = byUser.StatusCode(), byUser.Body, byUser.JSON200
		}
		if err := expect(code, body, http.StatusOK); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "session %s of %s is now %s\n", session.Token, session.User, session.Status)
		return nil
	}
}

func advance(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, _ bool) error {
	if len(args) != 1 {
		return usageError{errors.New("give one duration, such as 90s")}
	}
	res, err := c.AdvanceClockWithResponse(ctx, acctl.AdvanceRequest{Duration: args[0]})
	if err != nil {
		return unreachable(err)
	}
	if err := expect(res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "clock now %s; %s fired, %d pending\n", res.JSON200.Now.Format(time.RFC3339), plural(*res.JSON200.Fired, "step"), res.JSON200.Pending)
	return nil
}

func showSMS(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, _ bool) error {
	if len(args) != 0 {
		return usageError{errors.New("takes no arguments")}
	}
	res, err := c.ListSmsWithResponse(ctx)
	if err != nil {
		return unreachable(err)
	}
	if err := expect(res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return err
	}
	if len(res.JSON200.Messages) == 0 {
		fmt.Fprintln(stdout, "the outbox is empty")
	}
	for _, m := range res.JSON200.Messages {
		fmt.Fprintf(stdout, "%s  to %s (user %s): %s\n", m.SentAt.Format(time.RFC3339), m.PhoneNumber, m.User, m.Body)
	}
	return nil
}

// showRequests prints the journal oldest first, and with follow what arrives after, until
// interrupted.
func showRequests(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, follow bool) error {
	if len(args) != 0 {
		return usageError{errors.New("takes no arguments")}
	}
	var since uint64
	for first := true; ; first = false {
		entries, err := readJournal(ctx, c, since, !first)
		if ctx.Err() != nil {
			return nil // interrupted while following
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Fprintf(stdout, "%s %4d %-6s %-60s %-26s hmac=%s", e.Time.Format("15:04:05.000"), e.Status, e.Method, e.Path, deref(e.Operation), e.Hmac)
			if e.AuthHeaders != nil {
				fmt.Fprintf(stdout, " headers=%s", headerFamilies(*e.AuthHeaders))
			}
			if e.Fault != nil {
				fmt.Fprintf(stdout, " fault=%q", *e.Fault)
			}
			fmt.Fprintln(stdout)
			since = e.Seq
		}
		if !follow {
			return nil
		}
	}
}

// readJournal returns the journal's entries after since, oldest first, reading every page: the
// journal answers its newest page first, and each next_cursor leads to older entries. With wait,
// the first read waits for at least one entry (following: no asking again at once).
func readJournal(ctx context.Context, c *acctl.ClientWithResponses, since uint64, wait bool) ([]acctl.RequestEntry, error) {
	params := &acctl.ListRequestsParams{Since: &since}
	if wait {
		params.MinCount, params.Timeout = ptr(1), ptr("30s")
	}
	var pages [][]acctl.RequestEntry
	for {
		res, err := c.ListRequestsWithResponse(ctx, params)
		if err != nil {
			return nil, unreachable(err)
		}
		if err := expect(res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return nil, err
		}
		pages = append(pages, res.JSON200.Entries)
		if res.JSON200.NextCursor == nil {
			break
		}
		params = &acctl.ListRequestsParams{Since: &since, Cursor: res.JSON200.NextCursor}
	}
	var out []acctl.RequestEntry
	for i := len(pages) - 1; i >= 0; i-- {
		out = append(out, pages[i]...)
	}
	return out, nil
}

func showSessions(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, _ bool) error {
	if len(args) > 1 {
		return usageError{errors.New("takes at most one user")}
	}
	// Every session, oldest first, a page at a time as they are read: the emulator keeps up to
	// --max-sessions of them, and a listing that stopped at one page would hide the newest.
	params := &acctl.ListSessionsParams{}
	if len(args) == 1 {
		params.User = &args[0]
	}
	for {
		res, err := c.ListSessionsWithResponse(ctx, params)
		if err != nil {
			return unreachable(err)
		}
		if err := expect(res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		for _, s := range res.JSON200.Sessions {
			var steps []string
			for _, h := range s.History {
				steps = append(steps, fmt.Sprintf("%s@%s(%s)", h.Status, h.At.Format("15:04:05"), h.Cause))
			}
			fmt.Fprintf(stdout, "%s  %s/%s  login %d  %s\n", s.Token, s.Application, s.User, s.Attempt, strings.Join(steps, " -> "))
		}
		if res.JSON200.NextCursor == nil {
			return nil
		}
		params.Cursor = res.JSON200.NextCursor
	}
}

func reset(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, _ bool) error {
	if len(args) != 0 {
		return usageError{errors.New("takes no arguments")}
	}
	res, err := c.ResetWithResponse(ctx)
	if err != nil {
		return unreachable(err)
	}
	if err := expect(res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "reset to the loaded scenario")
	return nil
}

func load(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, _ bool) error {
	if len(args) != 1 {
		return usageError{errors.New("name one scenario file, or a shipped scenario")}
	}
	data, err := os.ReadFile(args[0])
	if errors.Is(err, fs.ErrNotExist) {
		// Not a file here: a shipped scenario by name, or say both.
		var nameErr error
		if data, nameErr = scenarios.Name(args[0]).YAML(); nameErr != nil {
			return fmt.Errorf("%w, and %v", err, nameErr)
		}
	} else if err != nil {
		return err
	}
	res, err := c.PutScenarioWithBodyWithResponse(ctx, "application/yaml", strings.NewReader(string(data)))
	if err == nil && res.JSON400 != nil {
		var lines []string
		for _, p := range res.JSON400.Problems {
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", args[0], p.Line, p.Column, p.Message))
		}
		return errors.New("the scenario was refused:\n" + strings.Join(lines, "\n"))
	}
	if err != nil {
		return unreachable(err)
	}
	if err := expect(res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded scenario %s (%s, %s)\n", res.JSON200.Name, plural(res.JSON200.Applications, "application"), plural(res.JSON200.Faults, "fault"))
	return nil
}

func ptr[T any](v T) *T { return &v }

// headerFamilies shortens the journal's timestamp and version header names to their distinct
// family prefixes ("X-IAMPASS-Authentiaction"), joined by "+" when a client mixed families.
func headerFamilies(names []string) string {
	var out []string
	for _, n := range names {
		prefix := strings.TrimSuffix(strings.TrimSuffix(n, "-Timestamp"), "-Version")
		if !slices.Contains(out, prefix) {
			out = append(out, prefix)
		}
	}
	return strings.Join(out, "+")
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
