//go:build !linux

package keras

import (
	"errors"
	"os"
)

func redirectFd2(w *os.File) (func(), error) {
	return nil, errors.New("fd redirection is implemented on Linux only")
}
