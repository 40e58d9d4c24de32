package h5_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aekit/aekit/internal/h5"
)

// eflTarget is the relative file name efl_watched.h5 stores its kernel in
// (fixtures/crafted/gen_hdf5.py).
const eflTarget = "aekit-efl-target.bin"

// watchOpens creates path and returns a function that counts the times
// it has been opened since (inotify IN_OPEN).
func watchOpens(t *testing.T, path string) func() int {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.InotifyAddWatch(fd, path, syscall.IN_OPEN); err != nil {
		t.Fatalf("inotify watch: %v", err)
	}
	opens := 0
	return func() int {
		buf := make([]byte, 4096)
		for {
			n, err := syscall.Read(fd, buf)
			if n <= 0 || err != nil {
				return opens
			}
			for p := 0; p+syscall.SizeofInotifyEvent <= n; {
				if binary.LittleEndian.Uint32(buf[p+4:])&syscall.IN_OPEN != 0 {
					opens++
				}
				p += syscall.SizeofInotifyEvent + int(binary.LittleEndian.Uint32(buf[p+12:]))
			}
		}
	}
}

func eflImage(t *testing.T) []byte {
	b, err := os.ReadFile("../../fixtures/crafted/hdf5/efl_watched.h5")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEFLNeverOpened: a dataset stored in an external file is refused
// without the file being opened, shown with an inotify watch on it.
// (eflOracle, with cgo, shows that the watch sees libhdf5 open it.)
func TestEFLNeverOpened(t *testing.T) {
	b := eflImage(t)
	dir := t.TempDir()
	t.Chdir(dir)
	opens := watchOpens(t, filepath.Join(dir, eflTarget))
	f, err := h5.Open(b)
	if err == nil {
		f.ReadFloat32("/model_weights/dense_1/dense_1_W")
		t.Fatal("Open accepted a dataset with external storage")
	}
	if !errors.Is(err, h5.ErrExternal) {
		t.Errorf("Open: %v, want ErrExternal", err)
	}
	if n := opens(); n != 0 {
		t.Errorf("the external file was opened %d times", n)
	}
	eflOracle(t, b, opens)
}

// TestEFLFifo: with the external file a FIFO nobody writes, opening it
// would block forever; Open returns at once.
func TestEFLFifo(t *testing.T) {
	b := eflImage(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := syscall.Mkfifo(filepath.Join(dir, eflTarget), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h5.Open(b)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, h5.ErrExternal) {
			t.Errorf("Open: %v, want ErrExternal", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open hangs on an external file that is a FIFO")
	}
}
