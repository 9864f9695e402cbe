package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

const validateUsage = `Usage: acmock validate [--max-users N] FILE...

Checks scenario files without serving them, as loading them would (PUT /_acmock/scenario,
acmock load, --scenario): the format, and the bounds of the emulator that would load them (at
most 1,000 applications; at most --max-users users, all applications together, 2,000,000 unless
--max-users or ACMOCK_MAX_USERS says otherwise: give the running emulator's value). Prints one
line per problem as FILE:LINE:COL: what is wrong, and exits 1 when any file has a problem.

What it cannot check, having no emulator to ask:
  - the users and applications a running emulator already holds: a reload (--watch, SIGHUP)
    adds the scenario's to them, and is refused past the bounds;
  - the body limit of the emulator it is sent to: PUT /_acmock/scenario and acmock load refuse a
    file over --max-body-bytes (1 MiB by default) with 413; validate notes a file over the
    default, and --scenario at start-up reads a file of any size.

Example:
  acmock validate scenarios/*.yaml
  acmock validate --max-users 50 mine.yaml
`

func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

// validate checks scenario files and returns the exit code.
func validate(args []string, stdout, stderr io.Writer) int {
	if slices.ContainsFunc(args, isHelp) {
		fmt.Fprint(stdout, validateUsage)
		return 0
	}
	fs := flag.NewFlagSet("acmock validate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var limits store.Limits
	maxUsers, err := envInt("max-users", store.DefaultLimits.MaxUsers)
	if err != nil {
		fmt.Fprintf(stderr, "acmock validate: %v\n", err)
		return 2
	}
	fs.IntVar(&limits.MaxUsers, "max-users", maxUsers, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "acmock validate: %v\n%s", err, validateUsage)
		return 2
	}
	if limits.MaxUsers < 1 {
		fmt.Fprintf(stderr, "acmock validate: %v\n", flagError(fs, "max-users", "must be at least 1, not %d", limits.MaxUsers))
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, validateUsage)
		return 2
	}
	files := fs.Args()
	bad := 0
	for _, path := range files {
		sc, err := scenario.LoadFile(path)
		if err == nil {
			err = scenario.CheckLimits(sc, limits)
		}
		if err == nil {
			fmt.Fprintf(stdout, "%s: ok (scenario %s: %s, %s, %s)\n", path, sc.Name,
				plural(len(sc.Applications), "application"), plural(len(sc.Faults), "fault"), plural(len(sc.Expect), "expectation"))
			if n := len(sc.Source); n > emulator.DefaultMaxBodyBytes {
				fmt.Fprintf(stdout, "%s: note: %d bytes, more than the %d bytes PUT /_acmock/scenario and acmock load accept unless acmock runs with a larger --max-body-bytes; --scenario reads it\n",
					path, n, emulator.DefaultMaxBodyBytes)
			}
			continue
		}
		bad++
		var problems scenario.Problems
		if errors.As(err, &problems) {
			fmt.Fprintln(stderr, problems.Error())
		} else {
			fmt.Fprintln(stderr, err) // it names the file already
		}
	}
	if bad > 0 {
		verb := "have"
		if bad == 1 {
			verb = "has"
		}
		fmt.Fprintf(stderr, "%d of %s %s problems\n", bad, plural(len(files), "file"), verb)
		return 1
	}
	return 0
}

// plural counts things in English: "1 application", "2 applications".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
