package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/acmock/acmock/internal/scenario"
)

const validateUsage = `Usage: acmock validate FILE...

Checks scenario files without serving them. Prints one line per problem as FILE:LINE:COL: what is
wrong, and exits 1 when any file has a problem.

Example:
  acmock validate scenarios/*.yaml
`

// validate checks scenario files and returns the exit code.
func validate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, validateUsage)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(stdout, validateUsage)
		return 0
	}
	bad := 0
	for _, path := range args {
		sc, err := scenario.LoadFile(path)
		if err == nil {
			fmt.Fprintf(stdout, "%s: ok (scenario %s: %d applications, %d faults, %d expectations)\n",
				path, sc.Name, len(sc.Applications), len(sc.Faults), len(sc.Expect))
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
		fmt.Fprintf(stderr, "%d of %d files have problems\n", bad, len(args))
		return 1
	}
	return 0
}
