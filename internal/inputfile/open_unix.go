//go:build unix

package inputfile

import (
	"os"
	"syscall"
)

// openNonblock opens name read-only without blocking on a FIFO that has
// no writer. O_NONBLOCK has no effect on reads of regular files.
func openNonblock(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
