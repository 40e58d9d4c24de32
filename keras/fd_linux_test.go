//go:build linux

package keras

import (
	"os"
	"syscall"
)

// redirectFd2 points fd 2 at w and returns a function restoring it.
func redirectFd2(w *os.File) (func(), error) {
	saved, err := syscall.Dup(2)
	if err != nil {
		return nil, err
	}
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		syscall.Close(saved)
		return nil, err
	}
	return func() {
		syscall.Dup3(saved, 2, 0)
		syscall.Close(saved)
	}, nil
}
