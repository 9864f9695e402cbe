package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

const mainIntro = `acclient is a command-line client of the Activeconnect API (push-style multifactor login)
and of acmock, its emulator. With no configuration it talks to acmock on ` + defaultBaseURL + `
with the demo application, so it works right after acmock starts.

Usage:
  acclient COMMAND [ARGUMENTS] [FLAGS]    (flags may come before or after arguments; -- ends them)

Commands:
`

const mainExamples = `Examples:
  acmock &                                     # the emulator with the demo application
  acclient authenticate alice --wait           # alice approves on her phone after 2 s: exit 0
  acclient authenticate bob --wait             # bob declines: exit 3
  acclient users add dave && curl "$(acclient device link dave)" && acclient authenticate dave --wait
  acclient authenticate alice --session-file s.json && acclient session status --wait --session-file s.json
  acclient device check carol --output json    # {"device_registered":false,"user":"carol"}, exit 6
`

func printMainHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString(mainIntro)
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name+" "+c.args))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name+" "+c.args, c.summary)
	}
	b.WriteString("\n" + mainExamples + "\nGlobal flags (environment variable in brackets):\n")
	printFlags(&b, globalFlagSet())
	b.WriteString("\n" + exitCodeTable + "\nRun acclient COMMAND --help for a command's flags and examples.\n")
	_, _ = io.WriteString(w, b.String())
}

func printGroupHelp(w io.Writer, group string, cmds []*command) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  acclient %s SUBCOMMAND [ARGUMENTS] [FLAGS]\n\nSubcommands:\n", group)
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-34s  %s\n", c.name+" "+c.args, c.summary)
	}
	fmt.Fprintf(&b, "\nRun acclient %s SUBCOMMAND --help for its flags and examples.\n", group)
	_, _ = io.WriteString(w, b.String())
}

func printCommandHelp(w io.Writer, c *command) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  acclient %s [FLAGS]\n\n%s\n\nExamples:\n", strings.TrimSpace(c.name+" "+c.args), c.details)
	for _, ex := range c.examples {
		fmt.Fprintf(&b, "  %s\n", ex)
	}
	own := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.new().flags(own)
	if hasFlags(own) {
		b.WriteString("\nFlags:\n")
		printFlags(&b, own)
	}
	b.WriteString("\nGlobal flags (environment variable in brackets):\n")
	if c.sessionFile {
		var g globalOptions
		fs := flag.NewFlagSet("common", flag.ContinueOnError)
		g.commonFlags(fs)
		printFlags(&b, fs)
		b.WriteString("  (--base-url, --app-id and --app-secret and their variables are ignored: the session\n" +
			"  file holds the service's URLs and the session's own token and secret)\n")
	} else {
		printFlags(&b, globalFlagSet())
	}
	switch {
	case c.exits != "":
		b.WriteString("\n" + c.exits + "\n")
	case c == authenticateCommand || c == sessionStatusCommand:
		b.WriteString("\n" + exitCodeTable)
	default:
		b.WriteString("\nExit codes: 0 done, 2 usage, 7 bad credentials, 8 unreachable, 9 not found, 1 other refusals (acclient --help lists all).\n")
	}
	_, _ = io.WriteString(w, b.String())
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func globalFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("global", flag.ContinueOnError)
	var g globalOptions
	g.flags(fs)
	return fs
}
