//go:build linux

package pool

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// TestFault: a memory fault in a worker goroutine (a mapped file
// truncated under it) reaches the caller of Run as a panic it can
// recover, not a crash.
func TestFault(t *testing.T) {
	name := filepath.Join(t.TempDir(), "x")
	const size = 1 << 18
	if err := os.WriteFile(name, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(data)
	if err := os.Truncate(name, 128); err != nil {
		t.Fatal(err)
	}
	p := New(2)
	defer p.Close()
	var sum byte
	got := func() (r any) {
		defer func() { r = recover() }()
		p.Run(func(c, t int) {
			if c == 1 {
				sum += data[size-1]
			}
		})
		return nil
	}()
	lo := uintptr(unsafe.Pointer(&data[0]))
	if f, ok := got.(interface{ Addr() uintptr }); !ok || f.Addr() < lo || f.Addr() >= lo+size {
		t.Errorf("recovered %v", got)
	}
}
