package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/acmock/acmock/internal/scenario"
)

const validateUsage = `Usage: acmock validate FILE...

Checks scenario files without serving them. Prints one line per problem as FILE:LINE:COL: what is
wrong, and exits 1 when any file has a problem.

Example:
  acmock validate scenarios/*.yaml
`

func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

// validate checks scenario files and returns the exit code.
func validate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, validateUsage)
		return 2
	}
	if slices.ContainsFunc(args, isHelp) {
		fmt.Fprint(stdout, validateUsage)
		return 0
	}
	bad := 0
	for _, path := range args {
		sc, err := scenario.LoadFile(path)
		if err == nil {
			fmt.Fprintf(stdout, "%s: ok (scenario %s: %s, %s, %s)\n", path, sc.Name,
				plural(len(sc.Applications), "application"), plural(len(sc.Faults), "fault"), plural(len(sc.Expect), "expectation"))
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
		fmt.Fprintf(stderr, "%d of %s %s problems\n", bad, plural(len(args), "file"), verb)
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
