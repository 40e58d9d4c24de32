//go:build unix

package npy

import (
	"fmt"
	"math"
	"os"
	"syscall"
	"unsafe"
)

// mapFile maps the .npy file f, whose header h has been checked by
// mappableHeader, read-only into memory.
func mapFile(f *os.File, size int64, h *header) (*Mapped, error) {
	if size > math.MaxInt {
		return nil, fmt.Errorf("%w: file of %d bytes cannot be mapped on this platform", ErrTooLarge, size)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("npy: mmap: %w", err)
	}
	data := []float32{}
	if h.n > 0 {
		data = unsafe.Slice((*float32)(unsafe.Pointer(&mem[h.dataOff])), h.n)
	}
	return &Mapped{Array: Array{Shape: h.shape, Data: data, DType: h.descr}, mem: mem}, nil
}

func unmap(mem []byte) error { return syscall.Munmap(mem) }
