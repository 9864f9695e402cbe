//go:build !unix

package durable

import (
	"errors"
	"os"
)

func lockFile(*os.File) error   { return errors.New("--data needs a Unix system (flock)") }
func unlockFile(*os.File) error { return nil }
