// Command acclient is a command-line client of the Activeconnect API and of acmock, its emulator.
//
//	acclient authenticate alice --wait      # exit 0 once alice approves on her phone
//	acclient --help                         # every command, with examples and exit codes
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/acmock/acmock/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.System())
	stop()
	os.Exit(code)
}
