//go:build unix

package durable

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive flock without waiting. The kernel drops it when the process dies,
// however it dies, so a kill -9 leaves no stale lock behind.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
