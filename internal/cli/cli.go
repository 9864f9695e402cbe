// Package cli is acclient, the command-line client of the Activeconnect API, built on package
// activeconnect. Main runs one command line and returns the exit code, which is chosen in one
// place (exitCode) from the error the command returned.
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//	code := cli.Main(ctx, os.Args[1:], cli.System())  // acclient authenticate alice --wait
//	stop(); os.Exit(code)
package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"time"
)

// Env is what a command sees of the outside world. System returns the real one; tests replace
// parts of it.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// LookupEnv reads an environment variable.
	LookupEnv func(name string) (string, bool)
	// IsTerminal reports whether w is a terminal; progress is then a live line with a spinner.
	IsTerminal func(w io.Writer) bool
	// Now tells the time for the elapsed time of the progress line.
	Now func() time.Time
	// Sleep pauses between status polls and must return early with ctx's error when ctx ends;
	// nil means real time. Tests advance a virtual clock here.
	Sleep func(ctx context.Context, d time.Duration) error
}

// System returns the process's environment: standard streams, environment variables, the wall
// clock.
func System() *Env {
	return &Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		LookupEnv: os.LookupEnv, IsTerminal: isTerminal, Now: time.Now,
	}
}

// withDefaults fills in what a test left out.
func (e *Env) withDefaults() *Env {
	c := *e
	if c.Stdin == nil {
		c.Stdin = strings.NewReader("")
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	if c.LookupEnv == nil {
		c.LookupEnv = func(string) (string, bool) { return "", false }
	}
	if c.IsTerminal == nil {
		c.IsTerminal = func(io.Writer) bool { return false }
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &c
}

// isTerminal reports whether w is a character device that does not declare itself dumb.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	if term, _ := os.LookupEnv("TERM"); term == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// runner is one command's options; each command has its own file with the options struct, its
// flags, its argument check and its run method.
type runner interface {
	// flags registers the command's own flags.
	flags(fs *flag.FlagSet)
	// args takes the positional arguments, returning a *usageError when they do not fit.
	args(pos []string) error
	// run does the work. Its error decides the exit code (see exitCode).
	run(ctx context.Context, env *Env, g *globalOptions) error
}

// command describes a command for dispatch and help.
type command struct {
	name     string // "users add"
	args     string // "USER..."
	summary  string
	details  string
	examples []string
	// exits is the command's own line of exit codes in its help; empty for the common one.
	exits string
	// sessionFile marks the commands that work on a saved session: its URLs and its own token
	// and secret say where to go and how to sign, so the service and application flags (and
	// their environment variables) are ignored.
	sessionFile bool
	new         func() runner
}

// commands lists every command in the order help shows them.
var commands = []*command{
	usersAddCommand, usersDeleteCommand,
	deviceLinkCommand, deviceSMSCommand, deviceCheckCommand, deviceLostCommand,
	authenticateCommand,
	sessionStatusCommand, sessionLogoutCommand,
}

// Main runs the command line args (without the program name) and returns the exit code. It
// prints errors to env.Stderr on one line, and help to env.Stdout.
func Main(ctx context.Context, args []string, env *Env) int {
	env = env.withDefaults()
	cmd, err := run(ctx, args, env)
	report(env.Stderr, err, cmd)
	return exitCode(err)
}

// run runs the command line and returns the command it found (nil when none) and its error.
func run(ctx context.Context, args []string, env *Env) (*command, error) {
	_, pos := splitArgs(args, allFlagKinds())
	help := wantsHelp(args)
	if len(pos) > 0 && pos[0] == "help" {
		pos, help = pos[1:], true
		args = removeFirst(args, "help")
	}
	if len(pos) == 0 {
		if help {
			printMainHelp(env.Stdout)
			return nil, nil
		}
		return nil, usageErrorf("no command given; run acclient --help for the list")
	}
	cmd, words := findCommand(pos)
	if cmd == nil {
		group := groupCommands(pos[0])
		switch {
		case len(group) == 0:
			return nil, usageErrorf("unknown command %q; run acclient --help for the list", pos[0])
		case len(pos) > 1:
			return nil, usageErrorf("%s: unknown subcommand %q; use %s (run acclient %s --help)", pos[0], pos[1], subcommandNames(group), pos[0])
		case help:
			printGroupHelp(env.Stdout, pos[0], group)
			return nil, nil
		}
		return nil, usageErrorf("%s needs a subcommand: %s (run acclient %s --help)", pos[0], subcommandNames(group), pos[0])
	}

	r := cmd.new()
	var g globalOptions
	fs := flag.NewFlagSet("acclient "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	r.flags(fs)
	g.flags(fs)
	flagArgs, positional := splitArgs(args, flagKinds(fs))
	positional = dropCommandWords(positional, words)
	if err := fs.Parse(flagArgs); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(env.Stdout, cmd)
			return cmd, nil
		}
		return cmd, usageErrorf("%s: %s (run acclient %s --help)", cmd.name, flagError(err), cmd.name)
	}
	if help {
		printCommandHelp(env.Stdout, cmd)
		return cmd, nil
	}
	if err := g.resolve(env, !cmd.sessionFile); err != nil {
		return cmd, err
	}
	if err := r.args(positional); err != nil {
		return cmd, err
	}
	return cmd, r.run(ctx, env, &g)
}

// findCommand matches the first positional words against the commands: one word ("authenticate")
// or two ("users add").
func findCommand(pos []string) (*command, int) {
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(pos) >= len(words) && strings.Join(pos[:len(words)], " ") == c.name {
			return c, len(words)
		}
	}
	return nil, 0
}

// groupCommands returns the commands whose first word is group ("users", "device", "session").
func groupCommands(group string) []*command {
	var out []*command
	for _, c := range commands {
		if first, _, ok := strings.Cut(c.name, " "); ok && first == group {
			out = append(out, c)
		}
	}
	return out
}

func subcommandNames(group []*command) string {
	names := make([]string, len(group))
	for i, c := range group {
		_, names[i], _ = strings.Cut(c.name, " ")
	}
	return strings.Join(names, ", ")
}

// dropCommandWords removes the command's words, which are the first positional arguments.
func dropCommandWords(pos []string, words int) []string {
	if len(pos) < words {
		return nil
	}
	return pos[words:]
}

// removeFirst removes the first occurrence of word from args.
func removeFirst(args []string, word string) []string {
	for i, a := range args {
		if a == word {
			return append(append([]string(nil), args[:i]...), args[i+1:]...)
		}
	}
	return args
}

// wantsHelp reports whether a help flag appears before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// flagError rewords the flag package's messages for double-dash flags.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + name + " needs a value"
	}
	return strings.Replace(msg, " for flag -", " for --", 1)
}
