package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/durable"
)

// state runs `acmock state export FILE` and `acmock state import FILE` against a running emulator.
func state(ctx context.Context, c *acctl.ClientWithResponses, args []string, stdout io.Writer, _ bool) error {
	if len(args) != 2 || (args[0] != "export" && args[0] != "import") {
		return usageError{errors.New("say export or import, and a file")}
	}
	file := args[1]
	if args[0] == "export" {
		res, err := c.GetStateWithResponse(ctx)
		if err != nil {
			return unreachable(err)
		}
		if err := expect(res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		if file == "-" {
			_, err := stdout.Write(append(res.Body, '\n'))
			return err
		}
		// Written whole or not at all: a crash never leaves half a snapshot where a good one was.
		if err := durable.WriteFile(file, res.Body); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "saved the state to %s\n", file)
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	res, err := c.PutStateWithBodyWithResponse(ctx, "application/json", bytes.NewReader(data))
	if err != nil {
		return unreachable(err)
	}
	if err := expect(res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return importError(file, len(data), res.StatusCode(), res.Body, err)
	}
	s := res.JSON200
	fmt.Fprintf(stdout, "loaded the state of %s: %s, %s, %s, %s\n", file, plural(s.Applications, "application"),
		plural(s.Users, "user"), plural(s.Sessions, "session"), plural(s.Messages, "message"))
	return nil
}

// importError says why an import was refused, and what became of the state: nothing changes on a
// refusal (a 4xx: the snapshot is judged whole before anything is replaced, and a 400 says so
// itself); after a failure (a 5xx) only the emulator's own message can tell, so the command does
// not guess.
func importError(file string, size, status int, body []byte, err error) error {
	var e acctl.Error
	decoded := json.Unmarshal(body, &e) == nil
	if decoded && e.Field != nil && *e.Field != "" && !strings.Contains(e.Message, *e.Field) {
		err = fmt.Errorf("%s: %w", *e.Field, err)
	}
	said := decoded && (strings.Contains(e.Message, "nothing was changed") || strings.Contains(e.Message, "the state was not changed"))
	switch {
	case status == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%s (%d bytes): %w; the state was not changed: start acmock with a --max-body-bytes of at least that", file, size, err)
	case said:
		return fmt.Errorf("%s: %w", file, err)
	case status < 500:
		return fmt.Errorf("%s: %w; the state was not changed", file, err)
	default:
		return fmt.Errorf("%s: %w; acmock failed before saying whether the state changed: see it with `acmock state export -`", file, err)
	}
}
